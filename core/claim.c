/*
 * claim.c: the run queue for the worker. Its statements (core/sql/queue/) are prepared
 * once on the control connection; a claim is one round trip (a pipeline: reap, lock,
 * claim) and one short transaction, whatever the number of runs it takes. A claim
 * starts its scan of the queue where the last one found its first run, when it may
 * (keep_bound; queue/claim.sql says why).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claim.h"
#include "errclass.h"
#include "sql.h"
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
	free(run->also_pass);
	free(run->checks);
	free(run->complete_when);
	free(run->error_classes);
	free(run->connection);
	free(run->conninfo);
	free(run);
}

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
 * on its own connection after the claim, and the server writes the WAL in order: the
 * success is never kept without its claim.
 */
static const char session_settings[] =
	"SET plan_cache_mode = force_generic_plan; SET enable_sort = off; SET jit = off;"
	" SET synchronous_commit = off";
static const char session_reset[] =
	"RESET plan_cache_mode; RESET enable_sort; RESET jit; RESET synchronous_commit";

/* The statements the worker prepares on its control connection, in enum order. */
struct statement {
	const char *name;
	enum ds_sql_id sql;
	int nparams;
};

/* clang-format off */
static const struct statement statements[] = {
	{ "ds_worker_reap", DS_SQL_QUEUE_REAP, 0 },
	{ "ds_worker_probe", DS_SQL_QUEUE_RELEASE_PROBES, 0 },
	{ "ds_worker_sla", DS_SQL_QUEUE_CHECK_SLAS, 0 },
	{ "ds_worker_lock", DS_SQL_QUEUE_LOCK_GRAPHS, 1 },
	{ "ds_worker_lock_batches", DS_SQL_QUEUE_LOCK_BATCHES, 0 },
	{ "ds_worker_claim_plan", DS_SQL_QUEUE_CLAIM_PLAN, 0 },
	{ "ds_worker_claim", DS_SQL_QUEUE_CLAIM, 7 },
	{ "ds_worker_renew", DS_SQL_QUEUE_RENEW, 3 },
	{ "ds_worker_finish", DS_SQL_QUEUE_FINISH, 9 },
	{ "ds_worker_pending", DS_SQL_QUEUE_PENDING, 1 },
};
/* clang-format on */

enum {
	ST_REAP,
	ST_PROBE,
	ST_SLA,
	ST_LOCK,
	ST_LOCK_BATCHES,
	ST_CLAIM_PLAN,
	ST_CLAIM,
	ST_RENEW,
	ST_FINISH,
	ST_PENDING,
	ST_COUNT
};

/*
 * The first line of a libpq or server message. A connection lost in the middle of a
 * claim has the server's last words (FATAL: terminating connection...) in a result of
 * the pipeline, not in the connection's message: those come first.
 */
static void result_error(struct ds_db *db, PGresult *res, const char *what, struct ds_error *err)
{
	const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	int n;

	if (ds_db_lost(db->conn, res)) {
		if (!msg || !state || (strncmp(state, "57P", 3) && strncmp(state, "08", 2)))
			msg = PQerrorMessage(db->conn);
		msg += strspn(msg, " \t\r\n");
		if (!msg[0] && res)
			msg = PQresultErrorMessage(res);
		msg += strspn(msg, " \t\r\n");
		n = (int)strcspn(msg, "\r\n");
		ds_error_set(err, DS_ERR_CONNECTION, "the connection to the server was lost: %.*s",
			     n, n ? msg : "the server closed the connection");
		return;
	}
	if (!msg || !msg[0])
		msg = PQerrorMessage(db->conn);
	msg += strspn(msg, " \t\r\n");
	n = (int)strcspn(msg, "\r\n");
	ds_error_set(err, DS_ERR_FAILED, "%s: %.*s", what, n, n ? msg : "no reason given");
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
		PGresult *res = PQprepare(db->conn, statements[i].name,
					  ds_sql(db, statements[i].sql), 0, NULL);

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
	char spid[16], sconc[16];
	const char *params[] = { q->worker, host, spid, q->graph, sconc };
	PGresult *res;

	snprintf(spid, sizeof(spid), "%d", pid);
	snprintf(sconc, sizeof(sconc), "%d", concurrency);
	res = ds_sql_query(q->db, DS_SQL_QUEUE_END_LOST_SESSION, 1, params, err);
	if (!res)
		return -1;
	if (strcmp(PQgetvalue(res, 0, 0), "t")) {
		PQclear(res);
		return ds_error_set(err, DS_ERR_CONNECTION,
				    "the session worker %s lost is still on the server and did not "
				    "end within 10 seconds",
				    q->worker);
	}
	PQclear(res);
	res = ds_sql_query(q->db, DS_SQL_QUEUE_REGISTER, 5, params, err);
	if (!res)
		return -1;
	PQclear(res);
	return 0;
}

int ds_queue_unregister(struct ds_queue *q, struct ds_error *err)
{
	const char *params[] = { q->worker };
	PGresult *res = ds_sql_query(q->db, DS_SQL_QUEUE_UNREGISTER, 1, params, err);

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
	run->also_pass = dup_or_null(res, row, 16);
	run->connection = dup_or_null(res, row, 17);
	run->conninfo = dup_or_null(res, row, 18);
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
 * Send the pipeline [chores,] lock graphs, lock batches, the claim's plan setting, claim,
 * sync. One round trip; the statements share the implicit transaction that the sync
 * commits.
 */
int ds_queue_claim_send(struct ds_queue *q, int max, unsigned chores, struct ds_error *err)
{
	PGconn *conn = q->db->conn;
	char smax[16], slease[16];
	const char *claim_params[] = { q->graph, smax, q->worker, slease, NULL, NULL, NULL };
	const char *lock_params[] = { q->graph };
	int nsent = 0, nwant = 4;

	q->bounded = q->bound[0][0] != '\0';
	for (int i = 0; q->bounded && i < 3; i++)
		claim_params[4 + i] = q->bound[i];
	q->want = max;
	q->sent_epoch = q->epoch;
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
	nsent +=
		PQsendQueryPrepared(conn, statements[ST_LOCK_BATCHES].name, 0, NULL, NULL, NULL, 0);
	nsent += PQsendQueryPrepared(conn, statements[ST_CLAIM_PLAN].name, 0, NULL, NULL, NULL, 0);
	nsent += PQsendQueryPrepared(conn, statements[ST_CLAIM].name, 7, claim_params, NULL, NULL,
				     0);
	if (nsent != nwant || !PQpipelineSync(conn))
		return result_error(q->db, NULL, "cannot claim runs", err), -1;
	q->claiming = 1;
	q->nsent = nsent;
	q->nseen = 0;
	return 0;
}

void ds_queue_rescan(struct ds_queue *q)
{
	q->bound[0][0] = '\0';
	q->epoch++;
}

/*
 * The next claim starts where this one took its first run (the rows come in queue
 * order), unless it took fewer than asked (what is left of the queue may lie before
 * the bound, at a lower priority: the next claim looks from the head), the claim says
 * that runs it passed over may become ready silently (its last column), or a rescan was
 * asked for while it was in flight.
 */
static void keep_bound(struct ds_queue *q, PGresult *res)
{
	static const int cols[3] = { 13, 14, 0 }; /* priority, ord, id */

	q->bound[0][0] = '\0';
	if (PQntuples(res) < q->want || q->sent_epoch != q->epoch ||
	    strcmp(PQgetvalue(res, 0, 19), "t"))
		return;
	for (int i = 0; i < 3; i++)
		snprintf(q->bound[i], sizeof(q->bound[i]), "%s", PQgetvalue(res, 0, cols[i]));
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
		keep_bound(q, q->claimed);
	} else {
		q->bound[0][0] = '\0';
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
	result_error(q->db, q->failed, "cannot claim runs", err);
	PQclear(q->failed);
	PQclear(q->claimed);
	q->failed = q->claimed = NULL;
	q->claiming = 0;
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
	case DS_OUT_UNREACHABLE:
		return "unreachable";
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

int ds_queue_keep_output(struct ds_queue *q, const struct ds_run *run, const char *output,
			 struct ds_error *err)
{
	char sid[24], sattempt[16];
	const char *params[] = { sid, q->worker, sattempt, output };
	PGresult *res;

	snprintf(sid, sizeof(sid), "%lld", run->id);
	snprintf(sattempt, sizeof(sattempt), "%d", run->attempt);
	res = ds_sql_query(q->db, DS_SQL_QUEUE_KEEP_OUTPUT, 4, params, err);
	PQclear(res);
	return res ? 0 : -1;
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
 * The slot's commits need not wait for their WAL to reach disk: a run's work and its
 * success commit together, so a crash that loses one loses both, and the run, still
 * 'running' under an expired lease, is claimed and done again. Waiting for the flush
 * would cost every run a disk round trip and buy nothing.
 */
char *ds_queue_success_function(const struct ds_queue *q)
{
	return ds_xprintf("SET synchronous_commit = off;\n%s",
			  ds_sql(q->db, DS_SQL_QUEUE_CREATE_SUCCEED_FUNCTION));
}

/*
 * Built here, not a statement file: the call goes in the same message as the task's
 * own SQL (execute.c), one round trip per run, and a message of several statements
 * takes no parameters. The worker's name is quoted as a literal; the rest are numbers.
 */
char *ds_queue_success_sql(const struct ds_queue *q, const struct ds_run *run)
{
	char *worker = ds_sql_literal(q->worker);
	char *sql = ds_xprintf("SELECT pg_temp.ds_worker_succeed(%lld, %s, %d)", run->id, worker,
			       run->attempt);

	free(worker);
	return sql;
}
