/* overview.c: the no-argument status: connection, schema and state (core/sql/status/). */
#include <stdio.h>

#include "overview.h"
#include "report.h"
#include "sql.h"
#include "store.h"
#include "util.h"

json_t *ds_overview(struct ds_db *db, int every_row, struct ds_error *err)
{
	char latest[16], n[16];
	const char *params[] = { db->schema, PQhost(db->conn), PQport(db->conn), latest };
	const char *batches_shown[] = { ds_sql_limit(n, every_row ? DS_EVERY_ROW
								  : DS_RECENT_BATCHES_SHOWN) };
	json_t *rows, *out, *graphs, *batches, *stuck = NULL;

	snprintf(latest, sizeof(latest), "%d", ds_store_latest_version());
	rows = ds_sql_json_rows(db, DS_SQL_STATUS_OVERVIEW, 4, params, err);
	if (!rows)
		return NULL;
	out = json_incref(json_array_get(rows, 0));
	json_decref(rows);
	graphs = ds_sql_json_rows(db, DS_SQL_STATUS_GRAPHS, 0, NULL, err);
	batches = graphs ? ds_sql_json_rows(db, DS_SQL_STATUS_RECENT_BATCHES, 1, batches_shown, err)
			 : NULL;
	if (batches)
		stuck = ds_stuck_keys(db, NULL, every_row ? DS_EVERY_ROW : DS_STUCK_SHOWN, err);
	if (!stuck) {
		json_decref(batches);
		json_decref(graphs);
		json_decref(out);
		return NULL;
	}
	json_object_set_new(out, "graphs", graphs);
	json_object_set_new(out, "recent_batches_total", json_integer(ds_rows_take_total(batches)));
	json_object_set_new(out, "recent_batches", batches);
	json_object_set_new(out, "stuck", stuck);
	return out;
}
