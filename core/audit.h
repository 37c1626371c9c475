/*
 * audit.h: the audit log every command that changes state writes to.
 *
 * One row per command: when, the database user and client address (taken by the server,
 * so they cannot be made up), the command line as typed with its secrets masked, the
 * outcome, the error of a failed command and what the command touched ({"batch": 42}).
 *
 * The shell starts a struct ds_audit for each command that may change state. A change
 * that succeeds writes its row inside its own transaction, so the two commit or roll
 * back together; when the command fails instead, its transaction is gone, and the shell
 * writes the "failed" row afterwards (see ds_audit_finish).
 */
#ifndef DS_AUDIT_H
#define DS_AUDIT_H

#include <jansson.h>

#include "db.h"

struct ds_audit {
	char *command;	 /* the line as typed, secrets masked; NULL: nothing to record */
	json_t *touched; /* what the change touched, or NULL; see ds_audit_touch */
	long long id;	 /* the row written for this command, 0 until then */
	int unchanged;	 /* this invocation changes nothing (a dry run, a listing) */
	int waits;	 /* it waits for what it changes (--wait): its row is concluded */
};

/* Start the record of one command line (copied, its secrets masked). */
void ds_audit_begin(struct ds_audit *a, const char *line);
void ds_audit_release(struct ds_audit *a);

/* Set what the command touched; touched is consumed. a may be NULL. */
void ds_audit_touch(struct ds_audit *a, json_t *touched);

/*
 * Write the row of a command that changed state, with outcome "ok" (or "waiting" when
 * it waits for what it started: ds_audit_finish concludes it), inside the caller's
 * transaction. Does nothing when a is NULL or the invocation is unchanged.
 */
int ds_audit_ok(struct ds_db *db, struct ds_audit *a, struct ds_error *err);

/*
 * After the command: write its row if it has none yet. rc is the command's result and
 * error why it failed. A failed command's row says "failed" and the error; a command
 * that succeeded without writing its own row (a worker's session) gets an "ok" row with
 * what it touched. A row written in a transaction that was then rolled back does not
 * count. A "waiting" row is concluded: "ok", or "failed" with the error of the
 * waiting. Usage errors (error->kind DS_ERR_USAGE) get no row: nothing was tried. Best
 * effort: when the connection is lost, there is nobody to tell (a row stays "waiting").
 */
void ds_audit_finish(struct ds_db *db, struct ds_audit *a, int rc, const struct ds_error *error);

/* Which rows ds_audit_read returns: the last since seconds, of one user, of one command. */
struct ds_audit_filter {
	long since;
	const char *user;    /* database user, or NULL for all */
	const char *command; /* the command's name ("backfill"), or NULL for all */
};

/*
 * The rows that match, oldest first: [{"at", "user", "client" (null on a Unix socket),
 * "command", "outcome", "touched" (what it touched, as text: "batch 42, runs 124"),
 * "error", "detail" (the same as an object)}]. Caller frees.
 */
json_t *ds_audit_read(struct ds_db *db, const struct ds_audit_filter *f, struct ds_error *err);

#endif
