/* alerts: the incidents datashell raised, and a person's answer to them (ack, resolve). */
#include <stdlib.h>
#include <string.h>

#include "../core/alerts.h"
#include "../core/util.h"
#include "command.h"

struct alerts_opts {
	int open;
};

static const struct ds_opt list_options[] = {
	DS_OPT_BOOL("open", struct alerts_opts, open, "only the alerts not resolved"),
	DS_OPT_END,
};

static int run_list(struct ds_session *s, const struct ds_invocation *inv, struct ds_result *out)
{
	const struct alerts_opts *o = inv->opts;
	int open_only = o->open;
	json_t *rows = ds_alerts_list(&s->db, open_only, &s->err);

	if (!rows)
		return -1;
	out->data = json_pack("{s:o}", "alerts", rows);
	if (!json_array_size(rows))
		out->text = ds_xstrdup(open_only ? "no open alerts" : "no alerts");
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

static int answer(struct ds_session *s, const struct ds_invocation *inv, struct ds_result *out,
		  const char *state)
{
	long long id = alert_id(s, inv->args[0]);
	int dry_run = inv->dry_run;
	json_t *row;

	if (id < 0)
		return -1;
	row = ds_alert_answer(&s->db, id, state, dry_run, &s->audit, &s->err);
	if (!row)
		return -1;
	out->text = ds_xprintf("%s alert %lld %s: %s", dry_run ? "would mark" : "marked", id, state,
			       json_string_value(json_object_get(row, "summary")));
	json_object_set_new(row, "dry_run", json_boolean(dry_run));
	out->data = row;
	return 0;
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
		.synopsis = "[--open]",
		.summary = "the alerts, newest first",
		.opts = list_options,
		.flags = DS_ACTION_DEFAULT, /* "alerts" alone lists them */
		.run = run_list,
	},
	{
		.name = "ack",
		.synopsis = "ID [--dry-run]",
		.summary = "acknowledge an alert: someone is on it",
		.min_args = 1,
		.max_args = 1,
		.flags = DS_CMD_WRITES | DS_CMD_DRY_RUN,
		.role = DS_ROLE_OPERATOR,
		.run = run_ack,
	},
	{
		.name = "resolve",
		.synopsis = "ID [--dry-run]",
		.summary = "mark an alert resolved",
		.min_args = 1,
		.max_args = 1,
		.flags = DS_CMD_WRITES | DS_CMD_DRY_RUN,
		.role = DS_ROLE_OPERATOR,
		.run = run_resolve,
	},
	{ .name = NULL },
};

const struct ds_command ds_cmd_alerts = {
	.name = "alerts",
	.group = "on-call",
	.summary = "list the alerts; acknowledge or resolve one",
	.description =
		"One alert per incident: a task's first failure after a success, a breaker\n"
		"opening, a pre-check blocking a run, a missed SLA, a worker's lease lost.\n"
		"Repeats of an open incident raise its count. Alerts are published with NOTIFY\n"
		"datashell_alerts and handed to the worker's --alert-hook. A task's failure\n"
		"alert and its breaker's resolve themselves when the task succeeds again.",
	.example = "alerts ack 17",
	.opts_size = sizeof(struct alerts_opts),
	.actions = alerts_actions,
	.flags = DS_CMD_SERVER | DS_CMD_SCHEMA,
	.role = DS_ROLE_VIEWER,
};
