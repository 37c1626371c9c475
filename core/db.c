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

/* A second session whose statements Ctrl-C cancels too: see ds_db_cancel_also(). */
static PGcancel *volatile also_cancel;

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
	c = also_cancel;
	if (c)
		PQcancel(c, errbuf, sizeof(errbuf));
}

void ds_db_cancel_also(struct ds_db *db)
{
	if (!db->cancel)
		db->cancel = PQgetCancel(db->conn);
	also_cancel = db->cancel;
}

/* Our own messages say what happened; the server's NOTICEs would only add noise. */
static void ignore_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/*
 * How long a connection of ours waits for the server on each address when nothing
 * (connect_timeout in the string, its service, PGCONNECT_TIMEOUT) says otherwise.
 * libpq would wait forever: for a server that took the connection and went silent, a
 * host gone from the network, a primary frozen as it failed over. A worker must not
 * hang there, nor a person's command.
 */
#define DEFAULT_CONNECT_TIMEOUT_MS 10000

/*
 * The time connect_timeout allows for each address tried, in milliseconds, as libpq
 * reads it (at least 2 seconds when set); DEFAULT_CONNECT_TIMEOUT_MS when unset.
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
		return DEFAULT_CONNECT_TIMEOUT_MS;
	return 1000 * (seconds < 2 ? 2 : seconds);
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
 * Begin connecting c with keys and vals as PQconnectStartParams() takes them; what
 * starts the message of a failure. -1 with err filled when it cannot even start.
 */
static int connecting_begin(struct ds_connecting *c, const char *const *keys,
			    const char *const *vals, int expand_dbname, const char *what,
			    struct ds_error *err)
{
	memset(c, 0, sizeof(*c));
	c->conn = start(keys, vals, expand_dbname);
	if (!c->conn)
		return ds_error_set(err, DS_ERR_CONNECTION, "%s: out of memory", what);
	c->what = ds_xstrdup(what);
	c->st = PGRES_POLLING_WRITING; /* as libpq asks after PQconnectStart */
	c->sock = -1;
	c->attempt_start = ds_monotonic();
	c->timeout_ms = connect_timeout_ms(c->conn);
	return 0;
}

void ds_connect_abandon(struct ds_connecting *c)
{
	if (c->conn)
		PQfinish(c->conn);
	free(c->what);
	memset(c, 0, sizeof(*c));
}

PGconn *ds_connect_take(struct ds_connecting *c)
{
	PGconn *conn = c->conn;

	c->conn = NULL;
	ds_connect_abandon(c);
	return conn;
}

int ds_connect_pollfd(const struct ds_connecting *c, struct pollfd *pfd)
{
	if (!c->conn || PQsocket(c->conn) < 0)
		return 0;
	pfd->fd = PQsocket(c->conn);
	pfd->events = c->st == PGRES_POLLING_READING ? POLLIN : POLLOUT;
	pfd->revents = 0;
	return 1;
}

double ds_connect_wake_at(const struct ds_connecting *c)
{
	return c->conn ? c->attempt_start + c->timeout_ms / 1000.0 : 0;
}

/* Whether the socket is ready for what PQconnectPoll() asked, without waiting. */
static int socket_ready(const struct ds_connecting *c)
{
	struct pollfd pfd;

	return ds_connect_pollfd(c, &pfd) && poll(&pfd, 1, 0) > 0;
}

/*
 * connect_timeout expired on the address c tries: the hosts after it are tried next,
 * as libpq does (a primary that no longer answers must not keep a worker from the
 * standby promoted after it); 0, or -1 with err filled when it was the last.
 */
static int next_host(struct ds_connecting *c, struct ds_error *err)
{
	PQconninfoOption *rest = hosts_after_current(c->conn);

	if (!rest)
		return ds_error_set(err, DS_ERR_CONNECTION, "%s: %s port %s: timeout expired",
				    c->what, PQhost(c->conn), PQport(c->conn));
	PQfinish(c->conn);
	c->conn = start_with(rest);
	PQconninfoFree(rest);
	c->st = PGRES_POLLING_WRITING;
	c->sock = -1;
	c->attempt_start = ds_monotonic();
	if (!c->conn)
		return ds_error_set(err, DS_ERR_CONNECTION, "%s: out of memory", c->what);
	return 0;
}

int ds_connect_step(struct ds_connecting *c, struct ds_error *err)
{
	while (PQstatus(c->conn) != CONNECTION_BAD && c->st != PGRES_POLLING_FAILED) {
		if (c->st == PGRES_POLLING_OK)
			return 1;
		/* A new socket is a new address tried: connect_timeout applies to each. */
		if (PQsocket(c->conn) != c->sock) {
			c->sock = PQsocket(c->conn);
			c->attempt_start = ds_monotonic();
		}
		if (socket_ready(c))
			c->st = PQconnectPoll(c->conn);
		else if (ds_monotonic() < ds_connect_wake_at(c))
			return 0;
		else if (next_host(c, err) < 0) {
			ds_connect_abandon(c);
			return -1;
		}
	}
	connection_error(err, c->what, c->conn);
	ds_connect_abandon(c);
	return -1;
}

/*
 * Wait until c's socket is ready or its time is up, never longer: -1 with err filled if
 * it cannot be waited for.
 */
static int wait_to_connect(struct ds_connecting *c, struct ds_error *err)
{
	struct pollfd pfd;
	double left = ds_connect_wake_at(c) - ds_monotonic();

	if (!ds_connect_pollfd(c, &pfd))
		return ds_error_set(err, DS_ERR_CONNECTION, "%s: invalid socket", c->what);
	if (left > 0 && poll(&pfd, 1, (int)(1000 * left) + 1) < 0 && errno != EINTR)
		return ds_error_set(err, DS_ERR_CONNECTION, "%s: %s", c->what, strerror(errno));
	return 0;
}

/*
 * Every connection of ours is made here or through ds_connect_step, so that it has its
 * notice processor before it hears from the server. A session is told things as it
 * starts, before it is ready (a setting of its role or database that does not hold;
 * "terminating connection due to immediate shutdown command" from a server stopped at
 * that moment), and a connection without one hands them to libpq's default processor,
 * which writes them to stderr. PQconnectdbParams() and PQreset() return only once that
 * is done, and wait without limit when connect_timeout is not set, so the connection
 * is started (connecting_begin) and driven here. NULL with err filled (what failed,
 * and why) when it is not connected.
 */
static PGconn *connect_fully(struct ds_connecting *c, struct ds_error *err)
{
	int rc;

	while ((rc = ds_connect_step(c, err)) == 0)
		if (wait_to_connect(c, err) < 0) {
			ds_connect_abandon(c);
			return NULL;
		}
	return rc > 0 ? ds_connect_take(c) : NULL;
}

/*
 * Begin connecting c with the settings model ended up with, key (if given) set to val;
 * -1 with err filled if it cannot begin.
 */
static int begin_like(struct ds_connecting *c, PGconn *model, const char *key, const char *val,
		      const char *what, struct ds_error *err)
{
	PQconninfoOption *opts = PQconninfo(model);
	const char **keys, **vals;
	int rc;

	if (!opts)
		return ds_error_set(err, DS_ERR_CONNECTION,
				    "%s: cannot read the connection settings", what);
	params_of(opts, key, val, &keys, &vals);
	rc = connecting_begin(c, keys, vals, 0, what, err);
	free(keys);
	free(vals);
	PQconninfoFree(opts);
	return rc;
}

/* A connection made with the settings of model, key (if given) set to val. */
static PGconn *connect_like(PGconn *model, const char *key, const char *val, const char *what,
			    struct ds_error *err)
{
	struct ds_connecting c;

	return begin_like(&c, model, key, val, what, err) < 0 ? NULL : connect_fully(&c, err);
}

int ds_db_connect(struct ds_db *db, const struct ds_conn_target *target, const char *schema,
		  struct ds_error *err)
{
	const char *keys[8], *vals[8];
	struct ds_connecting c;
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

	if (connecting_begin(&c, keys, vals, 1, "could not connect to the server", err) == 0)
		db->conn = connect_fully(&c, err);
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
	PGconn *conn;

	/* Withdrawn before it is freed: a signal handler may be reading it. */
	if (running_cancel == old)
		running_cancel = NULL;
	db->cancel = NULL;
	if (old)
		PQfreeCancel(old);
	/*
	 * The same settings: only the session is new. libpq tries the hosts of a
	 * multi-host conninfo in order again, with its target_session_attrs: after a
	 * failover, the new primary. Not PQreset(), which waits without limit for a server
	 * that does not answer when connect_timeout is not set. The old connection is kept
	 * until then: its settings are those of the next try.
	 */
	conn = connect_like(db->conn, NULL, NULL, "could not connect to the server", err);
	if (!conn)
		return -1;
	PQfinish(db->conn);
	db->conn = conn;
	db->cancel = PQgetCancel(db->conn);
	running_cancel = db->cancel;
	return ds_db_check_primary(db, err);
}

/* Whether the server says it is a standby in recovery: PostgreSQL 14 on say so; an
 * older standby refuses the first write. */
static int in_hot_standby(PGconn *conn)
{
	const char *standby = PQparameterStatus(conn, "in_hot_standby");

	return standby && strcmp(standby, "on") == 0;
}

int ds_db_check_primary(struct ds_db *db, struct ds_error *err)
{
	if (!in_hot_standby(db->conn))
		return 0;
	return ds_error_set(err, DS_ERR_CONNECTION,
			    "the server at host %s port %s is a standby in recovery (read-only), "
			    "not the primary; target_session_attrs=read-write in the connection "
			    "string makes libpq pass it by",
			    PQhost(db->conn), PQport(db->conn));
}

int ds_connect_like_start(struct ds_connecting *c, PGconn *model, const char *application_name,
			  const char *what, struct ds_error *err)
{
	return begin_like(c, model, "fallback_application_name", application_name, what, err);
}

PGconn *ds_db_connect_like(PGconn *model, const char *application_name, struct ds_error *err)
{
	return connect_like(model, "fallback_application_name", application_name,
			    "cannot open another connection", err);
}

int ds_connect_conninfo_start(struct ds_connecting *c, const char *conninfo,
			      const char *application_name, const char *what, struct ds_error *err)
{
	const char *keys[] = { "fallback_application_name", "dbname", NULL };
	const char *vals[] = { application_name, conninfo, NULL };

	return connecting_begin(c, keys, vals, 1, what, err);
}

PGconn *ds_db_connect_conninfo(const char *conninfo, const char *application_name, const char *what,
			       struct ds_error *err)
{
	struct ds_connecting c;

	if (ds_connect_conninfo_start(&c, conninfo, application_name, what, err) < 0)
		return NULL;
	return connect_fully(&c, err);
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
	/* Withdrawn before they are freed: a signal handler may be reading them. */
	if (running_cancel == db->cancel)
		running_cancel = NULL;
	if (also_cancel == db->cancel)
		also_cancel = NULL;
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
	if (in_hot_standby(db->conn))
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
	} else if (st == PGRES_EMPTY_QUERY) {
		/* The server has no message for it: nothing ran. */
		ds_error_set(err, DS_ERR_FAILED,
			     "the SQL holds no statement, only white space or comments");
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
