/* worker: claim ready runs and execute them until stopped, or until drained. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "../core/report.h"
#include "../core/util.h"
#include "../core/worker.h"
#include "command.h"

struct worker_opts {
	const char *graph, *alert_hook, *metrics_file, *reconnect_timeout;
	long concurrency, lease, hook_timeout;
	int drain;
};

static const struct worker_opts worker_defaults = {
	.concurrency = 1,
	.lease = DS_WORKER_DEFAULT_LEASE,
	.hook_timeout = DS_WORKER_HOOK_TIMEOUT,
	.reconnect_timeout = DS_RECONNECT_TIMEOUT,
};

static const struct ds_opt worker_options[] = {
	DS_OPT_STRING("graph", struct worker_opts, graph, "GRAPH",
		      "claim runs of graph GRAPH only"),
	DS_OPT_INT("concurrency", struct worker_opts, concurrency, "N",
		   "run up to N runs at once (default 1, at most 64)"),
	DS_OPT_BOOL("drain", struct worker_opts, drain,
		    "enqueue the due scheduled keys, then exit once nothing could run"),
	DS_OPT_INT("lease", struct worker_opts, lease, "SECONDS",
		   "lease length; a dead worker's runs return after it (default 30)"),
	DS_OPT_STRING("alert-hook", struct worker_opts, alert_hook, "COMMAND",
		      "tell COMMAND of each incident's trigger, update and resolve, as JSON on "
		      "its standard input (default $DATASHELL_ALERT_HOOK)"),
	DS_OPT_INT("hook-timeout", struct worker_opts, hook_timeout, "SECONDS",
		   "kill the alert hook after this long (default 10)"),
	DS_OPT_STRING("metrics-file", struct worker_opts, metrics_file, "PATH",
		      "rewrite PATH with the metrics every 5 seconds, atomically (node_exporter's "
		      "textfile collector)"),
	DS_OPT_STRING("reconnect-timeout", struct worker_opts, reconnect_timeout, "DURATION",
		      "when the server is lost, try to reconnect for this long before exiting "
		      "(default 5m; 0: exit at once)"),
	DS_OPT_END,
};

/* Counts of SIGTERM and SIGINT received: 1 finishes the runs in hand, 2 gives them back. */
static volatile sig_atomic_t stop_requests;

static void on_stop_signal(int sig)
{
	(void)sig;
	if (stop_requests < 2)
		stop_requests++;
}

struct saved_signals {
	struct sigaction term, intr;
};

static void catch_stop_signals(struct saved_signals *saved)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: the worker's poll() must return to see the request. */
	sigaction(SIGTERM, &sa, &saved->term);
	sigaction(SIGINT, &sa, &saved->intr);
}

static void restore_signals(const struct saved_signals *saved)
{
	sigaction(SIGTERM, &saved->term, NULL);
	sigaction(SIGINT, &saved->intr, NULL);
}

static const char *event_word(enum ds_worker_event_kind kind)
{
	switch (kind) {
	case DS_WORKER_STARTED:
		return "started";
	case DS_WORKER_SUCCEEDED:
		return "success";
	case DS_WORKER_FAILED:
		return "failed";
	case DS_WORKER_RETRYING:
		return "failed, will retry";
	case DS_WORKER_WAITING:
		return "waits for connection";
	case DS_WORKER_BLOCKED:
		return "blocked";
	case DS_WORKER_CANCELLED:
		return "cancelled";
	case DS_WORKER_REQUEUED:
		return "given back to the queue";
	case DS_WORKER_LOST:
		return "lost its lease";
	case DS_WORKER_ABANDONED:
		return "abandoned with the connection; its lease brings it back to the queue";
	case DS_WORKER_HOOK_SENT:
	case DS_WORKER_HOOK_FAILED:
	case DS_WORKER_METRICS_FAILED:
	case DS_WORKER_SCHEDULED:
	case DS_WORKER_SCHEDULE_FAILED:
	case DS_WORKER_DISCONNECTED:
	case DS_WORKER_RECONNECTING:
	case DS_WORKER_RECONNECTED:
	case DS_WORKER_STOPPING:
		break;
	}
	return "?";
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

#define SCHEDULED_NAMED 10 /* tasks named in the line of a pass; the rest are counted */

/*
 * Every line of the worker, with the time it happened:
 * "datashell: 2026-12-03T09:14:07.123Z worker: orders 2024-01-05 success (0.21s)".
 */
static void say(struct ds_session *s, const char *text)
{
	char stamp[DS_STAMP_SIZE], *line;

	ds_utc_stamp(stamp, sizeof(stamp));
	line = ds_xprintf("%s worker: %s", stamp, text);
	s->progress(s->progress_ctx, line);
	free(line);
}

/* "schedule batch 12 enqueued 3 runs: a 2, b 1", the tasks by name. */
static char *scheduled_line(const struct ds_worker_event *ev)
{
	struct ds_buf b = DS_BUF_INIT;
	size_t n = json_object_size(ev->tasks), i = 0;
	const char **names = ds_xmalloc((n ? n : 1) * sizeof(*names));
	const char *name;
	json_t *v;

	json_object_foreach((json_t *)ev->tasks, name, v) names[i++] = name;
	qsort(names, n, sizeof(*names), by_name);
	ds_buf_addf(&b, "schedule batch %lld enqueued %ld run%s:", ev->batch_id, ev->runs,
		    ev->runs == 1 ? "" : "s");
	for (i = 0; i < n && i < SCHEDULED_NAMED; i++)
		ds_buf_addf(&b, "%s %s %lld", i ? "," : "", names[i],
			    (long long)json_integer_value(json_object_get(ev->tasks, names[i])));
	if (n > SCHEDULED_NAMED)
		ds_buf_addf(&b, " and %zu more tasks", n - SCHEDULED_NAMED);
	free(names);
	return ds_buf_take(&b);
}

/* What report_event needs: the session, and the runs that failed for good so far. */
struct worker_ctx {
	struct ds_session *s;
	json_t *failed; /* [{task, key, state, why}] */
};

#define LISTED 10 /* runs named in the error of a drain that left some behind */

/* The line of an event about the connection to the server. Caller frees. */
static char *connection_line(const struct ds_worker_event *ev)
{
	if (ev->kind == DS_WORKER_DISCONNECTED)
		return ds_xprintf("%s; %ld run%s in hand abandoned", ev->error, ev->runs,
				  ev->runs == 1 ? "" : "s");
	if (ev->kind == DS_WORKER_RECONNECTED)
		return ds_xprintf("reconnected at attempt %d, after %.2fs without the server",
				  ev->attempt, ev->duration);
	if (ev->error)
		return ds_xprintf("attempt %d to reconnect failed: %s; attempt %d in %.2fs",
				  ev->attempt - 1, ev->error, ev->attempt, ev->retry_in);
	return ds_xprintf("reconnecting in %.2fs (attempt %d)", ev->retry_in, ev->attempt);
}

/* One line per event: "orders_raw 2024-01-05 success (0.21s)", said with its time. */
static void report_event(void *ctx, const struct ds_worker_event *ev)
{
	struct worker_ctx *c = ctx;
	struct ds_session *s = c->s;
	struct ds_buf b = DS_BUF_INIT;
	char *line;

	if (ev->kind == DS_WORKER_FAILED || ev->kind == DS_WORKER_BLOCKED)
		json_array_append_new(c->failed,
				      json_pack("{s:s, s:s, s:s, s:s?}", "task", ev->task, "key",
						ev->key, "state",
						ev->kind == DS_WORKER_FAILED ? "failed" : "blocked",
						"why", ev->error));

	if (!s->progress)
		return;
	if (ev->kind == DS_WORKER_HOOK_SENT || ev->kind == DS_WORKER_HOOK_FAILED ||
	    ev->kind == DS_WORKER_METRICS_FAILED || ev->kind == DS_WORKER_SCHEDULED ||
	    ev->kind == DS_WORKER_SCHEDULE_FAILED || ev->kind == DS_WORKER_DISCONNECTED ||
	    ev->kind == DS_WORKER_RECONNECTING || ev->kind == DS_WORKER_RECONNECTED ||
	    ev->kind == DS_WORKER_STOPPING) {
		if (ev->kind == DS_WORKER_METRICS_FAILED)
			line = ds_xstrdup(ev->error);
		else if (ev->kind == DS_WORKER_SCHEDULE_FAILED)
			line = ds_xprintf("the schedule's pass failed: %s", ev->error);
		else if (ev->kind == DS_WORKER_SCHEDULED)
			line = scheduled_line(ev);
		else if (ev->kind == DS_WORKER_STOPPING)
			line = ds_xprintf("stopping: %ld run%s in hand to finish first; a second "
					  "signal gives the runs in hand back to the queue",
					  ev->runs, ev->runs == 1 ? "" : "s");
		else if (ev->kind == DS_WORKER_HOOK_SENT || ev->kind == DS_WORKER_HOOK_FAILED)
			line = ds_xprintf("alert %lld (%s) %s%s%s", ev->alert_id, ev->action,
					  ev->error ? "not taken by the hook: "
						    : "handed to the hook",
					  ev->error ? ev->error : "",
					  ev->error ? "; it is tried again later" : "");
		else
			line = connection_line(ev);
		say(s, line);
		free(line);
		return;
	}
	ds_buf_addf(&b, "%s%s%s %s", ev->task, ev->key[0] ? " " : "", ev->key,
		    event_word(ev->kind));
	if (ev->kind == DS_WORKER_STARTED && ev->attempt > 1)
		ds_buf_addf(&b, " (attempt %d)", ev->attempt);
	if (ev->kind == DS_WORKER_RETRYING)
		ds_buf_addf(&b, " in %.0fs (attempt %d, %.2fs)", ev->retry_in, ev->attempt,
			    ev->duration);
	else if (ev->kind == DS_WORKER_WAITING) /* as why says it; its attempts are not counted */
		ds_buf_addf(&b, " %s, tries again in %.0fs (%.2fs)", ev->connection, ev->retry_in,
			    ev->duration);
	else if (ev->kind != DS_WORKER_STARTED && ev->kind != DS_WORKER_ABANDONED)
		ds_buf_addf(&b, " (%.2fs)", ev->duration);
	if (ev->error_class)
		ds_buf_addf(&b, " [%s]", ev->error_class);
	if (ev->error)
		ds_buf_addf(&b, ": %s", ev->error);
	line = ds_buf_take(&b);
	say(s, line);
	free(line);
}

/* The value v of option --name, which must lie from min to max, as an int. */
static int in_range(const char *name, long v, long min, long max, int *value, struct ds_error *err)
{
	if (v < min || v > max)
		return ds_error_set(err, DS_ERR_USAGE, "'--%s' must be from %ld to %ld, not %ld",
				    name, min, max, v);
	*value = (int)v;
	return 0;
}

static json_t *summary(const struct ds_worker_stats *st)
{
	return json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "worker",
			 st->name, "runs", (json_int_t)st->runs, "succeeded",
			 (json_int_t)st->succeeded, "failed", (json_int_t)st->failed, "retried",
			 (json_int_t)st->retried, "waited", (json_int_t)st->waited, "blocked",
			 (json_int_t)st->blocked, "cancelled", (json_int_t)st->cancelled,
			 "given_back", (json_int_t)st->requeued, "lost", (json_int_t)st->lost,
			 "scheduled", (json_int_t)st->scheduled);
}

/*
 * "worker NAME: 4 runs, 3 succeeded, ...": what became of the runs it claimed. The
 * rarer ends (a run that waited for its connection, one given back to the queue on a
 * second signal, one lost with the server) are said when they happened, so that the
 * line adds up to the runs. Caller frees.
 */
static char *summary_text(const struct ds_worker_stats *st)
{
	struct ds_buf b = DS_BUF_INIT;

	ds_buf_addf(&b,
		    "worker %s: %ld run%s, %ld succeeded, %ld failed, %ld retried, %ld blocked, "
		    "%ld cancelled",
		    st->name, st->runs, st->runs == 1 ? "" : "s", st->succeeded, st->failed,
		    st->retried, st->blocked, st->cancelled);
	if (st->waited)
		ds_buf_addf(&b, ", %ld waited for their connection", st->waited);
	if (st->requeued)
		ds_buf_addf(&b, ", %ld given back to the queue", st->requeued);
	if (st->lost)
		ds_buf_addf(&b, ", %ld lost with the server", st->lost);
	return ds_buf_take(&b);
}

/* "  orders 2024-01-05: failed: division by zero", for each of runs, LISTED at most. */
static void list_runs(struct ds_buf *b, json_t *runs, size_t total)
{
	json_t *run;
	size_t i;

	json_array_foreach(runs, i, run)
	{
		const char *key = json_string_value(json_object_get(run, "key"));
		const char *why = json_string_value(json_object_get(run, "why"));

		if (i == LISTED)
			break;
		ds_buf_addf(b, "\n  %s%s%s: %s%s%s",
			    json_string_value(json_object_get(run, "task")),
			    key && key[0] ? " " : "", key ? key : "",
			    json_string_value(json_object_get(run, "state")), why ? ": " : "",
			    why ? why : "");
	}
	if (total > LISTED)
		ds_buf_addf(b, "\n  and %zu more", total - LISTED);
}

/*
 * A drain tells the truth: when runs it ran failed or were blocked, or runs are left
 * waiting that no worker can move now (stuck, or behind a breaker's cool-down), its
 * summary is still shown (data gains failed_runs and stuck_runs), but the command fails
 * (exit 3 in a script) naming them: out->failed with s->err set. Returns -1 only when
 * it cannot tell.
 */
static int drain_verdict(struct ds_session *s, const struct worker_opts *o, struct worker_ctx *c,
			 struct ds_result *out)
{
	json_t *stuck = ds_runs_left_stuck(&s->db, o->graph, LISTED + 1, &s->err);
	size_t nfailed = json_array_size(c->failed), nstuck;
	struct ds_buf b = DS_BUF_INIT;

	if (!stuck)
		return -1;
	nstuck = json_array_size(stuck) ? (size_t)json_integer_value(json_object_get(
						  json_array_get(stuck, 0), "total"))
					: 0;
	json_object_set(out->data, "failed_runs", c->failed);
	json_object_set_new(out->data, "stuck_runs", stuck);
	if (!nfailed && !nstuck)
		return 0;
	ds_buf_addf(&b, "the worker drained the queue, but ");
	if (nfailed)
		ds_buf_addf(&b, "%zu run%s failed%s", nfailed, nfailed == 1 ? "" : "s",
			    nstuck ? " and " : "");
	if (nstuck)
		ds_buf_addf(&b, "%zu run%s %s left waiting", nstuck, nstuck == 1 ? "" : "s",
			    nstuck == 1 ? "was" : "were");
	ds_buf_addf(&b, ":");
	list_runs(&b, c->failed, nfailed);
	list_runs(&b, stuck, nstuck);
	ds_error_set(&s->err, DS_ERR_FAILED, "%s", b.s);
	free(ds_buf_take(&b));
	ds_error_hint(&s->err, "'why TASK KEY' tells what each waits for, down to its root cause");
	out->failed = 1;
	return 0;
}

static int run_worker(struct ds_session *s, const struct ds_invocation *inv, struct ds_result *out)
{
	const struct worker_opts *o = inv->opts;
	struct worker_ctx c = { s, json_array() };
	struct ds_worker_opts opts = {
		.graph = o->graph,
		.drain = o->drain,
		.alert_hook = o->alert_hook ? o->alert_hook : getenv("DATASHELL_ALERT_HOOK"),
		.metrics_file = o->metrics_file,
		.stop = &stop_requests,
		.on_event = report_event,
		.ctx = &c,
	};
	struct ds_worker_stats st;
	struct saved_signals saved;
	int rc;

	if (in_range("concurrency", o->concurrency, 1, DS_WORKER_MAX_CONCURRENCY, &opts.concurrency,
		     &s->err) < 0 ||
	    in_range("lease", o->lease, 1, 86400, &opts.lease_s, &s->err) < 0 ||
	    in_range("hook-timeout", o->hook_timeout, 1, 3600, &opts.hook_timeout_s, &s->err) < 0 ||
	    ds_reconnect_timeout(o->reconnect_timeout, &opts.reconnect_timeout_s, &s->err) < 0) {
		json_decref(c.failed);
		return -1;
	}
	stop_requests = 0;
	catch_stop_signals(&saved);
	rc = ds_worker_run(&s->db, &opts, &st, &s->err);
	restore_signals(&saved);
	if (rc < 0) {
		json_decref(c.failed);
		return -1;
	}
	out->data = summary(&st);
	/* One audit row per worker session, written when it stops, with what it did. */
	ds_audit_touch(&s->audit, json_incref(out->data));
	out->text = summary_text(&st);
	rc = o->drain && !stop_requests ? drain_verdict(s, o, &c, out) : 0;
	json_decref(c.failed);
	return rc;
}

const struct ds_command ds_cmd_worker = {
	.name = "worker",
	.group = "runs",
	.synopsis = "[--graph GRAPH] [--concurrency N] [--drain] [--alert-hook COMMAND] "
		    "[--metrics-file PATH] [--reconnect-timeout DURATION]",
	.summary = "claim ready runs and execute them",
	.description =
		"Claims queued runs whose time has come and whose upstreams are done for the\n"
		"key, in priority order, within each graph's max_active; runs each one's checks,\n"
		"body and complete_when; records the outcome; retries failures with backoff.\n"
		"SQL tasks run in the state database, in one transaction with their success;\n"
		"one on a named connection (a warehouse) commits its work there, then its\n"
		"success is recorded: if the worker dies between the two, it runs again, so\n"
		"its SQL must be idempotent per key (delete the key's rows, then insert).\n"
		"A named connection that refuses connections makes its runs wait for it\n"
		"(class unreachable: no retry used, no breaker counted) under one incident,\n"
		"connection:NAME; a slot connects while the rest of the worker goes on.\n"
		"An idle worker waits on LISTEN datashell_runs and claims as soon as runs are\n"
		"enqueued or become ready; it polls only as a fallback.\n"
		"Runs until SIGTERM or Ctrl-C (which let the runs in hand finish; a second one\n"
		"gives them back to the queue), or with --drain until nothing is left to run;\n"
		"then it fails (exit 3 in a script) if runs it ran failed or were blocked, or\n"
		"runs are left that only a person can move, and names them with why.\n"
		"With --alert-hook, it also tells the hook, one at a time, what changed in the\n"
		"incidents (alerts): trigger, update, resolve; a failed delivery is tried again\n"
		"with backoff by whichever worker with a hook is running.\n"
		"Every worker also runs the schedule: at its start (with --drain, before it\n"
		"drains), when the next scheduled key becomes due, and at least every minute,\n"
		"it enqueues the due keys of scheduled tasks as one batch of kind schedule.\n"
		"Each line it writes starts with the time, in UTC. When it loses its server,\n"
		"it abandons the runs in hand (their leases bring them back) and reconnects\n"
		"with backoff, saying so at each attempt; it exits 2 with the last error only\n"
		"after --reconnect-timeout. Given every host of the state database with\n"
		"target_session_attrs=read-write, it follows a failover to a promoted standby;\n"
		"it never takes a standby in recovery for the state store.",
	.example = "worker --graph core --concurrency 4 --drain",
	.opts = worker_options,
	.opts_size = sizeof(struct worker_opts),
	.opts_defaults = &worker_defaults,
	.max_args = 0,
	.flags = DS_CMD_SERVER | DS_CMD_SCHEMA | DS_CMD_WRITES,
	.role = DS_ROLE_OPERATOR,
	.run = run_worker,
};
