/* report.c: what status shows for tasks and batches, read by core/sql/status/. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "sql.h"
#include "util.h"

/*
 * The marks of the calendar, worst first: a day of an hourly task shows the mark of its
 * worst hour, so it is done (#) only when all its hours are. state names a run's state,
 * or what a key is without one.
 */
static const struct {
	char mark;
	const char *state;
} marks[] = {
	{ '!', "late" },      { 'F', "failed" },  { 'B', "blocked" }, { 'H', "held" },
	{ 'C', "cancelled" }, { '.', "missing" }, { 'R', "running" }, { 'q', "queued" },
	{ '_', "not_due" },   { '~', "stale" },	  { 's', "skipped" }, { '#', "success" },
};

#define NMARKS (sizeof(marks) / sizeof(marks[0]))

/* The calendar mark of a run state; '.' for a key that has no run. */
static char state_mark(const char *state)
{
	for (size_t i = 0; state && i < NMARKS; i++)
		if (!strcmp(marks[i].state, state))
			return marks[i].mark;
	return '.';
}

/* Where a mark stands in marks[], 0 the worst. */
static size_t mark_rank(char mark)
{
	size_t i = 0;

	while (i < NMARKS - 1 && marks[i].mark != mark)
		i++;
	return i;
}

static json_t *text_or_null(PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? json_null() : json_string(PQgetvalue(res, row, col));
}

json_t *ds_batch_progress(struct ds_db *db, long long batch, struct ds_error *err)
{
	char id[32];
	const char *params[] = { id };
	json_t *rows, *out;

	snprintf(id, sizeof(id), "%lld", batch);
	rows = ds_sql_json_rows(db, DS_SQL_STATUS_BATCH_PROGRESS, 1, params, err);
	if (!rows)
		return NULL;
	out = json_incref(json_array_get(rows, 0));
	json_decref(rows);
	return out;
}

json_t *ds_runs_left_stuck(struct ds_db *db, const char *graph, int limit, struct ds_error *err)
{
	char n[16];
	const char *params[] = { graph, n };

	snprintf(n, sizeof(n), "%d", limit);
	return ds_sql_json_rows(db, DS_SQL_STATUS_LEFT_STUCK, 2, params, err);
}

json_t *ds_stuck_keys(struct ds_db *db, const struct ds_run_request *req, int limit,
		      struct ds_error *err)
{
	char *ids = req ? ds_run_request_ids(req) : NULL;
	char n[16];
	const char *params[] = { ids, req ? req->range.first : NULL, req ? req->range.last : NULL,
				 ds_sql_limit(n, limit) };
	json_t *rows;
	json_int_t total;

	rows = ds_sql_json_rows(db, DS_SQL_STATUS_STUCK, 4, params, err);
	free(ids);
	if (!rows)
		return NULL;
	total = ds_rows_take_total(rows);
	return json_pack("{s:I, s:o}", "total", total, "keys", rows);
}

json_t *ds_batch_status(struct ds_db *db, long long batch, int limit, struct ds_error *err)
{
	char id[32], n[16];
	const char *params[] = { id, ds_sql_limit(n, limit) };
	json_t *rows, *out, *problems;

	snprintf(id, sizeof(id), "%lld", batch);
	rows = ds_sql_json_rows(db, DS_SQL_STATUS_BATCH, 1, params, err);
	if (!rows)
		return NULL;
	out = json_incref(json_array_get(rows, 0));
	json_decref(rows);
	if (!out) {
		ds_error_set(err, DS_ERR_FAILED, "no batch %lld", batch);
		ds_error_hint(err, "'status' lists recent batches");
		return NULL;
	}
	problems = ds_sql_json_rows(db, DS_SQL_STATUS_BATCH_NOT_SUCCEEDED, 2, params, err);
	if (!problems) {
		json_decref(out);
		return NULL;
	}
	json_object_set_new(out, "not_succeeded_total", json_integer(ds_rows_take_total(problems)));
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
					       "not_due", "late",   "stale",	 "skipped",
					       NULL };

/* Start a task's entry in the calendar: counts per state, then the map of keys. */
static json_t *calendar_task(const char *name, const char *graph, const char *kind)
{
	json_t *task = json_pack("{s:s, s:s, s:s, s:s}", "task", name, "graph", graph, "key_kind",
				 kind, "strip", "");

	for (int i = 0; calendar_states[i]; i++)
		json_object_set_new(task, calendar_states[i], json_integer(0));
	json_object_set_new(task, "states", json_object());
	json_object_set_new(task, "late_keys", json_array());
	json_object_set_new(task, "stale_keys", json_array());
	return task;
}

/* A task's strip as its keys come: a mark per key, or per day of hours rolled up. */
struct strip {
	struct ds_buf marks;
	int by_day;
	char day[DS_KEY_SIZE]; /* the day being rolled up; "" before its first hour */
	size_t worst;	       /* the rank of its worst hour's mark */
	int hours, done;
	json_t *days; /* by_day: {day: {state, done, hours}} */
};

/* Start a task's strip: an hourly task over a range of days is rolled up per day. */
static void strip_start(struct strip *st, const struct ds_run_request *req, const char *kind)
{
	st->by_day = req->range.whole_days && !strcmp(kind, "hourly");
	st->day[0] = '\0';
	st->days = json_object();
}

static void strip_end_day(struct strip *st)
{
	if (!st->day[0])
		return;
	ds_buf_add(&st->marks, &marks[st->worst].mark, 1);
	json_object_set_new(st->days, st->day,
			    json_pack("{s:s, s:i, s:i}", "state", marks[st->worst].state, "done",
				      st->done, "hours", st->hours));
	st->day[0] = '\0';
}

static void strip_add(struct strip *st, const char *key, char mark)
{
	if (!st->by_day) {
		ds_buf_add(&st->marks, &mark, 1);
		return;
	}
	if (strncmp(st->day, key, 10)) {
		strip_end_day(st);
		snprintf(st->day, sizeof(st->day), "%.10s", key);
		st->worst = NMARKS - 1;
		st->hours = st->done = 0;
	}
	if (mark_rank(mark) < st->worst)
		st->worst = mark_rank(mark);
	st->hours++;
	/* Complete, whoever built it and with whichever version. */
	st->done += mark == '#' || mark == 's' || mark == '~';
}

static void add_key(json_t *task, json_t *failures, struct strip *strip, PGresult *res, int r)
{
	const char *state = PQgetisnull(res, r, 4) ? NULL : PQgetvalue(res, r, 4);
	/* A key without a run is missing once it is due; before, nothing is missing yet. */
	int due = PQgetvalue(res, r, 9)[0] == 't';
	const char *name = state ? state : due ? "missing" : "not_due";
	int late = PQgetvalue(res, r, 8)[0] == 't';
	/* Complete, but built by an older version of its task or of an upstream. */
	int stale = PQgetvalue(res, r, 10)[0] == 't';
	/* A key past its SLA and not done is what the on-call engineer must see first. */
	char mark = late ? '!' : stale ? '~' : state || due ? state_mark(state) : '_';

	strip_add(strip, PQgetvalue(res, r, 3), mark);
	if (late) {
		json_object_set_new(
			task, "late",
			json_integer(json_integer_value(json_object_get(task, "late")) + 1));
		json_array_append_new(json_object_get(task, "late_keys"),
				      json_string(PQgetvalue(res, r, 3)));
	}
	if (stale) {
		json_object_set_new(
			task, "stale",
			json_integer(json_integer_value(json_object_get(task, "stale")) + 1));
		json_array_append_new(json_object_get(task, "stale_keys"),
				      json_string(PQgetvalue(res, r, 3)));
	}
	json_object_set_new(json_object_get(task, "states"), PQgetvalue(res, r, 3),
			    state ? json_string(state)
			    : due ? json_null()
				  : json_string(name));
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

static void finish_task(json_t *tasks, json_t *task, struct strip *strip, int only_failed)
{
	char *s;

	strip_end_day(strip);
	s = ds_buf_take(&strip->marks);
	json_object_set_new(task, "strip", json_string(s));
	free(s);
	if (strip->by_day)
		json_object_set_new(task, "days", strip->days);
	else
		json_decref(strip->days);
	strip->days = NULL;
	if (!only_failed || json_integer_value(json_object_get(task, "failed")) +
				    json_integer_value(json_object_get(task, "blocked")))
		json_array_append(tasks, task);
	json_decref(task);
}

/* What a day of an hourly task shows, for the legend: its marks worst first. */
static char *day_rule(void)
{
	struct ds_buf b = DS_BUF_INIT;

	ds_buf_addf(&b, "an hourly task's day shows its worst hour:");
	for (size_t i = 0; i < NMARKS; i++)
		ds_buf_addf(&b, " %c", marks[i].mark);
	return ds_buf_take(&b);
}

json_t *ds_calendar(struct ds_db *db, const struct ds_run_request *req, int only_failed,
		    struct ds_error *err)
{
	char *ids = ds_run_request_ids(req);
	const char *params[] = { ids, req->range.first, req->range.last,
				 req->into_backfill ? "true" : "false" };
	PGresult *res = ds_sql_query(db, DS_SQL_STATUS_CALENDAR, 4, params, err);
	json_t *tasks, *failures, *out, *task = NULL;
	struct strip strip = { .marks = DS_BUF_INIT };
	int by_day = 0;

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
			strip_start(&strip, req, PQgetvalue(res, r, 2));
			by_day |= strip.by_day;
		}
		add_key(task, failures, &strip, res, r);
	}
	if (task)
		finish_task(tasks, task, &strip, only_failed);
	free(ds_buf_take(&strip.marks));
	PQclear(res);
	out = json_pack("{s:o, s:o}", "tasks", tasks, "failures", failures);
	if (by_day) {
		char *rule = day_rule();

		json_object_set_new(out, "day_rule", json_string(rule));
		free(rule);
	}
	return out;
}
