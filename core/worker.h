/*
 * worker.h: the worker: claims ready runs from the queue, executes them and records
 * what happened.
 *
 * A worker claims runs with FOR UPDATE SKIP LOCKED and holds a lease on each that it
 * renews while the run goes on; a run whose lease expires (its worker died) goes back
 * to the queue, so a killed worker loses nothing. A SQL task runs in the warehouse (the
 * state database) in one transaction with its 'success': exactly once. A command task
 * runs as /bin/sh -c in its own process group: at least once.
 *
 * Every worker also makes the passes of the schedule (definitions/72-schedule.sql),
 * which enqueue the due keys of scheduled tasks: one when it starts (with drain, one
 * that waits for a pass in progress, and the worker drains only after it), then again
 * when the server says the next key is due, at least every DS_WORKER_SCHEDULE_EVERY
 * seconds (for a pipeline load or a resume), and a second after a pass skipped because
 * another worker's held the lock. A pass runs on a connection of its own, sent without
 * waiting for its answer, so that a long catch-up holds up neither the claims nor the
 * renewal of the leases on the control connection.
 *
 * The worker never prints: it reports what happens through a callback.
 */
#ifndef DS_WORKER_H
#define DS_WORKER_H

#include <signal.h>

#include "db.h"

#define DS_WORKER_MAX_CONCURRENCY 64
#define DS_WORKER_DEFAULT_LEASE	  30
#define DS_WORKER_HOOK_TIMEOUT	  10
#define DS_WORKER_SCHEDULE_EVERY  60

enum ds_worker_event_kind {
	DS_WORKER_STARTED, /* a run was claimed and begins */
	DS_WORKER_SUCCEEDED,
	DS_WORKER_FAILED,	   /* failed for good: no retries left */
	DS_WORKER_RETRYING,	   /* failed, queued again for a later attempt */
	DS_WORKER_WAITING,	   /* its connection refused it: queued again, no retry used */
	DS_WORKER_BLOCKED,	   /* a check failed; not retried */
	DS_WORKER_CANCELLED,	   /* cancel was requested while it ran */
	DS_WORKER_REQUEUED,	   /* the worker was told to stop at once: back to the queue */
	DS_WORKER_LOST,		   /* the lease was lost: another worker holds the run now */
	DS_WORKER_HOOK_SENT,	   /* the alert hook took action on alert alert_id */
	DS_WORKER_HOOK_FAILED,	   /* the alert hook failed to: error says how */
	DS_WORKER_METRICS_FAILED,  /* the metrics file was not written: error says why */
	DS_WORKER_SCHEDULED,	   /* a pass of the schedule enqueued runs: batch_id, tasks */
	DS_WORKER_SCHEDULE_FAILED, /* a pass of the schedule failed: error says why */
	DS_WORKER_DISCONNECTED,	   /* the server was lost: error says how; runs: abandoned */
	DS_WORKER_ABANDONED,	   /* a run in hand when the server was lost */
	DS_WORKER_RECONNECTING,	   /* attempt will be made in retry_in s; error: the last */
	DS_WORKER_RECONNECTED,	   /* after attempt attempts and duration s without server */
	DS_WORKER_STOPPING,	   /* told to stop: the runs in hand (runs) finish first */
};

/* The run's fields are 0 or "" for an event about the worker itself. */
struct ds_worker_event {
	enum ds_worker_event_kind kind;
	long long run_id;   /* the run's id; 0 for events about the worker */
	long long alert_id; /* HOOK_SENT and HOOK_FAILED: the alert's id; 0 otherwise */
	const char *action; /* HOOK_SENT and HOOK_FAILED: trigger, update or resolve */
	const char *task;
	const char *key; /* "" for tasks without a key */
	const char *graph;
	int attempt;		 /* 1 for the first claim; RECONNECT*: of reconnecting */
	double duration;	 /* seconds since the run started; 0 for STARTED */
	const char *error;	 /* why it failed, was blocked or cancelled; NULL otherwise */
	const char *error_class; /* FAILED, RETRYING: the error's class (errclass.h) */
	double retry_in;	 /* RETRYING, WAITING: seconds until the next attempt may start */
	const char *connection;	 /* the named connection the run's SQL runs on, or NULL */
	long long batch_id;	 /* SCHEDULED: the batch the pass enqueued */
	long runs;		 /* SCHEDULED: the runs in it; DISCONNECTED: abandoned;
				    STOPPING: in hand */
	const json_t *tasks;	 /* SCHEDULED: {task: runs}; NULL otherwise */
};

typedef void (*ds_worker_event_fn)(void *ctx, const struct ds_worker_event *ev);

struct ds_worker_opts {
	const char *graph; /* claim only from this graph; NULL for all */
	int concurrency;   /* runs at once, 1 to DS_WORKER_MAX_CONCURRENCY */
	int lease_s;	   /* lease length in seconds; renewed every third of it */
	int drain;	   /* return once nothing in scope can become runnable */
	/*
	 * Set from a signal handler: 1 stops claiming and returns once the runs in hand
	 * are done; 2 or more also stops the runs in hand and gives them back to the
	 * queue. NULL: run until drained (or forever).
	 */
	const volatile sig_atomic_t *stop;
	const char *alert_hook;	     /* hand alerts to this command (hook.h); NULL: none */
	int hook_timeout_s;	     /* kill the hook after this long; 0: DS_WORKER_HOOK_TIMEOUT */
	const char *metrics_file;    /* rewritten with the metrics every few seconds, or NULL */
	int reconnect_timeout_s;     /* give up this long after the server was lost; 0: at once */
	ds_worker_event_fn on_event; /* may be NULL */
	void *ctx;
};

/* What a worker did, counted over its life. */
struct ds_worker_stats {
	char name[128]; /* host:pid:random, as in the workers table */
	long runs;	/* claims */
	long succeeded, failed, retried, blocked, cancelled, requeued, lost, waited;
	long scheduled; /* runs its passes of the schedule enqueued */
};

/*
 * Check that graph names a graph that is not removed; otherwise err says so and
 * suggests the closest name.
 */
int ds_worker_check_graph(struct ds_db *db, const char *graph, struct ds_error *err);

/*
 * Run a worker on db's server and schema until opts->stop is set or, with drain, until
 * nothing in scope can become runnable. Each concurrent run gets a connection of its
 * own with db's connection settings; db itself carries the queue's statements. stats
 * is filled also on failure (what was done before it). Returns -1 with err filled when
 * the worker could not go on.
 *
 * A worker that loses its server rides it out: it abandons the runs in hand (a
 * command's process group is killed: with no lease renewed, another worker may take
 * the run once its lease expires, and two copies must not run at once; a SQL run's
 * transaction died with its connection), so they return to the queue when their leases
 * expire, and it connects again with exponential backoff (RECONNECT_FIRST doubling to
 * RECONNECT_MAX seconds, jittered), then goes on as the same worker. It gives up
 * (kind DS_ERR_CONNECTION, the last error) after opts->reconnect_timeout_s, or at
 * once when that is 0 or a stop was requested.
 */
int ds_worker_run(struct ds_db *db, const struct ds_worker_opts *opts,
		  struct ds_worker_stats *stats, struct ds_error *err);

#endif
