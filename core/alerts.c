/* alerts.c: listing and answering alerts, and handing them to the hook. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts.h"
#include "audit.h"
#include "util.h"

/* clang-format off */
#define ALERT_COLUMNS \
	"a.id, a.state, a.kind, a.count, a.task, a.key, a.worker, a.summary,\n" \
	DS_SQL_ISO("a.first_seen") " AS first_seen, " DS_SQL_ISO("a.last_seen") " AS last_seen,\n" \
	"a.acked_by, a.resolved_by, a.hook_state AS hook, a.hook_error, a.detail\n"
/* clang-format on */

json_t *ds_alerts_list(struct ds_db *db, int open_only, struct ds_error *err)
{
	char *sql =
		ds_xprintf("SELECT " ALERT_COLUMNS "FROM %s.alerts a\n"
			   "WHERE NOT $1::boolean OR a.state <> 'resolved'\n"
			   "ORDER BY a.state = 'resolved', a.last_seen DESC, a.id DESC LIMIT 500",
			   db->schema_ident);
	const char *params[] = { open_only ? "true" : "false" };
	json_t *rows = ds_db_json_rows(db, sql, 1, params, err);

	free(sql);
	return rows;
}

json_t *ds_alert_answer(struct ds_db *db, long long id, const char *state, int dry_run,
			struct ds_audit *audit, struct ds_error *err)
{
	/* clang-format off */
	char *sql = ds_xprintf(
		"WITH old AS (SELECT id, state FROM %1$s.alerts WHERE id = $1::bigint FOR UPDATE),\n"
		"new AS (UPDATE %1$s.alerts a\n"
		"    SET state = $2,\n"
		"        acked_at = CASE WHEN $2 = 'acked' THEN now() ELSE a.acked_at END,\n"
		"        acked_by = CASE WHEN $2 = 'acked' THEN current_user ELSE a.acked_by END,\n"
		"        resolved_at = CASE WHEN $2 = 'resolved' THEN now() END,\n"
		"        resolved_by = CASE WHEN $2 = 'resolved' THEN current_user END\n"
		"    FROM old WHERE a.id = old.id AND old.state <> 'resolved'\n"
		"    RETURNING a.*)\n"
		"SELECT old.state AS was, " ALERT_COLUMNS "FROM old LEFT JOIN new a ON a.id = old.id",
		db->schema_ident);
	/* clang-format on */
	char sid[32];
	const char *params[] = { sid, state };
	json_t *rows, *row;
	int rc = 0;

	snprintf(sid, sizeof(sid), "%lld", id);
	if (ds_db_exec(db, "BEGIN", err) < 0) {
		free(sql);
		return NULL;
	}
	rows = ds_db_json_rows(db, sql, 2, params, err);
	free(sql);
	if (!rows) {
		ds_db_rollback(db);
		return NULL;
	}
	row = json_incref(json_array_get(rows, 0));
	json_decref(rows);
	if (!row) {
		ds_error_set(err, DS_ERR_FAILED, "there is no alert %lld", id);
		rc = ds_error_hint(err, "'alerts' lists them");
	} else if (json_is_null(json_object_get(row, "id"))) {
		ds_error_set(err, DS_ERR_FAILED, "alert %lld is already resolved", id);
		rc = -1;
	} else {
		ds_audit_touch(audit,
			       json_pack("{s:I, s:s}", "alert", (json_int_t)id, "state", state));
		rc = ds_audit_ok(db, audit, err);
	}
	if (dry_run || rc < 0) {
		ds_db_rollback(db);
		if (rc < 0) {
			json_decref(row);
			return NULL;
		}
		return row;
	}
	if (ds_db_end(db, 0, err) < 0) {
		json_decref(row);
		return NULL;
	}
	return row;
}

char *ds_alert_take(struct ds_db *db, int lease_s, long long *id, int *none, struct ds_error *err)
{
	char *sql = ds_xprintf(
		"UPDATE %1$s.alerts a SET hook_at = now()\n"
		"WHERE a.id = (SELECT id FROM %1$s.alerts\n"
		"              WHERE hook_state = 'pending'\n"
		"                AND (hook_at IS NULL OR hook_at < now() - make_interval(secs => $1))\n"
		"              ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)\n"
		"RETURNING a.id, %1$s.alert_json(a)",
		db->schema_ident);
	char slease[16];
	const char *params[] = { slease };
	PGresult *res;
	char *json = NULL;

	snprintf(slease, sizeof(slease), "%d", lease_s);
	res = ds_db_query(db, sql, 1, params, err);
	free(sql);
	*none = 0;
	if (!res)
		return NULL;
	if (PQntuples(res) == 1) {
		*id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		json = ds_xstrdup(PQgetvalue(res, 0, 1));
	} else {
		*none = 1;
	}
	PQclear(res);
	return json;
}

int ds_alert_delivered(struct ds_db *db, long long id, const char *error, struct ds_error *err)
{
	char *sql =
		ds_xprintf("UPDATE %s.alerts SET hook_state = CASE WHEN $2::text IS NULL\n"
			   "    THEN 'sent' ELSE 'failed' END, hook_error = $2, hook_at = now()\n"
			   "WHERE id = $1::bigint",
			   db->schema_ident);
	char sid[32];
	const char *params[] = { sid, error };
	PGresult *res;

	snprintf(sid, sizeof(sid), "%lld", id);
	res = ds_db_query(db, sql, 2, params, err);
	free(sql);
	if (!res)
		return -1;
	PQclear(res);
	return 0;
}
