/* alerts.c: listing and answering alerts, and handing them to the hook. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts.h"
#include "audit.h"
#include "sql.h"
#include "taskset.h"
#include "util.h"

const char *const ds_alert_kinds[] = {
	"task_failing", "sla_missed", "lease_lost", "connection_refused", NULL,
};

/*
 * The names of the tasks selector names, or with excluding those --exclude names, as a
 * text[] literal for a $n::text[] parameter (caller frees), or NULL with err filled. The
 * selector must name at least one task (ds_select).
 */
static char *task_names(struct ds_db *db, const char *selector, int excluding, struct ds_error *err)
{
	struct ds_taskset ts;
	struct ds_buf b = DS_BUF_INIT;
	char *selected;
	int rc;

	if (ds_taskset_load(db, &ts, err) < 0)
		return NULL;
	selected = memset(ds_xmalloc((size_t)ts.n + 1), 0, (size_t)ts.n + 1);
	rc = excluding ? ds_select_excluded(&ts, selector, selected, err)
		       : ds_select(&ts, selector, NULL, selected, err);
	if (rc == 0) {
		ds_buf_add(&b, "{", 1);
		for (int i = 0, n = 0; i < ts.n; i++) {
			if (!selected[i])
				continue;
			ds_buf_addf(&b, "%s\"", n++ ? "," : "");
			for (const char *c = ts.tasks[i].name; *c; c++) {
				if (*c == '"' || *c == '\\')
					ds_buf_add(&b, "\\", 1);
				ds_buf_addf(&b, "%c", *c);
			}
			ds_buf_add(&b, "\"", 1);
		}
		ds_buf_add(&b, "}", 1);
	}
	free(selected);
	ds_taskset_release(&ts);
	return rc == 0 ? ds_buf_take(&b) : NULL;
}

/*
 * The text[] literals of f's tasks and of the tasks it leaves out (NULL: no such filter),
 * which the caller frees; -1 with err filled and nothing to free.
 */
static int task_filters(struct ds_db *db, const struct ds_alert_filter *f, char **tasks,
			char **excluded, struct ds_error *err)
{
	*tasks = *excluded = NULL;
	if (f->tasks && !(*tasks = task_names(db, f->tasks, 0, err)))
		return -1;
	if (f->exclude && !(*excluded = task_names(db, f->exclude, 1, err))) {
		free(*tasks);
		*tasks = NULL;
		return -1;
	}
	return 0;
}

/* Whether f's kind and state, if given, are ones alerts have; if not, err says so. */
static int filter_valid(const struct ds_alert_filter *f, struct ds_error *err)
{
	static const char *const states[] = { "open", "acked", "resolved", NULL };
	int i;

	if (f->kind) {
		for (i = 0; ds_alert_kinds[i] && strcmp(ds_alert_kinds[i], f->kind); i++)
			;
		if (!ds_alert_kinds[i]) {
			ds_error_set(err, DS_ERR_USAGE,
				     "unknown alert kind '%s' (one of task_failing, sla_missed, "
				     "lease_lost, connection_refused)",
				     f->kind);
			/* The kinds of before schema version 14, which scripts may still name. */
			if (!strcmp(f->kind, "task_failed") || !strcmp(f->kind, "breaker_open") ||
			    !strcmp(f->kind, "check_blocked"))
				ds_error_hint(err, "a task's failed runs, breaker and blocked "
						   "pre-checks are one incident now: task_failing");
			return -1;
		}
	}
	if (f->state) {
		for (i = 0; states[i] && strcmp(states[i], f->state); i++)
			;
		if (!states[i])
			return ds_error_set(
				err, DS_ERR_USAGE,
				"unknown alert state '%s' (one of open, acked, resolved)",
				f->state);
	}
	return 0;
}

json_t *ds_alerts_list(struct ds_db *db, const struct ds_alert_filter *f, int limit,
		       json_int_t *total, struct ds_error *err)
{
	char *tasks = NULL, *excluded = NULL, n[16];
	const char *params[6];
	json_t *rows;

	if (filter_valid(f, err) < 0 || task_filters(db, f, &tasks, &excluded, err) < 0)
		return NULL;
	params[0] = f->open_only ? "true" : "false";
	params[1] = tasks;
	params[2] = f->kind;
	params[3] = f->state;
	params[4] = excluded;
	params[5] = ds_sql_limit(n, limit);
	rows = ds_sql_json_rows(db, DS_SQL_ALERTS_LIST, 6, params, err);
	free(tasks);
	free(excluded);
	if (rows)
		*total = ds_rows_take_total(rows);
	return rows;
}

/* "7" or "7, 9" of a JSON array of ids. Caller frees. */
static char *id_list(json_t *ids)
{
	struct ds_buf b = DS_BUF_INIT;
	size_t i;
	json_t *id;

	json_array_foreach(ids, i, id)
		ds_buf_addf(&b, "%s%lld", i ? ", " : "", (long long)json_integer_value(id));
	return ds_buf_take(&b);
}

/* The answer's refusal, if it has one: err filled and -1; else 0. */
static int refused(json_t *row, struct ds_error *err)
{
	json_t *missing = json_object_get(row, "missing");
	json_t *resolved = json_object_get(row, "resolved");
	char *list;

	if (json_array_size(missing)) {
		list = id_list(missing);
		if (json_array_size(missing) == 1)
			ds_error_set(err, DS_ERR_FAILED, "there is no alert %s", list);
		else
			ds_error_set(err, DS_ERR_FAILED, "there are no alerts %s", list);
		free(list);
		ds_error_hint(err, "nothing was changed; 'alerts' lists them");
		return -1;
	}
	if (json_array_size(resolved)) {
		list = id_list(resolved);
		if (json_array_size(resolved) == 1)
			ds_error_set(err, DS_ERR_FAILED, "alert %s is already resolved", list);
		else
			ds_error_set(err, DS_ERR_FAILED, "alerts %s are already resolved", list);
		free(list);
		ds_error_hint(err, "nothing was changed");
		return -1;
	}
	return 0;
}

/* Answer the alerts of f in the transaction begun: the result, or NULL with err. */
static json_t *answer(struct ds_db *db, const struct ds_alert_filter *f, const char *state,
		      struct ds_error *err)
{
	struct ds_buf ids = DS_BUF_INIT;
	char *tasks, *excluded, *sids = NULL;
	const char *params[5];
	json_t *rows, *row, *out = NULL, *answered, *a, *got;
	size_t i;

	if (task_filters(db, f, &tasks, &excluded, err) < 0)
		return NULL;
	if (f->nids) {
		ds_buf_add(&ids, "{", 1);
		for (int k = 0; k < f->nids; k++)
			ds_buf_addf(&ids, "%s%lld", k ? "," : "", f->ids[k]);
		ds_buf_add(&ids, "}", 1);
		sids = ds_buf_take(&ids);
	}
	params[0] = state;
	params[1] = sids;
	params[2] = tasks;
	params[3] = f->kind;
	params[4] = excluded;
	rows = ds_sql_json_rows(db, DS_SQL_ALERTS_ANSWER, 5, params, err);
	free(sids);
	free(tasks);
	free(excluded);
	if (!rows)
		return NULL;
	row = json_array_get(rows, 0);
	if (row && refused(row, err) == 0) {
		answered = json_object_get(row, "answered");
		got = json_array();
		json_array_foreach(answered, i, a) json_array_append(got, json_object_get(a, "id"));
		out = json_pack("{s:s, s:I, s:o, s:O}", "state", state, "count",
				(json_int_t)json_array_size(answered), "ids", got, "alerts",
				answered);
	}
	json_decref(rows);
	return out;
}

json_t *ds_alerts_answer(struct ds_db *db, const struct ds_alert_filter *f, const char *state,
			 const char *reason, int dry_run, struct ds_audit *audit,
			 struct ds_error *err)
{
	json_t *out;
	int rc;

	if (filter_valid(f, err) < 0)
		return NULL;
	if (ds_db_exec(db, "BEGIN", err) < 0)
		return NULL;
	out = answer(db, f, state, err);
	if (!out) {
		ds_db_rollback(db);
		return NULL;
	}
	ds_audit_touch(audit, json_pack("{s:O, s:s, s:s*}", "alerts", json_object_get(out, "ids"),
					"state", state, "reason", reason));
	rc = ds_audit_ok(db, audit, err);
	if (dry_run || rc < 0) {
		ds_db_rollback(db);
		if (rc < 0) {
			json_decref(out);
			return NULL;
		}
		return out;
	}
	if (ds_db_end(db, 0, err) < 0) {
		json_decref(out);
		return NULL;
	}
	return out;
}

char *ds_alert_take(struct ds_db *db, int lease_s, struct ds_alert_job *job, int *none,
		    struct ds_error *err)
{
	char slease[16];
	const char *params[] = { slease };
	PGresult *res;
	char *json = NULL;

	snprintf(slease, sizeof(slease), "%d", lease_s);
	res = ds_sql_query(db, DS_SQL_ALERTS_TAKE, 1, params, err);
	*none = 0;
	if (!res)
		return NULL;
	if (PQntuples(res) == 1) {
		job->id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		snprintf(job->action, sizeof(job->action), "%s", PQgetvalue(res, 0, 1));
		snprintf(job->severity, sizeof(job->severity), "%s", PQgetvalue(res, 0, 2));
		json = ds_xstrdup(PQgetvalue(res, 0, 3));
	} else {
		*none = 1;
	}
	PQclear(res);
	return json;
}

int ds_alert_delivered(struct ds_db *db, const struct ds_alert_job *job, const char *error,
		       struct ds_error *err)
{
	char sid[32];
	const char *params[] = { sid, job->action, job->severity, error };
	PGresult *res;

	snprintf(sid, sizeof(sid), "%lld", job->id);
	res = ds_sql_query(db, DS_SQL_ALERTS_DELIVERED, 4, params, err);
	if (!res)
		return -1;
	PQclear(res);
	return 0;
}
