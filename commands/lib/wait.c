/*
 * wait.c: what --wait does: poll a batch until none of its runs waits or runs. A person
 * at the terminal sees how it goes (runs done out of the total, failures, rate,
 * elapsed time) through s->progress, at most once a second; a script stays quiet.
 * Ctrl-C stops the waiting, not the runs. The waiting also stops, and fails, when
 * nothing can progress for a grace period (DATASHELL_WAIT_GRACE seconds, 30 by
 * default): no live worker could run what is left, or all of it is stuck (held behind
 * a breaker, in a paused graph, behind a failed upstream); the error says which runs
 * and why, so that a script is not left waiting forever. A lost server (restarted, or
 * failed over to a standby that a multi-host conninfo also names) is ridden out: the
 * waiting reconnects, once a second, for up to --reconnect-timeout, and goes on.
 */
#include <stdlib.h>
#include <unistd.h>

#include "../../core/report.h"
#include "../../core/util.h"
#include "../command.h"

#define POLL_MS		   300
#define PROGRESS_EVERY_S   1.0
#define GRACE_S		   30.0 /* default of DATASHELL_WAIT_GRACE */
#define STUCK_LISTED	   10	/* stuck runs named in the error; the rest are counted */
#define RECONNECT_EVERY_MS 1000

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

/* The grace period: DATASHELL_WAIT_GRACE, a number of seconds, or GRACE_S. */
static double grace_period(void)
{
	const char *v = getenv("DATASHELL_WAIT_GRACE");
	char *end;
	double g;

	if (!v || !v[0])
		return GRACE_S;
	g = strtod(v, &end);
	return *end || g < 0 ? GRACE_S : g;
}

/*
 * Whether batch can progress; when it has not for longer than the grace period, fill
 * s->err with why and return -1. *moving_at is when it last could.
 */
static int check_progress(struct ds_session *s, long long batch, double *moving_at)
{
	json_t *pr = ds_batch_progress(&s->db, batch, &s->err), *stuck, *run;
	json_int_t live, movable;
	double now = ds_monotonic(), grace = grace_period();
	struct ds_buf b = DS_BUF_INIT;
	size_t i;

	if (!pr)
		return -1;
	live = json_integer_value(json_object_get(pr, "live_workers"));
	movable = json_integer_value(json_object_get(pr, "movable"));
	stuck = json_object_get(pr, "stuck");
	if (live > 0 && movable > 0)
		*moving_at = now;
	if (now - *moving_at < grace) {
		json_decref(pr);
		return 0;
	}
	if (movable > 0) {
		ds_buf_addf(&b,
			    "no live worker for %.0fs: nothing runs the %lld run%s of batch %lld "
			    "left",
			    now - *moving_at, (long long)movable, movable == 1 ? "" : "s", batch);
	} else {
		ds_buf_addf(&b, "nothing can progress: the %zu run%s of batch %lld left %s stuck",
			    json_array_size(stuck), json_array_size(stuck) == 1 ? "" : "s", batch,
			    json_array_size(stuck) == 1 ? "is" : "are");
	}
	json_array_foreach(stuck, i, run)
	{
		const char *key = json_string_value(json_object_get(run, "key"));

		if (i == STUCK_LISTED) {
			ds_buf_addf(&b, "\n  and %zu more", json_array_size(stuck) - i);
			break;
		}
		ds_buf_addf(&b, "\n  %s%s%s: %s: %s",
			    json_string_value(json_object_get(run, "task")),
			    key && key[0] ? " " : "", key ? key : "",
			    json_string_value(json_object_get(run, "state")),
			    json_string_value(json_object_get(run, "why")));
	}
	ds_error_set(&s->err, DS_ERR_FAILED, "%s", b.s);
	free(ds_buf_take(&b));
	json_decref(pr);
	if (movable > 0)
		return ds_error_hint(&s->err,
				     "start one ('datashell -c worker'); the runs stay queued, "
				     "'status %lld' shows them",
				     batch);
	return ds_error_hint(&s->err, "only a person can move them; 'status %lld' shows them",
			     batch);
}

/* Ctrl-C: -1 with s->err saying that the waiting stopped, and what goes on. */
static int interrupted(struct ds_session *s, long long batch)
{
	if (!ds_db_interrupted())
		return 0;
	ds_error_set(&s->err, DS_ERR_FAILED, "stopped waiting for batch %lld", batch);
	return ds_error_hint(&s->err, "its runs go on; 'status %lld' shows them", batch);
}

/*
 * A statement of the waiting failed (s->err says why). When the server was lost,
 * reconnect once a second until it is back, 0, or until reconnect_s seconds have
 * passed, -1 with the last error; any other failure is -1 at once. The workers ride
 * out the loss on their own meanwhile; a person at the terminal is told. The time
 * without the server is no worker's fault: *moving_at starts again once back.
 */
static int ride_out(struct ds_session *s, long long batch, int reconnect_s, double *moving_at)
{
	double deadline = ds_monotonic() + reconnect_s;
	char *line;

	if (s->err.kind != DS_ERR_CONNECTION || reconnect_s <= 0)
		return -1;
	if (s->interactive && s->progress) {
		line = ds_xprintf("batch %lld: %s; reconnecting", batch, s->err.message);
		s->progress(s->progress_ctx, line);
		free(line);
	}
	for (;;) {
		usleep(RECONNECT_EVERY_MS * 1000);
		if (interrupted(s, batch) < 0)
			return -1;
		ds_error_clear(&s->err);
		if (ds_db_reconnect(&s->db, &s->err) == 0) {
			*moving_at = ds_monotonic();
			return 0;
		}
		if (s->err.kind != DS_ERR_CONNECTION)
			return -1;
		if (ds_monotonic() >= deadline) {
			char *why = ds_xstrdup(s->err.message);

			ds_error_clear(&s->err);
			ds_error_set(&s->err, DS_ERR_CONNECTION,
				     "could not reconnect within %ds: %s", reconnect_s, why);
			free(why);
			return ds_error_hint(&s->err,
					     "the runs of batch %lld go on; 'status %lld' "
					     "shows them once the server is back",
					     batch, batch);
		}
	}
}

json_t *ds_wait_batch(struct ds_session *s, long long batch, int reconnect_s)
{
	struct progress p = { ds_monotonic(), 0, -1 };
	double moving_at = p.started;
	json_t *st;

	for (;;) {
		st = ds_batch_status(&s->db, batch, DS_BATCH_RUNS_SHOWN, &s->err);
		if (!st) {
			if (ride_out(s, batch, reconnect_s, &moving_at) < 0)
				return NULL;
			continue;
		}
		if (p.done_at_start < 0)
			p.done_at_start = runs_done(st);
		if (ds_batch_finished(st)) {
			show_progress(s, batch, st, &p, 1);
			return st;
		}
		show_progress(s, batch, st, &p, 0);
		json_decref(st);
		if (check_progress(s, batch, &moving_at) < 0) {
			if (ride_out(s, batch, reconnect_s, &moving_at) < 0)
				return NULL;
			continue;
		}
		if (interrupted(s, batch) < 0)
			return NULL;
		usleep(POLL_MS * 1000);
	}
}

int ds_wait_for(struct ds_session *s, long long batch, int reconnect_s, json_t *data)
{
	json_t *st = ds_wait_batch(s, batch, reconnect_s);
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
