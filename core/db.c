/* db.c: connecting with libpq and turning libpq's failures into struct ds_error. */
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

	db->conn = PQconnectdbParams(keys, vals, 1);
	if (!db->conn)
		return ds_error_set(err, DS_ERR_CONNECTION, "could not connect: out of memory");
	if (PQstatus(db->conn) != CONNECTION_OK) {
		connection_error(err, "could not connect to the server", db->conn);
		ds_error_hint(err, "set PGHOST, PGPORT, PGUSER, PGDATABASE or use -d CONNINFO; "
				   "--local uses a private server");
		ds_db_release(db);
		return -1;
	}
	PQsetNoticeProcessor(db->conn, ignore_notice, NULL);
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
	PQconninfoOption *opts = PQconninfo(model), *o;
	const char **keys, **vals;
	int n = 0, count = 0;
	PGconn *conn;

	if (!opts)
		return ds_error_set(err, DS_ERR_CONNECTION, "cannot read the connection settings"),
		       NULL;
	for (o = opts; o->keyword; o++)
		count++;
	keys = ds_xmalloc((size_t)(count + 2) * sizeof(*keys));
	vals = ds_xmalloc((size_t)(count + 2) * sizeof(*vals));
	for (o = opts; o->keyword; o++) {
		if (!o->val || !o->val[0] || !strcmp(o->keyword, "fallback_application_name"))
			continue;
		keys[n] = o->keyword;
		vals[n++] = o->val;
	}
	keys[n] = "fallback_application_name";
	vals[n++] = application_name;
	keys[n] = vals[n] = NULL;
	conn = PQconnectdbParams(keys, vals, 0);
	free(keys);
	free(vals);
	PQconninfoFree(opts);
	if (!conn || PQstatus(conn) != CONNECTION_OK) {
		connection_error(err, "cannot open another connection", conn);
		PQfinish(conn);
		return NULL;
	}
	PQsetNoticeProcessor(conn, ignore_notice, NULL);
	return conn;
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
