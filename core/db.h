/*
 * db.h: the connection to the state store, and statements run on it.
 *
 * Connections follow libpq conventions: PG* variables, a conninfo string or URI,
 * ~/.pgpass and service files all work because we pass NULL for whatever the user did
 * not give and let libpq fill it in. Every connection is made here (db.c), which keeps
 * what the server says as it starts off stderr, and waits for a server at most
 * connect_timeout on each address, 10 seconds when nothing sets it.
 */
#ifndef DS_DB_H
#define DS_DB_H

#include <poll.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "error.h"

struct ds_db {
	PGconn *conn;
	PGcancel *cancel;   /* for Ctrl-C: see ds_db_cancel_running() */
	char *schema;	    /* the state schema's name, as the user gave it */
	char *schema_ident; /* the same, quoted as an SQL identifier */
	char **sql_texts;   /* embedded statements for this schema, see ds_sql() */
};

/* What to connect to: a conninfo/URI (or NULL) and optional overrides (or NULL). */
struct ds_conn_target {
	const char *conninfo;
	const char *host;
	const char *port;
	const char *user;
	const char *dbname;
};

/*
 * Connect to target and use schema for state. On failure err has libpq's reason and
 * kind DS_ERR_CONNECTION. Release with ds_db_release().
 */
int ds_db_connect(struct ds_db *db, const struct ds_conn_target *target, const char *schema,
		  struct ds_error *err);
void ds_db_release(struct ds_db *db);

/*
 * Connect db again, with the settings it was made with, after its connection was lost:
 * a new session (what the old one had set or prepared is gone), on whichever of a
 * multi-host conninfo's hosts libpq picks now. On failure err has libpq's reason, or
 * says that the server reached is a standby (ds_db_check_primary), kind
 * DS_ERR_CONNECTION, and db is to be reconnected again before it is used.
 */
int ds_db_reconnect(struct ds_db *db, struct ds_error *err);

/*
 * Whether db reached a primary, as the state store needs: -1 with err filled (kind
 * DS_ERR_CONNECTION, for a standby in recovery may soon be promoted) when the server
 * says it is a hot standby.
 */
int ds_db_check_primary(struct ds_db *db, struct ds_error *err);

/* Free the statements ds_sql() filled in for db's schema (when the schema changes). */
void ds_db_forget_sql(struct ds_db *db);

/*
 * Another session to the server model is connected to, with exactly the settings it
 * ended up with (host, port, user, database, password, options...), whatever mix of
 * conninfo, URI, PG* variables or service file produced them. Caller PQfinish()es it;
 * NULL with err filled (kind DS_ERR_CONNECTION).
 */
PGconn *ds_db_connect_like(PGconn *model, const char *application_name, struct ds_error *err);

/*
 * A session with a connection string of its own (a named connection's: key=value, a
 * URI or service=NAME; libpq fills in the rest from PG* variables, .pgpass and the
 * service file, as for any connection of ours). what starts the message of a failure.
 * Caller PQfinish()es it; NULL with err filled (kind DS_ERR_CONNECTION).
 */
PGconn *ds_db_connect_conninfo(const char *conninfo, const char *application_name, const char *what,
			       struct ds_error *err);

/*
 * A connection being made without waiting for the server, as a worker's slot makes
 * one while its loop goes on: begun by ds_connect_conninfo_start() or
 * ds_connect_like_start() (as ds_db_connect_conninfo() and ds_db_connect_like() would
 * connect), then stepped by ds_connect_step() whenever its descriptor
 * (ds_connect_pollfd) is ready or its time (ds_connect_wake_at) has come.
 */
struct ds_connecting {
	PGconn *conn;		      /* NULL once taken or abandoned */
	PostgresPollingStatusType st; /* what PQconnectPoll() last asked for */
	int sock;		      /* the socket of the address being tried */
	double attempt_start;	      /* monotonic time that address was first tried */
	int timeout_ms;		      /* connect_timeout, for each address */
	char *what;		      /* starts the message of a failure */
};

/* Begin connecting c; -1 with err filled (c holds nothing) if it cannot begin. */
int ds_connect_conninfo_start(struct ds_connecting *c, const char *conninfo,
			      const char *application_name, const char *what, struct ds_error *err);
int ds_connect_like_start(struct ds_connecting *c, PGconn *model, const char *application_name,
			  const char *what, struct ds_error *err);

/*
 * Go on as far as the server lets c go without waiting: 1 once connected (take the
 * connection with ds_connect_take), 0 while it waits for the server, -1 with err
 * filled (kind DS_ERR_CONNECTION; c abandoned) when it failed or connect_timeout
 * expired on its last address.
 */
int ds_connect_step(struct ds_connecting *c, struct ds_error *err);

/* The descriptor to poll for c: 1 if pfd was filled, else 0. */
int ds_connect_pollfd(const struct ds_connecting *c, struct pollfd *pfd);

/* The monotonic time by which ds_connect_step must be called again. */
double ds_connect_wake_at(const struct ds_connecting *c);

/* c's connection, made; the caller PQfinish()es it. c is left empty. */
PGconn *ds_connect_take(struct ds_connecting *c);

/* Give up c: its connection is closed. Harmless on an empty one. */
void ds_connect_abandon(struct ds_connecting *c);

/*
 * Whether a statement's failure (res, may be NULL) means that the connection is lost:
 * libpq says so, the server is shutting down, or an error of libpq's own turns out to
 * be an end of the connection. The one test for every statement: ds_db_query and the
 * worker's own.
 */
int ds_db_lost(PGconn *conn, const PGresult *res);

/*
 * Fill err as a statement on db would have, for a loss found outside one (reading
 * notifications): -1.
 */
int ds_db_lost_error(struct ds_db *db, struct ds_error *err);

/* True while the connection is usable. */
int ds_db_connected(const struct ds_db *db);

/*
 * Run one statement with text parameters. Returns the result (caller frees with
 * PQclear) or NULL with err filled: the server's message and hint, or kind
 * DS_ERR_CONNECTION when the connection was lost.
 */
PGresult *ds_db_query(struct ds_db *db, const char *sql, int nparams, const char *const *params,
		      struct ds_error *err);

/*
 * Run one or more statements without parameters (a migration, a transaction verb);
 * the results are not needed.
 */
int ds_db_exec(struct ds_db *db, const char *sql, struct ds_error *err);

/*
 * Ask the server to cancel the statement running on the most recently connected
 * session. Safe to call from a signal handler (it only uses PQcancel); does nothing
 * when there is no connection.
 */
void ds_db_cancel_running(void);

/*
 * From now on until db is released, Ctrl-C (ds_db_cancel_running) cancels the statement
 * running on db's session too: a command that works on a second database (a warehouse's,
 * swap-table --connection) would otherwise wait there, a lock wait as long as any, with
 * only the idle state store's statement cancelled. Both are asked: a cancel reaching an
 * idle session is ignored by the server. One such session at a time; the last given is it.
 */
void ds_db_cancel_also(struct ds_db *db);

/*
 * Whether ds_db_cancel_running() was called since the last ds_db_clear_interrupt(),
 * for loops that wait between statements (--wait) to stop too.
 */
int ds_db_interrupted(void);
void ds_db_clear_interrupt(void);

/*
 * End the transaction begun with ds_db_exec(db, "BEGIN"): COMMIT when rc is 0, else
 * ROLLBACK (err keeps the reason of the failure). Returns 0 once committed, else -1.
 */
int ds_db_end(struct ds_db *db, int rc, struct ds_error *err);

/*
 * Run a query and return its rows as a JSON array of objects named after the columns:
 * integers and booleans as JSON numbers and booleans, json and jsonb as themselves
 * (so SQL can build nested objects), NULL as null, the rest as strings. Caller frees with
 * json_decref; NULL with err filled on failure.
 */
json_t *ds_db_json_rows(struct ds_db *db, const char *sql, int nparams, const char *const *params,
			struct ds_error *err);

/*
 * Run the statements a query returned (the first column of each row of res), in
 * order, stopping at the first that fails. Takes res (NULL: the query failed, -1).
 */
int ds_db_exec_rows(struct ds_db *db, PGresult *res, struct ds_error *err);

/* ROLLBACK if a transaction is open; used on error paths, so it reports nothing. */
void ds_db_rollback(struct ds_db *db);

#endif
