/* overview.c: the no-argument status: connection, schema and state, read in one query. */
#include <stdlib.h>

#include "overview.h"
#include "store.h"
#include "util.h"

/* Timestamps leave the server as ISO 8601 in UTC, the same for people and scripts. */
#define ISO(expr) "to_char((" expr ") AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

static json_t *text_or_null(PGresult *res, int col)
{
	return PQgetisnull(res, 0, col) ? json_null() : json_string(PQgetvalue(res, 0, col));
}

static json_t *int_or_null(PGresult *res, int col)
{
	return PQgetisnull(res, 0, col) ? json_null()
					: json_integer(strtoll(PQgetvalue(res, 0, col), NULL, 10));
}

json_t *ds_overview(struct ds_db *db, struct ds_error *err)
{
	const char *host = PQhost(db->conn);
	char *sql = ds_xprintf(
		"SELECT current_setting('server_version'), current_database(), current_user,"
		"       (SELECT max(version) FROM %1$s.schema_migrations),"
		"       (SELECT " ISO("min(applied_at)") " FROM %1$s.schema_migrations),"
		"       (SELECT " ISO("max(applied_at)") " FROM %1$s.schema_migrations),"
		"       (SELECT count(*) FROM %1$s.audit_log),"
		"       (SELECT " ISO("max(at)") " FROM %1$s.audit_log)",
		db->schema_ident);
	PGresult *res = ds_db_query(db, sql, 0, NULL, err);
	json_t *out;

	free(sql);
	if (!res)
		return NULL;
	out = json_pack("{s:{s:o, s:o, s:o, s:s?, s:s?}, s:{s:s, s:o, s:i, s:o, s:o},"
			" s:{s:o, s:o}}",
			"connection", "server_version", text_or_null(res, 0), "database",
			text_or_null(res, 1), "user", text_or_null(res, 2), "host",
			host, "port", PQport(db->conn),
			"schema", "name", db->schema, "version", int_or_null(res, 3), "latest",
			ds_store_latest_version(), "initialized_at", text_or_null(res, 4),
			"upgraded_at", text_or_null(res, 5),
			"audit_log", "entries", int_or_null(res, 6), "last_at", text_or_null(res, 7));
	PQclear(res);
	return out;
}
