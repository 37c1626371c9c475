/* breaker.c: listing, resetting and tripping breakers. */
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "breaker.h"
#include "taskset.h"
#include "util.h"

json_t *ds_breaker_list(struct ds_db *db, struct ds_error *err)
{
	/* clang-format off */
	char *sql = ds_xprintf(
		"SELECT t.name AS task, t.graph, b.state, b.consecutive AS failures,\n"
		"       cardinality(b.recent) AS recent_failures,\n"
		"       (SELECT count(*) FROM %1$s.runs r\n"
		"        WHERE r.task_id = b.task_id AND r.state = 'held') AS held,\n"
		"       " DS_SQL_ISO("b.opened_at") " AS opened_at, b.opened_by, b.manual,\n"
		"       " DS_SQL_ISO("b.retry_at") " AS probe_at, b.reason\n"
		"FROM %1$s.breakers b JOIN %1$s.tasks t ON t.id = b.task_id\n"
		"WHERE t.removed_at IS NULL AND (b.state <> 'closed' OR b.consecutive > 0)\n"
		"ORDER BY b.state = 'closed', t.name",
		db->schema_ident);
	/* clang-format on */
	json_t *rows = ds_db_json_rows(db, sql, 0, NULL, err);

	free(sql);
	return rows;
}

/* The id of the current task called name; an unknown name says the closest one. */
static int task_id(struct ds_db *db, const char *name, struct ds_error *err)
{
	struct ds_taskset ts;
	int i, id = -1;

	if (ds_taskset_load(db, &ts, err) < 0)
		return -1;
	i = ds_taskset_find(&ts, name);
	if (i >= 0) {
		id = ts.tasks[i].id;
	} else {
		char *selected = calloc((size_t)ts.n + 1, 1);

		/* The selector's own message: "unknown task 'x' (did you mean 'y'?)". */
		if (strpbrk(name, ",+:/") || ds_select(&ts, name, selected, err) == 0)
			ds_error_set(err, DS_ERR_USAGE, "'%s' is not the name of a task", name);
		free(selected);
	}
	ds_taskset_release(&ts);
	return id;
}

/*
 * Run sql ($1: the task's id, $2: reason if not NULL) in a transaction with its audit
 * row; its one row is the result. A dry run rolls it all back.
 */
static json_t *change(struct ds_db *db, const char *task, const char *sql_template,
		      const char *reason, int dry_run, struct ds_audit *audit, struct ds_error *err)
{
	char sid[16], *sql;
	const char *params[] = { sid, reason };
	json_t *rows = NULL, *row = NULL;
	int id, rc;

	if (ds_db_exec(db, "BEGIN", err) < 0)
		return NULL;
	id = task_id(db, task, err);
	if (id < 0) {
		ds_db_rollback(db);
		return NULL;
	}
	snprintf(sid, sizeof(sid), "%d", id);
	sql = ds_xprintf(sql_template, db->schema_ident);
	rows = ds_db_json_rows(db, sql, reason ? 2 : 1, params, err);
	free(sql);
	rc = rows ? 0 : -1;
	if (rc == 0) {
		row = json_incref(json_array_get(rows, 0));
		ds_audit_touch(audit, json_deep_copy(row));
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
	/* The state is read in the statement's snapshot: as it was before the reset. */
	static const char sql[] =
		"SELECT t.name AS task, coalesce(b.state, 'closed') AS state,\n"
		"       %1$s.reset_breaker(t.id) AS requeued\n"
		"FROM %1$s.tasks t LEFT JOIN %1$s.breakers b ON b.task_id = t.id\n"
		"WHERE t.id = $1::integer";

	return change(db, task, sql, NULL, dry_run, audit, err);
}

json_t *ds_breaker_trip(struct ds_db *db, const char *task, const char *reason, int dry_run,
			struct ds_audit *audit, struct ds_error *err)
{
	static const char sql[] =
		"SELECT t.name AS task, coalesce(b.state, 'closed') AS state,\n"
		"       %1$s.open_breaker(t.id, 'tripped by ' || current_user || ': ' || $2, true)\n"
		"         AS held\n"
		"FROM %1$s.tasks t LEFT JOIN %1$s.breakers b ON b.task_id = t.id\n"
		"WHERE t.id = $1::integer";

	return change(db, task, sql, reason, dry_run, audit, err);
}
