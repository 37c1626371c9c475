/* handoff.c: the on-call summary, read in one statement. */
#include <stdio.h>
#include <stdlib.h>

#include "handoff.h"
#include "swap.h"
#include "util.h"

/* At most this many rows per section: a summary, not a dump. */
#define SECTION_ROWS "200"

/* clang-format off */
static const char handoff_sql[] =
	"WITH w AS (SELECT now() - make_interval(secs => $1::bigint) AS since)\n"
	"SELECT json_build_object(\n"
	" 'since', (SELECT " DS_SQL_ISO("since") " FROM w),\n"
	" 'open_alerts', (SELECT coalesce(json_agg(a ORDER BY a.last_seen DESC, a.id DESC), '[]')\n"
	"   FROM (\n"
	"   SELECT id, state, kind, count, task, key, summary,\n"
	"          " DS_SQL_ISO("last_seen") " AS last_seen\n"
	"   FROM %1$s.alerts WHERE state <> 'resolved'\n"
	"   ORDER BY last_seen DESC, id DESC LIMIT " SECTION_ROWS ") a),\n"
	" 'open_breakers', (SELECT coalesce(json_agg(b ORDER BY b.task), '[]') FROM (\n"
	"   SELECT t.name AS task, b.state, b.consecutive AS failures,\n"
	"          (SELECT count(*) FROM %1$s.runs r WHERE r.task_id = b.task_id\n"
	"             AND r.state = 'held') AS held,\n"
	"          " DS_SQL_ISO("b.opened_at") " AS opened_at, b.opened_by, b.reason\n"
	"   FROM %1$s.breakers b JOIN %1$s.tasks t ON t.id = b.task_id\n"
	"   WHERE b.state <> 'closed' AND t.removed_at IS NULL) b),\n"
	" 'failed_keys', (SELECT coalesce(json_agg(f ORDER BY f.finished_at DESC), '[]') FROM (\n"
	"   SELECT t.name AS task, r.key, r.state, r.error_class AS class, r.error,\n"
	"          " DS_SQL_ISO("r.finished_at") " AS finished_at\n"
	"   FROM %1$s.runs r JOIN %1$s.partitions p ON p.run_id = r.id\n"
	"   JOIN %1$s.tasks t ON t.id = r.task_id, w\n"
	"   WHERE r.finished_at >= w.since AND r.state IN ('failed', 'blocked')\n"
	"     AND t.removed_at IS NULL\n"
	"   ORDER BY r.finished_at DESC LIMIT " SECTION_ROWS ") f),\n"
	" 'late_keys', (SELECT coalesce(json_agg(l ORDER BY l.due), '[]') FROM (\n"
	"   SELECT t.name AS task, k.key, " DS_SQL_ISO("d.due") " AS due, d.due AS due_at,\n"
	"          coalesce(p.state, 'missing') AS state\n"
	"   FROM %1$s.tasks t CROSS JOIN w\n"
	"   CROSS JOIN LATERAL %1$s.key_series(t.key_kind,\n"
	"       to_char(w.since AT TIME ZONE 'UTC' - interval '2 days',\n"
	"               CASE t.key_kind WHEN 'hourly' THEN 'YYYY-MM-DD\"T\"HH24'\n"
	"                    ELSE 'YYYY-MM-DD' END),\n"
	"       to_char(now() AT TIME ZONE 'UTC',\n"
	"               CASE t.key_kind WHEN 'hourly' THEN 'YYYY-MM-DD\"T\"HH24'\n"
	"                    ELSE 'YYYY-MM-DD' END)) AS k(key)\n"
	"   CROSS JOIN LATERAL (SELECT %1$s.sla_deadline(t.definition -> 'sla', t.key_kind,\n"
	"                                                k.key) AS due) d\n"
	"   LEFT JOIN %1$s.partitions p ON p.task_id = t.id AND p.key = k.key\n"
	"   WHERE t.removed_at IS NULL AND t.key_kind <> 'none'\n"
	"     AND jsonb_typeof(t.definition -> 'sla') = 'object'\n"
	"     AND d.due BETWEEN w.since AND now() AND p.state IS DISTINCT FROM 'success'\n"
	"   ORDER BY d.due LIMIT " SECTION_ROWS ") l),\n"
	" 'batches', (SELECT coalesce(json_agg(x ORDER BY x.id), '[]') FROM (\n"
	"   SELECT b.id, b.kind, b.command, b.created_by,\n"
	"          " DS_SQL_ISO("b.created_at") " AS created_at, b.runs,\n"
	"          count(r.id) FILTER (WHERE r.state = 'success') AS succeeded,\n"
	"          count(r.id) FILTER (WHERE r.state IN ('failed', 'blocked')) AS failed,\n"
	"          count(r.id) FILTER (WHERE r.state IN ('queued', 'running', 'held'))\n"
	"            AS in_flight,\n"
	"          b.cancelled_at IS NOT NULL AS cancelled\n"
	"   FROM %1$s.batches b LEFT JOIN %1$s.runs r ON r.batch_id = b.id, w\n"
	"   WHERE b.created_at >= w.since\n"
	"   GROUP BY b.id ORDER BY b.id DESC LIMIT " SECTION_ROWS ") x),\n"
	" 'swaps', (SELECT coalesce(json_agg(x ORDER BY x.id), '[]') FROM (\n"
	"   SELECT s.id, format('%%I.%%I', s.table_schema, s.table_name) AS table,\n"
	"          " DS_SWAP_SHOWN_STATE("s") " AS state,\n"
	"          s.started_by, " DS_SQL_ISO("s.started_at") " AS started_at,\n"
	"          " DS_SQL_ISO("greatest(s.checked_at, s.swapped_at, s.rolled_back_at,\n"
	"                                 s.finished_at, s.started_at)") " AS changed_at\n"
	"   FROM %1$s.swaps s, w\n"
	"   WHERE greatest(s.checked_at, s.swapped_at, s.rolled_back_at, s.finished_at,\n"
	"                  s.started_at) >= w.since OR s.state <> 'finished'\n"
	"   ORDER BY s.id DESC LIMIT " SECTION_ROWS ") x),\n"
	" 'commands', (SELECT coalesce(json_agg(c ORDER BY c.id), '[]') FROM (\n"
	"   SELECT a.id, " DS_SQL_ISO("a.at") " AS at, a.db_user AS user, a.command,\n"
	"          a.outcome\n"
	"   FROM %1$s.audit_log a, w WHERE a.at >= w.since\n"
	"   ORDER BY a.id DESC LIMIT " SECTION_ROWS ") c))";
/* clang-format on */

/* Drop the fields that only served to sort. */
static void drop_field(json_t *rows, const char *field)
{
	size_t i;
	json_t *row;

	json_array_foreach(rows, i, row) json_object_del(row, field);
}

json_t *ds_handoff(struct ds_db *db, long since_s, struct ds_error *err)
{
	char *sql = ds_xprintf(handoff_sql, db->schema_ident), since[32];
	const char *params[] = { since };
	json_t *rows, *out;

	snprintf(since, sizeof(since), "%ld", since_s);
	rows = ds_db_json_rows(db, sql, 1, params, err);
	free(sql);
	if (!rows)
		return NULL;
	out = json_incref(json_object_get(json_array_get(rows, 0), "json_build_object"));
	json_decref(rows);
	drop_field(json_object_get(out, "late_keys"), "due_at");
	drop_field(json_object_get(out, "commands"), "id");
	return out;
}
