/* mark: record keys of a task as done without running them, so that downstream goes on. */
#include <stdlib.h>

#include "../core/history.h"
#include "../core/util.h"
#include "command.h"

struct mark_opts {
	int success, skipped;
	const char *reason;
};

static const struct ds_opt mark_options[] = {
	DS_OPT_BOOL("success", struct mark_opts, success,
		    "the keys were built some other way: mark them succeeded"),
	DS_OPT_BOOL("skipped", struct mark_opts, skipped,
		    "there is nothing to build (a day with no data): mark them skipped"),
	DS_OPT_STRING("reason", struct mark_opts, reason, "TEXT",
		      "why, for the key's history and the audit log (required)"),
	DS_OPT_END,
};

/* "mark 2024-01-02 2024-01-05..2024-01-07 of raw_orders skipped". Caller frees. */
static char *describe(const struct ds_invocation *inv, const char *mark)
{
	struct ds_buf b = DS_BUF_INIT;

	ds_buf_add(&b, "mark", 4);
	for (int i = 1; i < inv->nargs && i <= 5; i++)
		ds_buf_addf(&b, " %s", inv->args[i][0] ? inv->args[i] : "''");
	if (inv->nargs > 6)
		ds_buf_addf(&b, " and %d more", inv->nargs - 6);
	ds_buf_addf(&b, " of %s %s", inv->args[0], mark);
	return ds_buf_take(&b);
}

static int run_mark(struct ds_session *s, const struct ds_invocation *inv, struct ds_result *out)
{
	const struct mark_opts *o = inv->opts;
	const char *mark = o->skipped ? "skipped" : "success";
	char *what;
	long n;
	int rc;

	if (o->success == o->skipped) {
		ds_error_set(&s->err, DS_ERR_USAGE, "mark needs one of --success and --skipped");
		return ds_error_hint(&s->err, "mark TASK KEY... --success|--skipped --reason TEXT");
	}
	if (!o->reason || !o->reason[0]) {
		ds_error_set(&s->err, DS_ERR_USAGE, "mark needs --reason TEXT");
		return ds_error_hint(&s->err,
				     "the reason goes into the key's history and the audit log: "
				     "mark %s KEY... --%s --reason \"...\"",
				     inv->args[0], mark);
	}
	if (inv->dry_run) {
		out->data = ds_mark_keys(&s->db, inv->args[0], inv->args + 1, inv->nargs - 1, mark,
					 o->reason, 1, NULL, &s->err);
		if (!out->data)
			return -1;
		json_object_set_new(out->data, "dry_run", json_true());
		n = (long)json_array_size(json_object_get(out->data, "keys"));
		out->text = ds_xprintf("would mark %ld key%s of %s %s; nothing was changed", n,
				       n == 1 ? "" : "s", inv->args[0], mark);
		return 0;
	}
	what = describe(inv, mark);
	rc = ds_confirm(s, inv, NULL, what, out);
	free(what);
	if (rc <= 0)
		return rc;
	out->data = ds_mark_keys(&s->db, inv->args[0], inv->args + 1, inv->nargs - 1, mark,
				 o->reason, 0, &s->audit, &s->err);
	if (!out->data)
		return -1;
	json_object_set_new(out->data, "dry_run", json_false());
	n = (long)json_array_size(json_object_get(out->data, "keys"));
	out->text = ds_xprintf("marked %ld key%s of %s %s (batch %lld)", n, n == 1 ? "" : "s",
			       inv->args[0], mark,
			       (long long)json_integer_value(json_object_get(out->data, "batch")));
	return 0;
}

const struct ds_command ds_cmd_mark = {
	.name = "mark",
	.group = "runs",
	.synopsis = "TASK KEY... --success|--skipped --reason TEXT [--dry-run] [--yes]",
	.summary = "record keys as done without running them, so downstream goes on",
	.description =
		"For a key that only a person can settle: a day with no data (--skipped) or\n"
		"one built by other means (--success). Each key gets a run in its final state,\n"
		"with the task's current version, so it is complete for downstream tasks, not\n"
		"late and not stale; status shows a skipped key as s, and logs shows who marked\n"
		"it and why. A KEY may be a range. Refused for a key that is not due or has a\n"
		"run waiting or running (cancel it first). At a terminal it asks first;\n"
		"--dry-run checks the keys and changes nothing (it takes no batch id).",
	.example = "mark raw_orders 2024-01-17 --skipped --reason \"no orders: shop closed\"",
	.opts = mark_options,
	.opts_size = sizeof(struct mark_opts),
	.complete = "TASK KEY",
	.min_args = 2,
	.max_args = -1,
	.flags = DS_CMD_SERVER | DS_CMD_SCHEMA | DS_CMD_WRITES | DS_CMD_DRY_RUN | DS_CMD_ASKS,
	.role = DS_ROLE_OPERATOR,
	.run = run_mark,
};
