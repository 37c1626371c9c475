/*
 * status: with no arguments an overview (connection, schema, graphs, recent batches);
 * with a batch id that batch's progress; with a selector a calendar strip per task.
 */
#include <string.h>

#include "../core/overview.h"
#include "../core/report.h"
#include "../core/runs.h"
#include "../core/select.h"
#include "../core/sql.h"
#include "command.h"

struct status_opts {
	int failed;
	const char *into;
	int all;
};

static const struct ds_opt status_options[] = {
	DS_OPT_BOOL("failed", struct status_opts, failed,
		    "show only tasks with failed or blocked keys, with their errors"),
	DS_OPT_STRING("into", struct status_opts, into, "backfill",
		      "the keys of the target's T_backfill (a swap under way), not production's"),
	DS_OPT_BOOL("all", struct status_opts, all,
		    "list every row: every run of a batch, every stuck key, every batch"),
	DS_OPT_END,
};

/* The legend of the strips, with the rule of an hourly task's days when it has them. */
static json_t *legend(json_t *day_rule)
{
	static const char marks[] = "# success  F failed  R running  q queued  B blocked  "
				    "H held  C cancelled  s skipped  . missing  _ not due yet  "
				    "! late (past its SLA, not done)  "
				    "~ stale (built by an older version)";

	if (!day_rule)
		return json_string(marks);
	return json_sprintf("%s; %s", marks, json_string_value(day_rule));
}

static int status_tasks(struct ds_session *s, const struct ds_invocation *inv,
			struct ds_result *out)
{
	const struct status_opts *o = inv->opts;
	struct ds_run_request req;
	json_t *calendar, *stuck;

	if (ds_resolve_calendar_request(&s->db, inv->args[0], inv->exclude,
					inv->nargs > 1 ? inv->args[1] : NULL, &req, &s->err) < 0)
		return -1;
	if (o->into && strcmp(o->into, "backfill")) {
		ds_error_set(&s->err, DS_ERR_USAGE, "--into: unknown table '%s'", o->into);
		ds_error_hint(&s->err, "--into backfill shows TARGET_backfill, the table "
				       "'swap-table start' made");
		ds_run_request_release(&req);
		return -1;
	}
	req.into_backfill = o->into != NULL;
	if (req.into_backfill && ds_run_request_check_into(&s->db, &req, &s->err) < 0) {
		ds_run_request_release(&req);
		return -1;
	}
	calendar = ds_calendar(&s->db, &req, o->failed, &s->err);
	if (calendar)
		out->data = json_pack("{s:s, s:s, s:o, s:O, s:O}", "first_key", req.range.first,
				      "last_key", req.range.last, "legend",
				      legend(json_object_get(calendar, "day_rule")), "tasks",
				      json_object_get(calendar, "tasks"), "failures",
				      json_object_get(calendar, "failures"));
	if (calendar && req.into_backfill)
		json_object_set_new(out->data, "into", json_string("backfill"));
	/* The stuck keys are production's: not shown beside a swap's T_backfill. */
	if (calendar && !req.into_backfill) {
		stuck = ds_stuck_keys(&s->db, &req, o->all ? DS_EVERY_ROW : DS_STUCK_SHOWN,
				      &s->err);
		if (stuck) {
			json_object_set_new(out->data, "stuck", stuck);
		} else {
			json_decref(out->data);
			out->data = NULL;
		}
	}
	json_decref(calendar);
	ds_run_request_release(&req);
	return out->data ? 0 : -1;
}

static int run_status(struct ds_session *s, const struct ds_invocation *inv, struct ds_result *out)
{
	const struct status_opts *o = inv->opts;
	long long batch;

	if ((o->into || inv->exclude) &&
	    (inv->nargs == 0 || (inv->nargs == 1 && ds_word_is_batch(inv->args[0], &batch)))) {
		ds_error_set(&s->err, DS_ERR_USAGE, "%s shows the keys of tasks, not %s",
			     o->into ? "--into" : "--exclude",
			     inv->nargs ? "a batch" : "the overview");
		return ds_error_hint(&s->err, "status SELECTOR [RANGE] %s",
				     o->into ? "--into backfill" : "--exclude SELECTOR");
	}
	if (inv->nargs == 0)
		out->data = ds_overview(&s->db, o->all, &s->err);
	else if (inv->nargs == 1 && ds_word_is_batch(inv->args[0], &batch))
		out->data = ds_batch_status(&s->db, batch,
					    o->all ? DS_EVERY_ROW : DS_BATCH_RUNS_SHOWN, &s->err);
	else
		return status_tasks(s, inv, out);
	return out->data ? 0 : -1;
}

const struct ds_command ds_cmd_status = {
	.name = "status",
	.group = "runs",
	.synopsis = "[SELECTOR [RANGE] | BATCH] [--exclude SELECTOR] [--failed] [--into backfill] "
		    "[--all]",
	.summary = "show the state of the pipelines, of some tasks, or of one batch",
	.description =
		"With no argument: the connection, the state schema, per graph the runs\n"
		"queued, running and held now and those finished in the last 24 hours,\n"
		"the latest batches, and the stuck keys (only a person can move them: see\n"
		"why) with their root causes. With a selector: one mark per key for each\n"
		"task over RANGE (default: the last 14 days, or 24 hours for hourly tasks),\n"
		"under an axis that numbers every seventh day (every sixth hour); a range\n"
		"over months (days) folds into a line per month (per day). Over\n"
		"days an hourly task has one mark per day, its worst hour's; over one day\n"
		"hourly tasks show its hours. Then the error of each failed key and the\n"
		"stuck keys: production's keys, or with --into backfill those of the\n"
		"T_backfill of the swap of their target under way. With a batch id: that\n"
		"batch's progress, its runs per named connection, and the runs that did not\n"
		"succeed. Long lists stop at the first rows (5 batches, 20 stuck keys, 100\n"
		"runs of a batch) and say how many there are; --all lists them all.",
	.example = "status orders+ 2024-01 --failed",
	.opts = status_options,
	.opts_size = sizeof(struct status_opts),
	.complete = "BATCH|SELECTOR KEY",
	.max_args = 2,
	.flags = DS_CMD_SERVER | DS_CMD_SCHEMA | DS_CMD_SELECTS,
	.role = DS_ROLE_VIEWER,
	.run = run_status,
};
