/* handoff.c: the on-call summary, read in one statement (core/sql/handoff/summary.sql). */
#include <stdio.h>
#include <stdlib.h>

#include "handoff.h"
#include "sql.h"
#include "util.h"

/* Drop the fields that only served to sort. */
static void drop_field(json_t *rows, const char *field)
{
	size_t i;
	json_t *row;

	json_array_foreach(rows, i, row) json_object_del(row, field);
}

/* The sections cut at the limit: each gets SECTION_total, counting its rows in all. */
static const char *const limited[] = { "open_alerts", "stuck_keys", "failed_keys", "late_keys",
				       "batches",     "swaps",	    "commands",	   NULL };

static void add_totals(json_t *out)
{
	for (int i = 0; limited[i]; i++) {
		json_int_t total = ds_rows_take_total(json_object_get(out, limited[i]));
		char *name = ds_xprintf("%s_total", limited[i]);

		json_object_set_new(out, name, json_integer(total));
		free(name);
	}
}

json_t *ds_handoff(struct ds_db *db, long since_s, int limit, struct ds_error *err)
{
	char since[32], n[16];
	const char *params[] = { since, ds_sql_limit(n, limit) };
	json_t *rows, *out;

	snprintf(since, sizeof(since), "%ld", since_s);
	rows = ds_sql_json_rows(db, DS_SQL_HANDOFF_SUMMARY, 2, params, err);
	if (!rows)
		return NULL;
	out = json_incref(json_object_get(json_array_get(rows, 0), "json_build_object"));
	json_decref(rows);
	drop_field(json_object_get(out, "late_keys"), "due_at");
	drop_field(json_object_get(out, "commands"), "id");
	add_totals(out);
	return out;
}
