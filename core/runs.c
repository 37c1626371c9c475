/*
 * runs.c: the SQL behind backfill, force-run and cancel.
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
		if (t->kind != DS_KEY_NONE && t->kind != range->kind) {
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
	/*
	 * T_backfill exists from start until a swap makes it T, and again after a rollback;
	 * a swap in mode v2 has no T_backfill (its tasks write T_v2 by themselves).
	 */
	char *sql = ds_xprintf(
		"SELECT string_agg(quote_literal(t.name), ', ' ORDER BY t.name)\n"
		"         FILTER (WHERE t.target IS NULL),\n"
		"       string_agg(quote_literal(t.name) || ' (' || t.target || ')', ', '\n"
		"                  ORDER BY t.name) FILTER (WHERE t.target IS NOT NULL)\n"
		"FROM %1$s.tasks t\n"
		"WHERE t.id = ANY($1::integer[]) AND NOT EXISTS (\n"
		"  SELECT 1 FROM %1$s.swaps s\n"
		"  WHERE s.state IN ('started', 'checked', 'rolled back')\n"
		"    AND coalesce(s.timings->>'mode', 'swap') = 'swap'\n"
		"    AND to_regclass(format('%%I.%%I', s.table_schema, s.table_name))\n"
		"        = to_regclass(t.target))",
		db->schema_ident);
	PGresult *res = ds_db_query(db, sql, 1, params, err);
	int rc = 0;

	free(sql);
	free(ids);
	if (!res)
		return -1;
	if (!PQgetisnull(res, 0, 0)) {
		ds_error_set(err, DS_ERR_USAGE, "--into backfill: tasks without a target: %s",
			     PQgetvalue(res, 0, 0));
		rc = ds_error_hint(err, "select only tasks whose target is the table being "
					"rebuilt");
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
 * Parameters shared by every statement built on candidates_sql():
 * $1 task ids, $2 first key, $3 last key, $4 rerun, $5 only failed.
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

/*
 * Every (task, key) asked for, with the state of its latest run (from partitions, kept
 * by triggers on runs) and whether it is to be enqueued. Caller frees.
 */
static char *candidates_sql(const struct ds_db *db)
{
	/* clang-format off */
	return ds_xprintf(
		"WITH sel AS (\n"
		"  SELECT t.id, t.name, t.key_kind\n"
		"  FROM unnest($1::integer[]) AS u(id) JOIN %1$s.tasks t USING (id)\n"
		"), cand AS (\n"
		"  SELECT sel.id AS task_id, sel.name, k.key, p.state,\n"
		"         coalesce(p.state NOT IN ('queued', 'running', 'held'), true)\n"
		"         AND ($4::boolean OR p.state IS DISTINCT FROM 'success')\n"
		"         AND (NOT $5::boolean OR p.state IN ('failed', 'blocked')) AS enqueue\n"
		"  FROM sel CROSS JOIN LATERAL %1$s.key_series(sel.key_kind, $2, $3) AS k(key)\n"
		"  LEFT JOIN %1$s.partitions p ON p.task_id = sel.id AND p.key = k.key\n"
		")\n",
		db->schema_ident);
	/* clang-format on */
}

/*
 * The plan counts the latest states per task straight from partitions; the keys
 * themselves are only generated when runs are enqueued. $6 is the range's key count.
 */
static char *plan_sql(const struct ds_db *db)
{
	/* clang-format off */
	return ds_xprintf(
		"WITH sel AS (\n"
		"  SELECT t.id, t.name, t.key_kind\n"
		"  FROM unnest($1::integer[]) AS u(id) JOIN %1$s.tasks t USING (id)\n"
		"), latest AS (\n"
		"  SELECT p.task_id,\n"
		"         count(*) FILTER (WHERE p.state = 'success') AS complete,\n"
		"         count(*) FILTER (WHERE p.state IN ('queued', 'running', 'held')) AS active,\n"
		"         count(*) FILTER (WHERE p.state IN ('failed', 'blocked')) AS failed\n"
		"  FROM %1$s.partitions p JOIN sel ON sel.id = p.task_id\n"
		"  WHERE p.key = '' OR p.key BETWEEN $2 AND $3\n"
		"  GROUP BY p.task_id\n"
		"), counts AS (\n"
		"  SELECT sel.name, CASE sel.key_kind WHEN 'none' THEN 1 ELSE $6::bigint END AS keys,\n"
		"         coalesce(l.complete, 0) AS complete, coalesce(l.active, 0) AS active,\n"
		"         coalesce(l.failed, 0) AS failed\n"
		"  FROM sel LEFT JOIN latest l ON l.task_id = sel.id\n"
		")\n"
		"SELECT name AS task, keys,\n"
		"       CASE WHEN $5::boolean THEN failed\n"
		"            ELSE keys - active - CASE WHEN $4::boolean THEN 0 ELSE complete END END\n"
		"         AS enqueue,\n"
		"       complete, active, failed\n"
		"FROM counts ORDER BY name",
		db->schema_ident);
	/* clang-format on */
}

json_t *ds_plan(struct ds_db *db, const struct ds_run_request *req, struct ds_error *err)
{
	struct request_params p;
	char count[32];
	const char *params[6];
	char *sql = plan_sql(db);
	json_t *rows;

	request_params_init(&p, req);
	memcpy(params, p.v, sizeof(p.v));
	snprintf(count, sizeof(count), "%ld", req->range.count);
	params[5] = count;
	rows = ds_db_json_rows(db, sql, 6, params, err);
	free(p.ids);
	free(sql);
	return rows;
}

/* A statement returning one row whose columns are numbers, read into out[]. */
static int query_numbers(struct ds_db *db, const char *sql, int nparams, const char *const *params,
			 long long *out, int nout, struct ds_error *err)
{
	PGresult *res = ds_db_query(db, sql, nparams, params, err);

	if (!res)
		return -1;
	for (int i = 0; i < nout; i++)
		out[i] = PQntuples(res) ? atoll(PQgetvalue(res, 0, i)) : 0;
	PQclear(res);
	return 0;
}

static int insert_runs(struct ds_db *db, const struct ds_run_request *req, long long batch,
		       long *enqueued, struct ds_error *err)
{
	struct request_params p;
	char batch_text[32], priority[16];
	const char *params[10];
	char *cte = candidates_sql(db);
	/*
	 * ord puts older keys first (newest first with --reverse), so the queue works
	 * through a backfill in key order across all its tasks.
	 */
	char *sql = ds_xprintf(
		"%1$s"
		"INSERT INTO %2$s.runs (task_id, key, batch_id, priority, ord, ignore_deps, target,\n"
		"                       state)\n"
		"SELECT task_id, key, $6, $7,\n"
		"       CASE WHEN $8::boolean THEN -1 ELSE 1 END * CASE length(key)\n"
		"         WHEN 10 THEN key::date - date '1970-01-01'\n"
		"         WHEN 13 THEN (left(key, 10)::date - date '1970-01-01') * 24\n"
		"                      + substr(key, 12, 2)::integer\n"
		"         ELSE 0 END,\n"
		"       $9,\n"
		"       CASE WHEN $10::boolean THEN (SELECT t.target || '_backfill'\n"
		"         FROM %2$s.tasks t WHERE t.id = task_id) END,\n"
		"       CASE WHEN b.task_id IS NULL THEN 'queued' ELSE 'held' END\n"
		"FROM cand\n"
		/* A task whose breaker is not closed gets held runs: see note_failure. */
		"LEFT JOIN (SELECT task_id FROM %2$s.breakers WHERE state <> 'closed') b\n"
		"  USING (task_id)\n"
		"WHERE enqueue ORDER BY key, task_id\n"
		"ON CONFLICT (task_id, key) WHERE state IN ('queued', 'running', 'held') DO "
		"NOTHING",
		cte, db->schema_ident);
	PGresult *res;

	request_params_init(&p, req);
	memcpy(params, p.v, sizeof(p.v));
	snprintf(batch_text, sizeof(batch_text), "%lld", batch);
	snprintf(priority, sizeof(priority), "%d", req->priority);
	params[5] = batch_text;
	params[6] = priority;
	params[7] = req->reverse ? "true" : "false";
	params[8] = req->ignore_deps ? "true" : "false";
	params[9] = req->into_backfill ? "true" : "false";
	res = ds_db_query(db, sql, 10, params, err);
	free(p.ids);
	free(sql);
	free(cte);
	if (!res)
		return -1;
	*enqueued = atol(PQcmdTuples(res));
	PQclear(res);
	return 0;
}

static int enqueue_in_transaction(struct ds_db *db, const struct ds_run_request *req,
				  const char *kind, struct ds_audit *audit, long long *batch,
				  long *enqueued, struct ds_error *err)
{
	const char *params[] = { kind, audit->command };
	char *sql =
		ds_xprintf("INSERT INTO %s.batches (kind, command) VALUES ($1, $2) RETURNING id",
			   db->schema_ident);
	char count[32], id[32];
	int rc;

	rc = query_numbers(db, sql, 2, params, batch, 1, err);
	free(sql);
	if (rc < 0 || insert_runs(db, req, *batch, enqueued, err) < 0)
		return -1;
	snprintf(count, sizeof(count), "%ld", *enqueued);
	snprintf(id, sizeof(id), "%lld", *batch);
	if (*enqueued) {
		const char *p2[] = { count, id };

		sql = ds_xprintf("UPDATE %s.batches SET runs = $1 WHERE id = $2", db->schema_ident);
		rc = query_numbers(db, sql, 2, p2, NULL, 0, err);
	} else {
		/* A batch of nothing would only clutter the list: drop it again. */
		const char *p1[] = { id };

		sql = ds_xprintf("DELETE FROM %s.batches WHERE id = $1", db->schema_ident);
		rc = query_numbers(db, sql, 1, p1, NULL, 0, err);
	}
	free(sql);
	if (rc < 0)
		return -1;
	if (!*enqueued)
		*batch = 0;
	ds_audit_touch(audit, *batch ? json_pack("{s:I, s:I}", "batch", (json_int_t)*batch, "runs",
						 (json_int_t)*enqueued)
				     : json_pack("{s:n, s:i}", "batch", "runs", 0));
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
 * Cancel the unfinished runs that where_sql picks (a condition on runs r, using $1..$3):
 * those waiting become cancelled, those running are asked to stop.
 */
static int cancel_where(struct ds_db *db, const char *where_sql, int nparams,
			const char *const *params, struct ds_cancel_report *rep,
			struct ds_error *err)
{
	char *sql = ds_xprintf(
		"WITH target AS (\n"
		"  SELECT r.id, r.state FROM %1$s.runs r\n"
		"  WHERE (%2$s) AND r.state IN ('queued', 'held', 'running') FOR UPDATE\n"
		"), dequeued AS (\n"
		"  UPDATE %1$s.runs r SET state = 'cancelled', finished_at = now(),\n"
		"         error = 'cancelled by ' || current_user\n"
		"  FROM target WHERE r.id = target.id AND target.state <> 'running' RETURNING 1\n"
		"), stopping AS (\n"
		"  UPDATE %1$s.runs r SET cancel_requested = true\n"
		"  FROM target WHERE r.id = target.id AND target.state = 'running' RETURNING 1\n"
		")\n"
		"SELECT (SELECT count(*) FROM dequeued), (SELECT count(*) FROM stopping)",
		db->schema_ident, where_sql);
	long long n[2] = { 0, 0 };
	int rc = query_numbers(db, sql, nparams, params, n, 2, err);

	free(sql);
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
	char *sql = ds_xprintf("UPDATE %s.batches SET cancelled_at = coalesce(cancelled_at, now()),"
			       " cancelled_by = coalesce(cancelled_by, current_user)"
			       " WHERE id = $1 RETURNING id",
			       db->schema_ident);
	PGresult *res;

	snprintf(id, sizeof(id), "%lld", batch);
	res = ds_db_query(db, sql, 1, params, err);
	free(sql);
	if (!res)
		return -1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		ds_error_set(err, DS_ERR_FAILED, "no batch %lld", batch);
		return ds_error_hint(err, "'status' lists recent batches");
	}
	PQclear(res);
	if (cancel_where(db, "r.batch_id = $1", 1, params, rep, err) < 0)
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
	struct request_params p;
	int rc;

	request_params_init(&p, req);
	rc = cancel_where(
		db, "r.task_id = ANY($1::integer[]) AND (r.key = '' OR r.key BETWEEN $2 AND $3)", 3,
		p.v, rep, err);
	free(p.ids);
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
