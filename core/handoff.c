/* handoff.c: the on-call summary, read in one statement (core/sql/handoff/summary.sql). */
#include <stdio.h>

#include "handoff.h"
#include "sql.h"

/* Drop the fields that only served to sort. */
static void drop_field(json_t *rows, const char *field)
{
	size_t i;
	json_t *row;

	json_array_foreach(rows, i, row) json_object_del(row, field);
}

json_t *ds_handoff(struct ds_db *db, long since_s, struct ds_error *err)
{
	char since[32];
	const char *params[] = { since };
	json_t *rows, *out;

	snprintf(since, sizeof(since), "%ld", since_s);
	rows = ds_sql_json_rows(db, DS_SQL_HANDOFF_SUMMARY, 1, params, err);
	if (!rows)
		return NULL;
	out = json_incref(json_object_get(json_array_get(rows, 0), "json_build_object"));
	json_decref(rows);
	drop_field(json_object_get(out, "late_keys"), "due_at");
	drop_field(json_object_get(out, "commands"), "id");
	return out;
}
