/*
 * execute.h: running one claimed run in a worker slot, without blocking: its checks,
 * its body (SQL on the slot's own connection, or a command in its own process group)
 * and its complete_when. The worker's loop polls the slot's descriptor, calls
 * ds_slot_step and, once the slot is done, records the outcome.
 */
#ifndef DS_EXECUTE_H
#define DS_EXECUTE_H

#include <poll.h>
#include <sys/types.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "child.h"
#include "claim.h"
#include "db.h"

/* Why the worker stops a run before it ends by itself. */
enum ds_stop_reason {
	DS_STOP_NONE,
	DS_STOP_TIMEOUT, /* tasks.timeout_s passed */
	DS_STOP_CANCEL,	 /* cancel was requested */
	DS_STOP_LOST,	 /* the lease is no longer ours */
	DS_STOP_ABORT,	 /* the worker must stop now: give the run back */
};

struct ds_slot {
	PGconn *conn;	 /* the slot's own connection: NULL until a run needs one */
	char *conn_name; /* the named connection conn is to; NULL: the state database */
	struct ds_connecting connecting; /* conn as it is being made for the run */
	PGconn *model;	       /* the worker's session, whose settings reach the state database */
	const char *setup_sql; /* run on a connection to the state database as it connects */
	double idle_since;     /* monotonic time its last run ended */
	struct ds_run *run;    /* NULL while the slot is free */
	char *success_sql;     /* marks the run succeeded inside its transaction */

	/* The SQL of the run, expanded. */
	json_t *checks; /* [{name, sql[, on]}] with sql expanded; on: the shadow */
	char *body, *complete_when;
	char *complete_when_also; /* complete_when for run->also_target, or NULL */

	/* The statement in flight. */
	int phase;	/* enum in execute.c */
	int check;	/* index of the check in flight */
	char *qerror;	/* its first error */
	char qstate[6]; /* and that error's SQLSTATE */
	PGresult *last; /* its last row set */

	/* The command in flight. */
	int pass;	       /* 0: for run->target; 1: again for run->also_target */
	struct ds_child child; /* child.out: its stdout and stderr; -1 once closed */
	char *out;	       /* the tail of what it wrote */
	size_t outlen;
	size_t pass_bytes; /* what the pass in flight wrote so far */
	int wstatus;	   /* from waitpid, once it exited */
	double eof_at;	   /* when its output pipe closed */

	int ready;	  /* poll() says its descriptor has something to read */
	double next_look; /* when to look again whether the command exited */
	double deadline;  /* monotonic time of the timeout; 0: none */
	double kill_at;	  /* when to send SIGKILL after SIGTERM; 0: not yet */
	enum ds_stop_reason stop;

	/* How it ended. */
	int done;
	enum ds_outcome outcome;
	int recorded; /* success was committed with the task's own work (the state
		       * database); on a named connection the worker records it after */
	char *error;  /* why it failed, or NULL */
};

/*
 * Open the slot's connection with the settings of model (a connection that works) and
 * run setup_sql on it (ds_queue_success_function). Both are kept (neither is copied:
 * they must outlive the slot) for when a run on the state database follows one on a
 * named connection. Release with ds_slot_close().
 */
int ds_slot_open(struct ds_slot *slot, PGconn *model, const char *setup_sql, struct ds_error *err);
void ds_slot_close(struct ds_slot *slot);

/*
 * Make sure a free slot's connection is alive; if it was lost (the server restarted, an
 * administrator terminated it), it is closed: the next run opens one where it goes, and
 * fails if it cannot, so that a warehouse down is a matter of its runs, not of the
 * worker, and no connection is waited for while the worker's loop waits.
 */
void ds_slot_ready(struct ds_slot *slot);

/*
 * Close a free slot's connection to a named connection once it has been idle for after
 * seconds: a warehouse is not held by workers that have nothing to run there. The next
 * run that needs it opens it again.
 */
void ds_slot_close_idle(struct ds_slot *slot, double now, double after);

/*
 * Begin run in slot (which takes it over); success_sql is what records success in
 * the task's transaction (ds_queue_success_sql; the slot frees it), NULL for a run on a
 * named connection, whose success the worker records once its work committed. The
 * slot first connects where the run goes, if it is not there (closing the connection
 * it had), without waiting for the server: the connection is made as ds_slot_step is
 * called, while the worker's loop goes on with its other slots, leases and claims. The
 * slot may already be done when this returns (the SQL does not expand, the connection
 * was refused at once). A named connection that cannot be made ends the run
 * DS_OUT_UNREACHABLE.
 */
void ds_slot_start(struct ds_slot *slot, struct ds_run *run, char *success_sql, double now);

/*
 * The descriptor to poll for the slot, if any: 1 if pfd was filled, else 0. Set
 * slot->ready when poll() finds something to read on it.
 */
int ds_slot_pollfd(const struct ds_slot *slot, struct pollfd *pfd);

/* Whether the run in slot is in a SQL statement, whose end may commit its success. */
int ds_slot_in_sql(const struct ds_slot *slot);

/* The latest monotonic time by which ds_slot_step must be called again; 0: no limit. */
double ds_slot_wake_at(const struct ds_slot *slot, double now);

/* Make progress: read what arrived (if ready), reap the command, enforce the timeout. */
void ds_slot_step(struct ds_slot *slot, double now);

/* Stop the run in slot for reason: cancel its statement or signal its process group. */
void ds_slot_stop(struct ds_slot *slot, enum ds_stop_reason reason, double now);

/* The tail of the command's output as valid UTF-8 text, or NULL. Caller frees. */
char *ds_slot_output(const struct ds_slot *slot);

/* Hand the run back (the caller frees it) and make the slot free again. */
struct ds_run *ds_slot_reset(struct ds_slot *slot);

#endif
