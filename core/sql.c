/*
 * sql.c: the embedded SQL files, with the state schema filled in.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql.h"
#include "util.h"

const char *ds_sql(struct ds_db *db, enum ds_sql_id id)
{
	if (!db->sql_texts) {
		db->sql_texts = ds_xmalloc(DS_SQL_COUNT * sizeof(*db->sql_texts));
		memset(db->sql_texts, 0, DS_SQL_COUNT * sizeof(*db->sql_texts));
	}
	if (!db->sql_texts[id])
		db->sql_texts[id] =
			ds_replace_all(ds_sql_statements[id].text, DS_SQL_SCHEMA, db->schema_ident);
	return db->sql_texts[id];
}

PGresult *ds_sql_query(struct ds_db *db, enum ds_sql_id id, int nparams, const char *const *params,
		       struct ds_error *err)
{
	return ds_db_query(db, ds_sql(db, id), nparams, params, err);
}

json_t *ds_sql_json_rows(struct ds_db *db, enum ds_sql_id id, int nparams,
			 const char *const *params, struct ds_error *err)
{
	return ds_db_json_rows(db, ds_sql(db, id), nparams, params, err);
}

const char *ds_sql_limit(char buf[static 16], int limit)
{
	if (limit == DS_EVERY_ROW)
		return NULL; /* LIMIT NULL is LIMIT ALL */
	snprintf(buf, 16, "%d", limit);
	return buf;
}

json_int_t ds_rows_take_total(json_t *rows)
{
	json_int_t total = 0;
	size_t i;
	json_t *row;

	json_array_foreach(rows, i, row)
	{
		total = json_integer_value(json_object_get(row, "total"));
		json_object_del(row, "total");
	}
	return total;
}

int ds_sql_exec_script(struct ds_db *db, const char *text, struct ds_error *err)
{
	char *sql = ds_replace_all(text, DS_SQL_SCHEMA, db->schema_ident);
	int rc = ds_db_exec(db, sql, err);

	free(sql);
	return rc;
}
