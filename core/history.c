/* history.c: the runs of one key (logs), and keys marked done by a person (mark). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "history.h"
#include "key.h"
#include "sql.h"
#include "taskset.h"
#include "util.h"

json_t *ds_run_history(struct ds_db *db, const char *task, const char *key, struct ds_error *err)
{
	char id[16], canonical[DS_KEY_SIZE];
	const char *params[] = { id, canonical };
	json_t *rows;
	int task_id = ds_taskset_key(db, task, key, canonical, err);

	if (task_id < 0)
		return NULL;
	snprintf(id, sizeof(id), "%d", task_id);
	rows = ds_sql_json_rows(db, DS_SQL_RUNS_HISTORY, 2, params, err);
	if (rows && !json_array_size(rows)) {
		json_decref(rows);
		ds_error_set(err, DS_ERR_FAILED, "task %s has no run for key '%s'", task,
			     canonical);
		ds_error_hint(err, "'status %s %s' shows whether the key is due", task,
			      canonical[0] ? canonical : "''");
		return NULL;
	}
	return rows;
}

/*
 * The keys the words name, each a key or a range read for a task whose keys are of kind
 * (today as hours for an hourly one), as one PostgreSQL array literal.
 */
static char *keys_array(char **words, int n, enum ds_key_kind kind, struct ds_error *err)
{
	struct ds_buf b = DS_BUF_INIT;
	time_t now = ds_range_now();
	int first = 1;

	ds_buf_add(&b, "{", 1);
	for (int w = 0; w < n; w++) {
		struct ds_range r;
		char key[DS_KEY_SIZE];

		/* '' is the key of a task without keys; anything else the database judges. */
		if (!words[w][0] || ds_range_parse_for(words[w], kind, now, &r, err) < 0) {
			if (words[w][0])
				ds_error_clear(err);
			r.count = 1;
			r.kind = DS_KEY_NONE;
			snprintf(r.first, sizeof(r.first), "%.*s", (int)sizeof(r.first) - 1,
				 words[w]);
			if (strlen(words[w]) >= sizeof(r.first)) {
				ds_error_set(err, DS_ERR_FAILED, "'%s' is not a key", words[w]);
				free(ds_buf_take(&b));
				return NULL;
			}
		}
		memcpy(key, r.first, sizeof(key));
		for (long k = 0; k < r.count; k++) {
			if (k)
				ds_key_shift(r.kind, r.first, (int)k, key);
			ds_buf_addf(&b, "%s\"", first ? "" : ",");
			for (const char *c = key; *c; c++) {
				if (*c == '"' || *c == '\\')
					ds_buf_add(&b, "\\", 1);
				ds_buf_add(&b, c, 1);
			}
			ds_buf_add(&b, "\"", 1);
			first = 0;
		}
	}
	ds_buf_add(&b, "}", 1);
	return ds_buf_take(&b);
}

json_t *ds_mark_keys(struct ds_db *db, const char *task, char **keys, int nkeys, const char *mark,
		     const char *reason, int dry_run, struct ds_audit *audit, struct ds_error *err)
{
	char *array;
	const char *params[5];
	json_t *rows = NULL, *out = NULL, *marked, *runs;
	size_t i;
	json_t *row;
	enum ds_key_kind kind;
	int rc;

	if (ds_db_exec(db, "BEGIN", err) < 0)
		return NULL;
	if (ds_taskset_task_id(db, task, &kind, err) < 0) {
		ds_db_rollback(db);
		return NULL;
	}
	array = keys_array(keys, nkeys, kind, err);
	if (!array) {
		ds_db_rollback(db);
		return NULL;
	}
	params[0] = task;
	params[1] = array;
	params[2] = mark;
	params[3] = reason;
	params[4] = audit && audit->command ? audit->command : "mark";
	/* A dry run checks the keys and writes nothing: it takes no batch id. */
	rows = dry_run ? ds_sql_json_rows(db, DS_SQL_RUNS_MARK_CHECK, 4, params, err)
		       : ds_sql_json_rows(db, DS_SQL_RUNS_MARK, 5, params, err);
	free(array);
	rc = rows ? 0 : -1;
	if (rc == 0) {
		marked = json_array();
		runs = json_array();
		json_array_foreach(rows, i, row)
		{
			json_array_append(marked, json_object_get(row, "key"));
			if (!json_is_null(json_object_get(row, "run")))
				json_array_append(runs, json_object_get(row, "run"));
		}
		out = json_pack("{s:s, s:s, s:s, s:O, s:o, s:o}", "task", task, "mark", mark,
				"reason", reason, "batch",
				json_object_get(json_array_get(rows, 0), "batch"), "keys", marked,
				"runs", runs);
		if (!dry_run)
			ds_audit_touch(audit, json_pack("{s:O, s:s, s:I, s:s}", "batch",
							json_object_get(out, "batch"), "task", task,
							"keys", (json_int_t)json_array_size(marked),
							"mark", mark));
		rc = dry_run ? 0 : ds_audit_ok(db, audit, err);
	}
	json_decref(rows);
	if (dry_run && rc == 0) {
		ds_db_rollback(db);
		return out;
	}
	if (ds_db_end(db, rc, err) < 0) {
		json_decref(out);
		return NULL;
	}
	return out;
}
