/*
 * worker.c: the worker's loop. One thread, one poll(): it claims runs into free slots,
 * steps the runs in hand, renews their leases, records how they end, makes the passes
 * of the schedule, and stops when told to or, with drain, when nothing is left that
 * could run.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "alerts.h"
#include "claim.h"
#include "errclass.h"
#include "execute.h"
#include "hook.h"
#include "metrics.h"
#include "sql.h"
#include "util.h"
#include "worker.h"

/*
 * An idle worker is woken by a notification (definitions/26-wake.sql) and polls only
 * in case one is missed: a claim IDLE_MIN seconds after one that found nothing, the
 * wait doubling up to IDLE_MAX while the queue stays empty. DATASHELL_WORKER_IDLE_POLL
 * (seconds), for tests, polls at that fixed interval instead: a long one shows that the
 * notification woke the worker.
 */
#define IDLE_MIN      0.05
#define IDLE_MAX      1.0
#define REAP_EVERY    1.0  /* seconds between looks for expired leases and probes */
#define RESCAN_EVERY  1.0  /* seconds between claims that scan the queue from its head */
#define SLA_EVERY     30.0 /* seconds between looks for missed SLAs */
#define HOOK_IDLE     2.0  /* seconds between looks for alerts to hand to the hook */
#define METRICS_EVERY 5.0  /* seconds between rewrites of the metrics file, at least... */
#define METRICS_SHARE 10.0 /* ...and at least this many times as long as reading them */
#define PASS_SKIPPED  1.0  /* seconds to the next pass after one skipped for another's */
#define PASS_RETRY    10.0 /* seconds to the next pass after one that failed */
#define PASS_LATE     0.05 /* seconds after the next key is due that the pass goes */

/* Seconds a slot keeps an idle connection to a named connection (a warehouse). */
#define NAMED_IDLE 10.0

/* When the server is lost (ride_out): */
#define RECONNECT_FIRST 0.5  /* seconds before the first try to reconnect... */
#define RECONNECT_MAX	30.0 /* ...doubling to this, each jittered by a quarter either way */
#define NAP_SLICE	0.05 /* seconds between looks at the stop flag while waiting */
#define LOSS_GRACE	1.0  /* seconds the SQL runs in hand get to end once the server was lost */

struct worker {
	struct ds_db *db;
	const struct ds_worker_opts *opts;
	struct ds_worker_stats *stats;
	char host[256];		  /* as registered, again after a reconnection */
	unsigned short jitter[3]; /* erand48's state, for the backoff of reconnections */
	struct ds_queue q;
	struct ds_slot *slots;
	int nslots;
	int busy;	 /* slots with a run in hand */
	int stopping;	 /* told to stop, it said that it finishes the runs in hand */
	int aborted;	 /* the runs in hand were told to stop */
	char *setup_sql; /* run on each slot's connection when it connects */
	int claim_ready; /* the claim's answer has arrived, at least in part */
	int note_ready;	 /* the idle control connection has something to read */
	double next_claim, next_renew, next_reap, next_sla, next_rescan, idle;
	double idle_min, idle_max; /* the polling's bounds (IDLE_MIN, IDLE_MAX) */
	struct ds_hook hook;	   /* the alert hook, and the alert it is handling */
	/*
	 * The hook is done with hook.job: its outcome (hook_error: NULL, it succeeded) is
	 * kept until it is recorded, also across a reconnection, so that an action told as
	 * the server was lost is not told again once its lease on the incident expires.
	 */
	int hook_done;
	char *hook_error;
	double next_hook;
	int alerts_left; /* the last look for alerts found one */
	int drained;	 /* --drain: nothing is left to run; alerts may be */
	double next_metrics;
	char metrics_error[512]; /* the last failure to write metrics, reported once */
	/*
	 * The schedule's passes: on a connection of their own (opened at the first), one
	 * at a time, sent and collected like the claim.
	 */
	PGconn *sched;
	int sched_busy;	 /* a pass is in flight */
	int sched_ready; /* its connection has something to read */
	int sched_seen;	 /* a pass was answered (or failed): --drain may drain */
	double next_sched;
	char *sched_text, *sched_why; /* the answer of the pass in flight, as it comes */
	char sched_error[512];	      /* the last failure of a pass, reported once */
};

static int settle_claim(struct worker *w, struct ds_error *err);

static int stop_level(const struct worker *w)
{
	return w->opts->stop ? (int)*w->opts->stop : 0;
}

/* host:pid:random, the host cut to characters that need no quoting anywhere. */
static void make_name(char *name, size_t size, char *host, size_t hsize)
{
	unsigned char rnd[3] = { 0 };

	if (gethostname(host, hsize) < 0 || !host[0])
		snprintf(host, hsize, "localhost");
	host[hsize - 1] = '\0';
	for (char *p = host; *p; p++)
		if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') &&
		    !(*p >= '0' && *p <= '9') && *p != '.' && *p != '-' && *p != '_')
			*p = '_';
	if (getrandom(rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd)) {
		unsigned v = (unsigned)getpid() ^ (unsigned)(ds_monotonic() * 1e6);

		rnd[0] = (unsigned char)v, rnd[1] = (unsigned char)(v >> 8);
		rnd[2] = (unsigned char)(v >> 16);
	}
	snprintf(name, size, "%.64s:%d:%02x%02x%02x", host, (int)getpid(), rnd[0], rnd[1], rnd[2]);
}

int ds_worker_check_graph(struct ds_db *db, const char *graph, struct ds_error *err)
{
	PGresult *res = ds_sql_query(db, DS_SQL_NAMES_GRAPHS, 0, NULL, err);
	const char **names, *best;
	struct ds_buf all = DS_BUF_INIT;
	int n, found = 0;

	if (!res)
		return -1;
	n = PQntuples(res);
	names = ds_xmalloc((size_t)(n + 1) * sizeof(*names));
	for (int i = 0; i < n; i++) {
		names[i] = PQgetvalue(res, i, 0);
		found |= !strcmp(names[i], graph);
		ds_buf_addf(&all, "%s'%s'", i ? ", " : "", names[i]);
	}
	names[n] = NULL;
	if (!found) {
		best = ds_closest(graph, names);
		if (best)
			ds_error_set(err, DS_ERR_FAILED, "unknown graph '%s' (did you mean '%s'?)",
				     graph, best);
		else
			ds_error_set(err, DS_ERR_FAILED, "unknown graph '%s'", graph);
		if (n)
			ds_error_hint(err, "the graphs are %s", all.s);
		else
			ds_error_hint(err,
				      "no graphs are defined yet; 'pipeline load' defines them");
	}
	free(ds_buf_take(&all));
	free(names);
	PQclear(res);
	return found ? 0 : -1;
}

static void emit(struct worker *w, enum ds_worker_event_kind kind, const struct ds_run *run,
		 const char *error, const char *error_class, double retry_in)
{
	double now = ds_monotonic();

	struct ds_worker_event ev = {
		.kind = kind,
		.run_id = run->id,
		.task = run->task,
		.key = run->key,
		.graph = run->graph,
		.attempt = run->attempt,
		.duration = kind == DS_WORKER_STARTED ? 0 : now - run->started,
		.error = error,
		.error_class = error_class,
		.retry_in = retry_in,
		.connection = run->connection,
	};

	if (w->opts->on_event)
		w->opts->on_event(w->opts->ctx, &ev);
}

/* The event and the count for the state a run ended in (NULL: the lease was lost). */
static enum ds_worker_event_kind count_end(struct worker *w, const char *state,
					   enum ds_outcome outcome)
{
	struct ds_worker_stats *st = w->stats;

	if (!state)
		return st->lost++, DS_WORKER_LOST;
	if (!strcmp(state, "success"))
		return st->succeeded++, DS_WORKER_SUCCEEDED;
	if (!strcmp(state, "queued") && outcome == DS_OUT_REQUEUE)
		return st->requeued++, DS_WORKER_REQUEUED;
	if (!strcmp(state, "queued") && outcome == DS_OUT_UNREACHABLE)
		return st->waited++, DS_WORKER_WAITING;
	if (!strcmp(state, "queued"))
		return st->retried++, DS_WORKER_RETRYING;
	if (!strcmp(state, "blocked"))
		return st->blocked++, DS_WORKER_BLOCKED;
	if (!strcmp(state, "cancelled"))
		return st->cancelled++, DS_WORKER_CANCELLED;
	return st->failed++, DS_WORKER_FAILED;
}

/*
 * A SQL run's success committed with its work, in the message that ran it, before the
 * worker read what the server said meanwhile: its notices, if any, are kept after.
 */
static int keep_notices(struct worker *w, const struct ds_slot *slot, struct ds_error *err)
{
	char *output = ds_slot_output(slot);
	int rc = 0;

	if (output && output[0])
		rc = settle_claim(w, err) < 0 ? -1
					      : ds_queue_keep_output(&w->q, slot->run, output, err);
	free(output);
	return rc;
}

/*
 * A slot is done: record the outcome (a SQL success already is), report it, free it.
 * A SQL success is reported even when its notices could not be kept (the server was
 * lost meanwhile): it committed, and is not to be told abandoned.
 */
static int record(struct worker *w, struct ds_slot *slot, double now, struct ds_error *err)
{
	const struct ds_run *run = slot->run;
	const char *state = NULL;
	double retry_in = 0;
	struct ds_error_verdict verdict = { "", 0, 0 };
	enum ds_worker_event_kind kind;
	int rc = 0;

	if (slot->outcome == DS_OUT_SUCCESS && slot->recorded) {
		rc = keep_notices(w, slot, err);
		state = "success";
	} else if (slot->outcome != DS_OUT_LOST) {
		char *output;

		if (settle_claim(w, err) < 0)
			return -1;
		output = ds_slot_output(slot);
		rc = ds_queue_finish(&w->q, run, slot->outcome, slot->error, slot->qstate, output,
				     &state, &retry_in, &verdict, err);
		free(output);
		if (rc < 0)
			return -1;
	}
	kind = count_end(w, state, slot->outcome);
	/* A refused run has no class of its own: end_run records it as unreachable. */
	if (slot->outcome == DS_OUT_UNREACHABLE)
		snprintf(verdict.class_name, sizeof(verdict.class_name), "unreachable");
	emit(w, kind, run, kind == DS_WORKER_SUCCEEDED ? NULL : slot->error,
	     verdict.class_name[0] ? verdict.class_name : NULL, retry_in);
	ds_run_free(ds_slot_reset(slot));
	w->busy--;
	/* A slot came free: look for work at once. */
	w->next_claim = now;
	w->idle = w->idle_min;
	return rc;
}

/* Step every run in hand and record those that ended. */
static int step_slots(struct worker *w, double now, struct ds_error *err)
{
	for (int i = 0; i < w->nslots; i++) {
		struct ds_slot *slot = &w->slots[i];

		if (!slot->run)
			continue;
		ds_slot_step(slot, now);
		if (slot->done && record(w, slot, now, err) < 0)
			return -1;
	}
	return 0;
}

/* Extend the leases of the runs in hand; stop those lost or to be cancelled. */
static int renew(struct worker *w, double now, struct ds_error *err)
{
	long long ids[DS_WORKER_MAX_CONCURRENCY];
	int held[DS_WORKER_MAX_CONCURRENCY], cancel[DS_WORKER_MAX_CONCURRENCY];
	int slot_of[DS_WORKER_MAX_CONCURRENCY], n = 0;
	double every = w->opts->lease_s / 3.0;

	for (int i = 0; i < w->nslots; i++)
		if (w->slots[i].run && !w->slots[i].done) {
			ids[n] = w->slots[i].run->id;
			slot_of[n++] = i;
		}
	if (ds_queue_renew(&w->q, ids, n, held, cancel, err) < 0)
		return -1;
	for (int i = 0; i < n; i++) {
		if (!held[i])
			ds_slot_stop(&w->slots[slot_of[i]], DS_STOP_LOST, now);
		else if (cancel[i])
			ds_slot_stop(&w->slots[slot_of[i]], DS_STOP_CANCEL, now);
	}
	/* Often enough, too, that a cancel is seen within seconds. */
	w->next_renew = now + (every < 0.2 ? 0.2 : every > 5 ? 5 : every);
	return 0;
}

/*
 * A free slot's connection that was lost is closed before the slot takes a run (which
 * opens another); one to a named connection that has been idle a while is closed.
 */
static void slots_usable(struct worker *w, double now)
{
	for (int i = 0; i < w->nslots; i++) {
		struct ds_slot *slot = &w->slots[i];

		ds_slot_close_idle(slot, now, NAMED_IDLE);
		if (!slot->run)
			ds_slot_ready(slot);
	}
}

/*
 * Whether enough slots are free to claim into. A claim costs the control connection
 * about as much whether it takes one run or several, so with runs in hand we wait for
 * a quarter of the slots to free up; with none, any free slot is worth a claim.
 */
static int worth_claiming(const struct worker *w)
{
	int free_slots = w->nslots - w->busy, batch = w->nslots / 4;

	return free_slots > 0 && (w->busy == 0 || free_slots >= (batch > 1 ? batch : 1));
}

/*
 * Send a claim for as many runs as there are free slots, with the chores that are due.
 * A claim scans the queue from where the last one found its first run (claim.h), and
 * from its head when notified (take_notifications) and once every RESCAN_EVERY, for
 * the runs that became ready behind that point without a notification: a retry whose
 * wait is over, say.
 */
static int claim_send(struct worker *w, double now, struct ds_error *err)
{
	unsigned chores =
		(now >= w->next_reap ? DS_CHORE_REAP : 0) | (now >= w->next_sla ? DS_CHORE_SLA : 0);

	slots_usable(w, now);
	if (now >= w->next_rescan) {
		ds_queue_rescan(&w->q);
		w->next_rescan = now + RESCAN_EVERY;
	}
	if (ds_queue_claim_send(&w->q, w->nslots - w->busy, chores, err) < 0)
		return -1;
	if (chores & DS_CHORE_REAP)
		w->next_reap = now + REAP_EVERY;
	if (chores & DS_CHORE_SLA)
		w->next_sla = now + SLA_EVERY;
	return 0;
}

/* Told to stop while a claim was on its way: its runs go back to the queue unstarted. */
static int give_back(struct worker *w, struct ds_run **runs, int n, struct ds_error *err)
{
	int rc = 0;

	for (int i = 0; i < n; i++) {
		const char *state;
		double retry_in;

		if (rc == 0)
			rc = ds_queue_finish(&w->q, runs[i], DS_OUT_REQUEUE,
					     "the worker was stopped before the run started", NULL,
					     NULL, &state, &retry_in, NULL, err);
		ds_run_free(runs[i]);
	}
	free(runs);
	return rc;
}

/*
 * The claim's runs arrived: start them in the free slots. With none and nothing in
 * hand, a draining worker asks whether anything is left to wait for (*drained).
 */
static int claim_done(struct worker *w, struct ds_run **runs, int n, double now, int *drained,
		      struct ds_error *err)
{
	int k = 0;

	if (stop_level(w))
		return give_back(w, runs, n, err);
	for (int i = 0; i < w->nslots && k < n; i++) {
		struct ds_slot *slot = &w->slots[i];

		if (slot->run)
			continue;
		w->stats->runs++;
		w->busy++;
		/* On a named connection the success is recorded once the work committed. */
		ds_slot_start(slot, runs[k],
			      runs[k]->connection ? NULL : ds_queue_success_sql(&w->q, runs[k]),
			      now);
		emit(w, DS_WORKER_STARTED, runs[k], NULL, NULL, 0);
		k++;
	}
	free(runs);
	/*
	 * Woken while the claim was in flight (a rescan asked for meanwhile): the run that
	 * woke it may have committed after the claim took its snapshot, so claim again at
	 * once rather than after the idle wait that an empty answer sets. An idle worker lost
	 * such a wake-up about once in fifty and the run waited up to its idle back-off
	 * (bench-throughput's wake-up, 95th percentile: 206 ms).
	 */
	if (w->q.sent_epoch != w->q.epoch) {
		w->next_claim = now;
		return 0;
	}
	/* Fewer than asked from a bound: the rest of the queue lies before it, maybe. */
	if (n < w->q.want && w->q.bounded) {
		w->next_claim = now;
		return 0;
	}
	if (n > 0) {
		/* Fewer than asked: the rest wait for a graph's slot or for an upstream. */
		w->next_claim = n == w->q.want ? now : now + w->idle_min;
		w->idle = w->idle_min;
		return 0;
	}
	if (w->opts->drain && w->busy == 0) {
		int pending;

		if (ds_queue_pending(&w->q, &pending, err) < 0)
			return -1;
		*drained = !pending;
	}
	w->next_claim = now + w->idle;
	w->idle = w->idle * 2 > w->idle_max ? w->idle_max : w->idle * 2;
	return 0;
}

/* Read the claim in flight, if any; with block, wait for all of it. */
static int claim_collect(struct worker *w, int block, int *drained, struct ds_error *err)
{
	struct ds_run **runs;
	int n, done;

	if (!w->q.claiming || (!block && !w->claim_ready))
		return 0;
	w->claim_ready = 0;
	if (ds_queue_claim_collect(&w->q, block, &runs, &n, &done, err) < 0)
		return -1;
	return done ? claim_done(w, runs, n, ds_monotonic(), drained, err) : 0;
}

/*
 * The control connection is needed for something else: finish the claim in flight
 * first. A drain seen here is seen again at the next claim.
 */
static int settle_claim(struct worker *w, struct ds_error *err)
{
	int drained = 0;

	return claim_collect(w, 1, &drained, err);
}

/* Tell what became of an action the hook was given. */
static void emit_hook(struct worker *w, const struct ds_alert_job *job, const char *error)
{
	struct ds_worker_event ev = {
		.kind = error ? DS_WORKER_HOOK_FAILED : DS_WORKER_HOOK_SENT,
		.alert_id = job->id,
		.action = job->action,
		.task = "",
		.key = "",
		.graph = "",
		.error = error,
	};

	if (w->opts->on_event)
		w->opts->on_event(w->opts->ctx, &ev);
}

/*
 * Hand the incidents' actions to the hook, one at a time, without holding up the runs:
 * a hook in progress is looked at on each pass; when it is done, the next is taken.
 */
static int deliver_alerts(struct worker *w, double now, struct ds_error *err)
{
	struct ds_alert_job job;
	char *json, *error;
	int none;

	if (!w->hook.command)
		return 0;
	if (w->hook.child.pid) {
		if (!ds_hook_poll(&w->hook, now, &w->hook_error))
			return 0;
		emit_hook(w, &w->hook.job, w->hook_error);
		w->hook_done = 1;
	}
	if (w->hook_done) {
		if (settle_claim(w, err) < 0 ||
		    ds_alert_delivered(w->db, &w->hook.job, w->hook_error, err) < 0)
			return -1;
		free(w->hook_error);
		w->hook_error = NULL;
		w->hook_done = 0;
		w->next_hook = now; /* there may be more */
	}
	if (now < w->next_hook || stop_level(w))
		return 0;
	if (settle_claim(w, err) < 0)
		return -1;
	/* Another worker takes it over should this one die meanwhile. */
	json = ds_alert_take(w->db, 2 * w->hook.timeout_s + 10, &job, &none, err);
	w->alerts_left = !none;
	if (!json)
		return none ? (w->next_hook = now + HOOK_IDLE, 0) : -1;
	error = ds_hook_start(&w->hook, &job, json, now);
	free(json);
	if (error) {
		emit_hook(w, &job, error);
		if (ds_alert_delivered(w->db, &job, error, err) < 0) {
			free(error);
			return -1;
		}
		free(error);
	}
	return 0;
}

/*
 * Rewrite the metrics file with what the control connection reads now. A failure is
 * reported (once until it changes or goes away) and the worker goes on; only a lost
 * connection stops it, as it would at the next claim.
 */
static int write_metrics(struct worker *w, double now, struct ds_error *err)
{
	struct ds_error why = { 0 };
	json_t *metrics;
	double start = ds_monotonic(), took;
	int rc;

	if (settle_claim(w, err) < 0)
		return -1;
	metrics = ds_metrics(w->db, &why);
	/* A big runs table makes the figures slow to read: then read them less often. */
	took = ds_monotonic() - start;
	w->next_metrics =
		now + (took * METRICS_SHARE > METRICS_EVERY ? took * METRICS_SHARE : METRICS_EVERY);
	rc = metrics ? ds_metrics_write_file(metrics, w->opts->metrics_file, &why) : -1;
	json_decref(metrics);
	if (rc == 0) {
		w->metrics_error[0] = '\0';
		return 0;
	}
	if (why.kind == DS_ERR_CONNECTION) {
		*err = why;
		return -1;
	}
	if (strncmp(why.message, w->metrics_error, sizeof(w->metrics_error) - 1)) {
		struct ds_worker_event ev = {
			.kind = DS_WORKER_METRICS_FAILED,
			.task = "",
			.key = "",
			.graph = "",
			.error = why.message,
		};

		snprintf(w->metrics_error, sizeof(w->metrics_error), "%.*s",
			 (int)sizeof(w->metrics_error) - 1, why.message);
		if (w->opts->on_event)
			w->opts->on_event(w->opts->ctx, &ev);
	}
	return 0;
}

/* Report why a pass failed, once until the reason changes. */
static void sched_failed(struct worker *w, const char *why)
{
	struct ds_worker_event ev = {
		.kind = DS_WORKER_SCHEDULE_FAILED,
		.task = "",
		.key = "",
		.graph = "",
		.error = why,
	};

	/* A pass cancelled by a second stop request is no failure. */
	if (stop_level(w) >= 2 || !strncmp(why, w->sched_error, sizeof(w->sched_error) - 1))
		return;
	snprintf(w->sched_error, sizeof(w->sched_error), "%.*s", (int)sizeof(w->sched_error) - 1,
		 why);
	if (w->opts->on_event)
		w->opts->on_event(w->opts->ctx, &ev);
}

/*
 * Send a pass of the schedule on its own connection, opened (or opened again) first.
 * The first pass of a draining worker waits for one in progress, so that the drain
 * sees the keys. A connection that cannot be had is reported and tried again later:
 * other workers pass meanwhile, and the runs in hand go on.
 */
static void sched_send(struct worker *w, double now)
{
	const char *params[] = { w->opts->drain && !w->sched_seen ? "true" : "false" };
	struct ds_error why = { 0 };

	if (w->sched && PQstatus(w->sched) != CONNECTION_OK) {
		PQfinish(w->sched);
		w->sched = NULL;
	}
	if (!w->sched)
		w->sched = ds_db_connect_like(w->db->conn, "datashell worker", &why);
	if (!w->sched) {
		sched_failed(w, why.message);
		w->sched_seen = 1;
		w->next_sched = now + PASS_RETRY;
		return;
	}
	if (!PQsendQueryParams(w->sched, ds_sql(w->db, DS_SQL_QUEUE_SCHEDULE_PASS), 1, NULL, params,
			       NULL, NULL, 0)) {
		const char *msg = PQerrorMessage(w->sched);

		sched_failed(w, msg);
		w->sched_seen = 1;
		w->next_sched = now + PASS_RETRY;
		return;
	}
	w->sched_busy = 1;
	w->sched_ready = 0;
}

/* What a pass answered: report what it enqueued, and say when to pass again. */
static void sched_answer(struct worker *w, const char *text, double now)
{
	json_error_t jerr;
	json_t *a = json_loads(text, 0, &jerr);
	json_t *in = json_object_get(a, "next_due_in");
	double wait = DS_WORKER_SCHEDULE_EVERY;

	if (!a) {
		sched_failed(w, "the schedule's pass answered something that is not JSON");
		w->next_sched = now + PASS_RETRY;
		return;
	}
	w->sched_error[0] = '\0';
	if (json_is_true(json_object_get(a, "skipped"))) {
		wait = PASS_SKIPPED;
	} else if (json_is_number(in) && json_number_value(in) + PASS_LATE < wait) {
		wait = json_number_value(in) + PASS_LATE;
		wait = wait < PASS_LATE ? PASS_LATE : wait;
	}
	w->next_sched = now + wait;
	if (json_integer_value(json_object_get(a, "runs")) > 0) {
		struct ds_worker_event ev = {
			.kind = DS_WORKER_SCHEDULED,
			.task = "",
			.key = "",
			.graph = "",
			.batch_id = json_integer_value(json_object_get(a, "batch")),
			.runs = (long)json_integer_value(json_object_get(a, "runs")),
			.tasks = json_object_get(a, "tasks"),
		};

		w->stats->scheduled += ev.runs;
		if (w->opts->on_event)
			w->opts->on_event(w->opts->ctx, &ev);
		/* Runs just came: look for them now. */
		w->next_claim = now;
		w->idle = w->idle_min;
	}
	json_decref(a);
}

/*
 * Read what has come of the pass in flight, without waiting for the rest. A failed
 * pass is reported and tried again later; a lost connection is made again then.
 */
static void sched_collect(struct worker *w)
{
	double now;

	if (!w->sched_busy || !w->sched_ready)
		return;
	w->sched_ready = 0;
	if (!PQconsumeInput(w->sched)) {
		if (!w->sched_why)
			w->sched_why = ds_xstrdup(PQerrorMessage(w->sched));
	} else {
		for (;;) {
			PGresult *res;

			if (PQisBusy(w->sched))
				return; /* the rest comes later */
			if (!(res = PQgetResult(w->sched)))
				break;
			if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
				if (!w->sched_text)
					w->sched_text = ds_xstrdup(PQgetvalue(res, 0, 0));
			} else if (!w->sched_why) {
				w->sched_why = ds_xstrdup(PQresultErrorMessage(res));
			}
			PQclear(res);
		}
		if (!w->sched_text && !w->sched_why)
			w->sched_why = ds_xstrdup(PQerrorMessage(w->sched));
	}
	now = ds_monotonic();
	w->sched_busy = 0;
	w->sched_seen = 1;
	if (w->sched_why) {
		w->sched_why[strcspn(w->sched_why, "\n")] = '\0';
		sched_failed(w, w->sched_why[0]
					? w->sched_why
					: "the connection of the schedule's passes was lost");
		w->next_sched = now + PASS_RETRY;
	} else {
		sched_answer(w, w->sched_text, now);
	}
	free(w->sched_why);
	free(w->sched_text);
	w->sched_why = w->sched_text = NULL;
}

/* A second stop request: a pass in flight is cancelled; it commits nothing. */
static void sched_cancel(struct worker *w)
{
	char buf[256];
	PGcancel *c;

	if (!w->sched_busy || !(c = PQgetCancel(w->sched)))
		return;
	PQcancel(c, buf, sizeof(buf));
	PQfreeCancel(c);
}

/*
 * Read the notifications that came on the control connection, while idle or along
 * with the answers to its statements: one for this schema means runs may have become
 * ready, and the next claim goes at once. -1 if the connection was lost meanwhile.
 */
static int take_notifications(struct worker *w, double now, struct ds_error *err)
{
	PGconn *conn = w->db->conn;
	PGnotify *note;
	int woken = 0;

	if (w->note_ready) {
		w->note_ready = 0;
		if (!PQconsumeInput(conn) && PQstatus(conn) == CONNECTION_BAD)
			return ds_db_lost_error(w->db, err);
	}
	while ((note = PQnotifies(conn))) {
		woken |= !strcmp(note->extra, w->db->schema);
		PQfreemem(note);
	}
	if (woken) {
		w->next_claim = now;
		w->idle = w->idle_min;
		/* The runs may sort before where the last claim began: look from the head. */
		ds_queue_rescan(&w->q);
	}
	return 0;
}

/* Ask the server for the notifications that wake the worker (take_notifications). */
static int listen_for_runs(struct worker *w, struct ds_error *err)
{
	PGresult *res = ds_sql_query(w->db, DS_SQL_QUEUE_LISTEN, 0, NULL, err);

	if (!res)
		return -1;
	PQclear(res);
	return 0;
}

/* Sleep in poll() until a run needs attention, or the next claim or renewal is due. */
static void wait_for_work(struct worker *w, double now)
{
	struct pollfd fds[DS_WORKER_MAX_CONCURRENCY + 2];
	int owner[DS_WORKER_MAX_CONCURRENCY + 2]; /* slot; -1: claim, -2: pass, -3: notes */
	double wake = w->next_renew;
	int n = 0, ms;

	/*
	 * The claim's answer may be in libpq's buffer already, read from the socket along
	 * with a notification (take_notifications) after the claim went out: the socket has
	 * nothing more to say, and a poll on it would sleep to the next renewal with the
	 * slots idle (a drain stalled 4.5 s so).
	 */
	if (w->q.claiming && !PQisBusy(w->db->conn)) {
		w->claim_ready = 1;
		return;
	}
	if (w->q.claiming) {
		fds[n].fd = PQsocket(w->db->conn);
		fds[n].events = POLLIN;
		fds[n].revents = 0;
		owner[n++] = -1;
	} else {
		/* Idle, the control connection brings the notifications that wake the worker. */
		fds[n].fd = PQsocket(w->db->conn);
		fds[n].events = POLLIN;
		fds[n].revents = 0;
		owner[n++] = -3;
		if (!stop_level(w) && worth_claiming(w) && w->next_claim < wake)
			wake = w->next_claim;
	}
	if (w->opts->metrics_file && w->next_metrics < wake)
		wake = w->next_metrics;
	if (w->sched_busy) {
		fds[n].fd = PQsocket(w->sched);
		fds[n].events = POLLIN;
		fds[n].revents = 0;
		owner[n++] = -2;
	} else if (!stop_level(w) && !w->drained && w->next_sched < wake) {
		wake = w->next_sched;
	}
	for (int i = 0; i < w->nslots; i++) {
		double t = ds_slot_wake_at(&w->slots[i], now);

		if (t && t < wake)
			wake = t;
		if (ds_slot_pollfd(&w->slots[i], &fds[n]))
			owner[n++] = i;
	}
	/* A running hook is looked at often; the next look for alerts when it is due. */
	if (w->hook.child.pid && now + 0.05 < wake)
		wake = now + 0.05;
	else if (w->hook.command && !w->hook.child.pid && !stop_level(w) && w->next_hook < wake)
		wake = w->next_hook;
	ms = wake <= now ? 0 : (int)((wake - now) * 1000) + 1;
	/* A signal interrupts poll (EINTR), and the loop looks at the stop flag again. */
	if (poll(fds, (nfds_t)n, ms) <= 0)
		return;
	for (int k = 0; k < n; k++) {
		if (!fds[k].revents)
			continue;
		if (owner[k] == -3)
			w->note_ready = 1;
		else if (owner[k] == -2)
			w->sched_ready = 1;
		else if (owner[k] < 0)
			w->claim_ready = 1;
		else
			w->slots[owner[k]].ready = 1;
	}
}

/* Told to stop once: say so, for the runs in hand, which may take long, finish first. */
static void emit_stopping(struct worker *w)
{
	struct ds_worker_event ev = {
		.kind = DS_WORKER_STOPPING,
		.task = "",
		.key = "",
		.graph = "",
		.runs = w->busy,
	};

	w->stopping = 1;
	if (w->opts->on_event)
		w->opts->on_event(w->opts->ctx, &ev);
}

/*
 * One pass: step the runs, stop or abort as told, renew, claim. The claim goes out
 * without waiting for its answer, which the next passes collect, so that the runs in
 * hand keep going meanwhile. Returns 1 when the worker is done.
 */
static int pass(struct worker *w, struct ds_error *err)
{
	double now = ds_monotonic();
	int stop = stop_level(w), drained = 0;

	if (claim_collect(w, 0, &drained, err) < 0 || step_slots(w, now, err) < 0)
		return -1;
	sched_collect(w);
	/*
	 * Drained, the worker still hands the alerts raised meanwhile to the hook. It is
	 * not drained before its first pass of the schedule is answered, nor while one is
	 * in flight: what it enqueues is to be run.
	 */
	if (drained && (w->sched_busy || !w->sched_seen))
		drained = 0;
	if (drained && !w->drained) {
		w->drained = 1;
		w->alerts_left = 1; /* look again: the runs may have raised some */
		w->next_hook = now;
	}
	if (w->drained &&
	    (!w->hook.command || (!w->hook.child.pid && !w->hook_done && !w->alerts_left)))
		return 1;
	if (stop == 1 && !w->stopping && w->busy)
		emit_stopping(w);
	if (stop >= 2 && !w->aborted) {
		for (int i = 0; i < w->nslots; i++)
			ds_slot_stop(&w->slots[i], DS_STOP_ABORT, now);
		sched_cancel(w);
		w->aborted = 1;
		return 0;
	}
	if (stop && w->busy == 0 && !w->q.claiming && !w->hook.child.pid && !w->sched_busy)
		return 1;
	if (now >= w->next_renew && (settle_claim(w, err) < 0 || renew(w, now, err) < 0))
		return -1;
	if (deliver_alerts(w, now, err) < 0)
		return -1;
	if (w->opts->metrics_file && now >= w->next_metrics && write_metrics(w, now, err) < 0)
		return -1;
	if (!stop && !w->drained && !w->sched_busy && now >= w->next_sched)
		sched_send(w, now);
	if (!stop && !w->drained && !w->q.claiming && worth_claiming(w) && now >= w->next_claim &&
	    claim_send(w, now, err) < 0)
		return -1;
	/* Last, for the statements above may have brought notifications along. */
	if (take_notifications(w, ds_monotonic(), err) < 0)
		return -1;
	wait_for_work(w, ds_monotonic());
	return 0;
}

static int loop(struct worker *w, struct ds_error *err)
{
	int rc;

	while ((rc = pass(w, err)) == 0)
		;
	return rc < 0 ? -1 : 0;
}

/* Kills what a slot's run left running (ds_slot_close) and frees the runs in hand. */
static void close_slots(struct worker *w)
{
	for (int i = 0; i < w->nslots; i++)
		ds_slot_close(&w->slots[i]);
	free(w->slots);
	free(w->setup_sql);
	w->slots = NULL;
	w->setup_sql = NULL;
	w->nslots = 0;
	w->busy = 0;
}

static int open_slots(struct worker *w, struct ds_error *err)
{
	w->setup_sql = ds_queue_success_function(&w->q);
	w->slots = ds_xmalloc((size_t)w->opts->concurrency * sizeof(*w->slots));
	for (w->nslots = 0; w->nslots < w->opts->concurrency; w->nslots++)
		if (ds_slot_open(&w->slots[w->nslots], w->db->conn, w->setup_sql, err) < 0) {
			close_slots(w);
			return -1;
		}
	return 0;
}

/* The connection of the schedule's passes, closed, with the pass in flight. */
static void sched_drop(struct worker *w)
{
	PQfinish(w->sched);
	free(w->sched_why);
	free(w->sched_text);
	w->sched = NULL;
	w->sched_why = w->sched_text = NULL;
	w->sched_busy = w->sched_ready = 0;
}

/* Tell what becomes of the worker's connection to the server. */
static void emit_connection(struct worker *w, enum ds_worker_event_kind kind, const char *error,
			    int attempt, double seconds)
{
	struct ds_worker_event ev = {
		.kind = kind,
		.task = "",
		.key = "",
		.graph = "",
		.error = error,
		.attempt = attempt,
		.retry_in = kind == DS_WORKER_RECONNECTING ? seconds : 0,
		.duration = kind == DS_WORKER_RECONNECTED ? seconds : 0,
		.runs = kind == DS_WORKER_DISCONNECTED ? w->busy : 0,
	};

	if (w->opts->on_event)
		w->opts->on_event(w->opts->ctx, &ev);
}

/*
 * The worker's own session was lost, but a SQL run in hand may still end on its own
 * connection with its success committed (only the worker's session was terminated, or
 * the run was committing as the server went): give the SQL runs a moment to end, so
 * that such a success is told as one. A server that is gone ends them at once.
 */
static void let_sql_runs_end(struct worker *w)
{
	double end = ds_monotonic() + LOSS_GRACE, left;
	struct pollfd fds[DS_WORKER_MAX_CONCURRENCY];
	int slot_of[DS_WORKER_MAX_CONCURRENCY], n;

	while ((left = end - ds_monotonic()) > 0) {
		n = 0;
		for (int i = 0; i < w->nslots; i++)
			if (ds_slot_in_sql(&w->slots[i]) && ds_slot_pollfd(&w->slots[i], &fds[n]))
				slot_of[n++] = i;
		if (n == 0 || poll(fds, (nfds_t)n, (int)(1000 * left) + 1) <= 0)
			return;
		for (int k = 0; k < n; k++)
			if (fds[k].revents) {
				w->slots[slot_of[k]].ready = 1;
				ds_slot_step(&w->slots[slot_of[k]], ds_monotonic());
			}
	}
}

/*
 * The server was lost (why): give up all that lived in its sessions. A SQL run whose
 * success committed is told a success; the other runs in hand cannot be recorded, and
 * their leases bring them back to the queue. The next claim, pass and renewal go as
 * soon as the worker is back.
 */
static void abandon(struct worker *w, const char *why)
{
	let_sql_runs_end(w);
	/* record() tells a committed success as one, though its notices are lost with the server. */
	for (int i = 0; i < w->nslots; i++) {
		struct ds_slot *slot = &w->slots[i];
		struct ds_error lost = { 0 };

		if (slot->run && slot->done && slot->outcome == DS_OUT_SUCCESS && slot->recorded)
			record(w, slot, ds_monotonic(), &lost);
	}
	emit_connection(w, DS_WORKER_DISCONNECTED, why, 0, 0);
	for (int i = 0; i < w->nslots; i++)
		if (w->slots[i].run) {
			emit(w, DS_WORKER_ABANDONED, w->slots[i].run, NULL, NULL, 0);
			w->stats->lost++;
		}
	close_slots(w);
	sched_drop(w);
	ds_queue_release(&w->q);
	w->claim_ready = w->note_ready = 0;
	w->next_claim = w->next_renew = w->next_sched = 0;
	w->idle = w->idle_min;
}

/* Wait seconds, in slices so that a stop request is seen at once: -1 if one came. */
static int nap(struct worker *w, double seconds)
{
	double end = ds_monotonic() + seconds, left;

	while (!stop_level(w)) {
		if ((left = end - ds_monotonic()) <= 0)
			return 0;
		poll(NULL, 0, (int)(1000 * (left < NAP_SLICE ? left : NAP_SLICE)) + 1);
	}
	return -1;
}

/* Connect again and set up as at the start: the statements, the slots, the worker's row. */
static int reconnect_once(struct worker *w, struct ds_error *err)
{
	if (ds_db_reconnect(w->db, err) < 0 || listen_for_runs(w, err) < 0 ||
	    ds_queue_init(&w->q, w->db, w->stats->name, w->opts->graph, w->opts->lease_s, err) < 0)
		return -1;
	if (open_slots(w, err) == 0 &&
	    ds_queue_register(&w->q, w->host, (int)getpid(), w->opts->concurrency, err) == 0)
		return 0;
	close_slots(w);
	ds_queue_release(&w->q);
	return -1;
}

/*
 * Ride out the loss of the server (err says how it was lost; see ds_worker_run): 0
 * once the worker is back, -1 with err filled when it gives up.
 */
static int ride_out(struct worker *w, struct ds_error *err)
{
	double start = ds_monotonic(), deadline = start + w->opts->reconnect_timeout_s;
	double delay = RECONNECT_FIRST, wait, left;
	struct ds_error why = *err;
	int attempt = 0;

	abandon(w, why.message);
	for (;;) {
		wait = delay * (0.75 + 0.5 * erand48(w->jitter));
		left = deadline - ds_monotonic();
		wait = wait < left ? wait : left > 0 ? left : 0;
		emit_connection(w, DS_WORKER_RECONNECTING, attempt ? why.message : NULL,
				attempt + 1, wait);
		if (nap(w, wait) < 0)
			return ds_error_set(err, DS_ERR_CONNECTION,
					    "%s (the worker was stopped before it could reconnect)",
					    why.message);
		attempt++;
		ds_error_clear(&why);
		if (reconnect_once(w, &why) == 0)
			break;
		if (why.kind != DS_ERR_CONNECTION) {
			*err = why;
			return -1;
		}
		if (ds_monotonic() >= deadline)
			return ds_error_set(err, DS_ERR_CONNECTION,
					    "the worker could not reconnect within %ds: %s",
					    w->opts->reconnect_timeout_s, why.message);
		delay = delay * 2 < RECONNECT_MAX ? delay * 2 : RECONNECT_MAX;
	}
	emit_connection(w, DS_WORKER_RECONNECTED, NULL, attempt, ds_monotonic() - start);
	ds_error_clear(err);
	return 0;
}

/* Run the loop; when the server is lost, ride it out and go on if the options allow. */
static int run_riding_out(struct worker *w, struct ds_error *err)
{
	int rc;

	while ((rc = loop(w, err)) < 0 && err->kind == DS_ERR_CONNECTION &&
	       w->opts->reconnect_timeout_s > 0 && !stop_level(w) && ride_out(w, err) == 0)
		;
	return rc;
}

int ds_worker_run(struct ds_db *db, const struct ds_worker_opts *opts,
		  struct ds_worker_stats *stats, struct ds_error *err)
{
	struct worker w = { .db = db, .opts = opts, .stats = stats };
	const char *poll_s = getenv("DATASHELL_WORKER_IDLE_POLL");
	int rc;

	memset(stats, 0, sizeof(*stats));
	if (opts->concurrency < 1 || opts->concurrency > DS_WORKER_MAX_CONCURRENCY ||
	    opts->lease_s < 1)
		return ds_error_set(err, DS_ERR_USAGE,
				    "the worker needs a concurrency from 1 to %d and a lease of at "
				    "least a second",
				    DS_WORKER_MAX_CONCURRENCY);
	w.idle_min = poll_s && atof(poll_s) > 0 ? atof(poll_s) : IDLE_MIN;
	w.idle_max = poll_s && atof(poll_s) > 0 ? atof(poll_s) : IDLE_MAX;
	w.idle = w.idle_min;
	make_name(stats->name, sizeof(stats->name), w.host, sizeof(w.host));
	w.jitter[0] = (unsigned short)getpid();
	w.jitter[1] = (unsigned short)(unsigned long long)(ds_monotonic() * 1e6);
	w.jitter[2] = 0x330e;
	w.hook.command = opts->alert_hook;
	w.alerts_left = 1;
	w.hook.timeout_s = opts->hook_timeout_s > 0 ? opts->hook_timeout_s : DS_WORKER_HOOK_TIMEOUT;
	if (ds_db_check_primary(db, err) < 0 ||
	    (opts->graph && ds_worker_check_graph(db, opts->graph, err) < 0))
		return -1;
	if (listen_for_runs(&w, err) < 0)
		return -1;
	if (ds_queue_init(&w.q, db, stats->name, opts->graph, opts->lease_s, err) < 0)
		return -1;
	if (open_slots(&w, err) < 0) {
		ds_queue_release(&w.q);
		return -1;
	}
	rc = ds_queue_register(&w.q, w.host, (int)getpid(), opts->concurrency, err);
	if (rc == 0)
		rc = run_riding_out(&w, err);
	/* On an error the runs still in hand are abandoned: their leases run out. */
	close_slots(&w);
	if (w.sched_busy)
		sched_cancel(&w);
	sched_drop(&w);
	ds_hook_abandon(&w.hook);
	free(w.hook_error);
	if (ds_db_connected(db)) {
		struct ds_error ignored = { 0 };

		if (ds_queue_unregister(&w.q, rc < 0 ? &ignored : err) < 0)
			rc = -1;
	}
	/* The last figures: this worker no longer among those running. */
	if (rc == 0 && opts->metrics_file && write_metrics(&w, ds_monotonic(), err) < 0)
		rc = -1;
	ds_queue_release(&w.q);
	return rc;
}
