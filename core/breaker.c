/* breaker.c: listing, resetting and tripping breakers. */
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "breaker.h"
#include "sql.h"
#include "taskset.h"

json_t *ds_breaker_list(struct ds_db *db, struct ds_error *err)
{
	return ds_sql_json_rows(db, DS_SQL_BREAKER_LIST, 0, NULL, err);
}

/*
 * What the audit row says of a change: what became of the breaker (did: "opened" or
 * "closed"), what it was before, and the reason given. The statement's row says the
 * state it found, which is not what the command did.
 */
static json_t *audit_detail(const json_t *row, const char *did, const char *reason)
{
	json_t *d = json_deep_copy(row);

	json_object_del(d, "state");
	json_object_set_new(d, "breaker", json_string(did));
	json_object_set(d, "was", json_object_get(row, "state"));
	if (reason)
		json_object_set_new(d, "reason", json_string(reason));
	return d;
}

/*
 * Run statement ($1: the task's id, $2: reason if not NULL) in a transaction with its
 * audit row, which says the breaker was left did; its one row is the result. A dry run
 * rolls it all back.
 */
static json_t *change(struct ds_db *db, const char *task, enum ds_sql_id statement, const char *did,
		      const char *reason, int dry_run, struct ds_audit *audit, struct ds_error *err)
{
	char sid[16];
	const char *params[] = { sid, reason };
	json_t *rows = NULL, *row = NULL;
	int id, rc;

	if (ds_db_exec(db, "BEGIN", err) < 0)
		return NULL;
	id = ds_taskset_task_id(db, task, NULL, err);
	if (id < 0) {
		ds_db_rollback(db);
		return NULL;
	}
	snprintf(sid, sizeof(sid), "%d", id);
	rows = ds_sql_json_rows(db, statement, reason ? 2 : 1, params, err);
	rc = rows ? 0 : -1;
	if (rc == 0) {
		row = json_incref(json_array_get(rows, 0));
		ds_audit_touch(audit, audit_detail(row, did, reason));
		rc = ds_audit_ok(db, audit, err);
	}
	json_decref(rows);
	if (dry_run) {
		ds_db_rollback(db);
		return row;
	}
	if (ds_db_end(db, rc, err) < 0) {
		json_decref(row);
		return NULL;
	}
	return row;
}

json_t *ds_breaker_reset(struct ds_db *db, const char *task, int dry_run, struct ds_audit *audit,
			 struct ds_error *err)
{
	return change(db, task, DS_SQL_BREAKER_RESET, "closed", NULL, dry_run, audit, err);
}

json_t *ds_breaker_trip(struct ds_db *db, const char *task, const char *reason, int dry_run,
			struct ds_audit *audit, struct ds_error *err)
{
	return change(db, task, DS_SQL_BREAKER_TRIP, "opened", reason, dry_run, audit, err);
}
