/* alerts: the incidents datashell raised, and a person's answer to them (ack, resolve). */
#include <stdlib.h>
#include <string.h>

#include "../core/alerts.h"
#include "../core/sql.h"
#include "../core/util.h"
#include "command.h"

struct alerts_opts {
	int open;
	const char *task;
	const char *kind;
	const char *state;
	int all;
	const char *reason;
};

/* The filters the listing, ack and resolve all take. */
static const struct ds_opt filter_options[] = {
	DS_OPT_STRING("task", struct alerts_opts, task, "SELECTOR",
		      "only the alerts of the tasks it names"),
	DS_OPT_STRING("kind", struct alerts_opts, kind, "KIND",
		      "only the alerts of this kind: task_failing, sla_missed, lease_lost or "
		      "connection_refused"),
	DS_OPT_BOOL("all", struct alerts_opts, all,
		    "every alert the filters pass: listed, not only the 500 latest; answered, "
		    "without ids"),
	DS_OPT_END,
};

static const struct ds_opt list_options[] = {
	DS_OPT_BOOL("open", struct alerts_opts, open, "only the alerts not resolved"),
	DS_OPT_STRING("state", struct alerts_opts, state, "STATE",
		      "only those open, acked or resolved"),
	DS_OPT_END,
};

static const struct ds_opt answer_options[] = {
	DS_OPT_STRING("reason", struct alerts_opts, reason, "TEXT", "why, for the audit log"),
	DS_OPT_END,
};

static int run_list(struct ds_session *s, const struct ds_invocation *inv, struct ds_result *out)
{
	const struct alerts_opts *o = inv->opts;
	struct ds_alert_filter f = { .tasks = o->task,
				     .exclude = inv->exclude,
				     .kind = o->kind,
				     .state = o->state,
				     .open_only = o->open };
	json_int_t total = 0;
	json_t *rows = ds_alerts_list(&s->db, &f, o->all ? DS_EVERY_ROW : DS_ALERTS_SHOWN, &total,
				      &s->err);
	int filtered = o->task || inv->exclude || o->kind || o->state;

	if (!rows)
		return -1;
	out->data = json_pack("{s:o, s:I}", "alerts", rows, "alerts_total", total);
	if (!json_array_size(rows))
		out->text = ds_xstrdup(filtered	 ? "no alerts match"
				       : o->open ? "no open alerts"
						 : "no alerts");
	return 0;
}

/* The alert id in word, or -1 after a usage error. */
static long long alert_id(struct ds_session *s, const char *word)
{
	char *end;
	long long id = strtoll(word, &end, 10);

	if (!word[0] || *end || id <= 0) {
		ds_error_set(&s->err, DS_ERR_USAGE, "'%s' is not an alert id", word);
		ds_error_hint(&s->err, "'alerts --open' lists the alerts with their ids");
		return -1;
	}
	return id;
}

/* "4, 5, 7" of the result's ids. Caller frees. */
static char *ids_text(json_t *ids)
{
	char *text = ds_xstrdup(""), *more;
	size_t i;
	json_t *id;

	json_array_foreach(ids, i, id)
	{
		more = ds_xprintf("%s%s%lld", text, i ? ", " : "",
				  (long long)json_integer_value(id));
		free(text);
		text = more;
	}
	return text;
}

/*
 * ack and resolve: the alerts named by their ids, or by filters (--task, --exclude,
 * --kind, --all),
 * taken together; nothing at all is refused, so that a slip of the keyboard never
 * answers every alert.
 */
static int answer(struct ds_session *s, const struct ds_invocation *inv, struct ds_result *out,
		  const char *state)
{
	const struct alerts_opts *o = inv->opts;
	long long *ids = ds_xmalloc(((size_t)inv->nargs + 1) * sizeof(*ids));
	struct ds_alert_filter f = { .ids = ids,
				     .nids = inv->nargs,
				     .tasks = o->task,
				     .exclude = inv->exclude,
				     .kind = o->kind };
	const char *verb = !strcmp(state, "acked") ? "ack" : "resolve";
	int dry_run = inv->dry_run;
	json_t *res;
	long long n;
	char *list;

	for (int i = 0; i < inv->nargs; i++)
		if ((ids[i] = alert_id(s, inv->args[i])) < 0)
			goto fail;
	if (!inv->nargs && !o->all && !o->task && !inv->exclude && !o->kind) {
		ds_error_set(&s->err, DS_ERR_USAGE,
			     "alerts %s needs alert ids, or --task, --exclude, --kind or --all",
			     verb);
		ds_error_hint(&s->err, "'alerts --open' lists the alerts with their ids");
		goto fail;
	}
	if (inv->nargs && o->all) {
		ds_error_set(&s->err, DS_ERR_USAGE, "alerts %s takes alert ids or --all, not both",
			     verb);
		goto fail;
	}
	res = ds_alerts_answer(&s->db, &f, state, o->reason, dry_run, &s->audit, &s->err);
	free(ids);
	if (!res)
		return -1;
	n = json_integer_value(json_object_get(res, "count"));
	if (inv->nargs == 1 && n == 1) {
		json_t *a = json_array_get(json_object_get(res, "alerts"), 0);

		out->text = ds_xprintf("%s alert %lld %s: %s", dry_run ? "would mark" : "marked",
				       (long long)json_integer_value(json_object_get(a, "id")),
				       state, json_string_value(json_object_get(a, "summary")));
	} else {
		list = ids_text(json_object_get(res, "ids"));
		out->text = ds_xprintf("%s %lld alert%s %s%s%s", dry_run ? "would mark" : "marked",
				       n, n == 1 ? "" : "s", state, n ? ": " : "", list);
		free(list);
	}
	json_object_set_new(res, "dry_run", json_boolean(dry_run));
	out->data = res;
	return 0;
fail:
	free(ids);
	return -1;
}

static int run_ack(struct ds_session *s, const struct ds_invocation *inv, struct ds_result *out)
{
	return answer(s, inv, out, "acked");
}

static int run_resolve(struct ds_session *s, const struct ds_invocation *inv, struct ds_result *out)
{
	return answer(s, inv, out, "resolved");
}

static const struct ds_action alerts_actions[] = {
	{
		.name = "list",
		.synopsis = "[--open] [--state STATE] [--task SELECTOR] [--exclude SELECTOR] "
			    "[--kind KIND] [--all]",
		.summary = "the alerts, newest first",
		.shared_opts = filter_options,
		.opts = list_options,
		.flags = DS_ACTION_DEFAULT, /* "alerts" alone lists them */
		.run = run_list,
	},
	{
		.name = "ack",
		.synopsis =
			"[ID...] [--task SELECTOR] [--exclude SELECTOR] [--kind KIND] [--all] [--reason TEXT]",
		.summary = "acknowledge alerts: someone is on it",
		.shared_opts = filter_options,
		.opts = answer_options,
		.complete = "ALERT...",
		.min_args = 0,
		.max_args = -1,
		.flags = DS_CMD_WRITES | DS_CMD_DRY_RUN,
		.role = DS_ROLE_OPERATOR,
		.run = run_ack,
	},
	{
		.name = "resolve",
		.synopsis =
			"[ID...] [--task SELECTOR] [--exclude SELECTOR] [--kind KIND] [--all] [--reason TEXT]",
		.summary = "mark alerts resolved",
		.shared_opts = filter_options,
		.opts = answer_options,
		.complete = "ALERT...",
		.min_args = 0,
		.max_args = -1,
		.flags = DS_CMD_WRITES | DS_CMD_DRY_RUN,
		.role = DS_ROLE_OPERATOR,
		.run = run_resolve,
	},
	{ .name = NULL },
};

const struct ds_command ds_cmd_alerts = {
	.name = "alerts",
	.group = "on-call",
	.summary = "list the alerts; acknowledge or resolve them",
	.description =
		"An alert is an incident, one open per task and cause: a task failing\n"
		"(task_failing: its failed runs, warning for a blocked pre-check, error for a\n"
		"failed run, critical for its breaker opening), a task's keys of one day past\n"
		"their SLA (sla_missed), a worker's leases lost (lease_lost), a named\n"
		"connection that refuses connections (connection_refused: one for all the runs\n"
		"it refused). Repeats count, the severity only rises. It resolves itself when\n"
		"its cause clears: the task succeeds with its breaker closed, the late keys are\n"
		"done, the lost runs have ended, a run connects again. Incidents are published with NOTIFY datashell_alerts and told to the\n"
		"worker's --alert-hook: trigger, update (severity rose), resolve.\n"
		"ack and resolve take several ids, or filters (--task, --kind, --all) taken\n"
		"together; --exclude SELECTOR leaves out the alerts of the tasks it names\n"
		"(never a worker's). An unknown or resolved id changes nothing at all. An\n"
		"incident resolved by hand whose cause comes back opens a new one.",
	.example = "alerts ack --task orders_daily --kind task_failing",
	.opts_size = sizeof(struct alerts_opts),
	.actions = alerts_actions,
	.flags = DS_CMD_SERVER | DS_CMD_SCHEMA | DS_CMD_SELECTS,
	.role = DS_ROLE_VIEWER,
};
