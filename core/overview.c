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
	/* Counted per task first, so the join to tasks sees a thousand rows, not a queue. */
	char *sql = ds_xprintf(
		"WITH live AS (\n"
		"  SELECT task_id, count(*) FILTER (WHERE state = 'queued') AS queued,\n"
		"         count(*) FILTER (WHERE state = 'running') AS running,\n"
		"         count(*) FILTER (WHERE state = 'held') AS held\n"
		"  FROM %1$s.runs WHERE state IN ('queued', 'running', 'held') GROUP BY task_id\n"
		"), recent AS (\n"
		"  SELECT task_id, count(*) FILTER (WHERE state = 'success') AS succeeded,\n"
		"         count(*) FILTER (WHERE state = 'failed') AS failed,\n"
		"         count(*) FILTER (WHERE state = 'blocked') AS blocked\n"
		"  FROM %1$s.runs WHERE finished_at > now() - interval '24 hours' GROUP BY task_id\n"
		"), per_graph AS (\n"
		"  SELECT t.graph, count(*) AS tasks, sum(l.queued) AS queued,\n"
		"         sum(l.running) AS running, sum(l.held) AS held,\n"
		"         sum(r.succeeded) AS succeeded, sum(r.failed) AS failed,\n"
		"         sum(r.blocked) AS blocked\n"
		"  FROM %1$s.tasks t LEFT JOIN live l ON l.task_id = t.id\n"
		"  LEFT JOIN recent r ON r.task_id = t.id\n"
		"  WHERE t.removed_at IS NULL GROUP BY t.graph\n"
		")\n"
		"SELECT g.name AS graph, g.max_active, g.paused,\n"
		"       coalesce(p.tasks, 0) AS tasks, coalesce(p.queued, 0)::bigint AS queued,\n"
		"       coalesce(p.running, 0)::bigint AS running, coalesce(p.held, 0)::bigint AS held,\n"
		"       coalesce(p.succeeded, 0)::bigint AS succeeded_24h,\n"
		"       coalesce(p.failed, 0)::bigint AS failed_24h,\n"
		"       coalesce(p.blocked, 0)::bigint AS blocked_24h\n"
		"FROM %1$s.graphs g LEFT JOIN per_graph p ON p.graph = g.name\n"
		"WHERE g.removed_at IS NULL ORDER BY g.name",
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
	const char *params[] = { db->schema, PQhost(db->conn), PQport(db->conn) };
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
