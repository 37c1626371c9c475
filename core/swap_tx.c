/*
 * swap_tx.c: the exchange of the production and incoming tables (swap and rollback) and
 * the end of a swap (finish).
 *
 * Under its lock, before anything changes, the exchange reads the write log (swap_writes,
 * filled by the statement triggers swap_start.c put on both tables): a transaction that
 * wrote T but not the incoming table after the last check (after the swap, for a
 * rollback) would be lost, and the exchange refuses, naming it.
 *
 * The exchange holds ACCESS EXCLUSIVE on the tables, and a waiting request for it
 * blocks every later reader, so each attempt waits at most lock_timeout and then rolls
 * back, reports who kept it waiting (seen while it waited: core/lockwatch.c), backs off with jitter
 * and tries again until the deadline. Everything that takes time (copying grants and triggers, a
 * sequence, foreign keys, ANALYZE, building the copies of materialized views) happens before,
 * outside the lock.
 *
 * Uses the journal (swap_journal.c), the plan (swap_catalog.c) and the lock watch; none
 * of them calls back into this file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "lockwatch.h"
#include "runs.h"
#include "swap.h"
#include "util.h"

/* The two tables of an exchange: production (named T) and the one taking its place. */
struct exchange {
	struct ds_swap *sw;
	int rollback;
	const char *incoming_q, *incoming_name; /* quoted qualified, unquoted */
	const char *retire_name;		/* the name T takes, unquoted */
	char prod_oid[16], incoming_oid[16];
	char *lock, *renames; /* the statements of the exchange itself */
	char *tasks;	      /* the ids of the tasks whose target is T, as an SQL array */
	const struct ds_swap_opts *o;
};

/* Milliseconds on a clock that does not jump. */
static double now_ms(void)
{
	return ds_monotonic() * 1000.0;
}

/* The statements of one phase as a JSON array of strings, for the journal. */
static json_t *phase_statements(json_t *plan, const char *phase)
{
	json_t *out = json_array(), *row;
	size_t i;

	json_array_foreach(
		plan, i, row) if (!strcmp(json_string_value(json_object_get(row, "phase")), phase))
		json_array_append(out, json_object_get(row, "stmt"));
	return out;
}

static int table_oids(struct ds_db *db, struct exchange *x, struct ds_error *err)
{
	const char *params[] = { x->sw->qtable, x->incoming_q };
	PGresult *res = ds_sql_query(db, DS_SQL_SWAP_TABLE_OIDS, 2, params, err);

	if (!res)
		return -1;
	if (PQgetisnull(res, 0, 1)) {
		PQclear(res);
		ds_error_set(err, DS_ERR_FAILED, "table %s does not exist", x->incoming_q);
		return ds_error_hint(err, "'swap-table status' says where the swap stands");
	}
	snprintf(x->prod_oid, sizeof(x->prod_oid), "%s", PQgetvalue(res, 0, 0));
	snprintf(x->incoming_oid, sizeof(x->incoming_oid), "%s", PQgetvalue(res, 0, 1));
	PQclear(res);
	return 0;
}

/*
 * Build the copies of the materialized views (the plan's build rows), each in a
 * transaction of its own: their queries may take long, and read the incoming table, not
 * T. A copy left by a killed shell is dropped and built again.
 */
static int build_copies(struct ds_db *db, struct exchange *x, json_t *plan, struct ds_error *err)
{
	json_t *row;
	size_t i;

	json_array_foreach(plan, i, row)
	{
		json_t *one;
		int rc;

		if (strcmp(json_string_value(json_object_get(row, "phase")), "build"))
			continue;
		one = json_pack("[O]", row);
		rc = ds_swap_begin(db, "BEGIN", x->o->lock_timeout_ms, -1, err);
		if (rc == 0)
			rc = ds_db_end(db, ds_swap_run_phase(db, one, "build", 0, 1000, err), err);
		json_decref(one);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/*
 * Copy what the incoming table lacks, in one transaction; then refresh its statistics
 * and build the copies of the materialized views on it. Its waits for locks are bounded
 * as the exchange's are, and it may run again.
 */
static int prepare_incoming(struct ds_db *db, struct exchange *x, struct ds_error *err)
{
	json_t *plan = ds_swap_plan(db, x->prod_oid, x->incoming_oid, x->o->lock_timeout_ms, err);
	const char *params[] = { x->sw->schema, x->incoming_name };
	int rc;

	if (!plan)
		return -1;
	rc = ds_swap_begin(db, "BEGIN", x->o->lock_timeout_ms, -1, err);
	if (rc == 0)
		rc = ds_db_end(db, ds_swap_run_phase(db, plan, "prepare", 0, 1000, err), err);
	if (rc == 0)
		rc = ds_db_exec_rows(db, ds_sql_query(db, DS_SQL_SWAP_ANALYZE, 2, params, err),
				     err);
	if (rc == 0)
		rc = build_copies(db, x, plan, err);
	json_decref(plan);
	return rc;
}

/* The journal row, the records and the audit, inside the locked transaction. */
static int journal_exchange(struct ds_db *db, struct exchange *x, json_t *plan,
			    struct ds_audit *audit, struct ds_error *err)
{
	json_t *pending = phase_statements(plan, "after");
	char *pending_text = json_dumps(pending, JSON_COMPACT);
	const char *extra[] = { pending_text };
	PGresult *res;

	res = ds_swap_query(db, x->sw,
			    x->rollback ? DS_SQL_SWAP_JOURNAL_ROLLED_BACK
					: DS_SQL_SWAP_JOURNAL_SWAPPED,
			    1, extra, err);
	free(pending_text);
	json_decref(pending);
	if (!res)
		return -1;
	PQclear(res);
	ds_audit_touch(audit, json_pack("{s:I, s:s}", "swap", (json_int_t)x->sw->id, "state",
					x->rollback ? "rolled back" : "swapped"));
	return ds_swap_record(x->sw, x->rollback ? "rollback" : "swap", x->tasks, audit, err);
}

/*
 * The writes the exchange would lose (core/sql/swap/foreign_writes.sql), as a result of
 * one row, or NULL with err filled.
 */
static PGresult *lost_writes(struct ds_db *db, struct ds_swap *sw, struct ds_error *err)
{
	return ds_swap_query(db, sw, DS_SQL_SWAP_FOREIGN_WRITES, 0, NULL, err);
}

/* The same as JSON, for a dry run: what would stop the exchange now. */
static json_t *lost_writes_json(PGresult *res)
{
	const char *names[] = { "transactions", "statements",	"first_at", "last_at",
				"roles",	"applications", "ops" };
	json_t *out = json_object();

	for (int i = 0; i < 7; i++)
		json_object_set_new(out, names[i],
				    PQgetisnull(res, 0, i) ? json_null()
				    : i < 2 ? json_integer(atoll(PQgetvalue(res, 0, i)))
					    : json_string(PQgetvalue(res, 0, i)));
	json_object_set_new(out, "logged", json_boolean(PQgetvalue(res, 0, 7)[0] == 't'));
	return out;
}

/*
 * Refuse the exchange (-1, err says why and what to do) when it would lose writes: to T
 * alone, after the last check (after the swap, for a rollback). A rollback told to
 * lose them goes ahead. Under the lock, so that no writer of T is still at work.
 */
static int refuse_lost_writes(struct ds_db *db, struct exchange *x, struct ds_error *err)
{
	const struct ds_swap *sw = x->sw;
	const char *since = x->rollback ? "since the swap" : "after the last check";
	PGresult *res;
	long n;
	int rc = 0;

	if (x->rollback && x->o->lose_writes)
		return 0;
	if (!(res = lost_writes(db, x->sw, err)))
		return -1;
	n = atol(PQgetvalue(res, 0, 0));
	if (PQgetvalue(res, 0, 7)[0] != 't') {
		ds_error_set(err, DS_ERR_FAILED,
			     "%s has no write log (its trigger is missing or disabled, or an older "
			     "datashell started the swap): writes to it %s cannot be told; nothing "
			     "was changed",
			     sw->qtable, since);
		rc = x->rollback
			     ? ds_error_hint(err,
					     "roll back with --lose-writes if nothing "
					     "wrote %s since the swap",
					     sw->qtable)
			     : ds_error_hint(err, "'swap-table check %s' puts it back; then swap",
					     sw->qtable);
	} else if (n > 0) {
		ds_error_set(
			err, DS_ERR_FAILED,
			"%ld transaction%s wrote %s %s and not %s (%s statement%s: %s; from %s "
			"to %s; by role %s; application %s): %s would lose %s; nothing was "
			"changed",
			n, n == 1 ? "" : "s", sw->qtable, since, x->incoming_q,
			PQgetvalue(res, 0, 1), strcmp(PQgetvalue(res, 0, 1), "1") ? "s" : "",
			PQgetvalue(res, 0, 6), PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 3),
			PQgetvalue(res, 0, 4), PQgetvalue(res, 0, 5),
			x->rollback ? "rolling back" : "swapping", n == 1 ? "it" : "them");
		rc = x->rollback
			     ? ds_error_hint(err,
					     "stop the writer and copy what it wrote into %s; or "
					     "roll back with --lose-writes to lose it",
					     x->incoming_q)
			     : ds_error_hint(
				       err,
				       "stop the writer, bring %s up to date (copy the rows, "
				       "or re-run their keys with 'backfill TASK RANGE --into "
				       "backfill'), then 'swap-table check %s%s%s' and swap again",
				       x->incoming_q, sw->qtable,
				       sw->connection ? " --connection " : "",
				       sw->connection ? sw->connection : "");
	}
	PQclear(res);
	return rc;
}

static int exchange_in_transaction(struct ds_db *db, struct exchange *x, json_t *plan,
				   struct ds_audit *audit, double *locked_at, struct ds_error *err)
{
	int rc = ds_db_exec(db, x->lock, err);

	*locked_at = now_ms();
	if (rc == 0)
		rc = refuse_lost_writes(db, x, err);
	if (rc == 0)
		rc = ds_swap_run_phase(db, plan, "swap", 0, 20, err);
	if (rc == 0)
		rc = ds_db_exec(db, x->renames, err);
	if (rc == 0)
		rc = ds_swap_run_phase(db, plan, "swap", 20, 1000, err);
	if (rc == 0)
		rc = journal_exchange(db, x, plan, audit, err);
	return rc;
}

/*
 * The statements of the exchange itself (the lock and the renames), generated once
 * before the first attempt. Freed by exchange_release().
 */
static int exchange_statements(struct ds_db *db, struct exchange *x, struct ds_error *err)
{
	const char *params[] = { x->sw->schema, x->sw->table, x->retire_name, x->incoming_name };
	PGresult *res = ds_sql_query(db, DS_SQL_SWAP_EXCHANGE_STATEMENTS, 4, params, err);

	if (!res)
		return -1;
	x->lock = ds_xstrdup(PQgetvalue(res, 0, 0));
	x->renames = ds_xstrdup(PQgetvalue(res, 0, 1));
	PQclear(res);
	/* Read with the session's search_path: the locked transaction's is empty. */
	x->tasks = ds_swap_target_tasks(x->sw, err);
	return x->tasks ? 0 : -1;
}

static void exchange_release(struct exchange *x)
{
	free(x->lock);
	free(x->renames);
	free(x->tasks);
	x->lock = x->renames = x->tasks = NULL;
}

/* The locked transaction: 0 done, -1 failed; *lock_ms is how long the lock was held. */
static int locked_exchange(struct ds_db *db, struct exchange *x, json_t *plan, long statement_ms,
			   struct ds_audit *audit, double *lock_ms, struct ds_error *err)
{
	double locked_at = 0;
	int rc = ds_swap_begin(db, "BEGIN", x->o->lock_timeout_ms, statement_ms, err);

	if (rc < 0)
		return -1;
	rc = exchange_in_transaction(db, x, plan, audit, &locked_at, err);
	rc = ds_db_end(db, rc, err);
	*lock_ms = now_ms() - locked_at;
	return rc;
}

/* Cancel the blockers' statements; end the sessions idle in a transaction. */
static int cancel_blockers(struct ds_db *db, json_t *who, struct ds_error *err)
{
	char *pids = json_dumps(who, JSON_COMPACT);
	const char *params[] = { pids };
	PGresult *res = ds_sql_query(db, DS_SQL_SWAP_CANCEL_BLOCKERS, 1, params, err);

	free(pids);
	if (!res)
		return -1;
	PQclear(res);
	return 0;
}

/* "pid 42 (alice, idle in transaction, 3.1s): SELECT ..." for each blocker. */
static char *blockers_text(json_t *who)
{
	struct ds_buf b = DS_BUF_INIT;
	json_t *w;
	size_t i;

	json_array_foreach(who, i, w)
	{
		const char *waits = json_string_value(json_object_get(w, "waits_for"));

		ds_buf_addf(&b, "%spid %" JSON_INTEGER_FORMAT " (%s, %s, %ss%s%s): %s",
			    i ? "; " : "", json_integer_value(json_object_get(w, "pid")),
			    json_string_value(json_object_get(w, "user")),
			    json_string_value(json_object_get(w, "state")),
			    json_string_value(json_object_get(w, "age_s")),
			    waits ? ", waiting for pid " : "", waits ? waits : "",
			    json_string_value(json_object_get(w, "query")));
	}
	if (!i)
		ds_buf_addf(&b, "no session was seen blocking it");
	return ds_buf_take(&b);
}

/* The pause before the next attempt: doubling from the lock timeout, with jitter. */
static long backoff_ms(long lock_timeout_ms, int attempts)
{
	long base = lock_timeout_ms << (attempts < 5 ? attempts - 1 : 4);

	if (base > 2000)
		base = 2000;
	return (long)((double)base * (0.5 + (double)random() / RAND_MAX));
}

/*
 * One attempt, each of its steps bounded by the lock timeout: copy what the incoming
 * table lacks (until that has succeeded once), read the plan, exchange. On success the
 * report gets the plan and how long the lock was held.
 */
static int attempt(struct ds_db *db, struct exchange *x, int *prepared, long statement_ms,
		   struct ds_audit *audit, json_t *report, struct ds_error *err)
{
	json_t *plan;
	double lock_ms = 0;

	if (!*prepared && prepare_incoming(db, x, err) < 0)
		return -1;
	*prepared = 1;
	plan = ds_swap_plan(db, x->prod_oid, x->incoming_oid, x->o->lock_timeout_ms, err);
	if (!plan)
		return -1;
	if (locked_exchange(db, x, plan, statement_ms, audit, &lock_ms, err) < 0) {
		json_decref(plan);
		return -1;
	}
	json_object_set_new(report, "plan", plan);
	json_object_set_new(report, "lock_ms", json_real((double)(long)(lock_ms * 10 + 0.5) / 10));
	return 0;
}

static void note(const struct ds_swap_opts *o, const char *msg)
{
	if (o->progress)
		o->progress(o->progress_ctx, msg);
}

/*
 * Try the exchange until it commits or the deadline passes. A failure other than a
 * lock timeout (or a deadlock) is not retried: the transaction rolled back and T is as
 * it was. The blockers of each attempt are those the watch saw while it waited.
 */
static int retry_exchange(struct ds_db *db, struct exchange *x, struct ds_lockwatch *watch,
			  struct ds_audit *audit, json_t *report, struct ds_error *err)
{
	double start = now_ms(), deadline = start + (double)x->o->deadline_ms;
	json_t *seen = json_array();
	int attempts = 0, prepared = 0, rc;

	json_object_set_new(report, "blockers", seen);
	srandom((unsigned)(getpid() ^ (long)start));
	for (;;) {
		long remaining = (long)(deadline - now_ms()), pause;
		int was_prepared = prepared;
		char *text, *msg;
		json_t *who;

		attempts++;
		json_decref(ds_lockwatch_take(watch)); /* only who blocks this attempt */
		rc = attempt(db, x, &prepared, remaining > 1000 ? remaining : 1000, audit, report,
			     err);
		/* The deadline bounds the waits for the lock, not building what comes before. */
		if (prepared && !was_prepared) {
			start = now_ms();
			deadline = start + (double)x->o->deadline_ms;
		}
		json_object_set_new(report, "attempts", json_integer(attempts));
		if (rc == 0)
			return 0;
		if (strcmp(err->sqlstate, "55P03") && strcmp(err->sqlstate, "40P01"))
			return -1;
		who = ds_lockwatch_take(watch);
		text = blockers_text(who);
		json_array_extend(seen, who);
		if (x->o->cancel_blockers && cancel_blockers(db, who, err) < 0) {
			json_decref(who);
			free(text);
			return -1;
		}
		json_decref(who);
		pause = backoff_ms(x->o->lock_timeout_ms, attempts);
		if (now_ms() + (double)pause >= deadline || ds_db_interrupted()) {
			ds_error_set(err, DS_ERR_FAILED,
				     "could not lock %s within %.1fs (%d attempts, %ldms each); "
				     "%s is unchanged\nblocked by: %s",
				     x->sw->qtable, (now_ms() - start) / 1000.0, attempts,
				     x->o->lock_timeout_ms, x->sw->qtable, text);
			ds_error_hint(err, "run it again when they are done, give a longer "
					   "--deadline, or --cancel-blockers");
			free(text);
			return -1;
		}
		msg = ds_xprintf("lock on %s not granted within %ldms (attempt %d), blocked by %s; "
				 "%sretrying in %ldms",
				 x->sw->qtable, x->o->lock_timeout_ms, attempts, text,
				 x->o->cancel_blockers ? "cancelled them; " : "", pause);
		note(x->o, msg);
		free(msg);
		free(text);
		usleep((useconds_t)pause * 1000);
	}
}

static int exchange_with_retries(struct ds_db *db, struct exchange *x, struct ds_audit *audit,
				 json_t *report, struct ds_error *err)
{
	long interval = x->o->lock_timeout_ms / 4 < 5 ? 5 : x->o->lock_timeout_ms / 4;
	struct ds_lockwatch *watch = ds_lockwatch_start(db, interval > 50 ? 50 : interval, err);
	int rc;

	if (!watch)
		return -1;
	rc = retry_exchange(db, x, watch, audit, report, err);
	ds_lockwatch_stop(watch);
	return rc;
}

/* Failed checks that nobody accepted stop a swap. */
static int require_checks(struct ds_db *db, struct ds_swap *sw, struct ds_error *err)
{
	PGresult *res = ds_swap_query(db, sw, DS_SQL_SWAP_JOURNAL_BLOCKING_CHECKS, 0, NULL, err);
	int rc = 0;

	if (!res)
		return -1;
	if (PQgetvalue(res, 0, 0)[0] == 't') {
		ds_error_set(err, DS_ERR_FAILED, "%s has not been checked", sw->qshadow);
		rc = ds_error_hint(err, "run 'swap-table check %s' first", sw->qtable);
	} else if (!PQgetisnull(res, 0, 1)) {
		ds_error_set(err, DS_ERR_FAILED, "failed checks block the swap: %s",
			     PQgetvalue(res, 0, 1));
		rc = ds_error_hint(err,
				   "fix %s and check again, or accept a check with "
				   "'swap-table check %s --accept CHECK --reason TEXT'",
				   sw->qshadow, sw->qtable);
	}
	PQclear(res);
	return rc;
}

/* Whether the swap is already where the command would take it, or cannot go there. */
static int exchange_state(struct ds_swap *sw, int rollback, int *done, struct ds_error *err)
{
	const char *target = rollback ? "rolled back" : "swapped";

	*done = !strcmp(sw->state, target);
	if (*done)
		return 0;
	if (rollback && strcmp(sw->state, "swapped")) {
		ds_error_set(err, DS_ERR_FAILED,
			     "swap %lld of %s is %s: there is nothing to roll "
			     "back",
			     sw->id, sw->qtable, sw->state);
		return ds_error_hint(err, "'swap-table finish %s' drops %s", sw->qtable,
				     sw->qshadow);
	}
	return 0;
}

json_t *ds_swap_exchange(struct ds_swap *sw, int rollback, const struct ds_swap_opts *o,
			 struct ds_audit *audit, struct ds_error *err)
{
	struct exchange x = { .sw = sw, .rollback = rollback, .o = o };
	struct ds_db *db = sw->db;
	json_t *report;
	int done;

	if (sw->v2) {
		ds_error_set(err, DS_ERR_FAILED,
			     "swap %lld of %s is in mode v2: there is nothing "
			     "to %s",
			     sw->id, sw->qtable, rollback ? "roll back" : "swap");
		return ds_error_hint(err,
				     "move the readers to %s, then 'swap-table finish' "
				     "retires %s",
				     sw->qshadow, sw->qtable),
		       NULL;
	}
	x.incoming_q = rollback ? sw->qold : sw->qshadow;
	x.incoming_name = rollback ? sw->old : sw->shadow;
	x.retire_name = rollback ? sw->shadow : sw->old;
	if (exchange_state(sw, rollback, &done, err) < 0)
		return NULL;
	/* Already there (a killed shell, or run twice): finish what the commit left. */
	if (done) {
		if (!o->dry_run && (ds_swap_run_pending(db, sw, err) < 0 ||
				    ds_swap_forward(sw, NULL, NULL, err) < 0))
			return NULL;
		return json_pack("{s:I, s:s, s:b}", "swap", (json_int_t)sw->id, "state", sw->state,
				 "already", 1);
	}
	if (!rollback && require_checks(db, sw, err) < 0)
		return NULL;
	if (table_oids(db, &x, err) < 0)
		return NULL;
	report = json_pack("{s:I, s:s, s:b}", "swap", (json_int_t)sw->id, "state",
			   rollback ? "rolled back" : "swapped", "dry_run", o->dry_run);
	if (o->dry_run) {
		json_t *plan = ds_swap_plan(db, x.prod_oid, x.incoming_oid, 0, err);

		if (!plan) {
			json_decref(report);
			return NULL;
		}
		PGresult *lost = lost_writes(db, sw, err);

		if (!lost) {
			json_decref(plan);
			json_decref(report);
			return NULL;
		}
		json_object_set_new(report, "state", json_string(sw->state));
		json_object_set_new(report, "plan", plan);
		json_object_set_new(report, "foreign_writes", lost_writes_json(lost));
		PQclear(lost);
		return report;
	}
	if (exchange_statements(db, &x, err) < 0 ||
	    exchange_with_retries(db, &x, audit, report, err) < 0) {
		exchange_release(&x);
		json_decref(report);
		return NULL;
	}
	exchange_release(&x);
	{
		char *lock =
			ds_xprintf("%.1f", json_real_value(json_object_get(report, "lock_ms")));
		const char *extra[] = { lock };

		PQclear(ds_swap_query(db, sw, DS_SQL_SWAP_JOURNAL_LOCK_MS, 1, extra, err));
		free(lock);
	}
	/* On a connection the journal follows the warehouse's copy, with the audit row. */
	if (ds_swap_run_pending(db, sw, err) < 0 || ds_swap_forward(sw, NULL, audit, err) < 0) {
		json_decref(report);
		return NULL;
	}
	return report;
}

/*
 * What keeps a table of the swap's database from being dropped, one per line ("" for
 * nothing): what depends on it (views, foreign keys, functions), read there, and, with
 * writers, the current tasks that write T (the journal's tasks of T's database).
 */
static char *still_used(struct ds_swap *sw, const char *table_q, int writers, struct ds_error *err)
{
	const char *params[] = { table_q };
	PGresult *deps = ds_sql_query(sw->db, DS_SQL_SWAP_STILL_USED, 1, params, err), *tasks;
	struct ds_buf b = DS_BUF_INIT;

	if (!deps)
		return NULL;
	tasks = writers ? ds_swap_query(sw->journal, sw, DS_SQL_SWAP_STILL_WRITTEN, 0, NULL, err)
			: NULL;
	if (writers && !tasks) {
		PQclear(deps);
		return NULL;
	}
	ds_buf_addf(&b, "%s", PQgetvalue(deps, 0, 0));
	if (tasks && !PQgetisnull(tasks, 0, 0))
		ds_buf_addf(&b, "%s%s", b.len ? "\n" : "", PQgetvalue(tasks, 0, 0));
	PQclear(deps);
	PQclear(tasks);
	return ds_buf_take(&b);
}

/*
 * Mode v2: the sequences T owns that T_v2's defaults draw from (T_v2 was made like T)
 * become T_v2's, so that dropping T keeps them.
 */
static int hand_over_sequences(struct ds_db *db, struct ds_swap *sw, struct ds_error *err)
{
	const char *params[] = { sw->qtable, sw->qshadow };
	PGresult *res = ds_sql_query(db, DS_SQL_SWAP_HAND_OVER_SEQUENCES, 2, params, err);

	return ds_db_exec_rows(db, res, err);
}

/* Mode v2: T is retired only for a T_v2 that exists and passed its checks. */
static int require_successor(struct ds_db *db, struct ds_swap *sw, struct ds_error *err)
{
	const char *params[] = { sw->qshadow, sw->qtable };
	PGresult *res = ds_sql_query(db, DS_SQL_SWAP_TABLE_OIDS, 2, params, err);
	int missing;

	if (!res)
		return -1;
	missing = PQgetisnull(res, 0, 0);
	PQclear(res);
	if (missing) {
		ds_error_set(err, DS_ERR_FAILED,
			     "%s does not exist: retiring %s would leave no "
			     "table",
			     sw->qshadow, sw->qtable);
		return ds_error_hint(err, "'swap-table status' says where the swap stands");
	}
	return require_checks(db, sw, err);
}

/*
 * finish --keep: record how long T_old is kept after the swap (with dry_run, only work it
 * out). Nothing is dropped: a later finish drops T_old once that time has passed.
 */
static json_t *keep_retired(struct ds_swap *sw, long keep_s, int dry_run, struct ds_error *err)
{
	char keep[32];
	const char *extra[] = { keep };
	PGresult *res;
	json_t *out;

	snprintf(keep, sizeof(keep), "%ld", keep_s);
	res = ds_swap_query(sw->db, sw,
			    dry_run ? DS_SQL_SWAP_JOURNAL_KEEP_PREVIEW : DS_SQL_SWAP_JOURNAL_KEEP,
			    1, extra, err);
	if (!res || (!dry_run && ds_swap_forward(sw, NULL, NULL, err) < 0)) {
		PQclear(res);
		return NULL;
	}
	out = json_pack("{s:I, s:s, s:s, s:s, s:b}", "swap", (json_int_t)sw->id, "kept", sw->qold,
			"keep_until", PQgetvalue(res, 0, 0), "state", sw->state, "dry_run",
			dry_run);
	PQclear(res);
	return out;
}

/* finish without --keep: T_old is dropped only once the time finish --keep set has passed. */
static int require_retention_passed(struct ds_db *db, struct ds_swap *sw, struct ds_error *err)
{
	PGresult *res = ds_swap_query(db, sw, DS_SQL_SWAP_JOURNAL_KEPT, 0, NULL, err);
	int rc = res ? 0 : -1;

	if (res && PQntuples(res) == 1) {
		ds_error_set(err, DS_ERR_FAILED,
			     "%s is kept until %s (finish --keep); nothing was "
			     "dropped",
			     sw->qold, PQgetvalue(res, 0, 0));
		rc = ds_error_hint(err,
				   "finish again after that; 'swap-table finish %s --keep 1s' "
				   "shortens the retention",
				   sw->qtable);
	}
	PQclear(res);
	return rc;
}

/*
 * Drop the table the swap retires (drop_name in T's schema, drop_q quoted) and end the
 * swap; abandoned (runs not NULL): T stays as it was, T keeps its sequences, and the runs
 * of backfill --into backfill are cancelled with the swap (runs counts them), so that
 * none recreates the table (on a connection, in the journal's transaction after this
 * one: ds_swap_commit).
 */
static int end_in_transaction(struct ds_swap *sw, const char *drop_name, const char *drop_q,
			      struct ds_cancel_report *runs, struct ds_audit *audit,
			      struct ds_error *err)
{
	const char *params[] = { sw->schema, drop_name };
	struct ds_db *db = sw->db;
	PGresult *res;
	json_t *touched;
	int rc = sw->v2 && !runs ? hand_over_sequences(db, sw, err) : 0;

	if (rc == 0 && runs && !sw->connection)
		rc = ds_cancel_swap_runs(db, sw->id, runs, err);
	if (rc == 0)
		rc = ds_db_exec_rows(db, ds_sql_query(db, DS_SQL_SWAP_DROP_TABLE, 2, params, err),
				     err);
	/* The write log goes with the swap: the dropped table's with it, T's here. */
	if (rc == 0)
		rc = ds_db_exec_rows(
			db, ds_swap_query(db, sw, DS_SQL_SWAP_WRITE_LOG_DROP, 0, NULL, err), err);
	if (rc < 0)
		return -1;
	res = ds_swap_query(db, sw,
			    runs ? DS_SQL_SWAP_JOURNAL_ABANDONED : DS_SQL_SWAP_JOURNAL_FINISHED, 0,
			    NULL, err);
	if (!res)
		return -1;
	PQclear(res);
	touched = json_pack("{s:I, s:s}", "swap", (json_int_t)sw->id, "dropped", drop_q);
	if (runs)
		json_object_set_new(touched, "runs", ds_swap_runs_json(runs));
	ds_audit_touch(audit, touched);
	/* So do the records of the swap's tables: none is left for a table dropped. */
	return ds_swap_record(sw, "end", "{}", audit, err);
}

/* abandon --dry-run: the runs abandon would cancel, counted in a transaction rolled back. */
static int count_swap_runs(struct ds_db *db, struct ds_swap *sw, struct ds_cancel_report *runs,
			   struct ds_error *err)
{
	int rc;

	if (ds_db_exec(db, "BEGIN", err) < 0)
		return -1;
	rc = ds_cancel_swap_runs(db, sw->id, runs, err);
	ds_db_rollback(db);
	return rc;
}

/*
 * Drop drop_name (in T's schema; drop_q quoted) unless something still uses it (then
 * nothing changes and err lists what), and end the swap. Returns the report (caller
 * frees) or NULL.
 */
static json_t *drop_and_end(struct ds_swap *sw, const char *drop_name, const char *drop_q,
			    int abandoned, int dry_run, struct ds_audit *audit,
			    struct ds_error *err)
{
	/* In mode v2 finish drops T itself, which its tasks must no longer write. */
	char *deps = still_used(sw, drop_q, sw->v2 && !abandoned, err);
	struct ds_cancel_report runs = { 0, 0 };
	json_t *report;

	if (!deps)
		return NULL;
	if (deps[0]) {
		ds_error_set(err, DS_ERR_FAILED, "%s is still used, nothing was dropped:\n%s",
			     drop_q, deps);
		if (abandoned)
			ds_error_hint(err,
				      "point these back at %s (or drop them), then abandon "
				      "again",
				      sw->qtable);
		else
			ds_error_hint(err,
				      "point these at %s (or drop them; a task: its target, "
				      "then 'pipeline load'), then finish again",
				      sw->v2 ? sw->qshadow : sw->qtable);
		free(deps);
		return NULL;
	}
	free(deps);
	if (!dry_run &&
	    (ds_db_exec(sw->db, "BEGIN", err) < 0 ||
	     ds_swap_commit(sw,
			    end_in_transaction(sw, drop_name, drop_q, abandoned ? &runs : NULL,
					       audit, err),
			    abandoned && sw->connection ? &runs : NULL, audit, err) < 0))
		return NULL;
	if (dry_run && abandoned && count_swap_runs(sw->journal, sw, &runs, err) < 0)
		return NULL;
	report = json_pack("{s:I, s:s, s:s, s:b}", "swap", (json_int_t)sw->id, "dropped", drop_q,
			   "state",
			   dry_run     ? sw->state
			   : abandoned ? "abandoned"
				       : "finished",
			   "dry_run", dry_run);
	if (abandoned)
		json_object_set_new(report, "runs", ds_swap_runs_json(&runs));
	return report;
}

json_t *ds_swap_finish(struct ds_swap *sw, long keep_s, int dry_run, struct ds_audit *audit,
		       struct ds_error *err)
{
	struct ds_db *db = sw->db;
	int swapped = !strcmp(sw->state, "swapped");
	const char *drop_q = sw->v2 ? sw->qtable : swapped ? sw->qold : sw->qshadow;
	const char *drop_name = sw->v2 ? sw->table : swapped ? sw->old : sw->shadow;

	if (keep_s > 0 && !swapped) {
		ds_error_set(err, DS_ERR_USAGE,
			     "--keep keeps the old table after a swap; swap "
			     "%lld of %s is %s%s",
			     sw->id, sw->qtable, sw->v2 ? "in mode v2, " : "", sw->state);
		return ds_error_hint(err, "run finish without --keep"), NULL;
	}
	/* Before any swap, finishing would throw the rebuild away: that is abandon. */
	if (!sw->v2 && (!strcmp(sw->state, "started") || !strcmp(sw->state, "checked"))) {
		ds_error_set(err, DS_ERR_FAILED,
			     "swap %lld of %s is %s, not swapped: there is "
			     "nothing to finish",
			     sw->id, sw->qtable, sw->state);
		return ds_error_hint(err,
				     "'swap-table swap %s' first; or 'swap-table abandon "
				     "%s' drops %s and ends the swap",
				     sw->qtable, sw->qtable, sw->qshadow),
		       NULL;
	}
	if (sw->v2 && require_successor(db, sw, err) < 0)
		return NULL;
	if (ds_swap_run_pending(db, sw, err) < 0)
		return NULL;
	if (keep_s > 0)
		return keep_retired(sw, keep_s, dry_run, err);
	if (swapped && require_retention_passed(db, sw, err) < 0)
		return NULL;
	return drop_and_end(sw, drop_name, drop_q, 0, dry_run, audit, err);
}

json_t *ds_swap_abandon(struct ds_swap *sw, int dry_run, struct ds_audit *audit,
			struct ds_error *err)
{
	if (!sw->v2 && !strcmp(sw->state, "swapped")) {
		ds_error_set(err, DS_ERR_FAILED,
			     "swap %lld of %s is swapped: the rebuilt table is "
			     "%s now",
			     sw->id, sw->qtable, sw->qtable);
		return ds_error_hint(err,
				     "'swap-table rollback %s' first, then abandon; or "
				     "'swap-table finish %s' keeps it",
				     sw->qtable, sw->qtable),
		       NULL;
	}
	if (ds_swap_run_pending(sw->db, sw, err) < 0)
		return NULL;
	return drop_and_end(sw, sw->shadow, sw->qshadow, 1, dry_run, audit, err);
}
