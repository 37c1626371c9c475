/* report.h: what status shows about tasks and batches, as data. */
#ifndef DS_REPORT_H
#define DS_REPORT_H

#include <jansson.h>

#include "runs.h"

/*
 * One batch: its origin and its runs by state, plus "not_succeeded": at most limit
 * (DS_EVERY_ROW: all) of its runs that did not succeed, with their errors, and for
 * those that wait why (their root cause), and "not_succeeded_total", how many there
 * are. NULL with err set for an unknown batch.
 */
#define DS_BATCH_RUNS_SHOWN 100 /* the runs of a batch status lists; it counts them all */
json_t *ds_batch_status(struct ds_db *db, long long batch, int limit, struct ds_error *err);

/*
 * Whether batch can still progress: {live_workers (alive as worker_live() says, their
 * scope one of its unfinished runs' graphs), movable (its
 * unfinished runs that are running or could be claimed some day), stuck: [{task, key,
 * why}] (held behind a breaker, in a paused graph, behind a failed upstream)}. Caller
 * frees; NULL with err set.
 */
json_t *ds_batch_progress(struct ds_db *db, long long batch, struct ds_error *err);

/*
 * The runs a drained worker of graph (NULL: every graph) leaves queued or held, at most
 * limit of them: [{task, key, state, why, total}], total counting them all. Caller
 * frees; NULL with err set.
 */
json_t *ds_runs_left_stuck(struct ds_db *db, const char *graph, int limit, struct ds_error *err);

/*
 * The keys that are stuck (only a person can move them: definitions/55-stuck.sql), of
 * req's tasks over its range, or with req NULL of every task: {total, keys: [{task, key,
 * state, cause, root_cause, action}]}, at most limit keys (DS_EVERY_ROW: all), by task
 * and key. Caller frees; NULL with err set.
 */
#define DS_STUCK_SHOWN 20 /* the stuck keys status shows; it counts them all */
json_t *ds_stuck_keys(struct ds_db *db, const struct ds_run_request *req, int limit,
		      struct ds_error *err);

/* Whether a batch's runs have all finished (none queued, running or held). */
int ds_batch_finished(json_t *status);

/*
 * The state of the latest run of every selected task for every key of the range:
 * {tasks: [{task, graph, key_kind, strip, success, failed, ..., missing, not_due, late,
 * stale, states: {key: state, null (missing) or "not_due"}, late_keys, stale_keys}],
 * failures: [{task, key, state, attempt, finished_at, error}]}. The strip holds one mark
 * per key, as the legend of status says; a stale key (complete, built by an older
 * version) counts in success and in stale, and is marked '~'. With only_failed, tasks
 * with no failed or blocked key in the range are left out. The keys are production's,
 * or with req->into_backfill those of the T_backfill of each task's target (the caller
 * checked there is one: ds_run_request_check_into).
 *
 * Over a range of days that covers hours (req->range.whole_days), an hourly task's
 * strip has one mark per day, its worst hour's, and the task has days: {day: {state,
 * done, hours}} (state the worst hour's, done the hours complete); its counts, states
 * and failures stay per hour. The calendar then has day_rule, the order of the marks
 * from worst, for the legend.
 */
json_t *ds_calendar(struct ds_db *db, const struct ds_run_request *req, int only_failed,
		    struct ds_error *err);

#endif
