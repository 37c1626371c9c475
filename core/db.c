/* db.c: connecting with libpq and turning libpq's failures into struct ds_error. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "sql.h"
#include "util.h"

/*
 * libpq messages end with a newline and may span lines, or start with one: keep the
 * first line that says something.
 */
static void copy_first_line(char *dst, size_t size, const char *src)
{
	size_t n;

	src = src ? src : "";
	src += strspn(src, " \t\r\n");
	n = strcspn(src, "\r\n");
	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Why a connection failed or was lost: the connection's words, else the result's. */
static int connection_error_of(struct ds_error *err, const char *what, PGconn *conn,
			       const PGresult *res)
{
	char reason[768] = "";

	/* The connection's message holds the server's last words (FATAL: ...) first. */
	copy_first_line(reason, sizeof(reason), PQerrorMessage(conn));
	if (!reason[0] && res)
		copy_first_line(reason, sizeof(reason), PQresultErrorMessage(res));
	ds_error_set(err, DS_ERR_CONNECTION, "%s: %s", what,
		     reason[0] ? reason : "the server closed the connection");
	return -1;
}

static int connection_error(struct ds_error *err, const char *what, PGconn *conn)
{
	return connection_error_of(err, what, conn, NULL);
}

int ds_db_lost_error(struct ds_db *db, struct ds_error *err)
{
	return connection_error_of(err, "the connection to the server was lost", db->conn, NULL);
}

int ds_db_lost(PGconn *conn, const PGresult *res)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	if (!conn || PQstatus(conn) != CONNECTION_OK)
		return 1;
	/* Connection exceptions, and the server shutting down or restarting under us. */
	if (state && (!strncmp(state, "08", 2) || !strcmp(state, "57P01") ||
		      !strcmp(state, "57P02") || !strcmp(state, "57P03")))
		return 1;
	/*
	 * An error of libpq's own (no SQLSTATE), as when the server vanished: the
	 * connection may not know yet; reading from it tells.
	 */
	if (!state && !PQconsumeInput(conn))
		return 1;
	return PQstatus(conn) != CONNECTION_OK;
}

/*
 * The cancel handle of the most recent connection, read by ds_db_cancel_running() from
 * a signal handler, so it is published and withdrawn with single pointer stores.
 */
static PGcancel *volatile running_cancel;

static volatile sig_atomic_t interrupt_seen;

int ds_db_interrupted(void)
{
	return interrupt_seen;
}

void ds_db_clear_interrupt(void)
{
	interrupt_seen = 0;
}

void ds_db_cancel_running(void)
{
	PGcancel *c = running_cancel;
	char errbuf[256];

	interrupt_seen = 1;
	if (c)
		PQcancel(c, errbuf, sizeof(errbuf));
}

/* Our own messages say what happened; the server's NOTICEs would only add noise. */
static void ignore_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/*
 * The time connect_timeout allows for each address tried, in milliseconds (-1: no limit),
 * as libpq reads it: at least 2 seconds when set.
 */
static int connect_timeout_ms(PGconn *conn)
{
	PQconninfoOption *opts = PQconninfo(conn), *o;
	int seconds = 0;

	for (o = opts; o && o->keyword; o++)
		if (!strcmp(o->keyword, "connect_timeout") && o->val)
			seconds = atoi(o->val);
	PQconninfoFree(opts);
	if (seconds <= 0)
		return -1;
	return 1000 * (seconds < 2 ? 2 : seconds);
}

/* How far a connection got: libpq is done with it, or it stopped waiting (err filled). */
enum { DRIVEN, TIMED_OUT, WAIT_FAILED };

/*
 * Wait until conn's socket is ready for what PQconnectPoll() asked (st), at most ms
 * milliseconds (-1: no limit): DRIVEN when it is, else TIMED_OUT or WAIT_FAILED with err
 * filled.
 */
static int wait_to_connect(PGconn *conn, PostgresPollingStatusType st, int ms, const char *what,
			   struct ds_error *err)
{
	struct pollfd pfd = { .fd = PQsocket(conn),
			      .events = st == PGRES_POLLING_READING ? POLLIN : POLLOUT };
	int n;

	if (pfd.fd < 0) {
		ds_error_set(err, DS_ERR_CONNECTION, "%s: invalid socket", what);
		return WAIT_FAILED;
	}
	if (ms == 0 || (n = poll(&pfd, 1, ms)) == 0) {
		ds_error_set(err, DS_ERR_CONNECTION, "%s: %s port %s: timeout expired", what,
			     PQhost(conn), PQport(conn));
		return TIMED_OUT;
	}
	if (n < 0 && errno != EINTR) {
		ds_error_set(err, DS_ERR_CONNECTION, "%s: %s", what, strerror(errno));
		return WAIT_FAILED;
	}
	return DRIVEN;
}

/* How many items a libpq list ("a,b,c") holds; an empty or unset one holds none. */
static int list_length(const char *list)
{
	int n = 1;

	if (!list || !*list)
		return 0;
	for (; *list; list++)
		n += *list == ',';
	return n;
}

/* The items of list from the i-th (counted from 0) on; "" past its end. */
static const char *list_from(const char *list, int i)
{
	for (; i > 0 && *list; list++)
		i -= *list == ',';
	return list;
}

/* Whether the i-th item of list is s. */
static int list_item_is(const char *list, int i, const char *s)
{
	const char *item = list_from(list, i);
	size_t len = strcspn(item, ",");

	return strlen(s) == len && !strncmp(item, s, len);
}

/* Whether list serves n hosts as libpq reads it: one item (or none) for all, or one each. */
static int one_or_each(const char *list, int n)
{
	return list_length(list) <= 1 || list_length(list) == n;
}

/* A list of n items loses its first k, in its own storage; any other is left alone. */
static void drop_items(char *list, int n, int k)
{
	const char *rest;

	if (list_length(list) != n)
		return;
	rest = list_from(list, k);
	memmove(list, rest, strlen(rest) + 1);
}

static PQconninfoOption *option(PQconninfoOption *opts, const char *keyword)
{
	for (; opts->keyword; opts++)
		if (!strcmp(opts->keyword, keyword))
			return opts;
	return NULL;
}

/*
 * conn's settings with the hosts after the one it is trying cut off, as libpq goes on
 * to the next host when connect_timeout expires: the host, hostaddr and port lists lose
 * their first items alike (a single port serves every host). NULL when conn is at its
 * last host, or the lists cannot be read so.
 */
static PQconninfoOption *hosts_after_current(PGconn *conn)
{
	PQconninfoOption *opts = PQconninfo(conn), *host, *addr, *port;
	const char *names;
	int n, here = -1;

	if (!opts)
		return NULL;
	host = option(opts, "host"), addr = option(opts, "hostaddr"), port = option(opts, "port");
	if (!host || !addr || !port) {
		PQconninfoFree(opts);
		return NULL;
	}
	names = list_length(host->val) ? host->val : addr->val;
	n = list_length(names);
	for (int i = 0; i < n && here < 0; i++)
		if (list_item_is(names, i, PQhost(conn)) &&
		    (list_length(port->val) <= 1 || list_item_is(port->val, i, PQport(conn))))
			here = i;
	if (here < 0 || here + 1 >= n || !one_or_each(addr->val, n) || !one_or_each(port->val, n)) {
		PQconninfoFree(opts);
		return NULL;
	}
	drop_items(host->val, n, here + 1);
	drop_items(addr->val, n, here + 1);
	drop_items(port->val, n, here + 1);
	return opts;
}

/* A connection started with its notice processor; NULL when out of memory. */
static PGconn *start(const char *const *keys, const char *const *vals, int expand_dbname)
{
	PGconn *conn = PQconnectStartParams(keys, vals, expand_dbname);

	if (conn)
		PQsetNoticeProcessor(conn, ignore_notice, NULL);
	return conn;
}

/*
 * The settings opts holds (those with a value) as connection parameters, with key set to
 * val in place of its own when key is given. Caller frees *keys and *vals (not their
 * strings: opts's and val).
 */
static void params_of(const PQconninfoOption *opts, const char *key, const char *val,
		      const char ***keys, const char ***vals)
{
	const PQconninfoOption *o;
	int n = 0;

	for (o = opts; o->keyword; o++)
		n++;
	*keys = ds_xmalloc((size_t)(n + 2) * sizeof(**keys));
	*vals = ds_xmalloc((size_t)(n + 2) * sizeof(**vals));
	n = 0;
	for (o = opts; o->keyword; o++)
		if (o->val && o->val[0] && !(key && !strcmp(o->keyword, key)))
			(*keys)[n] = o->keyword, (*vals)[n++] = o->val;
	if (key)
		(*keys)[n] = key, (*vals)[n++] = val;
	(*keys)[n] = (*vals)[n] = NULL;
}

/* A connection started with the settings opts holds (those with a value). */
static PGconn *start_with(const PQconninfoOption *opts)
{
	const char **keys, **vals;
	PGconn *conn;

	params_of(opts, NULL, NULL, &keys, &vals);
	conn = start(keys, vals, 0);
	free(keys);
	free(vals);
	return conn;
}

/*
 * Drive conn's connection until libpq is done with it (DRIVEN: connected or failed, as
 * PQstatus says), connect_timeout expires on the address it tries (TIMED_OUT, err
 * filled) or waiting fails (WAIT_FAILED, err filled).
 */
static int drive_connection(PGconn *conn, const char *what, struct ds_error *err)
{
	PostgresPollingStatusType st = PGRES_POLLING_WRITING;
	double attempt_start = 0;
	int timeout_ms = connect_timeout_ms(conn), left = -1, sock = -1, rc;

	while (PQstatus(conn) != CONNECTION_BAD && st != PGRES_POLLING_OK &&
	       st != PGRES_POLLING_FAILED) {
		/* A new socket is a new address tried: connect_timeout applies to each. */
		if (PQsocket(conn) != sock) {
			sock = PQsocket(conn);
			attempt_start = ds_monotonic();
		}
		if (timeout_ms >= 0) {
			left = timeout_ms - (int)(1000 * (ds_monotonic() - attempt_start));
			left = left > 0 ? left : 0;
		}
		rc = wait_to_connect(conn, st, left, what, err);
		if (rc != DRIVEN)
			return rc;
		st = PQconnectPoll(conn);
	}
	return DRIVEN;
}

/*
 * Every connection of ours is made here, so that it has its notice processor before it
 * hears from the server. A session is told things as it starts, before it is ready (a
 * setting of its role or database that does not hold; "terminating connection due to
 * immediate shutdown command" from a server stopped at that moment), and a connection
 * without one hands them to libpq's default processor, which writes them to stderr.
 * PQconnectdbParams() returns only once that is done, so the connection is started and
 * driven here; PQreset() keeps the processor. When connect_timeout expires, the hosts
 * after the one tried are tried next, as libpq does: a primary that no longer answers
 * must not keep a worker from the standby promoted after it. NULL with err filled
 * (what failed, and why) when it is not connected.
 */
static PGconn *connect_with_hook(const char *const *keys, const char *const *vals,
				 int expand_dbname, const char *what, struct ds_error *err)
{
	PGconn *conn = start(keys, vals, expand_dbname);
	PQconninfoOption *rest;
	int rc = DRIVEN;

	while (conn && (rc = drive_connection(conn, what, err)) == TIMED_OUT &&
	       (rest = hosts_after_current(conn))) {
		PQfinish(conn);
		conn = start_with(rest);
		PQconninfoFree(rest);
	}
	if (!conn)
		return ds_error_set(err, DS_ERR_CONNECTION, "%s: out of memory", what), NULL;
	if (rc == DRIVEN && PQstatus(conn) == CONNECTION_OK)
		return conn;
	if (rc == DRIVEN)
		connection_error(err, what, conn);
	PQfinish(conn);
	return NULL;
}

int ds_db_connect(struct ds_db *db, const struct ds_conn_target *target, const char *schema,
		  struct ds_error *err)
{
	const char *keys[8], *vals[8];
	int n = 0;
	char *ident;

	memset(db, 0, sizeof(*db));
	/*
	 * dbname first so that expand_dbname turns a conninfo or URI into its parts; the
	 * overrides that follow win over what it holds.
	 */
	keys[n] = "dbname", vals[n++] = target->conninfo;
	if (target->host)
		keys[n] = "host", vals[n++] = target->host;
	if (target->port)
		keys[n] = "port", vals[n++] = target->port;
	if (target->user)
		keys[n] = "user", vals[n++] = target->user;
	if (target->dbname)
		keys[n] = "dbname", vals[n++] = target->dbname;
	keys[n] = "fallback_application_name", vals[n++] = "datashell";
	keys[n] = NULL, vals[n] = NULL;

	db->conn = connect_with_hook(keys, vals, 1, "could not connect to the server", err);
	if (!db->conn)
		return ds_error_hint(err,
				     "set PGHOST, PGPORT, PGUSER, PGDATABASE or use -d CONNINFO; "
				     "--local uses a private server");
	ident = PQescapeIdentifier(db->conn, schema, strlen(schema));
	if (!ident) {
		connection_error(err, "invalid schema name", db->conn);
		ds_db_release(db);
		return -1;
	}
	db->schema = ds_xstrdup(schema);
	db->schema_ident = ds_xstrdup(ident);
	PQfreemem(ident);
	db->cancel = PQgetCancel(db->conn);
	running_cancel = db->cancel;
	return 0;
}

int ds_db_reconnect(struct ds_db *db, struct ds_error *err)
{
	PGcancel *old = db->cancel;

	/* Withdrawn before it is freed: a signal handler may be reading it. */
	if (running_cancel == old)
		running_cancel = NULL;
	db->cancel = NULL;
	if (old)
		PQfreeCancel(old);
	/*
	 * The same settings, the notice processor kept: only the session is new. libpq
	 * tries the hosts of a multi-host conninfo in order again, with its
	 * target_session_attrs: after a failover, the new primary.
	 */
	PQreset(db->conn);
	if (PQstatus(db->conn) != CONNECTION_OK)
		return connection_error(err, "could not connect to the server", db->conn);
	db->cancel = PQgetCancel(db->conn);
	running_cancel = db->cancel;
	return ds_db_check_primary(db, err);
}

int ds_db_check_primary(struct ds_db *db, struct ds_error *err)
{
	const char *standby = PQparameterStatus(db->conn, "in_hot_standby");

	/* Servers from PostgreSQL 14 on say it; an older standby refuses the first write. */
	if (!standby || strcmp(standby, "on"))
		return 0;
	return ds_error_set(err, DS_ERR_CONNECTION,
			    "the server at host %s port %s is a standby in recovery (read-only), "
			    "not the primary; target_session_attrs=read-write in the connection "
			    "string makes libpq pass it by",
			    PQhost(db->conn), PQport(db->conn));
}

PGconn *ds_db_connect_like(PGconn *model, const char *application_name, struct ds_error *err)
{
	PQconninfoOption *opts = PQconninfo(model);
	const char **keys, **vals;
	PGconn *conn;

	if (!opts)
		return ds_error_set(err, DS_ERR_CONNECTION, "cannot read the connection settings"),
		       NULL;
	params_of(opts, "fallback_application_name", application_name, &keys, &vals);
	conn = connect_with_hook(keys, vals, 0, "cannot open another connection", err);
	free(keys);
	free(vals);
	PQconninfoFree(opts);
	return conn;
}

/* How long a named connection waits for its server when nothing says otherwise. */
#define NAMED_CONNECT_TIMEOUT "10"

/*
 * Whether the connection's own settings may say how long to wait for the server: the
 * string itself, its service, or the environment. libpq waits forever otherwise.
 */
static int has_connect_timeout(const char *conninfo)
{
	PQconninfoOption *opts, *o;
	int given = 0;

	if (getenv("PGCONNECT_TIMEOUT") || getenv("PGSERVICE"))
		return 1;
	opts = PQconninfoParse(conninfo, NULL);
	for (o = opts; o && o->keyword; o++)
		if ((!strcmp(o->keyword, "connect_timeout") || !strcmp(o->keyword, "service")) &&
		    o->val && o->val[0])
			given = 1;
	PQconninfoFree(opts);
	return given;
}

PGconn *ds_db_connect_conninfo(const char *conninfo, const char *application_name, const char *what,
			       struct ds_error *err)
{
	/* dbname comes last, so that what its string expands to wins over the bound. */
	const char *keys[] = { "connect_timeout", "fallback_application_name", "dbname", NULL };
	const char *vals[] = { NAMED_CONNECT_TIMEOUT, application_name, conninfo, NULL };
	int first = has_connect_timeout(conninfo) ? 1 : 0;

	return connect_with_hook(keys + first, vals + first, 1, what, err);
}

void ds_db_forget_sql(struct ds_db *db)
{
	if (db->sql_texts)
		for (int i = 0; i < DS_SQL_COUNT; i++)
			free(db->sql_texts[i]);
	free(db->sql_texts);
	db->sql_texts = NULL;
}

void ds_db_release(struct ds_db *db)
{
	if (running_cancel == db->cancel)
		running_cancel = NULL;
	if (db->cancel)
		PQfreeCancel(db->cancel);
	if (db->conn)
		PQfinish(db->conn);
	free(db->schema);
	free(db->schema_ident);
	ds_db_forget_sql(db);
	memset(db, 0, sizeof(*db));
}

int ds_db_connected(const struct ds_db *db)
{
	return db->conn && PQstatus(db->conn) == CONNECTION_OK;
}

/*
 * A write refused as read-only (25006) on a standby: a command connected to a standby
 * (a connection string with its host first, a failover) is told where it is, which the
 * server's message does not say.
 */
static void standby_hint(struct ds_db *db, struct ds_error *err)
{
	const char *standby = PQparameterStatus(db->conn, "in_hot_standby");

	if (standby && strcmp(standby, "on") == 0)
		ds_error_hint(
			err,
			"the server at host %s port %s is a standby in recovery; connect to "
			"the primary (target_session_attrs=read-write in the connection string "
			"makes libpq pass a standby by)",
			PQhost(db->conn), PQport(db->conn));
}

/* Keep res if it succeeded; otherwise clear it and fill err. */
static PGresult *checked(struct ds_db *db, PGresult *res, struct ds_error *err)
{
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return res;
	if (ds_db_lost(db->conn, res)) {
		connection_error_of(err, "the connection to the server was lost", db->conn, res);
	} else {
		const char *hint = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_HINT) : NULL;
		const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
		char msg[768];

		copy_first_line(msg, sizeof(msg),
				res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL);
		if (!msg[0] && res)
			copy_first_line(msg, sizeof(msg), PQresultErrorMessage(res));
		if (!msg[0])
			copy_first_line(msg, sizeof(msg), PQerrorMessage(db->conn));
		ds_error_set(err, DS_ERR_FAILED, "%s", msg[0] ? msg : "the statement failed");
		if (hint)
			ds_error_hint(err, "%s", hint);
		else if (state && strcmp(state, "25006") == 0)
			standby_hint(db, err);
		if (err && state)
			snprintf(err->sqlstate, sizeof(err->sqlstate), "%s", state);
	}
	PQclear(res);
	return NULL;
}

PGresult *ds_db_query(struct ds_db *db, const char *sql, int nparams, const char *const *params,
		      struct ds_error *err)
{
	if (!db->conn)
		return ds_error_set(err, DS_ERR_CONNECTION, "not connected to a server"), NULL;
	return checked(db, PQexecParams(db->conn, sql, nparams, NULL, params, NULL, NULL, 0), err);
}

int ds_db_exec(struct ds_db *db, const char *sql, struct ds_error *err)
{
	PGresult *res;

	if (!db->conn)
		return ds_error_set(err, DS_ERR_CONNECTION, "not connected to a server");
	res = checked(db, PQexec(db->conn, sql), err);
	if (!res)
		return -1;
	PQclear(res);
	return 0;
}

/* Type OIDs from pg_type.h, which is not part of libpq's public headers. */
enum { BOOLOID = 16, INT8OID = 20, INT2OID = 21, INT4OID = 23, JSONOID = 114, JSONBOID = 3802 };

static json_t *json_cell(PGresult *res, int row, int col)
{
	const char *v = PQgetvalue(res, row, col);

	if (PQgetisnull(res, row, col))
		return json_null();
	switch (PQftype(res, col)) {
	case BOOLOID:
		return json_boolean(v[0] == 't');
	case INT2OID:
	case INT4OID:
	case INT8OID:
		return json_integer(strtoll(v, NULL, 10));
	case JSONOID:
	case JSONBOID: {
		json_t *j = json_loads(v, JSON_DECODE_ANY, NULL);

		return j ? j : json_string(v);
	}
	default:
		return json_string(v);
	}
}

json_t *ds_db_json_rows(struct ds_db *db, const char *sql, int nparams, const char *const *params,
			struct ds_error *err)
{
	PGresult *res = ds_db_query(db, sql, nparams, params, err);
	json_t *rows;

	if (!res)
		return NULL;
	rows = json_array();
	for (int r = 0; r < PQntuples(res); r++) {
		json_t *row = json_object();

		for (int c = 0; c < PQnfields(res); c++)
			json_object_set_new(row, PQfname(res, c), json_cell(res, r, c));
		json_array_append_new(rows, row);
	}
	PQclear(res);
	return rows;
}

int ds_db_exec_rows(struct ds_db *db, PGresult *res, struct ds_error *err)
{
	int rc = res ? 0 : -1;

	for (int i = 0; rc == 0 && i < PQntuples(res); i++)
		rc = ds_db_exec(db, PQgetvalue(res, i, 0), err);
	PQclear(res);
	return rc;
}

int ds_db_end(struct ds_db *db, int rc, struct ds_error *err)
{
	if (rc < 0) {
		ds_db_rollback(db);
		return -1;
	}
	return ds_db_exec(db, "COMMIT", err);
}

void ds_db_rollback(struct ds_db *db)
{
	if (db->conn && PQtransactionStatus(db->conn) != PQTRANS_IDLE)
		PQclear(PQexec(db->conn, "ROLLBACK"));
}
