/*
 * swap-table: rebuild a production table through a shadow copy and swap it in safely.
 * The steps (start, check, swap, rollback, finish, abandon, status) are in core/swap*.c; this
 * file parses their words, asks before the steps that change what readers see, and
 * says what happened.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/swap.h"
#include "../core/util.h"
#include "command.h"

struct swap_opts {
	int like, cancel_blockers, lose_writes;
	const char *create_sql, *mode, *key, *accept, *reason, *lock_timeout, *deadline, *keep;
	const char *connection;
};

static const struct ds_opt start_options[] = {
	DS_OPT_BOOL("like", struct swap_opts, like, "create T_backfill like T (the default)"),
	DS_OPT_STRING("create-sql", struct swap_opts, create_sql, "FILE",
		      "create T_backfill with this SQL"),
	DS_OPT_STRING("mode", struct swap_opts, mode, "MODE",
		      "swap (the default), or v2: build T_v2 for readers to move to"),
	DS_OPT_END,
};

static const struct ds_opt check_options[] = {
	DS_OPT_STRING("key", struct swap_opts, key, "COLUMN",
		      "compare row counts per value of COLUMN"),
	DS_OPT_STRING("accept", struct swap_opts, accept, "CHECK",
		      "let this failed check not block the swap"),
	DS_OPT_STRING("reason", struct swap_opts, reason, "TEXT",
		      "why --accept lets the failed check pass (recorded in the audit log)"),
	DS_OPT_END,
};

/*
 * swap and rollback: how long to wait for the lock, and for whom; one table for both (an
 * option has one row per command), so swap refuses --lose-writes itself.
 */
static const struct ds_opt exchange_options[] = {
	DS_OPT_STRING("lock-timeout", struct swap_opts, lock_timeout, "DURATION",
		      "longest wait for the lock per attempt (default 200ms)"),
	DS_OPT_STRING("deadline", struct swap_opts, deadline, "DURATION",
		      "give up retrying after this long (default 60s)"),
	DS_OPT_BOOL("cancel-blockers", struct swap_opts, cancel_blockers,
		    "cancel the sessions that keep the lock from being granted (end those idle "
		    "in a transaction)"),
	DS_OPT_BOOL("lose-writes", struct swap_opts, lose_writes,
		    "rollback only: roll back though what was written to T since the swap is "
		    "lost"),
	DS_OPT_END,
};

static const struct ds_opt finish_options[] = {
	DS_OPT_STRING("keep", struct swap_opts, keep, "DURATION",
		      "drop nothing now; keep T_old this long after the swap"),
	DS_OPT_END,
};

/* Every action's: T is a table of that connection's database, not the state database's. */
static const struct ds_opt connection_options[] = {
	DS_OPT_STRING("connection", struct swap_opts, connection, "NAME",
		      "T is in this named connection's database (a warehouse)"),
	DS_OPT_END,
};

/*
 * The longest lock wait and deadline: the server takes them as lock_timeout and
 * statement_timeout, whole milliseconds in an int, and refuses more.
 */
#define SERVER_MAX_MS 2147483647L
/* The longest --keep, which stays on this side. */
#define KEEP_MAX_MS (100L * 86400 * 1000)

/* "200ms", "60s", "5m", "2h", "7d": core's durations, and milliseconds for lock waits. */
static int parse_duration(const char *text, const char *option, long max_ms, long *ms,
			  struct ds_error *err)
{
	size_t n = strlen(text);
	int in_ms = n > 2 && !strcmp(text + n - 2, "ms");
	char *seconds = ds_xstrdup(text);
	long v;

	/* "200ms" reads as "200s", in thousandths. */
	if (in_ms)
		seconds[n - 2] = 's', seconds[n - 1] = '\0';
	v = ds_duration_parse(seconds);
	free(seconds);
	if (v < 0) {
		ds_error_set(err, DS_ERR_USAGE, "--%s: '%s' is not a duration", option, text);
		return ds_error_hint(err, "a whole number and a unit: 200ms, 60s, 5m, 2h, 7d");
	}
	if (v > (in_ms ? max_ms : max_ms / 1000)) {
		ds_error_set(err, DS_ERR_USAGE,
			     "--%s: '%s' is more than the longest, %ldms (about %.1f days)", option,
			     text, max_ms, (double)(max_ms / 8640000) / 10);
		if (max_ms == SERVER_MAX_MS)
			ds_error_hint(err, "the server takes it in milliseconds, as an int");
		return -1;
	}
	*ms = in_ms ? v : v * 1000;
	return 0;
}

/* --option in milliseconds (at most max_ms), fallback if not given; -1 with err. */
static long duration_or(const char *text, const char *option, long max_ms, long fallback,
			struct ds_error *err)
{
	long ms = fallback;

	if (text && parse_duration(text, option, max_ms, &ms, err) < 0)
		return -1;
	return ms;
}

/* The whole of a file, for --create-sql. Caller frees; NULL with err filled. */
static char *read_file(const char *path, struct ds_error *err)
{
	FILE *f = fopen(path, "r");
	struct ds_buf b = DS_BUF_INIT;
	char chunk[4096];
	size_t n;

	if (!f) {
		ds_error_set(err, DS_ERR_USAGE, "cannot read '%s': %s", path, strerror(errno));
		return NULL;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		ds_buf_add(&b, chunk, n);
	fclose(f);
	return ds_buf_take(&b);
}

/* --mode: 0 for swap (the default), 1 for v2, -1 with err filled. */
static int parse_mode(const char *mode, struct ds_error *err)
{
	if (!mode || !strcmp(mode, "swap"))
		return 0;
	if (!strcmp(mode, "v2"))
		return 1;
	ds_error_set(err, DS_ERR_USAGE, "--mode: unknown mode '%s'", mode);
	return ds_error_hint(err, "swap (rebuild T_backfill and swap it in) or v2 (build T_v2 "
				  "beside T for readers to move to)");
}

static int run_start(struct ds_session *s, const struct ds_invocation *inv, struct ds_result *out)
{
	const struct swap_opts *o = inv->opts;
	const char *file = o->create_sql, *shadow;
	int v2 = parse_mode(o->mode, &s->err);
	char *sql = NULL, *on;

	if (v2 < 0)
		return -1;
	if (file && o->like) {
		ds_error_set(&s->err, DS_ERR_USAGE, "--like and --create-sql exclude each other");
		return ds_error_hint(&s->err,
				     "usage: swap-table start T [--like | --create-sql FILE]");
	}
	if (file && !(sql = read_file(file, &s->err)))
		return -1;
	out->data = ds_swap_start(&s->db, inv->args[0], o->connection, sql, v2, inv->dry_run,
				  &s->audit, &s->err);
	free(sql);
	if (!out->data)
		return -1;
	shadow = json_string_value(json_object_get(out->data, "shadow"));
	/* The next commands it names must find the swap where it is. */
	on = o->connection ? ds_xprintf(" --connection %s", o->connection) : ds_xstrdup("");
	if (inv->dry_run)
		out->text = ds_xprintf("would create %s; nothing was changed", shadow);
	else if (v2)
		out->text = ds_xprintf("started swap %" JSON_INTEGER_FORMAT " of %s in mode v2: "
				       "its tasks now write %s too; fill it, 'swap-table check%s', "
				       "move the readers, then 'swap-table finish%s'",
				       json_integer_value(json_object_get(out->data, "swap")),
				       inv->args[0], shadow, on, on);
	else
		out->text = ds_xprintf("started swap %" JSON_INTEGER_FORMAT " of %s: its tasks "
				       "now write %s too; fill it, then 'swap-table check%s'",
				       json_integer_value(json_object_get(out->data, "swap")),
				       inv->args[0], shadow, on);
	free(on);
	return 0;
}

static int run_status(struct ds_session *s, const struct ds_invocation *inv, struct ds_result *out)
{
	const struct swap_opts *o = inv->opts;
	json_t *rows = ds_swap_status(&s->db, inv->nargs ? inv->args[0] : NULL, o->connection,
				      s->progress, s->progress_ctx, &s->err);

	if (!rows)
		return -1;
	out->data = json_pack("{s:o}", "swaps", rows);
	if (json_array_size(rows) == 0)
		out->text = ds_xstrdup("no swaps");
	return 0;
}

static int accept_check(struct ds_session *s, const struct swap_opts *o, struct ds_swap *sw,
			struct ds_result *out)
{
	const char *check = o->accept, *reason = o->reason;

	if (!reason || !reason[0]) {
		ds_error_set(&s->err, DS_ERR_USAGE, "--accept %s needs --reason TEXT", check);
		return ds_error_hint(&s->err, "say why the failed check may be ignored; the "
					      "audit log keeps it");
	}
	if (ds_swap_accept(sw, check, reason, &s->audit, &s->err) < 0)
		return -1;
	out->data = json_pack("{s:I, s:s, s:s}", "swap", (json_int_t)sw->id, "accepted", check,
			      "reason", reason);
	out->text = ds_xprintf("accepted check '%s' of swap %lld: %s", check, sw->id, reason);
	return 0;
}

/*
 * The results are shown whatever they are; a check that failed also fails the command
 * (exit status 3), naming the checks, as they now block the swap.
 */
static void fail_on_failed_checks(struct ds_session *s, const struct ds_swap *sw,
				  struct ds_result *out)
{
	struct ds_buf names = DS_BUF_INIT;
	json_t *c;
	size_t i;
	char *list;

	json_array_foreach(json_object_get(out->data, "checks"), i, c)
	{
		if (strcmp(json_string_value(json_object_get(c, "status")), "failed"))
			continue;
		ds_buf_addf(&names, "%s%s", names.len ? ", " : "",
			    json_string_value(json_object_get(c, "name")));
	}
	list = ds_buf_take(&names);
	if (list[0]) {
		ds_error_set(&s->err, DS_ERR_FAILED, "checks of swap %lld failed: %s", sw->id,
			     list);
		ds_error_hint(&s->err,
			      "they block the swap: fix %s and check again, or accept one with "
			      "'swap-table check %s --accept CHECK --reason TEXT'",
			      sw->qshadow, sw->qtable);
		out->failed = 1;
	}
	free(list);
}

static int run_check(struct ds_session *s, const struct ds_invocation *inv, struct ds_result *out)
{
	const struct swap_opts *o = inv->opts;
	struct ds_swap sw;
	int rc = 0;

	if (ds_swap_find(&s->db, inv->args[0], o->connection, &sw, &s->err) < 0) {
		ds_swap_release(&sw);
		return -1;
	}
	if (o->accept)
		rc = accept_check(s, o, &sw, out);
	else if (!(out->data = ds_swap_check(&sw, o->key, &s->audit, &s->err)))
		rc = -1;
	else
		fail_on_failed_checks(s, &sw, out);
	ds_swap_release(&sw);
	return rc;
}

static int exchange(struct ds_session *s, const struct ds_invocation *inv, int rollback,
		    struct ds_result *out)
{
	const struct swap_opts *opts = inv->opts;
	struct ds_swap_opts o = { .dry_run = 1,
				  .progress = s->progress,
				  .progress_ctx = s->progress_ctx };
	struct ds_swap sw;
	json_t *preview = NULL;
	char *question;
	int ok;

	o.lock_timeout_ms =
		duration_or(opts->lock_timeout, "lock-timeout", SERVER_MAX_MS, 200, &s->err);
	o.deadline_ms = duration_or(opts->deadline, "deadline", SERVER_MAX_MS, 60000, &s->err);
	o.cancel_blockers = opts->cancel_blockers;
	o.lose_writes = opts->lose_writes;
	if (opts->lose_writes && !rollback) {
		ds_error_set(&s->err, DS_ERR_USAGE, "--lose-writes applies to rollback only");
		return ds_error_hint(&s->err,
				     "a swap never loses writes: bring T_backfill up to date, "
				     "then 'swap-table check' and swap");
	}
	if (o.lock_timeout_ms <= 0 || o.deadline_ms <= 0) {
		if (s->err.kind == DS_ERR_NONE)
			ds_error_set(&s->err, DS_ERR_USAGE, "durations must be above zero");
		return -1;
	}
	if (ds_swap_find(&s->db, inv->args[0], opts->connection, &sw, &s->err) < 0) {
		ds_swap_release(&sw);
		return -1;
	}
	question = ds_xprintf("%s %s now", rollback ? "roll back" : "swap", sw.qtable);
	/* What it will do is worked out (a dry run) only for a person to read. */
	if (!inv->yes && !inv->dry_run && s->interactive && s->confirm &&
	    !(preview = ds_swap_exchange(&sw, rollback, &o, NULL, &s->err)))
		goto fail;
	ok = ds_confirm(s, inv, json_object_get(preview, "plan"), question, out);
	json_decref(preview);
	if (ok < 0)
		goto fail;
	if (!ok)
		goto done;
	o.dry_run = inv->dry_run;
	out->data = ds_swap_exchange(&sw, rollback, &o, &s->audit, &s->err);
	if (!out->data)
		goto fail;
	if (json_is_true(json_object_get(out->data, "already")))
		out->text = ds_xprintf("swap %lld of %s is already %s", sw.id, sw.qtable, sw.state);
	else if (!o.dry_run)
		out->text = ds_xprintf(
			"%s %s in %" JSON_INTEGER_FORMAT " attempt%s; the lock was held %.1f ms",
			rollback ? "rolled back" : "swapped", sw.qtable,
			json_integer_value(json_object_get(out->data, "attempts")),
			json_integer_value(json_object_get(out->data, "attempts")) == 1 ? "" : "s",
			json_real_value(json_object_get(out->data, "lock_ms")));
done:
	free(question);
	ds_swap_release(&sw);
	return 0;
fail:
	free(question);
	ds_swap_release(&sw);
	return -1;
}

static int run_swap(struct ds_session *s, const struct ds_invocation *inv, struct ds_result *out)
{
	return exchange(s, inv, 0, out);
}

static int run_rollback(struct ds_session *s, const struct ds_invocation *inv,
			struct ds_result *out)
{
	return exchange(s, inv, 1, out);
}

static int run_finish(struct ds_session *s, const struct ds_invocation *inv, struct ds_result *out)
{
	const struct swap_opts *o = inv->opts;
	long keep_ms = duration_or(o->keep, "keep", KEEP_MAX_MS, 0, &s->err);
	struct ds_swap sw;
	json_t *shown;
	char *question;
	int ok;

	if (keep_ms < 0)
		return -1;
	if (o->keep && keep_ms < 1000) {
		ds_error_set(&s->err, DS_ERR_USAGE, "--keep: '%s' is less than a second", o->keep);
		return ds_error_hint(&s->err, "keep T_old at least 1s, or leave --keep out");
	}
	if (ds_swap_find(&s->db, inv->args[0], o->connection, &sw, &s->err) < 0) {
		ds_swap_release(&sw);
		return -1;
	}
	shown = json_pack("{s:s}", "drop",
			  sw.v2				 ? sw.qtable
			  : !strcmp(sw.state, "swapped") ? sw.qold
							 : sw.qshadow);
	question = ds_xprintf("drop %s", json_string_value(json_object_get(shown, "drop")));
	/* finish --keep only records the retention, dropping nothing: nothing to ask. */
	ok = keep_ms > 0 ? 1 : ds_confirm(s, inv, shown, question, out);
	json_decref(shown);
	free(question);
	if (ok > 0)
		out->data = ds_swap_finish(&sw, keep_ms / 1000, inv->dry_run, &s->audit, &s->err);
	ds_swap_release(&sw);
	if (ok <= 0)
		return ok;
	return out->data ? 0 : -1;
}

static int run_abandon(struct ds_session *s, const struct ds_invocation *inv, struct ds_result *out)
{
	const struct swap_opts *o = inv->opts;
	struct ds_swap sw;
	json_t *shown;
	char *question;
	int ok;

	if (ds_swap_find(&s->db, inv->args[0], o->connection, &sw, &s->err) < 0) {
		ds_swap_release(&sw);
		return -1;
	}
	shown = json_pack("{s:s, s:s}", "drop", sw.qshadow, "keep", sw.qtable);
	question = ds_xprintf("drop %s and end swap %lld (%s stays as it is)", sw.qshadow, sw.id,
			      sw.qtable);
	ok = ds_confirm(s, inv, shown, question, out);
	json_decref(shown);
	free(question);
	if (ok > 0)
		out->data = ds_swap_abandon(&sw, inv->dry_run, &s->audit, &s->err);
	ds_swap_release(&sw);
	if (ok <= 0)
		return ok;
	return out->data ? 0 : -1;
}

/* Every step but status changes the journal or the tables: the admin role. */
static const struct ds_action swap_actions[] = {
	{
		.name = "start",
		.synopsis = "T [--like | --create-sql FILE] [--mode swap|v2] [--connection NAME] "
			    "[--dry-run]",
		.summary = "create T_backfill (or T_v2) beside T and journal the swap",
		.opts = start_options,
		.shared_opts = connection_options,
		.complete = "TABLE",
		.min_args = 1,
		.max_args = 1,
		.flags = DS_CMD_WRITES | DS_CMD_DRY_RUN,
		.role = DS_ROLE_ADMIN,
		.run = run_start,
	},
	{
		.name = "check",
		.synopsis = "T [--key COLUMN] [--accept CHECK --reason TEXT] [--connection NAME]",
		.summary = "compare T_backfill with T and list what is bound to T",
		.opts = check_options,
		.shared_opts = connection_options,
		.complete = "TABLE",
		.min_args = 1,
		.max_args = 1,
		.flags = DS_CMD_WRITES,
		.role = DS_ROLE_ADMIN,
		.run = run_check,
	},
	{
		.name = "swap",
		.synopsis = "T [--lock-timeout 200ms] [--deadline 60s] [--cancel-blockers] "
			    "[--connection NAME] [--dry-run] [--yes]",
		.summary = "rename T to T_old and T_backfill to T in one short transaction",
		.opts = exchange_options,
		.shared_opts = connection_options,
		.complete = "TABLE",
		.min_args = 1,
		.max_args = 1,
		.flags = DS_CMD_WRITES | DS_CMD_DRY_RUN | DS_CMD_DESTRUCTIVE,
		.role = DS_ROLE_ADMIN,
		.run = run_swap,
	},
	{
		.name = "rollback",
		.synopsis = "T [--lock-timeout 200ms] [--deadline 60s] [--cancel-blockers] "
			    "[--lose-writes] [--connection NAME] [--dry-run] [--yes]",
		.summary = "swap back, while T_old exists",
		.opts = exchange_options,
		.shared_opts = connection_options,
		.complete = "TABLE",
		.min_args = 1,
		.max_args = 1,
		.flags = DS_CMD_WRITES | DS_CMD_DRY_RUN | DS_CMD_DESTRUCTIVE,
		.role = DS_ROLE_ADMIN,
		.run = run_rollback,
	},
	{
		.name = "finish",
		.synopsis = "T [--keep 7d] [--connection NAME] [--dry-run] [--yes]",
		.summary = "drop T_old (never CASCADE); in mode v2, retire T",
		.opts = finish_options,
		.shared_opts = connection_options,
		.complete = "TABLE",
		.min_args = 1,
		.max_args = 1,
		.flags = DS_CMD_WRITES | DS_CMD_DRY_RUN | DS_CMD_DESTRUCTIVE,
		.role = DS_ROLE_ADMIN,
		.run = run_finish,
	},
	{
		.name = "abandon",
		.synopsis = "T [--connection NAME] [--dry-run] [--yes]",
		.summary = "give the rebuild up before a swap: drop T_backfill, end the swap",
		.shared_opts = connection_options,
		.complete = "TABLE",
		.min_args = 1,
		.max_args = 1,
		.flags = DS_CMD_WRITES | DS_CMD_DRY_RUN | DS_CMD_DESTRUCTIVE,
		.role = DS_ROLE_ADMIN,
		.run = run_abandon,
	},
	{
		.name = "status",
		.synopsis = "[T] [--connection NAME]",
		.summary = "where each swap stands, and what to do next",
		.shared_opts = connection_options,
		.complete = "TABLE",
		.max_args = 1,
		.run = run_status,
	},
	{ .name = NULL },
};

const struct ds_command ds_cmd_swap_table = {
	.name = "swap-table",
	.group = "tables",
	.summary = "rebuild a production table through a shadow copy and swap it in safely",
	.description =
		"start creates T_backfill beside T (like T, or --create-sql FILE with at least\n"
		"T's columns), which T's tasks write too until the swap (and after a rollback);\n"
		"fill it (backfill ... --into backfill), then check compares it\n"
		"with T (row counts, checksums, NOT NULL, unique keys, the tasks' checks) and\n"
		"lists what is bound to T; a failed check fails the command and blocks the swap.\n"
		"swap copies grants, RLS, policies, triggers, comments and a sequence of its own\n"
		"onto T_backfill, then in one short transaction renames T to T_old and\n"
		"T_backfill to T and re-points views, functions and foreign keys; a lock wait\n"
		"longer than --lock-timeout is rolled back and retried until --deadline. Under\n"
		"the lock it refuses if a transaction wrote T but not T_backfill after the last\n"
		"check (those writes would be lost). rollback swaps back, refusing likewise if T\n"
		"was written since the swap (unless --lose-writes); finish drops T_old (never\n"
		"CASCADE).\n"
		"abandon gives the rebuild up while T is still production: it drops T_backfill\n"
		"(or T_v2), cancels its runs of backfill --into and ends the swap.\n"
		"With --mode v2, start creates T_v2 instead, the tasks that write T write it too,\n"
		"readers move to it at their own pace, and finish retires T (no swap).\n"
		"With --connection NAME, T is a table of that named connection's database (a\n"
		"warehouse), written by the tasks on that connection, in either mode; its\n"
		"journal stays in the state store. Each step commits there first, with a copy\n"
		"of its journal row, and the next command (or status) brings the journal\n"
		"forward from it when a shell was killed in between.\n"
		"T may be written as SQL does: '\"Order Items\"'.",
	.example = "swap-table swap orders --lock-timeout 200ms --deadline 60s",
	.opts_size = sizeof(struct swap_opts),
	.actions = swap_actions,
	.flags = DS_CMD_SERVER | DS_CMD_SCHEMA,
	.role = DS_ROLE_VIEWER,
};
