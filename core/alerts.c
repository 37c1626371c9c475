/* alerts.c: listing and answering alerts, and handing them to the hook. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts.h"
#include "audit.h"
#include "sql.h"
#include "util.h"

/* The alerts as listed: with open_only those not resolved; with id (not NULL) that one. */
static json_t *list(struct ds_db *db, int open_only, const char *id, struct ds_error *err)
{
	const char *params[] = { open_only ? "true" : "false", id };

	return ds_sql_json_rows(db, DS_SQL_ALERTS_LIST, 2, params, err);
}

json_t *ds_alerts_list(struct ds_db *db, int open_only, struct ds_error *err)
{
	return list(db, open_only, NULL, err);
}

/*
 * Answer alert id in the transaction begun: {"was": its state before} followed by the
 * alert as listed now, or NULL with err filled (no such alert, already resolved).
 */
static json_t *answer(struct ds_db *db, long long id, const char *state, struct ds_error *err)
{
	char sid[32];
	const char *params[] = { sid, state };
	PGresult *res;
	json_t *row, *alert;

	snprintf(sid, sizeof(sid), "%lld", id);
	res = ds_sql_query(db, DS_SQL_ALERTS_ANSWER, 2, params, err);
	if (!res)
		return NULL;
	if (PQntuples(res) == 0) {
		PQclear(res);
		ds_error_set(err, DS_ERR_FAILED, "there is no alert %lld", id);
		ds_error_hint(err, "'alerts' lists them");
		return NULL;
	}
	if (strcmp(PQgetvalue(res, 0, 1), "t")) {
		PQclear(res);
		ds_error_set(err, DS_ERR_FAILED, "alert %lld is already resolved", id);
		return NULL;
	}
	row = json_pack("{s:s}", "was", PQgetvalue(res, 0, 0));
	PQclear(res);
	alert = list(db, 0, sid, err);
	if (!alert) {
		json_decref(row);
		return NULL;
	}
	json_object_update(row, json_array_get(alert, 0));
	json_decref(alert);
	return row;
}

json_t *ds_alert_answer(struct ds_db *db, long long id, const char *state, int dry_run,
			struct ds_audit *audit, struct ds_error *err)
{
	json_t *row;
	int rc;

	if (ds_db_exec(db, "BEGIN", err) < 0)
		return NULL;
	row = answer(db, id, state, err);
	if (!row) {
		ds_db_rollback(db);
		return NULL;
	}
	ds_audit_touch(audit, json_pack("{s:I, s:s}", "alert", (json_int_t)id, "state", state));
	rc = ds_audit_ok(db, audit, err);
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
	char slease[16];
	const char *params[] = { slease };
	PGresult *res;
	char *json = NULL;

	snprintf(slease, sizeof(slease), "%d", lease_s);
	res = ds_sql_query(db, DS_SQL_ALERTS_TAKE, 1, params, err);
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
	char sid[32];
	const char *params[] = { sid, error };
	PGresult *res;

	snprintf(sid, sizeof(sid), "%lld", id);
	res = ds_sql_query(db, DS_SQL_ALERTS_DELIVERED, 2, params, err);
	if (!res)
		return -1;
	PQclear(res);
	return 0;
}
