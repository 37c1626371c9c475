/*
 * execute.c: one run in one worker slot, driven step by step so that a single loop can
 * keep many runs going: libpq's asynchronous calls for SQL, a child process (child.c)
 * and a pipe for commands.
 *
 * A SQL task runs in one transaction on the slot's connection:
 *
 *	BEGIN; SET LOCAL statement_timeout = ...; checks...; body; complete_when;
 *	mark the run succeeded (only if this worker still holds it); COMMIT
 *
 * so its work commits exactly when its success does (asynchronously: see
 * ds_queue_success_function). Without checks and complete_when all of it goes in one
 * message, whose statements are one transaction without BEGIN and COMMIT (see
 * whole_run): one round trip per run. A command task runs as
 * /bin/sh -c COMMAND in its own process group, its checks and complete_when on the
 * slot's connection outside any transaction.
 *
 * While a swap of the run's target T has an incoming table (run->also_target: T_backfill
 * of a swap started, checked or rolled back, or T_v2 in mode v2), the run writes both: a
 * SQL body runs again for the incoming table in the same transaction; a command runs a
 * second time, with DS_TARGET set to it, once the first exited 0. The checks and
 * complete_when run for the incoming table too, where :"target" makes them differ.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "execute.h"
#include "key.h"
#include "sqlvars.h"
#include "util.h"

extern char **environ;

#define OUTPUT_TAIL	  4096 /* bytes of a command's output (a SQL run's notices) kept */
#define KILL_GRACE	  5.0  /* seconds between SIGTERM and SIGKILL */
#define SQL_TIMEOUT_SLACK 1.0  /* the server's statement_timeout should fire first */

enum phase {
	PH_IDLE,
	PH_CONNECT,	  /* the slot's connection is being made for the run */
	PH_CHECK,	  /* checks[check] in flight */
	PH_BODY,	  /* the SQL body, with the success marker when there is no complete_when */
	PH_COMPLETE,	  /* complete_when in flight */
	PH_COMPLETE_ALSO, /* complete_when for run->also_target in flight */
	PH_FINISH,	  /* the success marker and COMMIT */
	PH_ROLLBACK,	  /* ROLLBACK after a failure, then done */
	PH_COMMAND,	  /* the command runs */
	PH_DONE,
};

static int setup(struct ds_slot *slot, const char *sql, struct ds_error *err)
{
	PGresult *res = PQexec(slot->conn, sql);
	int ok = PQresultStatus(res) == PGRES_COMMAND_OK;

	if (!ok) {
		int lost = ds_db_lost(slot->conn, res);
		const char *msg = lost ? PQerrorMessage(slot->conn) : PQresultErrorMessage(res);

		msg += strspn(msg, " \t\r\n");
		/* A connection lost as it was prepared is lost, not a failure of the worker. */
		ds_error_set(err, lost ? DS_ERR_CONNECTION : DS_ERR_FAILED, "%s: %.*s",
			     lost ? "the worker lost a connection to the warehouse"
				  : "cannot prepare a worker connection",
			     (int)strcspn(msg, "\r\n"), msg[0] ? msg : "no reason given");
		PQfinish(slot->conn);
		slot->conn = NULL;
	}
	PQclear(res);
	return ok ? 0 : -1;
}

static void keep_notice(void *arg, const PGresult *res);

/*
 * The slot connects as the session did (ds_db_connect_like), and keeps what the server
 * says while a run's SQL runs (keep_notice): slot must stay where it is until closed.
 */
int ds_slot_open(struct ds_slot *slot, PGconn *model, const char *setup_sql, struct ds_error *err)
{
	memset(slot, 0, sizeof(*slot));
	slot->child.out = -1;
	slot->model = model;
	slot->setup_sql = setup_sql;
	slot->conn = ds_db_connect_like(model, "datashell worker", err);
	if (!slot->conn)
		return ds_error_hint(err,
				     "each run in progress needs a connection of its own: "
				     "lower --concurrency or raise the server's max_connections");
	PQsetNoticeReceiver(slot->conn, keep_notice, slot);
	return setup(slot, setup_sql, err);
}

/* Close the slot's connection, wherever it is to, or give up the one being made. */
static void drop_connection(struct ds_slot *slot)
{
	ds_connect_abandon(&slot->connecting);
	if (slot->conn)
		PQfinish(slot->conn);
	slot->conn = NULL;
	free(slot->conn_name);
	slot->conn_name = NULL;
}

void ds_slot_ready(struct ds_slot *slot)
{
	struct pollfd pfd = { .fd = slot->conn ? PQsocket(slot->conn) : -1, .events = POLLIN };

	if (!slot->conn)
		return; /* opened by the next run, wherever it goes */

	/*
	 * An idle connection has nothing to say; if it has, the server is most likely
	 * telling it that it was terminated, and closing it. Read until libpq sees the
	 * end, so that the run is not lost to a dead connection.
	 */
	for (int i = 0; i < 3 && PQstatus(slot->conn) == CONNECTION_OK && poll(&pfd, 1, 0) > 0; i++)
		if (PQconsumeInput(slot->conn))
			PQclear(PQgetResult(slot->conn));
	if (PQstatus(slot->conn) != CONNECTION_OK)
		drop_connection(slot);
}

static void clear_run_state(struct ds_slot *slot)
{
	json_decref(slot->checks);
	free(slot->body);
	free(slot->complete_when);
	free(slot->complete_when_also);
	free(slot->qerror);
	PQclear(slot->last);
	free(slot->out);
	free(slot->error);
	free(slot->success_sql);
	if (slot->child.out >= 0)
		close(slot->child.out);
	slot->checks = NULL;
	slot->body = slot->complete_when = slot->complete_when_also = NULL;
	slot->qerror = slot->out = slot->error = NULL;
	slot->success_sql = NULL;
	slot->last = NULL;
	slot->child.out = -1;
	slot->outlen = slot->pass_bytes = 0;
	slot->pass = 0;
	slot->child.pid = 0;
	slot->wstatus = 0;
	slot->phase = PH_IDLE;
	slot->check = 0;
	slot->qstate[0] = '\0';
	slot->deadline = slot->kill_at = slot->eof_at = slot->next_look = 0;
	slot->ready = 0;
	slot->stop = DS_STOP_NONE;
	slot->done = slot->recorded = 0;
	slot->outcome = DS_OUT_FAILED;
}

static void cancel_statement(struct ds_slot *slot);

void ds_slot_close(struct ds_slot *slot)
{
	/* The worker is going away on an error: leave nothing running behind. */
	ds_child_kill(&slot->child);
	/*
	 * On a named connection a statement cut off by closing its connection may still
	 * commit, and its run would then run twice at once once claimed again: cancel it.
	 * On the state database the attempt fence refuses its success, and the server may
	 * be the one that is gone.
	 */
	if (slot->conn_name && ds_slot_in_sql(slot))
		cancel_statement(slot);
	clear_run_state(slot);
	ds_run_free(slot->run);
	slot->run = NULL;
	drop_connection(slot);
}

struct ds_run *ds_slot_reset(struct ds_slot *slot)
{
	struct ds_run *run = slot->run;

	clear_run_state(slot);
	slot->run = NULL;
	slot->idle_since = ds_monotonic();
	return run;
}

void ds_slot_close_idle(struct ds_slot *slot, double now, double after)
{
	if (!slot->run && slot->conn_name && now - slot->idle_since >= after)
		drop_connection(slot);
}

/* End the run with outcome; error is copied. */
static void finish(struct ds_slot *slot, enum ds_outcome outcome, const char *error)
{
	slot->phase = PH_DONE;
	slot->done = 1;
	slot->outcome = outcome;
	free(slot->error);
	slot->error = error ? ds_xstrdup(error) : NULL;
}

static void finishf(struct ds_slot *slot, enum ds_outcome outcome, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void finishf(struct ds_slot *slot, enum ds_outcome outcome, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	finish(slot, outcome, msg ? msg : "out of memory");
	free(msg);
}

/*
 * Which pass of a command a failure is in, when there are two (a swap under way):
 * " on the pass for TARGET", else "".
 */
static const char *pass_note(const struct ds_slot *slot, char *buf, size_t size)
{
	const struct ds_run *run = slot->run;

	if (!run->also_target || slot->phase != PH_COMMAND)
		return "";
	snprintf(buf, size, " on the pass for %s", slot->pass ? run->also_target : run->target);
	return buf;
}

/* The timeout, as people read it. */
static void finish_timeout(struct ds_slot *slot)
{
	char note[300];

	finishf(slot, DS_OUT_FAILED, "timed out after %ds%s", slot->run->timeout_s,
		pass_note(slot, note, sizeof(note)));
}

/* A run the worker stopped ends the way the reason says, whatever the run did since. */
static void finish_stopped(struct ds_slot *slot)
{
	switch (slot->stop) {
	case DS_STOP_TIMEOUT:
		finish_timeout(slot);
		break;
	case DS_STOP_CANCEL:
		finish(slot, DS_OUT_CANCELLED, "cancelled on request");
		break;
	case DS_STOP_LOST:
		finish(slot, DS_OUT_LOST, "the lease on the run was lost");
		break;
	case DS_STOP_ABORT:
	case DS_STOP_NONE:
		finish(slot, DS_OUT_REQUEUE, "the worker was stopped before the run ended");
		break;
	}
}

/*
 * sql expanded with :"target" (target, one of vars) the incoming table of a swap of the
 * run's target instead of the target itself. NULL with err filled.
 */
static char *expand_for_also(const char *sql, const struct ds_run *run, struct ds_sqlvar *vars,
			     int nvars, struct ds_sqlvar *target, struct ds_error *err)
{
	char *x;

	target->value = run->also_target;
	x = ds_sql_expand(sql, vars, nvars, err);
	target->value = run->target;
	return x;
}

/*
 * The body of a run whose target has a swap under way: the body for the target, then
 * again for the incoming table, so one transaction writes both; a body that does not
 * use :"target" is the same for both and runs once. Takes body; NULL with err filled.
 */
static char *body_for_both(char *body, const struct ds_run *run, struct ds_sqlvar *vars, int nvars,
			   struct ds_sqlvar *target, struct ds_error *err)
{
	char *again = expand_for_also(run->sql, run, vars, nvars, target, err), *both;

	if (again && !strcmp(again, body)) {
		free(again);
		return body;
	}
	both = again ? ds_xprintf("%s\n;\n%s", body, again) : NULL;

	free(body);
	free(again);
	return both;
}

/*
 * The checks of the run, expanded, into slot->checks: each for the target and then,
 * for a run with an incoming table, those whose SQL differs for it (on: that table). On
 * failure the slot is done.
 */
static int expand_checks(struct ds_slot *slot, struct ds_sqlvar *vars, int nvars,
			 struct ds_sqlvar *target)
{
	const struct ds_run *run = slot->run;
	json_t *checks = json_loads(run->checks ? run->checks : "[]", 0, NULL), *c;
	json_t *checks_also = run->also_target ? json_array() : NULL;
	struct ds_error err = { 0 };
	int rc = -1;
	size_t i;

	if (!json_is_array(checks)) {
		finish(slot, DS_OUT_FAILED_FINAL, "the task's checks are not a JSON array");
		goto out;
	}
	json_array_foreach(checks, i, c)
	{
		const char *name = json_string_value(json_object_get(c, "name"));
		const char *sql = json_string_value(json_object_get(c, "sql"));
		char *x, *y;

		if (!name || !sql) {
			finishf(slot, DS_OUT_FAILED_FINAL,
				"check %zu of the task has no name or sql", i + 1);
			goto out;
		}
		if (!(x = ds_sql_expand(sql, vars, nvars, &err))) {
			finishf(slot, DS_OUT_FAILED_FINAL, "check '%s': %s", name, err.message);
			goto out;
		}
		json_array_append_new(slot->checks,
				      json_pack("{s:s, s:s}", "name", name, "sql", x));
		y = run->also_target ? expand_for_also(sql, run, vars, nvars, target, &err) : NULL;
		if (run->also_target && !y) {
			finishf(slot, DS_OUT_FAILED_FINAL, "check '%s' for %s: %s", name,
				run->also_target, err.message);
			free(x);
			goto out;
		}
		if (y && strcmp(x, y))
			json_array_append_new(checks_also,
					      json_pack("{s:s, s:s, s:s}", "name", name, "sql", y,
							"on", run->also_target));
		free(x);
		free(y);
	}
	if (checks_also)
		json_array_extend(slot->checks, checks_also);
	rc = 0;
out:
	json_decref(checks);
	json_decref(checks_also);
	return rc;
}

/* complete_when for the incoming table into slot->complete_when_also, if it differs; 0 or -1. */
static int expand_complete_when_also(struct ds_slot *slot, struct ds_sqlvar *vars, int nvars,
				     struct ds_sqlvar *target)
{
	const struct ds_run *run = slot->run;
	struct ds_error err = { 0 };
	char *y = expand_for_also(run->complete_when, run, vars, nvars, target, &err);

	if (!y) {
		finishf(slot, DS_OUT_FAILED_FINAL, "complete_when for %s: %s", run->also_target,
			err.message);
		return -1;
	}
	if (strcmp(y, slot->complete_when))
		slot->complete_when_also = y;
	else
		free(y);
	return 0;
}

/* Expand every piece of SQL of the run; on failure the slot is done. */
static int expand_all(struct ds_slot *slot)
{
	struct ds_run *run = slot->run;
	char *start = ds_key_bound(run->kind, run->key, 0);
	char *end = ds_key_bound(run->kind, run->key, 1);
	struct ds_sqlvar vars[] = {
		{ "key", run->key, 0 },	    { "task", run->task, 0 },  { "target", run->target, 1 },
		{ "graph", run->graph, 0 }, { "key_start", start, 0 }, { "key_end", end, 0 },
	};
	struct ds_sqlvar *target = &vars[2];
	int nvars = (int)(sizeof(vars) / sizeof(vars[0])), rc = -1;
	struct ds_error err = { 0 };

	slot->checks = json_array();
	if (expand_checks(slot, vars, nvars, target) < 0)
		goto out;
	if (run->sql && !(slot->body = ds_sql_expand(run->sql, vars, nvars, &err))) {
		finishf(slot, DS_OUT_FAILED_FINAL, "the task's SQL: %s", err.message);
		goto out;
	}
	if (slot->body && run->also_target &&
	    !(slot->body = body_for_both(slot->body, run, vars, nvars, target, &err))) {
		finishf(slot, DS_OUT_FAILED_FINAL, "the task's SQL for %s: %s", run->also_target,
			err.message);
		goto out;
	}
	if (run->complete_when &&
	    !(slot->complete_when = ds_sql_expand(run->complete_when, vars, nvars, &err))) {
		finishf(slot, DS_OUT_FAILED_FINAL, "complete_when: %s", err.message);
		goto out;
	}
	if (slot->complete_when && run->also_target &&
	    expand_complete_when_also(slot, vars, nvars, target) < 0)
		goto out;
	rc = 0;
out:
	free(start);
	free(end);
	return rc;
}

/* Send sql on the slot's connection for phase. */
static void send_sql(struct ds_slot *slot, int phase, const char *sql)
{
	free(slot->qerror);
	slot->qerror = NULL;
	slot->qstate[0] = '\0';
	PQclear(slot->last);
	slot->last = NULL;
	slot->phase = phase;
	if (!PQsendQuery(slot->conn, sql)) {
		const char *msg = PQerrorMessage(slot->conn);

		finishf(slot, DS_OUT_FAILED, "cannot send the SQL: %.*s", (int)strcspn(msg, "\n"),
			msg);
	}
}

/* "BEGIN; SET LOCAL ...;\n" + sql for the first statement of a SQL task. Caller frees. */
static char *with_begin(const struct ds_slot *slot, const char *sql)
{
	if (slot->run->timeout_s > 0)
		return ds_xprintf("BEGIN; SET LOCAL statement_timeout = %d;\n%s",
				  slot->run->timeout_s * 1000, sql);
	return ds_xprintf("BEGIN;\n%s", sql);
}

/*
 * A run that is its body alone goes as one message without BEGIN and COMMIT: the
 * statements of one message already form one transaction, which commits after the
 * success marker (on the state database) or the body (on a named connection), or rolls
 * back whole on an error. Two statements fewer per run.
 */
static char *whole_run(const struct ds_slot *slot, const char *sql)
{
	const char *marker = slot->success_sql ? slot->success_sql : "";

	if (slot->run->timeout_s > 0)
		return ds_xprintf("SET LOCAL statement_timeout = %d;\n%s\n;\n%s",
				  slot->run->timeout_s * 1000, sql, marker);
	return ds_xprintf("%s\n;\n%s", sql, marker);
}

/*
 * The success marker and COMMIT, sent after the body or complete_when; COMMIT alone on
 * a named connection. Caller frees.
 */
static char *success_tail(const struct ds_slot *slot)
{
	if (!slot->success_sql)
		return ds_xstrdup("COMMIT");
	return ds_xprintf("%s;\nCOMMIT", slot->success_sql);
}

static int is_sql_task(const struct ds_slot *slot)
{
	return slot->body != NULL;
}

static void start_command(struct ds_slot *slot, double now);
static void fail(struct ds_slot *slot, enum ds_outcome outcome, char *error);

/* Send sql, with BEGIN in front if it is the first statement of a SQL task. */
static void send_step(struct ds_slot *slot, int phase, const char *sql, int first)
{
	char *text = NULL;

	if (is_sql_task(slot) && first && phase == PH_BODY && !slot->complete_when) {
		text = whole_run(slot, sql);
		sql = text;
	} else if (is_sql_task(slot) && first) {
		text = with_begin(slot, sql);
		sql = text;
	} else if (phase == PH_BODY && !slot->complete_when) {
		char *tail = success_tail(slot);

		text = ds_xprintf("%s\n;\n%s", sql, tail);
		free(tail);
		sql = text;
	}
	send_sql(slot, phase, sql);
	free(text);
}

/* Go on from phase (just finished without trouble) to what comes next. */
static void advance(struct ds_slot *slot, int from, double now)
{
	int first = from == PH_IDLE;

	/* A SQL body without complete_when committed (with its success marker, if any). */
	if (from == PH_BODY && !slot->complete_when) {
		slot->recorded = slot->success_sql != NULL;
		finish(slot, DS_OUT_SUCCESS, NULL);
		return;
	}
	if (slot->stop) {
		fail(slot, DS_OUT_FAILED, NULL); /* the stop decides; the transaction ends */
		return;
	}
	if ((from == PH_IDLE || from == PH_CHECK) &&
	    slot->check < (int)json_array_size(slot->checks)) {
		json_t *c = json_array_get(slot->checks, (size_t)slot->check);

		send_step(slot, PH_CHECK, json_string_value(json_object_get(c, "sql")), first);
		return;
	}
	if (from == PH_IDLE || from == PH_CHECK) {
		if (is_sql_task(slot))
			send_step(slot, PH_BODY, slot->body, first);
		else
			start_command(slot, now);
		return;
	}
	if ((from == PH_BODY || from == PH_COMMAND) && slot->complete_when) {
		send_step(slot, PH_COMPLETE, slot->complete_when, 0);
		return;
	}
	if (from == PH_COMPLETE && slot->complete_when_also) {
		send_step(slot, PH_COMPLETE_ALSO, slot->complete_when_also, 0);
		return;
	}
	if ((from == PH_COMPLETE || from == PH_COMPLETE_ALSO) && is_sql_task(slot)) {
		char *sql = success_tail(slot);

		send_sql(slot, PH_FINISH, sql);
		free(sql);
		return;
	}
	/* A command that did its work and met complete_when, if it has one. */
	finish(slot, DS_OUT_SUCCESS, NULL);
}

static int same_name(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/*
 * Begin connecting the slot where run goes: the state database (as the worker's
 * session does), or the run's named connection. One connection per slot: the one it
 * had is closed first.
 */
static int connect_begin(struct ds_slot *slot, const struct ds_run *run, struct ds_error *err)
{
	char *what;
	int rc;

	drop_connection(slot);
	if (!run->connection)
		return ds_connect_like_start(&slot->connecting, slot->model, "datashell worker",
					     "cannot open another connection", err);
	if (!run->conninfo)
		return ds_error_set(err, DS_ERR_FAILED,
				    "connection '%s' is not declared: load the pipeline files "
				    "that declare it",
				    run->connection);
	what = ds_xprintf("cannot open connection '%s'", run->connection);
	rc = ds_connect_conninfo_start(&slot->connecting, run->conninfo, "datashell worker", what,
				       err);
	free(what);
	return rc;
}

/* The slot's connection for its run is made: keep it, prepared for the state database. */
static int connection_made(struct ds_slot *slot, struct ds_error *err)
{
	slot->conn = ds_connect_take(&slot->connecting);
	PQsetNoticeReceiver(slot->conn, keep_notice, slot);
	if (!slot->run->connection)
		return setup(slot, slot->setup_sql, err);
	slot->conn_name = ds_xstrdup(slot->run->connection);
	return 0;
}

/*
 * The slot could not connect where its run goes (err says why): a named connection
 * that refused is the connection's trouble, not the run's (DS_OUT_UNREACHABLE); the
 * state database that refused is a connection exception (SQLSTATE class 08),
 * transient, so retried with backoff; a connection that is not declared fails as any
 * other error.
 */
static void connect_failed(struct ds_slot *slot, const struct ds_error *err)
{
	int refused = err->kind == DS_ERR_CONNECTION;

	drop_connection(slot);
	finish(slot, refused && slot->run->connection ? DS_OUT_UNREACHABLE : DS_OUT_FAILED,
	       err->message);
	if (refused)
		snprintf(slot->qstate, sizeof(slot->qstate), "08001");
}

/* The slot is connected where its run goes: the run begins. */
static void begin_run(struct ds_slot *slot, double now)
{
	struct ds_run *run = slot->run;

	/* Every run ends its transaction; should one not have, it must not leak into this. */
	if (PQtransactionStatus(slot->conn) != PQTRANS_IDLE)
		PQclear(PQexec(slot->conn, "ROLLBACK"));
	run->started = now;
	if (run->timeout_s > 0)
		slot->deadline = now + run->timeout_s + (run->sql ? SQL_TIMEOUT_SLACK : 0);
	if (expand_all(slot) < 0)
		return;
	advance(slot, PH_IDLE, now);
}

/* Go on with the connection being made, as far as the server lets it without waiting. */
static void step_connect(struct ds_slot *slot, double now)
{
	struct ds_error err = { 0 };
	int rc = ds_connect_step(&slot->connecting, &err);

	if (rc == 0)
		return;
	if (rc > 0 && connection_made(slot, &err) == 0)
		begin_run(slot, now);
	else
		connect_failed(slot, &err);
}

void ds_slot_start(struct ds_slot *slot, struct ds_run *run, char *success_sql, double now)
{
	struct ds_error err = { 0 };

	clear_run_state(slot);
	slot->run = run;
	slot->success_sql = success_sql;
	run->started = now; /* again once connected: a run's time is its work's */
	if (slot->conn && PQstatus(slot->conn) == CONNECTION_OK &&
	    same_name(slot->conn_name, run->connection)) {
		begin_run(slot, now);
		return;
	}
	if (connect_begin(slot, run, &err) < 0) {
		connect_failed(slot, &err);
		return;
	}
	slot->phase = PH_CONNECT;
	step_connect(slot, now);
}

/* Whether the last row set says exactly one row whose first column is true; if not,
 * why. */
static const char *not_true(const PGresult *res)
{
	if (!res)
		return "returned no rows";
	if (PQntuples(res) == 0)
		return "returned no rows";
	if (PQntuples(res) > 1)
		return "returned more than one row";
	if (PQgetisnull(res, 0, 0))
		return "returned NULL";
	if (strcmp(PQgetvalue(res, 0, 0), "t"))
		return "returned false";
	return NULL;
}

/*
 * A statement failed. Its error, as people read it: a timeout says so, whether the
 * server's statement_timeout or our own deadline ended it.
 */
static char *statement_error(const struct ds_slot *slot)
{
	if (!strcmp(slot->qstate, "57014") && slot->run->timeout_s > 0 &&
	    (slot->stop == DS_STOP_TIMEOUT || strstr(slot->qerror, "statement timeout")))
		return ds_xprintf("timed out after %ds", slot->run->timeout_s);
	return ds_xstrdup(slot->qerror);
}

/*
 * A statement that failed because the connection went (the server restarted or was
 * stopped, the network broke) says so with a connection exception's SQLSTATE when the
 * server could not: the error classes take it as transient wherever the SQL ran.
 */
static void note_lost(struct ds_slot *slot)
{
	if (!slot->qstate[0] && PQstatus(slot->conn) == CONNECTION_BAD)
		snprintf(slot->qstate, sizeof(slot->qstate), "08006");
}

/*
 * Fail the run (a stop the worker asked for decides the outcome instead). A SQL task's
 * transaction is rolled back before the slot is done.
 */
static void fail(struct ds_slot *slot, enum ds_outcome outcome, char *error)
{
	note_lost(slot);
	finish(slot, outcome, error);
	free(error);
	if (slot->stop)
		finish_stopped(slot);
	if (PQtransactionStatus(slot->conn) == PQTRANS_IDLE)
		return;
	/* If even ROLLBACK cannot be sent, the connection is gone and the transaction too. */
	if (PQsendQuery(slot->conn, "ROLLBACK")) {
		slot->phase = PH_ROLLBACK;
		slot->done = 0;
	}
}

/* The statement in flight has returned everything: decide what follows. */
static void statement_done(struct ds_slot *slot, double now)
{
	int phase = slot->phase;
	const char *why;

	if (phase == PH_ROLLBACK) {
		slot->phase = PH_DONE;
		slot->done = 1;
		return;
	}
	if (slot->qerror && !strcmp(slot->qstate, DS_LEASE_LOST)) {
		fail(slot, DS_OUT_LOST, ds_xstrdup(slot->qerror));
		return;
	}
	if (phase == PH_CHECK) {
		json_t *c = json_array_get(slot->checks, (size_t)slot->check);
		const char *name = json_string_value(json_object_get(c, "name"));
		const char *on = json_string_value(json_object_get(c, "on"));

		/*
		 * A check that answers false blocks the run: the data is not ready. A check
		 * whose own SQL fails (a syntax error, a missing table) says nothing of the
		 * data: it is a failure of the task, classified by its SQLSTATE as any other,
		 * so that it is retried or trips the breaker instead of blocking forever.
		 */
		if (slot->qerror)
			fail(slot, DS_OUT_FAILED,
			     ds_xprintf("check '%s' could not run%s%s: %s", name, on ? " for " : "",
					on ? on : "", slot->qerror));
		else if ((why = not_true(slot->last)))
			fail(slot, DS_OUT_BLOCKED,
			     ds_xprintf("check '%s' failed%s%s: %s", name, on ? " for " : "",
					on ? on : "", why));
		else {
			slot->check++;
			advance(slot, PH_CHECK, now);
		}
		return;
	}
	if (phase == PH_COMPLETE || phase == PH_COMPLETE_ALSO) {
		const char *on = phase == PH_COMPLETE_ALSO ? slot->run->also_target : NULL;

		if (slot->qerror)
			fail(slot, DS_OUT_FAILED,
			     ds_xprintf("complete_when failed%s%s: %s", on ? " for " : "",
					on ? on : "", slot->qerror));
		else if ((why = not_true(slot->last)))
			fail(slot, DS_OUT_FAILED,
			     ds_xprintf("complete_when %s%s%s", why, on ? " for " : "",
					on ? on : ""));
		else
			advance(slot, phase, now);
		return;
	}
	if (slot->qerror) {
		fail(slot, DS_OUT_FAILED, statement_error(slot));
		return;
	}
	if (phase == PH_FINISH) {
		slot->recorded = slot->success_sql != NULL;
		finish(slot, DS_OUT_SUCCESS, NULL);
		return;
	}
	advance(slot, phase, now);
}

static int sql_phase(int phase)
{
	return phase == PH_CHECK || phase == PH_BODY || phase == PH_COMPLETE ||
	       phase == PH_COMPLETE_ALSO || phase == PH_FINISH || phase == PH_ROLLBACK;
}

/* Read what the server sent for the statement in flight. */
static void read_results(struct ds_slot *slot, double now)
{
	PGresult *res;

	if (!PQconsumeInput(slot->conn)) {
		const char *msg = PQerrorMessage(slot->conn);

		/* The transaction died with the connection; the worker reconnects the slot. */
		note_lost(slot);
		finishf(slot, DS_OUT_FAILED, "the connection to the warehouse was lost: %.*s",
			(int)strcspn(msg, "\n"), msg);
		if (slot->stop)
			finish_stopped(slot);
		return;
	}
	while (sql_phase(slot->phase) && !PQisBusy(slot->conn)) {
		res = PQgetResult(slot->conn);
		if (!res) {
			statement_done(slot, now);
			continue;
		}
		switch (PQresultStatus(res)) {
		case PGRES_TUPLES_OK:
			PQclear(slot->last);
			slot->last = res;
			continue;
		case PGRES_COMMAND_OK:
		case PGRES_EMPTY_QUERY:
			break;
		default:
			if (!slot->qerror) {
				const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
				const char *st = PQresultErrorField(res, PG_DIAG_SQLSTATE);

				if (!msg)
					msg = PQresultErrorMessage(res);
				slot->qerror = ds_xprintf("%.*s", (int)strcspn(msg, "\n"), msg);
				snprintf(slot->qstate, sizeof(slot->qstate), "%s", st ? st : "");
			}
			break;
		}
		PQclear(res);
	}
}

/* The target the command writes on this pass. */
static const char *pass_target(const struct ds_slot *slot)
{
	return slot->pass ? slot->run->also_target : slot->run->target;
}

/*
 * The environment of a command: ours, with DS_* describing the run and the pass
 * (DS_TARGET_PASS: main for the task's target; backfill for T_backfill, v2 for T_v2, the
 * incoming table of a swap under way). Caller frees.
 */
static char **command_env(const struct ds_slot *slot)
{
	const struct ds_run *run = slot->run;
	const char *target = pass_target(slot);
	size_t n = 0, k = 0;
	char **env;

	while (environ[n])
		n++;
	env = ds_xmalloc((n + 8) * sizeof(*env));
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "DS_", 3))
			env[k++] = ds_xstrdup(environ[i]);
	env[k++] = ds_xprintf("DS_TASK=%s", run->task);
	env[k++] = ds_xprintf("DS_KEY=%s", run->key);
	env[k++] = ds_xprintf("DS_TARGET=%s", target ? target : "");
	env[k++] = ds_xprintf("DS_TARGET_PASS=%s", slot->pass ? slot->run->also_pass : "main");
	env[k++] = ds_xprintf("DS_GRAPH=%s", run->graph);
	env[k++] = ds_xprintf("DS_RUN_ID=%lld", run->id);
	env[k++] = ds_xprintf("DS_ATTEMPT=%d", run->attempt);
	env[k] = NULL;
	return env;
}

static void free_env(char **env)
{
	for (size_t i = 0; env[i]; i++)
		free(env[i]);
	free(env);
}

/* Keep at most OUTPUT_TAIL bytes of output, so that OUTPUT_TAIL more fit. */
static void make_room(struct ds_slot *slot)
{
	if (!slot->out)
		slot->out = ds_xmalloc(2 * OUTPUT_TAIL);
	if (slot->outlen > OUTPUT_TAIL) {
		memmove(slot->out, slot->out + slot->outlen - OUTPUT_TAIL, OUTPUT_TAIL);
		slot->outlen = OUTPUT_TAIL;
	}
}

/*
 * Add lines of our own to the output, on a line of their own; their tail if long. The
 * buffer is made room in only when they do not fit: a SQL loop may RAISE a million.
 */
static void add_lines(struct ds_slot *slot, const char *text)
{
	size_t len = strlen(text);

	if (len > OUTPUT_TAIL - 1) {
		text += len - (OUTPUT_TAIL - 1);
		len = OUTPUT_TAIL - 1;
	}
	if (!slot->out || slot->outlen + 1 + len > 2 * OUTPUT_TAIL)
		make_room(slot);
	if (slot->outlen && slot->out[slot->outlen - 1] != '\n')
		slot->out[slot->outlen++] = '\n';
	memcpy(slot->out + slot->outlen, text, len);
	slot->outlen += len;
}

/*
 * What the server says while a run's SQL runs (RAISE NOTICE, WARNING, INFO in its
 * checks, body or complete_when) is kept with the run, as a command's output is, a
 * message as psql shows it: "NOTICE:  42 rows". What it says elsewhere (setting up the
 * connection, ROLLBACK) is no part of a run, and dropped.
 */
static void keep_notice(void *arg, const PGresult *res)
{
	struct ds_slot *slot = arg;
	int phase = slot->phase;

	if (slot->run && (phase == PH_CHECK || phase == PH_BODY || phase == PH_COMPLETE ||
			  phase == PH_COMPLETE_ALSO))
		add_lines(slot, PQresultErrorMessage(res));
}

/*
 * The output of a run in two passes is one: a line saying where the second pass
 * begins separates them.
 */
static void mark_second_pass(struct ds_slot *slot)
{
	char *line = ds_xprintf("--- DS_TARGET_PASS=%s DS_TARGET=%.200s ---\n",
				slot->run->also_pass, slot->run->also_target);

	add_lines(slot, line);
	free(line);
}

/*
 * Start the command for the pass: /bin/sh -c COMMAND in its own process group, stdin
 * from /dev/null, stdout and stderr into a pipe that the slot reads without blocking.
 */
static void start_command(struct ds_slot *slot, double now)
{
	char *argv[] = { (char *)"sh", (char *)"-c", slot->run->command, NULL };
	char **env = command_env(slot);
	const struct ds_child_opts opts = {
		.path = "/bin/sh",
		.argv = argv,
		.envp = env,
		.own_group = 1,
		.output = DS_CHILD_OUTPUT_PIPE,
	};
	const char *failed;
	int rc;

	if (slot->pass && slot->run->timeout_s > 0)
		slot->deadline = now + slot->run->timeout_s; /* each pass has the timeout */
	rc = ds_child_start(&slot->child, &opts, &failed);
	free_env(env);
	if (rc < 0) {
		finishf(slot, DS_OUT_FAILED, "cannot start the command: %s: %s", failed,
			strerror(errno));
		return;
	}
	fcntl(slot->child.out, F_SETFL, fcntl(slot->child.out, F_GETFL) | O_NONBLOCK);
	if (slot->pass)
		mark_second_pass(slot);
	slot->pass_bytes = 0;
	slot->eof_at = slot->next_look = 0;
	slot->phase = PH_COMMAND;
}

/* Read what the command wrote, keeping the last OUTPUT_TAIL bytes. */
static void read_output(struct ds_slot *slot)
{
	for (;;) {
		ssize_t n;

		make_room(slot);
		n = read(slot->child.out, slot->out + slot->outlen, 2 * OUTPUT_TAIL - slot->outlen);
		if (n > 0) {
			slot->outlen += (size_t)n;
			slot->pass_bytes += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
			close(slot->child.out);
			slot->child.out = -1;
			slot->eof_at = ds_monotonic();
		}
		return;
	}
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 if there is none. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	unsigned min;
	unsigned cp;

	if (s[0] < 0x80)
		return s[0] ? 1 : 0;
	if ((s[0] & 0xe0) == 0xc0)
		len = 2, min = 0x80, cp = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		len = 3, min = 0x800, cp = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		len = 4, min = 0x10000, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* The last n bytes of the output (at most OUTPUT_TAIL) as valid UTF-8 text. */
static char *output_tail(const struct ds_slot *slot, size_t n)
{
	const unsigned char *s;
	size_t i = 0;
	struct ds_buf b = DS_BUF_INIT;

	if (n > slot->outlen)
		n = slot->outlen;
	if (n > OUTPUT_TAIL)
		n = OUTPUT_TAIL;
	s = (const unsigned char *)slot->out + slot->outlen - n;
	/* The cut may fall inside a character: start at the next one. */
	while (n < slot->outlen && i < n && i < 3 && (s[i] & 0xc0) == 0x80)
		i++;
	/* A text column takes neither NUL nor invalid UTF-8: those become '?'. */
	while (i < n) {
		size_t len = utf8_len(s + i, n - i);

		if (len) {
			ds_buf_add(&b, (const char *)s + i, len);
			i += len;
		} else {
			ds_buf_add(&b, "?", 1);
			i++;
		}
	}
	return ds_buf_take(&b);
}

char *ds_slot_output(const struct ds_slot *slot)
{
	return slot->out ? output_tail(slot, slot->outlen) : NULL;
}

/* The last non-empty line the pass wrote, for an error message. Caller frees. */
static char *last_line(const struct ds_slot *slot)
{
	char *text = slot->out ? output_tail(slot, slot->pass_bytes) : NULL, *end, *start, *line;

	if (!text)
		return NULL;
	end = text + strlen(text);
	while (end > text && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
		end--;
	*end = '\0';
	start = strrchr(text, '\n');
	start = start ? start + 1 : text;
	line = *start ? ds_xprintf("%.200s", start) : NULL;
	free(text);
	return line;
}

/* The command exited (status in slot->wstatus): judge it. */
static void command_done(struct ds_slot *slot, double now)
{
	int st = slot->wstatus;
	char *line, buf[300];
	const char *where;

	if (slot->child.out >= 0) {
		/* What is there now: a child the command left behind may hold the pipe. */
		read_output(slot);
		close(slot->child.out);
		slot->child.out = -1;
	}
	if (slot->stop) {
		finish_stopped(slot);
		return;
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0 && slot->run->also_target && !slot->pass) {
		slot->pass = 1; /* now for the incoming table */
		start_command(slot, now);
		return;
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		advance(slot, PH_COMMAND, now);
		return;
	}
	line = last_line(slot);
	where = pass_note(slot, buf, sizeof(buf));
	if (WIFEXITED(st))
		finishf(slot, DS_OUT_FAILED, "exited with status %d%s%s%s", WEXITSTATUS(st), where,
			line ? ": " : "", line ? line : "");
	else
		finishf(slot, DS_OUT_FAILED, "killed by signal %d (%s)%s%s%s", WTERMSIG(st),
			strsignal(WTERMSIG(st)), where, line ? ": " : "", line ? line : "");
	free(line);
}

/*
 * Reap the command if it exited. A stopped command's group is killed whole first;
 * otherwise what it left behind runs on (and may hold the pipe). The slot keeps its
 * own deadline: a timeout is a stop, with a grace between SIGTERM and SIGKILL.
 */
static void check_child(struct ds_slot *slot, double now)
{
	if (ds_child_poll(&slot->child, now, 0, slot->stop != DS_STOP_NONE, &slot->wstatus) ==
	    DS_CHILD_EXITED)
		command_done(slot, now);
}

int ds_slot_pollfd(const struct ds_slot *slot, struct pollfd *pfd)
{
	if (!slot->run || slot->done)
		return 0;
	if (slot->phase == PH_CONNECT)
		return ds_connect_pollfd(&slot->connecting, pfd);
	if (slot->phase == PH_COMMAND) {
		if (slot->child.out < 0)
			return 0;
		pfd->fd = slot->child.out;
	} else {
		pfd->fd = PQsocket(slot->conn);
	}
	pfd->events = POLLIN;
	pfd->revents = 0;
	return 1;
}

int ds_slot_in_sql(const struct ds_slot *slot)
{
	return slot->run && !slot->done && slot->phase >= PH_CHECK && slot->phase <= PH_FINISH;
}

static double earliest(double a, double b)
{
	return !a ? b : !b ? a : a < b ? a : b;
}

double ds_slot_wake_at(const struct ds_slot *slot, double now)
{
	double t = 0;

	if (!slot->run || slot->done)
		return 0;
	if (!slot->stop)
		t = slot->deadline;
	t = earliest(t, slot->kill_at);
	if (slot->phase == PH_COMMAND)
		t = earliest(t, slot->next_look > now ? slot->next_look : now);
	if (slot->phase == PH_CONNECT)
		t = earliest(t, ds_connect_wake_at(&slot->connecting));
	return t;
}

void ds_slot_stop(struct ds_slot *slot, enum ds_stop_reason reason, double now)
{
	if (!slot->run || slot->done || slot->stop)
		return;
	slot->stop = reason;
	if (slot->phase == PH_CONNECT) {
		/* Nothing of the run has begun: it ends as the stop says. */
		drop_connection(slot);
		finish_stopped(slot);
	} else if (slot->phase == PH_COMMAND && slot->child.pid > 0) {
		ds_child_signal(&slot->child, SIGTERM);
		slot->kill_at = now + KILL_GRACE;
	} else if (sql_phase(slot->phase) && slot->phase != PH_ROLLBACK) {
		cancel_statement(slot);
	}
}

/* Ask the server to cancel the statement in flight on the slot's connection. */
static void cancel_statement(struct ds_slot *slot)
{
	char errbuf[256];
	PGcancel *c = PQgetCancel(slot->conn);

	if (c) {
		PQcancel(c, errbuf, sizeof(errbuf));
		PQfreeCancel(c);
	}
}

void ds_slot_step(struct ds_slot *slot, double now)
{
	int ready = slot->ready;

	slot->ready = 0;
	if (!slot->run || slot->done)
		return;
	if (!slot->stop && slot->deadline && now >= slot->deadline)
		ds_slot_stop(slot, DS_STOP_TIMEOUT, now);
	if (slot->phase == PH_CONNECT) {
		step_connect(slot, now);
		return;
	}
	if (slot->phase == PH_COMMAND) {
		if (slot->kill_at && now >= slot->kill_at) {
			ds_child_signal(&slot->child, SIGKILL);
			slot->kill_at = 0;
		}
		if (slot->child.out >= 0 && ready)
			read_output(slot);
		/*
		 * The pipe closes when the command exits, unless a child of it keeps it
		 * open: look now and then, and often just after the pipe closed, when the
		 * exit is near.
		 */
		if (slot->child.out < 0 || now >= slot->next_look) {
			slot->next_look =
				now +
				(slot->child.out < 0 && now - slot->eof_at < 0.1 ? 0.005 : 0.1);
			check_child(slot, now);
		}
		return;
	}
	if (ready && sql_phase(slot->phase))
		read_results(slot, now);
}
