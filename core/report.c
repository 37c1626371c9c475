/* report.c: the queries behind status for tasks and batches. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "util.h"

static const struct {
	const char *state;
	char mark;
} marks[] = {
	{ "success", '#' }, { "failed", 'F' }, { "running", 'R' },   { "queued", 'q' },
	{ "blocked", 'B' }, { "held", 'H' },   { "cancelled", 'C' },
};

/* The calendar mark of a run state; '.' for a key that has no run. */
static char state_mark(const char *state)
{
	for (size_t i = 0; state && i < sizeof(marks) / sizeof(marks[0]); i++)
		if (!strcmp(marks[i].state, state))
			return marks[i].mark;
	return '.';
}

static json_t *text_or_null(PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? json_null() : json_string(PQgetvalue(res, row, col));
}

/* The runs of the batch that did not succeed, with their errors. */
static json_t *batch_problems(struct ds_db *db, const char *id, struct ds_error *err)
{
	const char *params[] = { id };
	char *sql = ds_xprintf("SELECT t.name AS task, r.key, r.state, r.attempt, r.error\n"
			       "FROM %1$s.runs r JOIN %1$s.tasks t ON t.id = r.task_id\n"
			       "WHERE r.batch_id = $1 AND r.state <> 'success'\n"
			       "ORDER BY r.key, t.name LIMIT 100",
			       db->schema_ident);
	json_t *rows = ds_db_json_rows(db, sql, 1, params, err);

	free(sql);
	return rows;
}

json_t *ds_batch_status(struct ds_db *db, long long batch, struct ds_error *err)
{
	char id[32];
	const char *params[] = { id };
	/* clang-format off */
	char *sql = ds_xprintf(
		"SELECT b.id AS batch, b.kind, b.command, b.created_by,\n"
		"       " DS_SQL_ISO("b.created_at") " AS created_at,\n"
		"       " DS_SQL_ISO("b.cancelled_at") " AS cancelled_at, b.runs,\n"
		"       json_build_object(\n"
		"         'queued', count(r.id) FILTER (WHERE r.state = 'queued'),\n"
		"         'running', count(r.id) FILTER (WHERE r.state = 'running'),\n"
		"         'success', count(r.id) FILTER (WHERE r.state = 'success'),\n"
		"         'failed', count(r.id) FILTER (WHERE r.state = 'failed'),\n"
		"         'blocked', count(r.id) FILTER (WHERE r.state = 'blocked'),\n"
		"         'held', count(r.id) FILTER (WHERE r.state = 'held'),\n"
		"         'cancelled', count(r.id) FILTER (WHERE r.state = 'cancelled')) AS states\n"
		"FROM %1$s.batches b LEFT JOIN %1$s.runs r ON r.batch_id = b.id\n"
		"WHERE b.id = $1 GROUP BY b.id",
		db->schema_ident);
	/* clang-format on */
	json_t *rows, *out, *problems;

	snprintf(id, sizeof(id), "%lld", batch);
	rows = ds_db_json_rows(db, sql, 1, params, err);
	free(sql);
	if (!rows)
		return NULL;
	out = json_incref(json_array_get(rows, 0));
	json_decref(rows);
	if (!out) {
		ds_error_set(err, DS_ERR_FAILED, "no batch %lld", batch);
		ds_error_hint(err, "'status' lists recent batches");
		return NULL;
	}
	problems = batch_problems(db, id, err);
	if (!problems) {
		json_decref(out);
		return NULL;
	}
	json_object_set_new(out, "not_succeeded", problems);
	return out;
}

int ds_batch_finished(json_t *status)
{
	json_t *st = json_object_get(status, "states");

	return json_integer_value(json_object_get(st, "queued")) +
		       json_integer_value(json_object_get(st, "running")) +
		       json_integer_value(json_object_get(st, "held")) ==
	       0;
}

static const char *const calendar_states[] = { "success", "failed", "running",	 "queued",
					       "blocked", "held",   "cancelled", "missing",
					       "late",	  NULL };

/* Start a task's entry in the calendar: counts per state, then the map of keys. */
static json_t *calendar_task(const char *name, const char *graph, const char *kind)
{
	json_t *task = json_pack("{s:s, s:s, s:s, s:s}", "task", name, "graph", graph, "key_kind",
				 kind, "strip", "");

	for (int i = 0; calendar_states[i]; i++)
		json_object_set_new(task, calendar_states[i], json_integer(0));
	json_object_set_new(task, "states", json_object());
	json_object_set_new(task, "late_keys", json_array());
	return task;
}

static void add_key(json_t *task, json_t *failures, struct ds_buf *strip, PGresult *res, int r)
{
	const char *state = PQgetisnull(res, r, 4) ? NULL : PQgetvalue(res, r, 4);
	const char *name = state ? state : "missing";
	int late = PQgetvalue(res, r, 8)[0] == 't';
	/* A key past its SLA and not done is what the on-call engineer must see first. */
	char mark = late ? '!' : state_mark(state);

	ds_buf_add(strip, &mark, 1);
	if (late) {
		json_object_set_new(
			task, "late",
			json_integer(json_integer_value(json_object_get(task, "late")) + 1));
		json_array_append_new(json_object_get(task, "late_keys"),
				      json_string(PQgetvalue(res, r, 3)));
	}
	json_object_set_new(json_object_get(task, "states"), PQgetvalue(res, r, 3),
			    state ? json_string(state) : json_null());
	json_object_set_new(task, name,
			    json_integer(json_integer_value(json_object_get(task, name)) + 1));
	if (state && (!strcmp(state, "failed") || !strcmp(state, "blocked")))
		json_array_append_new(failures, json_pack("{s:s, s:s, s:s, s:i, s:o, s:o}", "task",
							  PQgetvalue(res, r, 0), "key",
							  PQgetvalue(res, r, 3), "state", state,
							  "attempt", atoi(PQgetvalue(res, r, 5)),
							  "finished_at", text_or_null(res, r, 6),
							  "error", text_or_null(res, r, 7)));
}

static void finish_task(json_t *tasks, json_t *task, struct ds_buf *strip, int only_failed)
{
	char *s = ds_buf_take(strip);

	json_object_set_new(task, "strip", json_string(s));
	free(s);
	if (!only_failed || json_integer_value(json_object_get(task, "failed")) +
				    json_integer_value(json_object_get(task, "blocked")))
		json_array_append(tasks, task);
	json_decref(task);
}

json_t *ds_calendar(struct ds_db *db, const struct ds_run_request *req, int only_failed,
		    struct ds_error *err)
{
	char *ids = ds_run_request_ids(req);
	const char *params[] = { ids, req->range.first, req->range.last };
	char *sql;
	PGresult *res;
	json_t *tasks, *failures, *task = NULL;
	struct ds_buf strip = DS_BUF_INIT;

	/* clang-format off */
	sql = ds_xprintf(
		"WITH sel AS (\n"
		"  SELECT t.id, t.name, t.graph, t.key_kind, t.definition -> 'sla' AS sla\n"
		"  FROM unnest($1::integer[]) AS u(id) JOIN %1$s.tasks t USING (id)\n"
		")\n"
		"SELECT sel.name, sel.graph, sel.key_kind, k.key, coalesce(r.state, p.state),\n"
		"       r.attempt, " DS_SQL_ISO("r.finished_at") ", r.error,\n"
		"       p.state IS DISTINCT FROM 'success'\n"
		"         AND coalesce(%1$s.sla_deadline(sel.sla, sel.key_kind, k.key) <= now(),\n"
		"                      false)\n"
		"FROM sel CROSS JOIN LATERAL %1$s.key_series(sel.key_kind, $2, $3) AS k(key)\n"
		"LEFT JOIN %1$s.partitions p ON p.task_id = sel.id AND p.key = k.key\n"
		/* partitions keeps active runs as enqueued: their live state is the run's. */
		"LEFT JOIN %1$s.runs r ON r.id = p.run_id\n"
		"  AND p.state IN ('failed', 'blocked', 'queued', 'running', 'held')\n"
		"ORDER BY sel.name, k.key",
		db->schema_ident);
	/* clang-format on */
	res = ds_db_query(db, sql, 3, params, err);
	free(sql);
	free(ids);
	if (!res)
		return NULL;
	tasks = json_array();
	failures = json_array();
	for (int r = 0; r < PQntuples(res); r++) {
		const char *name = PQgetvalue(res, r, 0);

		if (!task || strcmp(json_string_value(json_object_get(task, "task")), name)) {
			if (task)
				finish_task(tasks, task, &strip, only_failed);
			task = calendar_task(name, PQgetvalue(res, r, 1), PQgetvalue(res, r, 2));
		}
		add_key(task, failures, &strip, res, r);
	}
	if (task)
		finish_task(tasks, task, &strip, only_failed);
	free(ds_buf_take(&strip));
	PQclear(res);
	return json_pack("{s:o, s:o}", "tasks", tasks, "failures", failures);
}
