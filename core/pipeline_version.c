/*
 * pipeline_version.c: task versions. A task's fingerprint is the md5 (taken by the
 * server) of what changes its output, written here as one canonical JSON text: its key
 * kind, its SQL or command, its target, its checks and its complete_when, the SQL of
 * each normalized by the SQL scanner (core/sqlvars.c) so that comments and layout
 * outside literals do not count. Not in it: the graph, retries, retry delay, timeout,
 * error classes, breaker, SLA and schedule, which change when and how often a key is
 * built, not what it holds. The version adds the fingerprints of every upstream task
 * (core/sql/pipeline/write_versions.sql), so a change upstream makes downstream keys
 * stale too.
 */
#include <stdlib.h>
#include <string.h>

#include "pipeline.h"
#include "sql.h"
#include "sqlvars.h"

/* A field holding SQL, normalized; JSON null when absent. */
static json_t *normalized_sql(json_t *def, const char *field)
{
	const char *sql = json_string_value(json_object_get(def, field));
	char *norm;
	json_t *v;

	if (!sql)
		return json_null();
	norm = ds_sql_normalize(sql);
	v = json_string(norm);
	free(norm);
	return v;
}

char *ds_task_output_text(json_t *definition)
{
	json_t *checks = json_array(), *c, *out;
	size_t i;
	char *text;

	json_array_foreach(json_object_get(definition, "checks"), i, c) json_array_append_new(
		checks, json_pack("{s:O, s:o}", "name", json_object_get(c, "name"), "sql",
				  normalized_sql(c, "sql")));
	out = json_pack(
		"{s:O, s:o, s:O, s:O, s:o, s:o}", "key", json_object_get(definition, "key"), "sql",
		normalized_sql(definition, "sql"), "command",
		json_object_get(definition, "command") ? json_object_get(definition, "command")
						       : json_null(),
		"target",
		json_object_get(definition, "target") ? json_object_get(definition, "target")
						      : json_null(),
		"checks", checks, "complete_when", normalized_sql(definition, "complete_when"));
	text = json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	json_decref(out);
	return text;
}

json_t *ds_task_versions_write(struct ds_db *db, struct ds_error *err)
{
	return ds_sql_json_rows(db, DS_SQL_PIPELINE_WRITE_VERSIONS, 0, NULL, err);
}

/* The ids RETURNING gave, as an array literal {1,2,3}. Caller frees. */
static char *ids_of(PGresult *res)
{
	struct ds_buf b = DS_BUF_INIT;

	ds_buf_add(&b, "{", 1);
	for (int r = 0; r < PQntuples(res); r++)
		ds_buf_addf(&b, "%s%s", r ? "," : "", PQgetvalue(res, r, 0));
	ds_buf_add(&b, "}", 1);
	return ds_buf_take(&b);
}

int ds_task_versions_fill(struct ds_db *db, struct ds_error *err)
{
	PGresult *res = ds_sql_query(db, DS_SQL_PIPELINE_UNVERSIONED, 0, NULL, err);
	json_t *rows, *versions;
	json_error_t jerr;
	char *text, *ids;
	const char *params[1];
	int n;

	if (!res)
		return -1;
	n = PQntuples(res);
	rows = json_array();
	for (int r = 0; r < n; r++) {
		json_t *def = json_loads(PQgetvalue(res, r, 1), 0, &jerr);
		char *output = ds_task_output_text(def ? def : json_object());

		json_array_append_new(rows,
				      json_pack("{s:i, s:s}", "id", atoi(PQgetvalue(res, r, 0)),
						"output", output));
		free(output);
		json_decref(def);
	}
	PQclear(res);
	if (!n) {
		json_decref(rows);
		return 0;
	}
	text = json_dumps(rows, JSON_COMPACT);
	json_decref(rows);
	params[0] = text;
	res = ds_sql_query(db, DS_SQL_PIPELINE_WRITE_FINGERPRINTS, 1, params, err);
	free(text);
	if (!res)
		return -1;
	ids = ids_of(res);
	PQclear(res);
	versions = ds_task_versions_write(db, err);
	params[0] = ids;
	res = versions ? ds_sql_query(db, DS_SQL_RUNS_ADOPT_VERSIONS, 1, params, err) : NULL;
	free(ids);
	json_decref(versions);
	n = res ? 0 : -1;
	PQclear(res);
	return n;
}
