/*
 * metrics.h: the figures a monitoring system scrapes, as data and as the Prometheus text
 * exposition format (what `metrics` prints and `worker --metrics-file` writes).
 */
#ifndef DS_METRICS_H
#define DS_METRICS_H

#include <jansson.h>

#include "db.h"

/*
 * The figures, read in one statement: {runs: [{graph, task, state, count}], queue:
 * [{graph, queued, ready, oldest_ready_age_seconds}], run_durations: [{graph, count,
 * sum_seconds, buckets: [{le, count}]}], breakers: [{graph, task, state, manual,
 * opened_at}], alerts: [{kind, state, count}], workers: [{worker, host, pid, graph,
 * concurrency, started_at, heartbeat_at, heartbeat_timestamp_seconds}]}. Caller frees
 * with json_decref; NULL with err filled on failure.
 */
json_t *ds_metrics(struct ds_db *db, struct ds_error *err);

/* The figures of ds_metrics() in the text exposition format. Caller frees. */
char *ds_metrics_text(const json_t *metrics);

/*
 * Write the text of metrics to path atomically: to path.tmp.PID first, then renamed
 * over path, so that a reader never sees half a file. Returns -1 with err filled.
 */
int ds_metrics_write_file(const json_t *metrics, const char *path, struct ds_error *err);

#endif
