/*
 * claim.c: the run queue's SQL for the worker. Every statement is prepared once on the
 * control connection; a claim is one round trip (a pipeline: reap, lock, claim) and one
 * short transaction, whatever the number of runs it takes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claim.h"
#include "errclass.h"
#include "sqlvars.h"
#include "util.h"

void ds_run_free(struct ds_run *run)
{
	if (!run)
		return;
	free(run->task);
	free(run->graph);
	free(run->kind);
	free(run->key);
	free(run->sql);
	free(run->command);
	free(run->target);
	free(run->also_target);
	free(run->checks);
	free(run->complete_when);
	free(run->error_classes);
	free(run);
}

/*
 * Put back to the queue the runs whose worker stopped renewing its lease (it died or
 * lost its connection). A run whose cancel was requested meanwhile ends cancelled.
 * SKIP LOCKED: a run being finished right now is not expired, and nobody waits.
 */
static const char reap_sql[] =
	"WITH reaped AS (\n"
	"    UPDATE %1$s.runs r\n"
	"    SET state = CASE WHEN r.cancel_requested THEN 'cancelled' ELSE 'queued' END,\n"
	"        finished_at = CASE WHEN r.cancel_requested THEN now() END,\n"
	"        error = 'the lease of worker ' || coalesce(x.worker, '?') || ' expired'\n"
	"                || CASE WHEN r.cancel_requested THEN '' ELSE '; queued again' END,\n"
	"        worker = NULL, lease_until = NULL\n"
	"    FROM (SELECT id, worker FROM %1$s.runs\n"
	"          WHERE state = 'running' AND lease_until < now()\n"
	"          FOR UPDATE SKIP LOCKED) x\n"
	"    WHERE r.id = x.id\n"
	"    RETURNING x.worker\n"
	")\n"
	"SELECT count(%1$s.raise_alert('lease_lost', 'lease_lost:' || w.worker, NULL, NULL,\n"
	"           w.worker, format('worker %%s lost its lease on %%s run(s); they went back "
	"to the queue', w.worker, w.n), jsonb_build_object('runs', w.n)))\n"
	"FROM (SELECT coalesce(worker, '?') AS worker, count(*) AS n FROM reaped\n"
	"      GROUP BY 1) w";

/*
 * An open breaker's cool-down has passed: let one held run through as a probe. And the
 * deadlines of the tasks' SLAs that passed without the key done raise their alerts.
 */
static const char probe_sql[] = "SELECT %1$s.release_probes()";
static const char sla_sql[] = "SELECT %1$s.check_slas()";

/*
 * max_active must hold with any number of workers claiming at once. Each claim first
 * locks the rows of the graphs it may claim from, in name order so that two claimers
 * cannot deadlock, and keeps them until it commits: claims in one graph take turns,
 * and each counts the running runs in a snapshot taken after the previous claimer
 * committed. That is why this is a statement of its own before the claim: a single
 * statement would count in a snapshot taken before it waited for the lock. NO KEY
 * UPDATE leaves the foreign-key checks of tasks being loaded alone.
 */
static const char lock_sql[] =
	"SELECT 1 FROM %1$s.graphs\n"
	"WHERE NOT paused AND removed_at IS NULL AND ($1::text IS NULL OR name = $1)\n"
	"ORDER BY name FOR NO KEY UPDATE";

/*
 * Claim up to $2 runs in queue order (the runs_queue index): queued, due, in an open
 * graph with a free slot, every upstream done for the key. An upstream is done when it
 * has a successful run for the shifted key and none waiting or in progress (a re-run
 * makes the downstream wait). Runs another claimer holds are skipped, not waited for.
 * The candidates are walked in index order and cut at $2 before the per-graph slots
 * are counted (a window function cannot sit under FOR UPDATE), so a claim may take
 * fewer runs than it could; the next one takes the rest. A task whose breaker is open
 * has its runs held, and the claim skips it too, for a run queued at the moment the
 * breaker opened: the open breakers are read once per claim, not once per candidate.
 * started_at is the clock's,
 * not now(): the transaction may have begun before it waited for the graph locks.
 * The last column is T_v2 when a swap in mode v2 (its mode is in its timings) is under
 * way for the task's own target: the worker writes both (not for a run of backfill
 * --into, which has a target of its own). The swaps are read once per claim; without
 * one in mode v2, a run costs a look at an empty list.
 */
static const char claim_sql[] =
	"WITH v2 AS MATERIALIZED (\n"
	"    SELECT to_regclass(format('%%I.%%I', table_schema, table_name)) AS rel,\n"
	"           table_schema || '.' || shadow_name AS shadow\n"
	"    FROM %1$s.swaps WHERE state <> 'finished' AND timings->>'mode' = 'v2'\n"
	"), busy AS (\n"
	"    SELECT t.graph, count(*) AS n\n"
	"    FROM %1$s.runs r JOIN %1$s.tasks t ON t.id = r.task_id\n"
	"    WHERE r.state = 'running'\n"
	"    GROUP BY t.graph\n"
	"), open AS (\n"
	"    SELECT g.name, g.max_active - coalesce(b.n, 0) AS free\n"
	"    FROM %1$s.graphs g LEFT JOIN busy b ON b.graph = g.name\n"
	"    WHERE NOT g.paused AND g.removed_at IS NULL AND ($1::text IS NULL OR g.name = $1)\n"
	"      AND g.max_active > coalesce(b.n, 0)\n"
	"), cand AS (\n"
	"    SELECT r.id, r.priority, r.ord, t.graph\n"
	"    FROM %1$s.runs r JOIN %1$s.tasks t ON t.id = r.task_id\n"
	"    WHERE r.state = 'queued' AND r.not_before <= now() AND t.removed_at IS NULL\n"
	"      AND t.graph IN (SELECT name FROM open)\n"
	"      AND r.task_id <> ALL (ARRAY(SELECT task_id FROM %1$s.breakers\n"
	"                                  WHERE state = 'open'))\n"
	"      AND (r.ignore_deps OR NOT EXISTS (\n"
	"          SELECT 1 FROM %1$s.task_deps d\n"
	"          CROSS JOIN LATERAL (SELECT %1$s.key_shift(t.key_kind, r.key, d.key_offset)\n"
	"                              AS key) k\n"
	"          WHERE d.task_id = r.task_id\n"
	"            AND (NOT EXISTS (SELECT 1 FROM %1$s.runs u\n"
	"                             WHERE u.task_id = d.upstream_id AND u.key = k.key\n"
	"                               AND u.state = 'success')\n"
	"                 OR EXISTS (SELECT 1 FROM %1$s.runs u\n"
	"                            WHERE u.task_id = d.upstream_id AND u.key = k.key\n"
	"                              AND u.state IN ('queued', 'running', 'held')))))\n"
	"    ORDER BY r.priority DESC, r.ord, r.id\n"
	"    LIMIT $2\n"
	"    FOR UPDATE OF r SKIP LOCKED\n"
	"), pick AS (\n"
	"    SELECT c.id\n"
	"    FROM (SELECT id, graph, row_number() OVER (PARTITION BY graph\n"
	"                                               ORDER BY priority DESC, ord, id) AS rn\n"
	"          FROM cand) c\n"
	"    JOIN open o ON o.name = c.graph\n"
	"    WHERE c.rn <= o.free\n"
	"), claimed AS (\n"
	"    UPDATE %1$s.runs r\n"
	"    SET state = 'running', worker = $3, attempt = r.attempt + 1,\n"
	"        lease_until = clock_timestamp() + make_interval(secs => $4),\n"
	"        started_at = clock_timestamp(),\n"
	"        finished_at = NULL\n"
	"    FROM pick p, %1$s.tasks t\n"
	"    WHERE r.id = p.id AND t.id = r.task_id\n"
	"    RETURNING r.id, r.attempt, t.name, t.graph, t.key_kind, r.key, t.sql, t.command,\n"
	"              coalesce(r.target, t.target), t.timeout_s, t.checks, t.complete_when,\n"
	"              t.definition -> 'error_classes', r.priority, r.ord,\n"
	"              (SELECT v.shadow FROM v2 v WHERE r.target IS NULL\n"
	"                 AND v.rel = to_regclass(t.target))\n"
	")\n"
	"SELECT * FROM claimed ORDER BY priority DESC, ord, id";

/*
 * "Still this worker's" is written as a CASE in the statements below that find runs
 * by id. Written plainly (state = 'running' AND worker = ...) it matches the partial
 * index runs_running, which the planner then prefers, thinking it nearly empty; but it
 * holds an entry for every run this worker claimed since the last vacuum, each to be
 * looked up in the table. By id, it is one lookup.
 */
static const char renew_sql[] =
	"WITH beat AS (UPDATE %1$s.workers SET heartbeat_at = now() WHERE name = $1)\n"
	"UPDATE %1$s.runs SET lease_until = now() + make_interval(secs => $2)\n"
	"WHERE id = ANY ($3::bigint[])\n"
	"  AND CASE state WHEN 'running' THEN worker = $1 ELSE false END\n"
	"RETURNING id, cancel_requested";

/*
 * The end of a run: $4 is the state the worker asks for, $5 the retries its error's
 * class is worth at least, $8 that class and $9 whether it is fatal. end_run (see the
 * migrations) queues a failure with attempts left again, with exponential backoff,
 * makes a failure after cancel was requested a cancellation, and counts the failure
 * for the task's breaker and alerts. A worker whose lease was lost (and the run
 * claimed again) changes nothing.
 */
static const char finish_sql[] =
	"SELECT state, retry_in FROM %1$s.end_run($1, $2, $3, $4, $5, $6, $7, $8, $9)";

/*
 * Whether anything may still become runnable. First, cheaply: a run in scope is
 * running (it may fail and be retried, its lease may expire, its downstream waits for
 * it). Otherwise look at q, the queued runs in scope that could be claimed some day
 * (graph open, task current, breaker not open), and take out the dead ones: those
 * with an upstream key that has neither a successful run nor one in progress (failed,
 * never queued, held by its breaker: that waits for a person or a probe, not for this
 * worker), or whose waiting run is out of q (a paused graph) or dead itself. What is
 * left waits for its time or for runs in progress.
 */
static const char pending_sql[] =
	"WITH RECURSIVE q AS (\n"
	"    SELECT r.id, r.task_id, r.key, r.ignore_deps, t.key_kind\n"
	"    FROM %1$s.runs r JOIN %1$s.tasks t ON t.id = r.task_id\n"
	"    JOIN %1$s.graphs g ON g.name = t.graph\n"
	"    WHERE r.state = 'queued' AND t.removed_at IS NULL AND g.removed_at IS NULL\n"
	"      AND NOT g.paused AND ($1::text IS NULL OR t.graph = $1)\n"
	"      AND r.task_id <> ALL (ARRAY(SELECT task_id FROM %1$s.breakers\n"
	"                                  WHERE state = 'open'))\n"
	"), dead (id, task_id, key) AS (\n"
	"    SELECT q.id, q.task_id, q.key FROM q\n"
	"    WHERE NOT q.ignore_deps AND EXISTS (\n"
	"        SELECT 1 FROM %1$s.task_deps d\n"
	"        CROSS JOIN LATERAL (SELECT %1$s.key_shift(q.key_kind, q.key, d.key_offset)\n"
	"                            AS key) k\n"
	"        WHERE d.task_id = q.task_id\n"
	"          AND (NOT EXISTS (SELECT 1 FROM %1$s.runs u\n"
	"                           WHERE u.task_id = d.upstream_id AND u.key = k.key\n"
	"                             AND u.state IN ('success', 'queued', 'running'))\n"
	"               OR EXISTS (SELECT 1 FROM %1$s.runs u\n"
	"                          WHERE u.task_id = d.upstream_id AND u.key = k.key\n"
	"                            AND u.state = 'queued'\n"
	"                            AND u.id NOT IN (SELECT id FROM q))))\n"
	"    UNION\n"
	"    SELECT q.id, q.task_id, q.key\n"
	"    FROM dead x JOIN %1$s.task_deps d ON d.upstream_id = x.task_id\n"
	"    JOIN q ON q.task_id = d.task_id AND NOT q.ignore_deps\n"
	"          AND q.key = %1$s.key_shift(q.key_kind, x.key, -d.key_offset)\n"
	")\n"
	"SELECT EXISTS (SELECT 1 FROM %1$s.runs r JOIN %1$s.tasks t ON t.id = r.task_id\n"
	"               WHERE r.state = 'running' AND ($1::text IS NULL OR t.graph = $1))\n"
	"    OR EXISTS (SELECT 1 FROM q WHERE q.id NOT IN (SELECT id FROM dead))";

/*
 * The control connection is the worker's for its life, and these settings are for its
 * claims. Planning a claim costs more than running it: plan once (the generic plan).
 * The claim must walk the queue index in order and stop after a few rows, but the
 * planner cannot know how many queued runs pass the dependency test and, thinking
 * few do, would rather sort them all: forbid the sort. And a plan that large would
 * be compiled with JIT for every execution, for nothing.
 *
 * Nothing the worker commits here needs to wait for the disk: if the server crashes
 * and loses a claim, a renewal or a failure, the run is back where it was before and
 * goes through the queue again, as after an expired lease. A SQL run's success commits
 * on its own connection, synchronously, and flushes the WAL before it, the claim's
 * included: the success is never kept without its claim.
 */
static const char session_settings[] =
	"SET plan_cache_mode = force_generic_plan; SET enable_sort = off; SET jit = off;"
	" SET synchronous_commit = off";
static const char session_reset[] =
	"RESET plan_cache_mode; RESET enable_sort; RESET jit; RESET synchronous_commit";

struct statement {
	const char *name;
	const char *sql;
	int nparams;
};

/* clang-format off */
static const struct statement statements[] = {
	{ "ds_worker_reap", reap_sql, 0 },
	{ "ds_worker_probe", probe_sql, 0 },
	{ "ds_worker_sla", sla_sql, 0 },
	{ "ds_worker_lock", lock_sql, 1 },
	{ "ds_worker_claim", claim_sql, 4 },
	{ "ds_worker_renew", renew_sql, 3 },
	{ "ds_worker_finish", finish_sql, 9 },
	{ "ds_worker_pending", pending_sql, 1 },
};
/* clang-format on */

enum { ST_REAP, ST_PROBE, ST_SLA, ST_LOCK, ST_CLAIM, ST_RENEW, ST_FINISH, ST_PENDING, ST_COUNT };

/* The first line of a libpq or server message. */
static void result_error(struct ds_db *db, PGresult *res, const char *what, struct ds_error *err)
{
	const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	int n;

	if (PQstatus(db->conn) != CONNECTION_OK) {
		msg = PQerrorMessage(db->conn);
		n = (int)strcspn(msg, "\n");
		ds_error_set(err, DS_ERR_CONNECTION, "the connection to the server was lost: %.*s",
			     n, msg);
		return;
	}
	if (!msg)
		msg = PQerrorMessage(db->conn);
	n = (int)strcspn(msg, "\n");
	ds_error_set(err, DS_ERR_FAILED, "%s: %.*s", what, n, msg);
}

static int result_ok(PGresult *res)
{
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;

	return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

/* Run a prepared statement; the result, or NULL with err filled. */
static PGresult *run_prepared(struct ds_queue *q, int st, const char *const *params,
			      const char *what, struct ds_error *err)
{
	PGresult *res = PQexecPrepared(q->db->conn, statements[st].name, statements[st].nparams,
				       params, NULL, NULL, 0);

	if (result_ok(res))
		return res;
	result_error(q->db, res, what, err);
	PQclear(res);
	return NULL;
}

int ds_queue_init(struct ds_queue *q, struct ds_db *db, const char *worker, const char *graph,
		  int lease_s, struct ds_error *err)
{
	memset(q, 0, sizeof(*q));
	q->db = db;
	q->worker = ds_xstrdup(worker);
	q->graph = graph;
	q->lease_s = lease_s;
	/* From here on, release deallocates whatever was prepared. */
	q->prepared = 1;
	for (int i = 0; i < ST_COUNT; i++) {
		char *sql = ds_xprintf(statements[i].sql, db->schema_ident);
		PGresult *res = PQprepare(db->conn, statements[i].name, sql, 0, NULL);

		free(sql);
		if (!result_ok(res)) {
			result_error(db, res, "cannot prepare the worker's statements", err);
			PQclear(res);
			ds_queue_release(q);
			return -1;
		}
		PQclear(res);
	}
	PQclear(PQexec(db->conn, session_settings));
	return 0;
}

void ds_queue_release(struct ds_queue *q)
{
	if (q->claiming && ds_db_connected(q->db)) {
		struct ds_run **runs;
		int n, done;

		/* Runs claimed but not started go back when their leases expire. */
		if (ds_queue_claim_collect(q, 1, &runs, &n, &done, NULL) == 0) {
			for (int i = 0; i < n; i++)
				ds_run_free(runs[i]);
			free(runs);
		}
	}
	if (q->prepared && ds_db_connected(q->db)) {
		for (int i = 0; i < ST_COUNT; i++) {
			char *sql = ds_xprintf("DEALLOCATE %s", statements[i].name);

			PQclear(PQexec(q->db->conn, sql));
			free(sql);
		}
		PQclear(PQexec(q->db->conn, session_reset));
	}
	free(q->worker);
	memset(q, 0, sizeof(*q));
}

int ds_queue_register(struct ds_queue *q, const char *host, int pid, int concurrency,
		      struct ds_error *err)
{
	char *sql = ds_xprintf("INSERT INTO %s.workers (name, host, pid, graph, concurrency)"
			       " VALUES ($1, $2, $3, $4, $5)",
			       q->db->schema_ident);
	char spid[16], sconc[16];
	const char *params[] = { q->worker, host, spid, q->graph, sconc };
	PGresult *res;

	snprintf(spid, sizeof(spid), "%d", pid);
	snprintf(sconc, sizeof(sconc), "%d", concurrency);
	res = ds_db_query(q->db, sql, 5, params, err);
	free(sql);
	if (!res)
		return -1;
	PQclear(res);
	return 0;
}

int ds_queue_unregister(struct ds_queue *q, struct ds_error *err)
{
	char *sql = ds_xprintf("UPDATE %s.workers SET stopped_at = now(), heartbeat_at = now()"
			       " WHERE name = $1",
			       q->db->schema_ident);
	const char *params[] = { q->worker };
	PGresult *res = ds_db_query(q->db, sql, 1, params, err);

	free(sql);
	if (!res)
		return -1;
	PQclear(res);
	return 0;
}

static char *dup_or_null(PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : ds_xstrdup(PQgetvalue(res, row, col));
}

static struct ds_run *run_from_row(PGresult *res, int row)
{
	struct ds_run *run = ds_xmalloc(sizeof(*run));

	memset(run, 0, sizeof(*run));
	run->id = strtoll(PQgetvalue(res, row, 0), NULL, 10);
	run->attempt = atoi(PQgetvalue(res, row, 1));
	run->task = dup_or_null(res, row, 2);
	run->graph = dup_or_null(res, row, 3);
	run->kind = dup_or_null(res, row, 4);
	run->key = dup_or_null(res, row, 5);
	run->sql = dup_or_null(res, row, 6);
	run->command = dup_or_null(res, row, 7);
	run->target = dup_or_null(res, row, 8);
	run->timeout_s = PQgetisnull(res, row, 9) ? 0 : atoi(PQgetvalue(res, row, 9));
	run->checks = dup_or_null(res, row, 10);
	run->complete_when = dup_or_null(res, row, 11);
	run->error_classes = dup_or_null(res, row, 12);
	run->also_target = dup_or_null(res, row, 15);
	return run;
}

static void take_runs(PGresult *res, struct ds_run ***runs, int *nruns)
{
	int n = PQntuples(res);

	*runs = ds_xmalloc((size_t)(n ? n : 1) * sizeof(**runs));
	for (int i = 0; i < n; i++)
		(*runs)[i] = run_from_row(res, i);
	*nruns = n;
}

/* A claim that lost a deadlock or serialization race takes nothing; the next one retries. */
static int transient(PGresult *res)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	return state &&
	       (!strcmp(state, "40P01") || !strcmp(state, "40001") || !strcmp(state, "55P03"));
}

/*
 * Send the pipeline [chores,] lock, claim, sync. One round trip; the statements share
 * the implicit transaction that the sync commits.
 */
int ds_queue_claim_send(struct ds_queue *q, int max, unsigned chores, struct ds_error *err)
{
	PGconn *conn = q->db->conn;
	char smax[16], slease[16];
	const char *claim_params[] = { q->graph, smax, q->worker, slease };
	const char *lock_params[] = { q->graph };
	int nsent = 0, nwant = 2;

	snprintf(smax, sizeof(smax), "%d", max);
	snprintf(slease, sizeof(slease), "%d", q->lease_s);
	if (!PQenterPipelineMode(conn))
		return result_error(q->db, NULL, "cannot claim runs", err), -1;
	if (chores & DS_CHORE_REAP) {
		nwant += 2;
		nsent +=
			PQsendQueryPrepared(conn, statements[ST_REAP].name, 0, NULL, NULL, NULL, 0);
		nsent += PQsendQueryPrepared(conn, statements[ST_PROBE].name, 0, NULL, NULL, NULL,
					     0);
	}
	if (chores & DS_CHORE_SLA) {
		nwant++;
		nsent += PQsendQueryPrepared(conn, statements[ST_SLA].name, 0, NULL, NULL, NULL, 0);
	}
	nsent += PQsendQueryPrepared(conn, statements[ST_LOCK].name, 1, lock_params, NULL, NULL, 0);
	nsent += PQsendQueryPrepared(conn, statements[ST_CLAIM].name, 4, claim_params, NULL, NULL,
				     0);
	if (nsent != nwant || !PQpipelineSync(conn))
		return result_error(q->db, NULL, "cannot claim runs", err), -1;
	q->claiming = 1;
	q->nsent = nsent;
	q->nseen = 0;
	return 0;
}

/* The claim's answer is complete: hand over the runs, or the error. */
static int claim_end(struct ds_queue *q, struct ds_run ***runs, int *nruns, struct ds_error *err)
{
	int rc = 0;

	PQexitPipelineMode(q->db->conn);
	if (q->failed && !transient(q->failed)) {
		result_error(q->db, q->failed, "cannot claim runs", err);
		rc = -1;
	} else if (q->claimed) {
		take_runs(q->claimed, runs, nruns);
	}
	PQclear(q->failed);
	PQclear(q->claimed);
	q->failed = q->claimed = NULL;
	q->claiming = 0;
	return rc;
}

/* Keep the claim's row set and the first real error; a NULL ends a statement's results. */
static void claim_result(struct ds_queue *q, PGresult *res)
{
	if (!res) {
		q->nseen++;
	} else if (q->nseen == q->nsent - 1 && result_ok(res) && !q->claimed) {
		q->claimed = res;
	} else if (!result_ok(res) && !q->failed && PQresultStatus(res) != PGRES_PIPELINE_ABORTED) {
		q->failed = res;
	} else {
		PQclear(res);
	}
}

int ds_queue_claim_collect(struct ds_queue *q, int block, struct ds_run ***runs, int *nruns,
			   int *done, struct ds_error *err)
{
	PGconn *conn = q->db->conn;

	*runs = NULL;
	*nruns = 0;
	*done = 0;
	if (!block && !PQconsumeInput(conn))
		goto broken;
	while (block || !PQisBusy(conn)) {
		PGresult *res = PQgetResult(conn);

		if (q->nseen == q->nsent) {
			/* What follows the statements' results is the sync's. */
			if (!res || PQresultStatus(res) != PGRES_PIPELINE_SYNC) {
				PQclear(res);
				goto broken;
			}
			PQclear(res);
			*done = 1;
			return claim_end(q, runs, nruns, err);
		}
		if (!res && PQstatus(conn) != CONNECTION_OK)
			goto broken;
		claim_result(q, res);
	}
	return 0;
broken:
	PQclear(q->failed);
	PQclear(q->claimed);
	q->failed = q->claimed = NULL;
	q->claiming = 0;
	result_error(q->db, NULL, "cannot claim runs", err);
	return -1;
}

/* {1,2,3}: an array literal for a bigint[] parameter. Caller frees. */
static char *id_array(const long long *ids, int n)
{
	struct ds_buf b = DS_BUF_INIT;

	ds_buf_add(&b, "{", 1);
	for (int i = 0; i < n; i++)
		ds_buf_addf(&b, "%s%lld", i ? "," : "", ids[i]);
	ds_buf_add(&b, "}", 1);
	return ds_buf_take(&b);
}

int ds_queue_renew(struct ds_queue *q, const long long *ids, int n, int *held, int *cancel,
		   struct ds_error *err)
{
	char slease[16], *sids = id_array(ids, n);
	const char *params[] = { q->worker, slease, sids };
	PGresult *res;

	snprintf(slease, sizeof(slease), "%d", q->lease_s);
	res = run_prepared(q, ST_RENEW, params, "cannot renew the leases", err);
	free(sids);
	if (!res)
		return -1;
	for (int i = 0; i < n; i++) {
		held[i] = cancel[i] = 0;
		for (int r = 0; r < PQntuples(res); r++) {
			if (strtoll(PQgetvalue(res, r, 0), NULL, 10) != ids[i])
				continue;
			held[i] = 1;
			cancel[i] = PQgetvalue(res, r, 1)[0] == 't';
		}
	}
	PQclear(res);
	return 0;
}

static const char *outcome_state(enum ds_outcome o)
{
	switch (o) {
	case DS_OUT_SUCCESS:
		return "success";
	case DS_OUT_BLOCKED:
		return "blocked";
	case DS_OUT_CANCELLED:
		return "cancelled";
	case DS_OUT_REQUEUE:
		return "queued";
	case DS_OUT_FAILED:
	case DS_OUT_FAILED_FINAL:
	case DS_OUT_LOST:
		break;
	}
	return "failed";
}

/* The states finish can end in, as static strings for *state. */
static const char *known_state(const char *s)
{
	static const char *const states[] = { "success", "failed", "queued", "blocked",
					      "cancelled" };

	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		if (!strcmp(s, states[i]))
			return states[i];
	return "failed";
}

/*
 * What kind of failure the run's error is. A run whose SQL cannot even be expanded
 * fails the same way every time: fatal.
 */
static void classify(const struct ds_run *run, enum ds_outcome outcome, const char *error,
		     const char *sqlstate, struct ds_error_verdict *v)
{
	json_t *rules;

	if (outcome == DS_OUT_FAILED_FINAL) {
		snprintf(v->class_name, sizeof(v->class_name), "fatal");
		v->retry = 0;
		v->fatal = 1;
		return;
	}
	rules = run->error_classes ? json_loads(run->error_classes, 0, NULL) : NULL;
	ds_error_classify(rules, error, sqlstate, v);
	json_decref(rules);
}

int ds_queue_finish(struct ds_queue *q, const struct ds_run *run, enum ds_outcome outcome,
		    const char *error, const char *sqlstate, const char *output, const char **state,
		    double *retry_in, struct ds_error_verdict *verdict, struct ds_error *err)
{
	char sid[24], sattempt[16], sretries[16];
	struct ds_error_verdict v = { "", 0, 0 };
	int failed = outcome == DS_OUT_FAILED || outcome == DS_OUT_FAILED_FINAL;
	const char *params[9];
	PGresult *res;

	if (failed)
		classify(run, outcome, error, sqlstate, &v);
	if (verdict)
		*verdict = v;
	snprintf(sid, sizeof(sid), "%lld", run->id);
	snprintf(sattempt, sizeof(sattempt), "%d", run->attempt);
	snprintf(sretries, sizeof(sretries), "%d", v.retry ? DS_TRANSIENT_RETRIES : 0);
	params[0] = sid;
	params[1] = q->worker;
	params[2] = sattempt;
	params[3] = outcome_state(outcome);
	params[4] = sretries;
	params[5] = error;
	params[6] = output;
	params[7] = failed ? v.class_name : NULL;
	params[8] = v.fatal ? "true" : "false";
	res = run_prepared(q, ST_FINISH, params, "cannot record the outcome of a run", err);
	if (!res)
		return -1;
	*state = NULL;
	*retry_in = 0;
	if (PQntuples(res) == 1) {
		*state = known_state(PQgetvalue(res, 0, 0));
		*retry_in = atof(PQgetvalue(res, 0, 1));
	}
	PQclear(res);
	return 0;
}

int ds_queue_pending(struct ds_queue *q, int *pending, struct ds_error *err)
{
	const char *params[] = { q->graph };
	PGresult *res = run_prepared(q, ST_PENDING, params, "cannot read the queue", err);

	if (!res)
		return -1;
	*pending = PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	return 0;
}

/*
 * Marking a SQL run succeeded happens in the run's own transaction on the slot's
 * connection, and must fail (rolling the work back) if the run is no longer this
 * worker's. A function does it in one call; a temporary one needs no change to the
 * schema and is compiled once per connection, where a DO block would be compiled for
 * every run.
 *
 * The slot's commits need not wait for their WAL to reach disk: a run's work and its
 * success commit together, so a crash that loses one loses both, and the run, still
 * 'running' under an expired lease, is claimed and done again. Waiting for the flush
 * would cost every run a disk round trip and buy nothing.
 */
char *ds_queue_success_function(const struct ds_queue *q)
{
	return ds_xprintf(
		"SET synchronous_commit = off;\n"
		"CREATE FUNCTION pg_temp.ds_worker_succeed(run bigint, me text, try integer)\n"
		"RETURNS void LANGUAGE plpgsql AS $ds$\n"
		"DECLARE\n"
		"  task integer;\n"
		"BEGIN\n"
		"  UPDATE %1$s.runs SET state = 'success', finished_at = clock_timestamp(),\n"
		"         lease_until = NULL, error = NULL, output = NULL, error_class = NULL\n"
		"  WHERE id = run\n"
		"    AND CASE state WHEN 'running' THEN worker = me AND attempt = try\n"
		"             ELSE false END\n"
		"  RETURNING task_id INTO task;\n"
		"  IF NOT FOUND THEN\n"
		"    RAISE EXCEPTION USING ERRCODE = '" DS_LEASE_LOST "',\n"
		"      MESSAGE = 'the lease on the run was lost';\n"
		"  END IF;\n"
		/* Most tasks have no failures to forget: look before calling. */
		"  IF EXISTS (SELECT 1 FROM %1$s.breakers b WHERE b.task_id = task\n"
		"             AND (b.consecutive > 0 OR b.state <> 'closed')) THEN\n"
		"    PERFORM %1$s.note_success(task);\n"
		"  END IF;\n"
		"END\n"
		"$ds$",
		q->db->schema_ident);
}

char *ds_queue_success_sql(const struct ds_queue *q, const struct ds_run *run)
{
	char *worker = ds_sql_literal(q->worker);
	char *sql = ds_xprintf("SELECT pg_temp.ds_worker_succeed(%lld, %s, %d)", run->id, worker,
			       run->attempt);

	free(worker);
	return sql;
}
