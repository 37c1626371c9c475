/*
 * breaker: the per-task circuit breakers: list them, reset one (its held runs are queued
 * again), trip one by hand. The worker opens and closes them itself; see core/breaker.c.
 */
#include <stdlib.h>
#include <string.h>

#include "../core/breaker.h"
#include "../core/util.h"
#include "command.h"

struct breaker_opts {
	const char *reason;
};

static const struct ds_opt trip_options[] = {
	DS_OPT_STRING("reason", struct breaker_opts, reason, "TEXT",
		      "why, for the alert and the audit log"),
	DS_OPT_END,
};

static int run_list(struct ds_session *s, const struct ds_invocation *inv, struct ds_result *out)
{
	json_t *rows = ds_breaker_list(&s->db, &s->err);

	(void)inv;
	if (!rows)
		return -1;
	out->data = json_pack("{s:o}", "breakers", rows);
	if (!json_array_size(rows))
		out->text = ds_xstrdup("every breaker is closed");
	return 0;
}

/* "reset the breaker of orders (open) and queue its 3 held runs again". Caller frees. */
static char *describe_reset(json_t *plan)
{
	long long n = json_integer_value(json_object_get(plan, "requeued"));

	return ds_xprintf("reset the breaker of %s (%s) and queue its %lld held run%s again",
			  json_string_value(json_object_get(plan, "task")),
			  json_string_value(json_object_get(plan, "state")), n, n == 1 ? "" : "s");
}

/*
 * A reset lets a task that was failing loose on the warehouse again: it is worked out
 * first (rolled back), shown, and asked for; a script needs --yes.
 */
static int run_reset(struct ds_session *s, const struct ds_invocation *inv, struct ds_result *out)
{
	json_t *plan = ds_breaker_reset(&s->db, inv->args[0], 1, NULL, &s->err), *row;
	char *what;
	int rc;

	if (!plan)
		return -1;
	what = describe_reset(plan);
	json_object_set_new(plan, "dry_run", json_true());
	if (inv->dry_run) {
		out->data = plan;
		out->text = ds_xprintf("would %s; nothing was changed", what);
		free(what);
		return 0;
	}
	rc = ds_confirm(s, inv, plan, what, out);
	json_decref(plan);
	free(what);
	if (rc <= 0)
		return rc;
	row = ds_breaker_reset(&s->db, inv->args[0], 0, &s->audit, &s->err);
	if (!row)
		return -1;
	out->text = ds_xprintf("reset the breaker of %s (it was %s); queued %lld held run(s) again",
			       json_string_value(json_object_get(row, "task")),
			       json_string_value(json_object_get(row, "state")),
			       (long long)json_integer_value(json_object_get(row, "requeued")));
	json_object_set_new(row, "dry_run", json_false());
	out->data = row;
	return 0;
}

static int run_trip(struct ds_session *s, const struct ds_invocation *inv, struct ds_result *out)
{
	const struct breaker_opts *o = inv->opts;
	const char *task = inv->args[0], *reason = o->reason;
	int dry_run = inv->dry_run;
	json_t *row;

	if (!reason || !reason[0]) {
		ds_error_set(&s->err, DS_ERR_USAGE, "breaker trip needs --reason TEXT");
		return ds_error_hint(&s->err,
				     "the reason goes into the alert and the audit log: "
				     "breaker trip %s --reason \"...\"",
				     task);
	}
	row = ds_breaker_trip(&s->db, task, reason, dry_run, &s->audit, &s->err);
	if (!row)
		return -1;
	out->text =
		ds_xprintf("%s the breaker of %s; %s %lld queued run(s)",
			   dry_run ? "would open" : "opened", task, dry_run ? "would hold" : "held",
			   (long long)json_integer_value(json_object_get(row, "held")));
	json_object_set_new(row, "dry_run", json_boolean(dry_run));
	out->data = row;
	return 0;
}

static const struct ds_action breaker_actions[] = {
	{
		.name = "list",
		.synopsis = "",
		.summary = "the breakers that are not closed or have counted failures",
		.run = run_list,
	},
	{
		.name = "reset",
		.synopsis = "TASK [--dry-run] [--yes]",
		.summary = "close a task's breaker now and queue its held runs again",
		.complete = "TASK",
		.min_args = 1,
		.max_args = 1,
		.flags = DS_CMD_WRITES | DS_CMD_DRY_RUN | DS_CMD_DESTRUCTIVE,
		.role = DS_ROLE_OPERATOR,
		.run = run_reset,
	},
	{
		.name = "trip",
		.synopsis = "TASK --reason TEXT [--dry-run]",
		.summary = "open a task's breaker by hand, until a reset",
		.opts = trip_options,
		.complete = "TASK",
		.min_args = 1,
		.max_args = 1,
		.flags = DS_CMD_WRITES | DS_CMD_DRY_RUN,
		.role = DS_ROLE_OPERATOR,
		.run = run_trip,
	},
	{ .name = NULL },
};

const struct ds_command ds_cmd_breaker = {
	.name = "breaker",
	.group = "on-call",
	.summary = "list circuit breakers, reset one, trip one by hand",
	.description =
		"A task's breaker opens after repeated or fatal failures (see\n"
		"datashell-pipelines(5)): its queued runs are held and none is claimed. After a\n"
		"cool-down one probe run goes through; its success closes the breaker. reset\n"
		"closes it now and queues the held runs again (it asks first; in a script it\n"
		"needs --yes). trip opens it by hand, until a reset.",
	.example = "breaker trip orders_daily --reason \"bad upstream data, see INC-42\"",
	.opts_size = sizeof(struct breaker_opts),
	.actions = breaker_actions,
	.flags = DS_CMD_SERVER | DS_CMD_SCHEMA,
	.role = DS_ROLE_VIEWER,
};
