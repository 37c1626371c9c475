/* audit.c: writing the audit log, and keeping secrets out of it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "util.h"

void ds_audit_begin(struct ds_audit *a, const char *line)
{
	memset(a, 0, sizeof(*a));
	a->command = ds_redact_secrets(line);
}

void ds_audit_release(struct ds_audit *a)
{
	free(a->command);
	json_decref(a->touched);
	memset(a, 0, sizeof(*a));
}

void ds_audit_touch(struct ds_audit *a, json_t *touched)
{
	if (!a) {
		json_decref(touched);
		return;
	}
	json_decref(a->touched);
	a->touched = touched;
}

/*
 * One row through the state schema's audit_write(), which runs as the schema's owner:
 * nobody else may write to the log directly, and the server, not the caller, says who
 * and from where.
 */
static int write_row(struct ds_db *db, struct ds_audit *a, const char *outcome, const char *error,
		     json_t *touched, struct ds_error *err)
{
	char *text = touched ? json_dumps(touched, JSON_COMPACT) : NULL;
	const char *params[] = { a->command, outcome, error, text };
	char *sql = ds_xprintf("SELECT %s.audit_write($1, $2, $3, $4::jsonb)", db->schema_ident);
	PGresult *res = ds_db_query(db, sql, 4, params, err);

	free(sql);
	free(text);
	if (!res)
		return -1;
	a->id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return 0;
}

int ds_audit_ok(struct ds_db *db, struct ds_audit *a, struct ds_error *err)
{
	if (!a || !a->command || a->unchanged)
		return 0;
	return write_row(db, a, "ok", NULL, a->touched, err);
}

/* Whether the row written earlier is there: its transaction may have been rolled back. */
static int row_committed(struct ds_db *db, long long id)
{
	char text[32];
	const char *params[] = { text };
	char *sql = ds_xprintf("SELECT 1 FROM %s.audit_log WHERE id = $1", db->schema_ident);
	struct ds_error ignored;
	PGresult *res;
	int found;

	snprintf(text, sizeof(text), "%lld", id);
	res = ds_db_query(db, sql, 1, params, &ignored);
	free(sql);
	found = res && PQntuples(res) > 0;
	PQclear(res);
	return found;
}

void ds_audit_finish(struct ds_db *db, struct ds_audit *a, int rc, const struct ds_error *error)
{
	struct ds_error ignored;

	if (!a->command || a->unchanged || !ds_db_connected(db))
		return;
	/* A usage error was refused before anything was tried. */
	if (rc == 0 ? a->id != 0 : error->kind != DS_ERR_FAILED)
		return;
	/* A failed command may leave its transaction open; its row must not go down with it. */
	ds_db_rollback(db);
	if (rc < 0 && a->id && row_committed(db, a->id))
		return; /* it changed state, then failed later (while waiting, say) */
	if (rc == 0) {
		write_row(db, a, "ok", NULL, a->touched, &ignored);
	} else {
		char *message = ds_redact_secrets(error->message);

		write_row(db, a, "failed", message, NULL, &ignored);
		free(message);
	}
}

/*
 * touched leaves out what is empty (a null batch, zero runs) and reads one level into
 * nested counts ("tasks.added 6"), so that the table says what happened in a few words;
 * detail keeps everything for scripts.
 */
static const char read_sql[] = "SELECT " DS_SQL_ISO(
	"a.at") " AS at, a.db_user AS user, host(a.client_addr) AS client,\n"
		"  a.command, a.outcome,\n"
		"  (SELECT string_agg(k || ' ' || (v #>> '{}'), ', ' ORDER BY k) FROM (\n"
		"     SELECT d.key, d.value FROM jsonb_each(o.detail) d\n"
		"     UNION ALL\n"
		"     SELECT d.key || '.' || e.key, e.value FROM jsonb_each(o.detail) d,\n"
		"       jsonb_each(CASE jsonb_typeof(d.value) WHEN 'object' THEN d.value END) e\n"
		"   ) AS x (k, v)\n"
		"   WHERE jsonb_typeof(v) IN ('string', 'number', 'boolean')\n"
		"     AND v NOT IN ('0', 'false', '\"\"')) AS touched,\n"
		"  a.error, coalesce(a.detail, '{}') AS detail\n"
		"FROM %s.audit_log a,\n"
		"  LATERAL (SELECT CASE jsonb_typeof(a.detail) WHEN 'object' THEN a.detail END) o (detail)\n"
		"WHERE a.at >= now() - make_interval(secs => $1::bigint)\n"
		"  AND ($2::text IS NULL OR a.db_user = $2)\n"
		"  AND ($3::text IS NULL OR substring(a.command FROM '^\\s*(\\S+)') = $3)\n"
		"ORDER BY a.at, a.id";

json_t *ds_audit_read(struct ds_db *db, const struct ds_audit_filter *f, struct ds_error *err)
{
	char since[32];
	const char *params[] = { since, f->user, f->command };
	char *sql = ds_xprintf(read_sql, db->schema_ident);
	json_t *rows;

	snprintf(since, sizeof(since), "%ld", f->since);
	rows = ds_db_json_rows(db, sql, 3, params, err);
	free(sql);
	return rows;
}
