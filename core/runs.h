/*
 * runs.h: planning, enqueueing and cancelling runs, set-based: a year of backfill for a
 * thousand tasks is one INSERT ... SELECT, not a statement per key.
 */
#ifndef DS_RUNS_H
#define DS_RUNS_H

#include <jansson.h>

#include "audit.h"
#include "db.h"
#include "key.h"
#include "taskset.h"

/* Which runs a backfill or force-run asks for. */
struct ds_run_request {
	int *task_ids; /* owned: free with ds_run_request_release() */
	int ntasks;
	struct ds_range range; /* tasks of kind none take the key '' whatever it says */
	int rerun;	       /* enqueue keys that are already complete */
	int only_failed;       /* enqueue only keys whose latest run failed or was blocked */
	int only_stale;	       /* enqueue only complete keys built by an older version */
	int reverse;	       /* newest keys first */
	int ignore_deps;       /* run without waiting for upstreams */
	int priority;
	int into_backfill; /* runs write TARGET_backfill, the shadow of a table swap */
	int max_active;	   /* at most this many of the batch's runs at once; 0: no cap */
};

/*
 * Fill req->task_ids from the selected tasks, checking that the range suits each
 * task's kind of key (an hourly task wants hours, a daily one dates).
 */
int ds_run_request_init(struct ds_run_request *req, const struct ds_taskset *ts,
			const char *selected, const struct ds_range *range, struct ds_error *err);
void ds_run_request_release(struct ds_run_request *req);

/* The task ids as a PostgreSQL array literal, {1,2,3}, for a parameter. Caller frees. */
char *ds_run_request_ids(const struct ds_run_request *req);

/*
 * With into_backfill, every task must have a target, or its runs would write where
 * they always do: an error names those without.
 */
int ds_run_request_check_into(struct ds_db *db, const struct ds_run_request *req,
			      struct ds_error *err);

/*
 * The plan, per task, in one round trip: [{task, keys, enqueue, complete, stale, active,
 * failed, not_due}] sorted by task; stale counts the complete keys built by an older
 * version of the task (core/sql/definitions/22-versions.sql). Keys that are not due yet by the
 * server's clock are cut, per task, from the end of the range and counted in not_due; *not_due gets
 * the tasks with keys cut, [{task, keys, from, due_at}] (from: the first key cut, due_at: when it
 * becomes due), an empty array when there are none. When not one key of the range is due for any
 * task, NULL with err (DS_ERR_FAILED) saying when each becomes due. Caller frees both with
 * json_decref.
 */
json_t *ds_plan(struct ds_db *db, const struct ds_run_request *req, json_t **not_due,
		struct ds_error *err);

/*
 * Put the tasks with keys cut (ds_plan's *not_due, consumed) into a command's result
 * as "not_due", when there are any: the plan's Not due section.
 */
void ds_plan_add_not_due(json_t *data, json_t *not_due);

/*
 * Enqueue the plan as one batch in one transaction. A run already queued, running or
 * held is never duplicated, even when another shell enqueues the same keys at the same
 * moment. *batch is the new batch's id, *enqueued the runs it holds; when there was
 * nothing to enqueue no batch is made and *batch is 0. The batch records
 * audit->command and req->max_active, and audit what it touched (it is written with
 * the batch).
 */
int ds_enqueue(struct ds_db *db, const struct ds_run_request *req, const char *kind,
	       struct ds_audit *audit, long long *batch, long *enqueued, struct ds_error *err);

/* What cancel did: runs dequeued, and running runs asked to stop. */
struct ds_cancel_report {
	long dequeued;
	long stopping;
};

/*
 * Cancel the runs of one batch not yet finished. An unknown batch is an error. With
 * dry_run the same statements run and are rolled back: rep counts what would be done.
 */
int ds_cancel_batch(struct ds_db *db, long long batch, struct ds_audit *audit, int dry_run,
		    struct ds_cancel_report *rep, struct ds_error *err);

/* Cancel the unfinished runs of some tasks over a range of keys; dry_run as above. */
int ds_cancel_runs(struct ds_db *db, const struct ds_run_request *req, struct ds_audit *audit,
		   int dry_run, struct ds_cancel_report *rep, struct ds_error *err);

/*
 * In the caller's transaction, cancel the runs of backfill --into backfill that write
 * swap's T_backfill (swap-table abandon): those waiting are cancelled, those running
 * are asked to stop.
 */
int ds_cancel_swap_runs(struct ds_db *db, long long swap, struct ds_cancel_report *rep,
			struct ds_error *err);

#endif
