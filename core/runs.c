/*
 * runs.c: backfill, force-run and cancel, with their SQL in core/sql/runs/.
 *
 * The plan counts, per task, the latest state of every key of a request (the table
 * partitions holds it, kept by triggers on runs); the enqueue inserts from the same
 * states, key by key, so what is shown is what is done.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "runs.h"
#include "sql.h"
#include "util.h"

int ds_run_request_init(struct ds_run_request *req, const struct ds_taskset *ts,
			const char *selected, const struct ds_range *range, struct ds_error *err)
{
	memset(req, 0, sizeof(*req));
	req->range = *range;
	req->task_ids = ds_xmalloc((size_t)(ts->n ? ts->n : 1) * sizeof(*req->task_ids));
	for (int i = 0; i < ts->n; i++) {
		const struct ds_task *t = &ts->tasks[i];

		if (!selected[i])
			continue;
		if (t->kind != DS_KEY_NONE && t->kind != range->kind &&
		    !(range->whole_days && t->kind == DS_KEY_HOURLY)) {
			ds_error_set(err, DS_ERR_USAGE,
				     "task '%s' is %s but %s..%s is a range of %s", t->name,
				     ds_key_kind_name(t->kind), range->first, range->last,
				     range->kind == DS_KEY_HOURLY ? "hours" : "days");
			ds_error_hint(err,
				      t->kind == DS_KEY_HOURLY
					      ? "give hours: 2024-01-05T00..2024-01-05T23"
					      : "give dates: 2024-01-05 or 2024-01-01..2024-01-31");
			ds_run_request_release(req);
			return -1;
		}
		req->task_ids[req->ntasks++] = t->id;
	}
	return 0;
}

void ds_run_request_release(struct ds_run_request *req)
{
	free(req->task_ids);
	req->task_ids = NULL;
	req->ntasks = 0;
}

char *ds_run_request_ids(const struct ds_run_request *req)
{
	struct ds_buf b = DS_BUF_INIT;

	ds_buf_add(&b, "{", 1);
	for (int i = 0; i < req->ntasks; i++)
		ds_buf_addf(&b, "%s%d", i ? "," : "", req->task_ids[i]);
	ds_buf_add(&b, "}", 1);
	return ds_buf_take(&b);
}

int ds_run_request_check_into(struct ds_db *db, const struct ds_run_request *req,
			      struct ds_error *err)
{
	char *ids = ds_run_request_ids(req);
	const char *params[] = { ids };
	PGresult *res = ds_sql_query(db, DS_SQL_RUNS_CHECK_INTO, 1, params, err);
	int rc = 0;

	free(ids);
	if (!res)
		return -1;
	if (!PQgetisnull(res, 0, 0)) {
		ds_error_set(err, DS_ERR_USAGE, "--into backfill: tasks without a target: %s",
			     PQgetvalue(res, 0, 0));
		rc = ds_error_hint(err, "select only tasks whose target is the table being "
					"rebuilt");
	} else if (!PQgetisnull(res, 0, 2)) {
		ds_error_set(err, DS_ERR_USAGE,
			     "--into backfill: the swap of their target is in another database "
			     "than theirs: %s",
			     PQgetvalue(res, 0, 2));
		rc = ds_error_hint(err, "a run writes T_backfill through its task's connection: "
					"swap the table of the task's own database ('swap-table "
					"start T --connection NAME' for a warehouse's)");
	} else if (!PQgetisnull(res, 0, 1)) {
		ds_error_set(err, DS_ERR_USAGE,
			     "--into backfill: no swap of their target has "
			     "a T_backfill to write: %s",
			     PQgetvalue(res, 0, 1));
		rc = ds_error_hint(err, "'swap-table start TABLE' creates it; 'swap-table status' "
					"says where each swap stands");
	}
	PQclear(res);
	return rc;
}

/*
 * The parameters plan.sql and enqueue.sql begin with: $1 task ids, $2 first key, $3
 * last key, $4 rerun, $5 only failed.
 */
struct request_params {
	char *ids;
	const char *v[5];
};

static void request_params_init(struct request_params *p, const struct ds_run_request *req)
{
	p->ids = ds_run_request_ids(req);
	p->v[0] = p->ids;
	p->v[1] = req->range.first;
	p->v[2] = req->range.last;
	p->v[3] = req->rerun ? "true" : "false";
	p->v[4] = req->only_failed ? "true" : "false";
}

/* "2024-01-05" or "2024-01-01..2024-01-31", as a message names the range. */
static char *range_text(const struct ds_range *r)
{
	return strcmp(r->first, r->last) ? ds_xprintf("%s..%s", r->first, r->last)
					 : ds_xstrdup(r->first);
}

/*
 * Move the not-due columns out of the plan's rows into *not_due; -1 with err when
 * nothing at all is due.
 */
static int split_not_due(json_t *rows, const struct ds_range *range, json_t **not_due,
			 struct ds_error *err)
{
	struct ds_buf why = DS_BUF_INIT;
	json_int_t due = 0;
	size_t i;
	json_t *row;
	char *text;

	*not_due = json_array();
	json_array_foreach(rows, i, row)
	{
		json_int_t cut = json_integer_value(json_object_get(row, "not_due"));
		json_t *from = json_object_get(row, "not_due_from");
		json_t *at = json_object_get(row, "not_due_at");

		due += json_integer_value(json_object_get(row, "keys")) - cut;
		if (cut > 0) {
			json_array_append_new(*not_due,
					      json_pack("{s:O, s:I, s:O, s:O}", "task",
							json_object_get(row, "task"), "keys", cut,
							"from", from, "due_at", at));
			ds_buf_addf(&why, "\n  %s: %s becomes due at %s",
				    json_string_value(json_object_get(row, "task")),
				    json_string_value(from), json_string_value(at));
		}
		json_object_del(row, "not_due_from");
		json_object_del(row, "not_due_at");
	}
	text = ds_buf_take(&why);
	if (due == 0 && json_array_size(*not_due)) {
		char *r = range_text(range);

		ds_error_set(err, DS_ERR_FAILED,
			     range->count == 1 ? "nothing to run: %s is not due yet%s"
					       : "nothing to run: no key of %s is due yet%s",
			     r, text);
		ds_error_hint(err, "a key is due once its period has ended, in its task's time "
				   "zone, plus its delay (datashell-pipelines(5), SCHEDULES)");
		free(r);
		free(text);
		json_decref(*not_due);
		*not_due = NULL;
		return -1;
	}
	free(text);
	return 0;
}

json_t *ds_plan(struct ds_db *db, const struct ds_run_request *req, json_t **not_due,
		struct ds_error *err)
{
	struct request_params p;
	char count[32];
	const char *params[8];
	json_t *rows;

	*not_due = NULL;
	request_params_init(&p, req);
	memcpy(params, p.v, sizeof(p.v));
	snprintf(count, sizeof(count), "%ld", req->range.count);
	params[5] = count;
	params[6] = req->into_backfill ? "true" : "false";
	params[7] = req->only_stale ? "true" : "false";
	rows = ds_sql_json_rows(db, DS_SQL_RUNS_PLAN, 8, params, err);
	free(p.ids);
	if (rows && split_not_due(rows, &req->range, not_due, err) < 0) {
		json_decref(rows);
		return NULL;
	}
	return rows;
}

void ds_plan_add_not_due(json_t *data, json_t *not_due)
{
	if (json_array_size(not_due))
		json_object_set(data, "not_due", not_due);
	json_decref(not_due);
}

/* A statement returning one row whose columns are numbers, read into out[]. */
static int query_numbers(struct ds_db *db, enum ds_sql_id statement, int nparams,
			 const char *const *params, long long *out, int nout, struct ds_error *err)
{
	PGresult *res = ds_sql_query(db, statement, nparams, params, err);

	if (!res)
		return -1;
	for (int i = 0; i < nout; i++)
		out[i] = PQntuples(res) ? atoll(PQgetvalue(res, 0, i)) : 0;
	PQclear(res);
	return 0;
}

/*
 * Enqueue the request's runs as one batch of kind, made by command: *batch is its id, 0
 * when there was nothing to enqueue (then no batch was made, and no id taken).
 */
static int insert_runs(struct ds_db *db, const struct ds_run_request *req, const char *kind,
		       const char *command, long long *batch, long *enqueued, struct ds_error *err)
{
	struct request_params p;
	char priority[16], cap[16];
	const char *params[13];
	long long n[2] = { 0, 0 };
	int rc;

	request_params_init(&p, req);
	memcpy(params, p.v, sizeof(p.v));
	snprintf(priority, sizeof(priority), "%d", req->priority);
	snprintf(cap, sizeof(cap), "%d", req->max_active);
	params[5] = kind;
	params[6] = command;
	params[7] = req->max_active ? cap : NULL;
	params[8] = priority;
	params[9] = req->reverse ? "true" : "false";
	params[10] = req->ignore_deps ? "true" : "false";
	params[11] = req->into_backfill ? "true" : "false";
	params[12] = req->only_stale ? "true" : "false";
	rc = query_numbers(db, DS_SQL_RUNS_ENQUEUE, 13, params, n, 2, err);
	free(p.ids);
	*batch = n[0];
	*enqueued = (long)n[1];
	return rc;
}

/* What an enqueue touched, for its audit row: the batch, its runs and its cap if any. */
static json_t *batch_touched(long long batch, long enqueued, int max_active)
{
	json_t *touched = batch ? json_pack("{s:I, s:I}", "batch", (json_int_t)batch, "runs",
					    (json_int_t)enqueued)
				: json_pack("{s:n, s:i}", "batch", "runs", 0);

	if (batch && max_active)
		json_object_set_new(touched, "max_active", json_integer(max_active));
	return touched;
}

static int enqueue_in_transaction(struct ds_db *db, const struct ds_run_request *req,
				  const char *kind, struct ds_audit *audit, long long *batch,
				  long *enqueued, struct ds_error *err)
{
	char count[32], id[32];
	int rc = 0;

	if (insert_runs(db, req, kind, audit->command, batch, enqueued, err) < 0)
		return -1;
	snprintf(count, sizeof(count), "%ld", *enqueued);
	snprintf(id, sizeof(id), "%lld", *batch);
	if (*batch && *enqueued) {
		const char *p2[] = { count, id };

		rc = query_numbers(db, DS_SQL_RUNS_RECORD_BATCH_RUNS, 2, p2, NULL, 0, err);
	} else if (*batch) {
		const char *p1[] = { id };

		rc = query_numbers(db, DS_SQL_RUNS_DROP_BATCH, 1, p1, NULL, 0, err);
		*batch = 0;
	}
	if (rc < 0)
		return -1;
	ds_audit_touch(audit, batch_touched(*batch, *enqueued, req->max_active));
	return ds_audit_ok(db, audit, err);
}

int ds_enqueue(struct ds_db *db, const struct ds_run_request *req, const char *kind,
	       struct ds_audit *audit, long long *batch, long *enqueued, struct ds_error *err)
{
	if (ds_db_exec(db, "BEGIN", err) < 0)
		return -1;
	return ds_db_end(db, enqueue_in_transaction(db, req, kind, audit, batch, enqueued, err),
			 err);
}

/*
 * Cancel the unfinished runs of batch or of swap (one not NULL), or else those of the
 * tasks ids over keys first..last: those waiting become cancelled, those running are
 * asked to stop.
 */
static int cancel_runs(struct ds_db *db, const char *batch, const char *swap, const char *ids,
		       const char *first, const char *last, struct ds_cancel_report *rep,
		       struct ds_error *err)
{
	const char *params[] = { batch, ids, first, last, swap };
	long long n[2] = { 0, 0 };
	int rc = query_numbers(db, DS_SQL_RUNS_CANCEL, 5, params, n, 2, err);

	rep->dequeued = (long)n[0];
	rep->stopping = (long)n[1];
	return rc;
}

/* What a cancel touched: the batch, if it named one, and the runs it stopped. */
static int audit_cancel(struct ds_db *db, struct ds_audit *audit, long long batch,
			const struct ds_cancel_report *rep, struct ds_error *err)
{
	json_t *touched = json_pack("{s:I, s:I}", "dequeued", (json_int_t)rep->dequeued, "stopping",
				    (json_int_t)rep->stopping);

	if (batch)
		json_object_set_new(touched, "batch", json_integer(batch));
	ds_audit_touch(audit, touched);
	return ds_audit_ok(db, audit, err);
}

static int cancel_batch_in_transaction(struct ds_db *db, long long batch, struct ds_audit *audit,
				       struct ds_cancel_report *rep, struct ds_error *err)
{
	char id[32];
	const char *params[] = { id };
	PGresult *res;

	snprintf(id, sizeof(id), "%lld", batch);
	res = ds_sql_query(db, DS_SQL_RUNS_CANCEL_BATCH, 1, params, err);
	if (!res)
		return -1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		ds_error_set(err, DS_ERR_FAILED, "no batch %lld", batch);
		return ds_error_hint(err, "'status' lists recent batches");
	}
	PQclear(res);
	if (cancel_runs(db, id, NULL, NULL, NULL, NULL, rep, err) < 0)
		return -1;
	return audit_cancel(db, audit, batch, rep, err);
}

/* COMMIT, or for a dry run ROLLBACK what was done only to be counted. */
static int end_cancel(struct ds_db *db, int rc, int dry_run, struct ds_error *err)
{
	if (rc == 0 && dry_run) {
		ds_db_rollback(db);
		return 0;
	}
	return ds_db_end(db, rc, err);
}

int ds_cancel_batch(struct ds_db *db, long long batch, struct ds_audit *audit, int dry_run,
		    struct ds_cancel_report *rep, struct ds_error *err)
{
	if (ds_db_exec(db, "BEGIN", err) < 0)
		return -1;
	return end_cancel(db, cancel_batch_in_transaction(db, batch, audit, rep, err), dry_run,
			  err);
}

static int cancel_runs_in_transaction(struct ds_db *db, const struct ds_run_request *req,
				      struct ds_audit *audit, struct ds_cancel_report *rep,
				      struct ds_error *err)
{
	char *ids = ds_run_request_ids(req);
	int rc = cancel_runs(db, NULL, NULL, ids, req->range.first, req->range.last, rep, err);

	free(ids);
	if (rc < 0)
		return -1;
	return audit_cancel(db, audit, 0, rep, err);
}

int ds_cancel_runs(struct ds_db *db, const struct ds_run_request *req, struct ds_audit *audit,
		   int dry_run, struct ds_cancel_report *rep, struct ds_error *err)
{
	if (ds_db_exec(db, "BEGIN", err) < 0)
		return -1;
	return end_cancel(db, cancel_runs_in_transaction(db, req, audit, rep, err), dry_run, err);
}

int ds_cancel_swap_runs(struct ds_db *db, long long swap, struct ds_cancel_report *rep,
			struct ds_error *err)
{
	char id[32];

	snprintf(id, sizeof(id), "%lld", swap);
	return cancel_runs(db, NULL, id, NULL, NULL, NULL, rep, err);
}
