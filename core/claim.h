/*
 * claim.h: the run queue as the worker sees it: claiming ready runs, renewing leases,
 * recording outcomes and telling whether anything is left to wait for. All of it is
 * SQL on the worker's control connection (the session's), as prepared statements.
 */
#ifndef DS_CLAIM_H
#define DS_CLAIM_H

#include "db.h"
#include "errclass.h"

/* A claimed run and the task it is for. Freed with ds_run_free(). */
struct ds_run {
	long long id;
	int attempt;   /* counts claims, this one included */
	int timeout_s; /* 0: no timeout */
	char *task, *graph, *kind, *key;
	char *sql, *command; /* exactly one is set */
	char *target;	     /* NULL when the task has none */
	char *also_target;   /* the incoming table of a swap of target (T_backfill,
			      * or T_v2 in mode v2): the run writes it too (the SQL
			      * body again in the same transaction, the command a
			      * second time), and its checks and complete_when look
			      * at it too; or NULL */
	char *also_pass;     /* DS_TARGET_PASS of that second pass: backfill, v2 */
	char *checks;	     /* the jsonb array of {name, sql}, as text */
	char *complete_when; /* NULL when the task has none */
	char *error_classes; /* the task's error class rules, a JSON array, or NULL */
	char *connection;    /* the named connection its SQL runs on; NULL: the state
			      * database, where its success commits with its work */
	char *conninfo;	     /* that connection's string; NULL if it is not declared */
	double started;	     /* monotonic clock when the worker began it */
};

void ds_run_free(struct ds_run *run);

/* How a run ended, as the worker records it. */
enum ds_outcome {
	DS_OUT_SUCCESS,	     /* a command task succeeded (SQL tasks record their own) */
	DS_OUT_FAILED,	     /* retried if attempts are left */
	DS_OUT_FAILED_FINAL, /* failed and retrying cannot help (the SQL does not expand) */
	DS_OUT_BLOCKED,	     /* a check failed */
	DS_OUT_CANCELLED,    /* cancel was requested */
	DS_OUT_REQUEUE,	     /* the worker stopped it: back to the queue as it was */
	DS_OUT_LOST,	     /* the lease was lost: nothing to record, it is not ours */
	DS_OUT_UNREACHABLE,  /* its named connection refused it: it waits for the
			      * connection (definitions/52-connections.sql) */
};

struct ds_queue {
	struct ds_db *db;
	char *worker;	   /* this worker's name */
	const char *graph; /* scope, or NULL */
	int lease_s;
	int prepared; /* the statements are prepared on db */

	/* A claim in flight: statements sent, statements answered, what came back. */
	int claiming, nsent, nseen;
	PGresult *claimed, *failed;

	/*
	 * Where the next claim's scan starts: the queue position (priority, ord, id) of the
	 * first run the last claim took, when the next may skip what lies before it
	 * (queue/claim.sql says when); bound[0] == '\0': at the head. want is how many runs
	 * the claim in flight, or the last one, asked for, and bounded whether it started
	 * at a bound. A rescan (epoch) while a claim is in flight keeps that claim from
	 * setting the bound.
	 */
	char bound[3][24];
	int bounded, want;
	unsigned epoch, sent_epoch;
};

/* Prepare the queue's statements on db. Release with ds_queue_release(). */
int ds_queue_init(struct ds_queue *q, struct ds_db *db, const char *worker, const char *graph,
		  int lease_s, struct ds_error *err);
void ds_queue_release(struct ds_queue *q);

/* Add the worker to the workers table, and mark it stopped at the end. */
int ds_queue_register(struct ds_queue *q, const char *host, int pid, int concurrency,
		      struct ds_error *err);
int ds_queue_unregister(struct ds_queue *q, struct ds_error *err);

/* What a claim does first, now and then: the queue's housekeeping. */
enum ds_claim_chores {
	DS_CHORE_REAP = 1 << 0, /* expired leases back to the queue (alerting), breaker probes */
	DS_CHORE_SLA = 1 << 1,	/* alerts for SLA deadlines passed */
};

/*
 * Claim up to max ready runs, in queue order, within every graph's max_active, after
 * the chores asked for, in two halves, so that the worker can step its runs while the
 * claim is on its way: send it, then collect the answer (the runs in *runs; the caller
 * frees each with ds_run_free and the array with free). Collecting without block reads only what
 * has arrived (poll PQsocket for more) and sets *done once the runs are there. While
 * q->claiming, db can run nothing else.
 */
int ds_queue_claim_send(struct ds_queue *q, int max, unsigned chores, struct ds_error *err);
int ds_queue_claim_collect(struct ds_queue *q, int block, struct ds_run ***runs, int *nruns,
			   int *done, struct ds_error *err);

/*
 * The next claim scans the queue from its head, not from where the last one began:
 * runs may have become ready before that point (the worker was notified), or may have
 * become ready there without a notification (now and then).
 */
void ds_queue_rescan(struct ds_queue *q);

/*
 * Extend the leases of the runs in hand (ids) and the worker's heartbeat. For each id,
 * held[i] says whether the worker still holds the run and cancel[i] whether cancel
 * was requested.
 */
int ds_queue_renew(struct ds_queue *q, const long long *ids, int n, int *held, int *cancel,
		   struct ds_error *err);

/*
 * Record how a run ended. A failure's error (and sqlstate, for SQL; may be NULL) is
 * classified (see errclass.h): the class decides whether it is retried, and counts
 * for the task's breaker; *verdict (may be NULL) says what it was. *state is the state
 * the run ended in ("failed" may become "queued" for a retry, any failure "cancelled"
 * if cancel was requested meanwhile; NULL when the run was no longer ours: the lease
 * was lost) and *retry_in the seconds until a retry may start.
 */
int ds_queue_finish(struct ds_queue *q, const struct ds_run *run, enum ds_outcome outcome,
		    const char *error, const char *sqlstate, const char *output, const char **state,
		    double *retry_in, struct ds_error_verdict *verdict, struct ds_error *err);

/*
 * Keep output (a SQL run's notices) with run, whose success committed with its work;
 * nothing if the run is no longer this attempt's success.
 */
int ds_queue_keep_output(struct ds_queue *q, const struct ds_run *run, const char *output,
			 struct ds_error *err);

/*
 * Whether anything in scope may still become runnable: a run is running, or a queued
 * run waits only for time or for upstream runs that may still succeed. Queued runs
 * whose upstream failed or was never queued do not count.
 */
int ds_queue_pending(struct ds_queue *q, int *pending, struct ds_error *err);

/*
 * What a slot's connection runs once it connects: asynchronous commits, and the
 * definition of the function that marks a run succeeded within the task's own
 * transaction (core/sql/queue/create_succeed_function.sql); caller frees. The
 * function raises SQLSTATE DS_LEASE_LOST if the run is no longer this worker's.
 */
char *ds_queue_success_function(const struct ds_queue *q);

/* The call of that function for run, to end its transaction with. Caller frees. */
char *ds_queue_success_sql(const struct ds_queue *q, const struct ds_run *run);

/* Raised by the success function; its SQL spells it out too. */
#define DS_LEASE_LOST "DSL01"

#endif
