/* backfill: plan the runs of a selector over a range of keys and enqueue them as a batch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/select.h"
#include "../core/util.h"
#include "command.h"

struct backfill_opts {
	int only_failed, only_stale, rerun, reverse, wait;
	long priority, max_active;
	const char *into, *reconnect_timeout;
};

/* The most --max-active takes: more than any worker fleet has slots. */
#define MAX_ACTIVE_MAX 100000

/* max_active is -1 until --max-active is given, so that --max-active 0 is refused. */
static const struct backfill_opts backfill_defaults = {
	.max_active = -1,
	.reconnect_timeout = DS_RECONNECT_TIMEOUT,
};

static const struct ds_opt backfill_options[] = {
	DS_OPT_BOOL("only-failed", struct backfill_opts, only_failed,
		    "enqueue only keys whose latest run failed or was blocked"),
	DS_OPT_BOOL("stale", struct backfill_opts, only_stale,
		    "enqueue only complete keys built by an older version of their task"),
	DS_OPT_BOOL("rerun", struct backfill_opts, rerun,
		    "also re-run keys that are already complete"),
	DS_OPT_BOOL("reverse", struct backfill_opts, reverse, "run the newest keys first"),
	DS_OPT_INT("priority", struct backfill_opts, priority, "N",
		   "queue priority, higher runs sooner (default 0)"),
	DS_OPT_STRING("into", struct backfill_opts, into, "backfill",
		      "write each task's target's shadow TARGET_backfill (swap-table), even "
		      "complete keys"),
	DS_OPT_INT("max-active", struct backfill_opts, max_active, "N",
		   "run at most N of the batch's runs at once, across all workers, on top of "
		   "the graph's max_active"),
	DS_OPT_BOOL("wait", struct backfill_opts, wait,
		    "wait until the batch's runs finish; fail if one of them fails"),
	DS_OPT_STRING("reconnect-timeout", struct backfill_opts, reconnect_timeout, "DURATION",
		      "with --wait, when the server is lost, try to reconnect for this long "
		      "(default 5m; 0: exit at once)"),
	DS_OPT_END,
};

static json_int_t plan_total(json_t *plan, const char *field)
{
	json_int_t total = 0;
	size_t i;
	json_t *row;

	json_array_foreach(plan, i, row) total += json_integer_value(json_object_get(row, field));
	return total;
}

/*
 * A large plan needs a yes from the person at the terminal, unless --yes (a script
 * goes ahead: see DS_CMD_ASKS). 1: go ahead; 0: declined, and out says so.
 */
static int confirmed(struct ds_session *s, const struct ds_invocation *inv, json_t *plan,
		     struct ds_result *out)
{
	json_int_t n = plan_total(plan, "enqueue");
	char what[64];

	if (n <= DS_CONFIRM_ABOVE)
		return 1;
	snprintf(what, sizeof(what), "enqueue %" JSON_INTEGER_FORMAT " runs", n);
	return ds_confirm(s, inv, plan, what, out);
}

/* --into backfill: the runs write the shadow of their target, every key of the range. */
static int into_backfill(struct ds_session *s, const char *into, struct ds_run_request *req)
{
	if (!into)
		return 0;
	if (strcmp(into, "backfill")) {
		ds_error_set(&s->err, DS_ERR_USAGE, "--into: unknown target '%s'", into);
		return ds_error_hint(&s->err, "--into backfill writes TARGET_backfill, the table "
					      "'swap-table start' made");
	}
	req->into_backfill = 1;
	req->rerun = 1;
	return ds_run_request_check_into(&s->db, req, &s->err);
}

/* --max-active N: the batch's cap into req, 0 when not given. */
static int batch_cap(struct ds_session *s, long max_active, struct ds_run_request *req)
{
	if (max_active == -1)
		return 0;
	if (max_active < 1 || max_active > MAX_ACTIVE_MAX)
		return ds_error_set(&s->err, DS_ERR_USAGE,
				    "'--max-active' must be from 1 to %d, not %ld", MAX_ACTIVE_MAX,
				    max_active);
	req->max_active = (int)max_active;
	return 0;
}

/* The batch's cap, when it has one, then the plan, at the end of a result. */
static void add_cap_and_plan(json_t *data, const struct ds_run_request *req, json_t *plan)
{
	if (req->max_active)
		json_object_set_new(data, "max_active", json_integer(req->max_active));
	json_object_set_new(data, "plan", plan);
}

static int run_backfill(struct ds_session *s, const struct ds_invocation *inv,
			struct ds_result *out)
{
	const struct backfill_opts *o = inv->opts;
	struct ds_run_request req;
	long long batch = 0;
	long enqueued = 0;
	int reconnect_s;
	json_t *plan, *not_due;

	if (ds_reconnect_timeout(o->reconnect_timeout, &reconnect_s, &s->err) < 0)
		return -1;
	if (o->only_stale && (o->only_failed || o->rerun || o->into)) {
		ds_error_set(&s->err, DS_ERR_USAGE,
			     "--stale chooses the keys itself: it takes "
			     "no --only-failed, --rerun or --into");
		return ds_error_hint(&s->err, "'backfill SELECTOR RANGE --stale' re-runs the "
					      "stale keys of the range");
	}
	if (ds_resolve_request(&s->db, inv->args[0], inv->exclude, inv->args[1], &req, &s->err) < 0)
		return -1;
	req.rerun = o->rerun;
	req.only_failed = o->only_failed;
	req.only_stale = o->only_stale;
	req.reverse = o->reverse;
	req.priority = (int)o->priority;
	if (batch_cap(s, o->max_active, &req) < 0 || into_backfill(s, o->into, &req) < 0)
		goto fail;
	plan = ds_plan(&s->db, &req, &not_due, &s->err);
	if (!plan)
		goto fail;
	if (inv->dry_run) {
		out->data = json_pack("{s:s, s:s, s:b, s:I}", "first_key", req.range.first,
				      "last_key", req.range.last, "dry_run", 1, "enqueue",
				      plan_total(plan, "enqueue"));
		add_cap_and_plan(out->data, &req, plan);
		ds_plan_add_not_due(out->data, not_due);
		ds_run_request_release(&req);
		return 0;
	}
	if (!confirmed(s, inv, plan, out)) {
		json_decref(plan);
		json_decref(not_due);
		ds_run_request_release(&req);
		return 0;
	}
	/* Its audit row says what the waiting came to, not only what was enqueued. */
	s->audit.waits = o->wait;
	if (ds_enqueue(&s->db, &req, "backfill", &s->audit, &batch, &enqueued, &s->err) < 0) {
		json_decref(plan);
		json_decref(not_due);
		goto fail;
	}
	out->data =
		json_pack("{s:o, s:s, s:s, s:I}", "batch",
			  batch ? json_integer(batch) : json_null(), "first_key", req.range.first,
			  "last_key", req.range.last, "enqueued", (json_int_t)enqueued);
	add_cap_and_plan(out->data, &req, plan);
	ds_plan_add_not_due(out->data, not_due);
	ds_run_request_release(&req);
	if (!o->wait || !batch)
		return 0;
	return ds_wait_for(s, batch, reconnect_s, out->data);
fail:
	ds_run_request_release(&req);
	return -1;
}

const struct ds_command ds_cmd_backfill = {
	.name = "backfill",
	.group = "runs",
	.synopsis = "SELECTOR RANGE [--exclude SELECTOR] [--dry-run] [--only-failed] [--stale] "
		    "[--rerun] [--reverse] [--priority N] [--max-active N] [--into backfill] "
		    "[--wait] [--reconnect-timeout DURATION] [--yes]",
	.summary = "enqueue the runs of some tasks over a range of keys, as one batch",
	.description =
		"Plans per task the keys to enqueue, those already complete and those already\n"
		"queued or running, then enqueues the plan in one transaction as one batch.\n"
		"Complete keys are skipped unless --rerun; a run already queued or running is\n"
		"never duplicated; with nothing to enqueue, no batch is made (Batch: none).\n"
		"--stale enqueues only the complete keys built by an older version of their\n"
		"task (status marks them ~; the plan counts them).\n"
		"SELECTOR: name, name+ (and downstream), +name (and upstream), graph:NAME,\n"
		"/regex/, & for intersection, comma for union (a+&graph:x,b); --exclude\n"
		"SELECTOR leaves tasks out. RANGE: 2024-01-05, 2024-01-01..2024-03-31,\n"
		"2024-03, 2024-01-05T07, and relative: today, yesterday, today-7..yesterday,\n"
		"now-6h..now-1h (today is today's hours so far for hourly tasks).\n"
		"Keys that are not due yet (their period has not ended, plus the task's\n"
		"delay) are never enqueued: a range that runs into the future is cut per\n"
		"task at its last due key, and the plan's Not due section says from which\n"
		"key and when it becomes due; when no key is due at all, it fails.\n"
		"On a terminal, a plan of more than 1000 runs asks for confirmation.\n"
		"--max-active N lets at most N of the batch's runs run at once, whatever the\n"
		"number of workers, on top of each graph's max_active; status BATCH shows it.\n"
		"--into backfill points the runs at TARGET_backfill (see swap-table). With\n"
		"--wait it waits for the workers to finish the batch, showing progress at a\n"
		"terminal, and fails if one of its runs fails, or when nothing can progress\n"
		"for DATASHELL_WAIT_GRACE seconds (30): no live worker, or all that is left\n"
		"stuck (breaker open, graph paused, upstream failed); it names those runs.\n"
		"When the server is lost meanwhile (restarted, or failed over to a standby\n"
		"that the connection string also names), it reconnects and goes on waiting,\n"
		"for up to --reconnect-timeout; then it exits 2 with the last error.",
	.example = "backfill orders+ 2024-01 --dry-run",
	.opts = backfill_options,
	.opts_size = sizeof(struct backfill_opts),
	.opts_defaults = &backfill_defaults,
	.complete = "SELECTOR KEY",
	.min_args = 2,
	.max_args = 2,
	.flags = DS_CMD_SERVER | DS_CMD_SCHEMA | DS_CMD_WRITES | DS_CMD_DRY_RUN | DS_CMD_ASKS |
		 DS_CMD_SELECTS,
	.role = DS_ROLE_OPERATOR,
	.run = run_backfill,
};
