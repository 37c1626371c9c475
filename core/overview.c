/* overview.c: the no-argument status: connection, schema and state, read in one query. */
#include <stdlib.h>

#include "overview.h"
#include "store.h"
#include "util.h"

/*
 * Per graph: what waits and runs now, and what finished in the last 24 hours. Only
 * live and recent runs are read (through partial indexes), never all of history.
 */
static json_t *graphs_overview(struct ds_db *db, struct ds_error *err)
{
	char *sql = ds_xprintf(
		"SELECT g.name AS graph, g.max_active, g.paused,\n"
		"  (SELECT count(*) FROM %1$s.tasks t\n"
		"   WHERE t.graph = g.name AND t.removed_at IS NULL) AS tasks,\n"
		"  count(*) FILTER (WHERE x.state = 'queued' AND NOT x.recent) AS queued,\n"
		"  count(*) FILTER (WHERE x.state = 'running' AND NOT x.recent) AS running,\n"
		"  count(*) FILTER (WHERE x.state = 'held' AND NOT x.recent) AS held,\n"
		"  count(*) FILTER (WHERE x.state = 'success' AND x.recent) AS succeeded_24h,\n"
		"  count(*) FILTER (WHERE x.state = 'failed' AND x.recent) AS failed_24h,\n"
		"  count(*) FILTER (WHERE x.state = 'blocked' AND x.recent) AS blocked_24h\n"
		"FROM %1$s.graphs g LEFT JOIN (\n"
		"  SELECT t.graph, r.state, false AS recent\n"
		"  FROM %1$s.runs r JOIN %1$s.tasks t ON t.id = r.task_id\n"
		"  WHERE r.state IN ('queued', 'running', 'held')\n"
		"  UNION ALL\n"
		"  SELECT t.graph, r.state, true\n"
		"  FROM %1$s.runs r JOIN %1$s.tasks t ON t.id = r.task_id\n"
		"  WHERE r.finished_at > now() - interval '24 hours'\n"
		") x ON x.graph = g.name\n"
		"WHERE g.removed_at IS NULL GROUP BY g.name ORDER BY g.name",
		db->schema_ident);
	json_t *rows = ds_db_json_rows(db, sql, 0, NULL, err);

	free(sql);
	return rows;
}

/* The latest batches, so that their ids are at hand for status BATCH and cancel. */
static json_t *recent_batches(struct ds_db *db, struct ds_error *err)
{
	/* clang-format off */
	char *sql = ds_xprintf(
		"SELECT id AS batch, kind, runs, created_by,\n"
		"       " DS_SQL_ISO("created_at") " AS created_at,\n"
		"       cancelled_at IS NOT NULL AS cancelled\n"
		"FROM %s.batches ORDER BY id DESC LIMIT 5",
		db->schema_ident);
	/* clang-format on */
	json_t *rows = ds_db_json_rows(db, sql, 0, NULL, err);

	free(sql);
	return rows;
}

json_t *ds_overview(struct ds_db *db, struct ds_error *err)
{
	const char *params[] = {db->schema, PQhost(db->conn), PQport(db->conn)};
	/* clang-format off */
	char *sql = ds_xprintf(
		"SELECT json_build_object(\n"
		"  'server_version', current_setting('server_version'),\n"
		"  'database', current_database(), 'user', current_user,\n"
		"  'host', $2::text, 'port', $3::text) AS connection,\n"
		"json_build_object(\n"
		"  'name', $1::text,\n"
		"  'version', (SELECT max(version) FROM %1$s.schema_migrations),\n"
		"  'latest', %2$d,\n"
		"  'initialized_at', (SELECT " DS_SQL_ISO("min(applied_at)") "\n"
		"                     FROM %1$s.schema_migrations),\n"
		"  'upgraded_at', (SELECT " DS_SQL_ISO("max(applied_at)") "\n"
		"                  FROM %1$s.schema_migrations)) AS schema,\n"
		"json_build_object(\n"
		"  'entries', (SELECT count(*) FROM %1$s.audit_log),\n"
		"  'last_at', (SELECT " DS_SQL_ISO("max(at)") " FROM %1$s.audit_log)) AS audit_log",
		db->schema_ident, ds_store_latest_version());
	/* clang-format on */
	json_t *rows = ds_db_json_rows(db, sql, 3, params, err), *out, *graphs, *batches;

	free(sql);
	if (!rows)
		return NULL;
	out = json_incref(json_array_get(rows, 0));
	json_decref(rows);
	graphs = graphs_overview(db, err);
	batches = graphs ? recent_batches(db, err) : NULL;
	if (!batches) {
		json_decref(graphs);
		json_decref(out);
		return NULL;
	}
	json_object_set_new(out, "graphs", graphs);
	json_object_set_new(out, "recent_batches", batches);
	return out;
}
