/*
 * wait.c: what --wait does: poll a batch until none of its runs waits or runs. A person
 * at the terminal sees how it goes (runs done out of the total, failures, rate,
 * elapsed time) through s->progress, at most once a second; a script stays quiet.
 * Ctrl-C stops the waiting, not the runs.
 */
#include <stdlib.h>
#include <unistd.h>

#include "../../core/report.h"
#include "../../core/util.h"
#include "../command.h"

#define POLL_MS		 300
#define PROGRESS_EVERY_S 1.0

static json_int_t state_count(json_t *status, const char *state)
{
	return json_integer_value(json_object_get(json_object_get(status, "states"), state));
}

int ds_batch_failures(json_t *status)
{
	return (int)(state_count(status, "failed") + state_count(status, "blocked") +
		     state_count(status, "cancelled"));
}

/* Where the waiting started: the time, and how many runs were done by then. */
struct progress {
	double started, shown;
	json_int_t done_at_start;
};

static json_int_t runs_done(json_t *status)
{
	return json_integer_value(json_object_get(status, "runs")) - state_count(status, "queued") -
	       state_count(status, "running") - state_count(status, "held");
}

/* "batch 42: 30/120 runs done, 2 failed, 1.5 runs/s, 20s elapsed". */
static void show_progress(struct ds_session *s, long long batch, json_t *status, struct progress *p,
			  int last)
{
	double now = ds_monotonic(), elapsed = now - p->started;
	json_int_t done = runs_done(status);
	char *line;

	if (!s->interactive || !s->progress || (!last && now - p->shown < PROGRESS_EVERY_S))
		return;
	p->shown = now;
	line = ds_xprintf("batch %lld: %" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT
			  " runs done, %d failed, %.1f runs/s, %.0fs elapsed",
			  batch, done, json_integer_value(json_object_get(status, "runs")),
			  ds_batch_failures(status),
			  elapsed > 0 ? (double)(done - p->done_at_start) / elapsed : 0.0, elapsed);
	s->progress(s->progress_ctx, line);
	free(line);
}

json_t *ds_wait_batch(struct ds_session *s, long long batch)
{
	struct progress p = { ds_monotonic(), 0, -1 };
	json_t *st;

	for (;;) {
		st = ds_batch_status(&s->db, batch, &s->err);
		if (!st)
			return NULL;
		if (p.done_at_start < 0)
			p.done_at_start = runs_done(st);
		if (ds_batch_finished(st)) {
			show_progress(s, batch, st, &p, 1);
			return st;
		}
		show_progress(s, batch, st, &p, 0);
		json_decref(st);
		if (ds_db_interrupted()) {
			ds_error_set(&s->err, DS_ERR_FAILED, "stopped waiting for batch %lld",
				     batch);
			ds_error_hint(&s->err, "its runs go on; 'status %lld' shows them", batch);
			return NULL;
		}
		usleep(POLL_MS * 1000);
	}
}

int ds_wait_for(struct ds_session *s, long long batch, json_t *data)
{
	json_t *st = ds_wait_batch(s, batch);
	int failures;

	if (!st)
		return -1;
	json_object_set_new(data, "result", st);
	failures = ds_batch_failures(st);
	if (!failures)
		return 0;
	ds_error_set(&s->err, DS_ERR_FAILED, "%d run%s of batch %lld did not succeed", failures,
		     failures == 1 ? "" : "s", batch);
	return ds_error_hint(&s->err, "'status %lld' shows the errors", batch);
}
