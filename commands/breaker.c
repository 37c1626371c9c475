/*
 * breaker: the per-task circuit breakers: list them, reset one (its held runs are queued
 * again), trip one by hand. The worker opens and closes them itself; see core/breaker.c.
 */
#include <stdlib.h>
#include <string.h>

#include "../core/breaker.h"
#include "../core/util.h"
#include "command.h"
#include "lib/action.h"

static const char *const breaker_words[] = { "list", "reset", "trip", NULL };

static const struct ds_opt breaker_opts[] = {
	DS_OPT_STRING("reason", "TEXT", "with trip: why, for the alert and the audit log"),
	DS_OPT_BOOL("dry-run", "with reset and trip: show what would change, change nothing"),
	DS_OPT_BOOL("yes", "with reset: do not ask for confirmation"),
	DS_OPT_END
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

/*
 * A reset lets a task that was failing loose on the warehouse again: at a terminal,
 * show what it will do and ask; in a script, only with --yes.
 */
static int reset_confirmed(struct ds_session *s, const struct ds_invocation *inv, json_t *plan)
{
	char *question;
	int yes;

	if (ds_inv_flag(inv, "yes") || ds_inv_flag(inv, "dry-run"))
		return 1;
	if (!s->interactive || !s->confirm) {
		ds_error_set(&s->err, DS_ERR_FAILED,
			     "breaker reset would queue %lld held run(s) of '%s' again; not "
			     "without --yes in a script",
			     (long long)json_integer_value(json_object_get(plan, "requeued")),
			     json_string_value(json_object_get(plan, "task")));
		ds_error_hint(&s->err, "add --yes to reset it, or --dry-run to see what it would do");
		return 0;
	}
	question = ds_xprintf("Reset the breaker of %s and queue its %lld held run(s) again?",
			      json_string_value(json_object_get(plan, "task")),
			      (long long)json_integer_value(json_object_get(plan, "requeued")));
	yes = s->confirm(s, plan, question);
	free(question);
	if (!yes)
		ds_error_set(&s->err, DS_ERR_FAILED, "nothing changed: the reset was not confirmed");
	return yes;
}

static int run_reset(struct ds_session *s, const struct ds_invocation *inv, struct ds_result *out)
{
	const char *task = inv->args[1];
	int dry_run = ds_inv_flag(inv, "dry-run");
	json_t *row;

	if (!dry_run && !ds_inv_flag(inv, "yes")) {
		/* What it would do, from a dry run, for the question. */
		json_t *plan = ds_breaker_reset(&s->db, task, 1, NULL, &s->err);
		int yes = plan && reset_confirmed(s, inv, plan);

		json_decref(plan);
		if (!yes)
			return -1;
	}
	row = ds_breaker_reset(&s->db, task, dry_run, &s->audit, &s->err);
	if (!row)
		return -1;
	out->text = ds_xprintf("%s the breaker of %s (it was %s); %s %lld held run(s) %s",
			       dry_run ? "would reset" : "reset", task,
			       json_string_value(json_object_get(row, "state")),
			       dry_run ? "would queue" : "queued",
			       (long long)json_integer_value(json_object_get(row, "requeued")),
			       "again");
	json_object_set_new(row, "dry_run", json_boolean(dry_run));
	out->data = row;
	return 0;
}

static int run_trip(struct ds_session *s, const struct ds_invocation *inv, struct ds_result *out)
{
	const char *task = inv->args[1], *reason = ds_inv_string(inv, "reason");
	int dry_run = ds_inv_flag(inv, "dry-run");
	json_t *row;

	if (!reason || !reason[0]) {
		ds_error_set(&s->err, DS_ERR_USAGE, "breaker trip needs --reason TEXT");
		return ds_error_hint(&s->err, "the reason goes into the alert and the audit log: "
					      "breaker trip %s --reason \"...\"", task);
	}
	row = ds_breaker_trip(&s->db, task, reason, dry_run, &s->audit, &s->err);
	if (!row)
		return -1;
	out->text = ds_xprintf("%s the breaker of %s; %s %lld queued run(s)",
			       dry_run ? "would open" : "opened", task,
			       dry_run ? "would hold" : "held",
			       (long long)json_integer_value(json_object_get(row, "held")));
	json_object_set_new(row, "dry_run", json_boolean(dry_run));
	out->data = row;
	return 0;
}

static const char *const change_opts[] = { "dry-run", "yes", NULL };
static const char *const trip_opts[] = { "dry-run", "reason", NULL };

static const struct ds_action actions[] = {
	{ "list", "breaker list", 0, 0, NULL, NULL, run_list },
	{ "reset", "breaker reset TASK [--dry-run] [--yes]", 1, 1, change_opts, DS_ROLE_OPERATOR,
	  run_reset },
	{ "trip", "breaker trip TASK --reason TEXT [--dry-run]", 1, 1, trip_opts,
	  DS_ROLE_OPERATOR, run_trip },
};

static int run_breaker(struct ds_session *s, const struct ds_invocation *inv,
		       struct ds_result *out)
{
	return ds_run_action(s, inv, out, actions, sizeof(actions) / sizeof(actions[0]));
}

const struct ds_command ds_cmd_breaker = {
	.name = "breaker",
	.group = "on-call",
	.synopsis = "list | reset TASK | trip TASK --reason TEXT",
	.summary = "list circuit breakers, reset one, trip one by hand",
	.description =
		"A task's breaker opens after repeated or fatal failures (see\n"
		"datashell-pipelines(5)): its queued runs are held and none is claimed. After a\n"
		"cool-down one probe run goes through; its success closes the breaker. reset\n"
		"closes it now and queues the held runs again (it asks first; in a script it\n"
		"needs --yes). trip opens it by hand, until a reset.",
	.example = "breaker trip orders_daily --reason \"bad upstream data, see INC-42\"",
	.opts = breaker_opts,
	.words = breaker_words,
	.min_args = 1,
	.max_args = 2,
	.flags = DS_CMD_SERVER | DS_CMD_SCHEMA | DS_CMD_WRITES,
	.role = DS_ROLE_VIEWER,
	.run = run_breaker,
};
