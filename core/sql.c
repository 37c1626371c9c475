/*
 * sql.c: the embedded SQL files, with the state schema filled in.
 */
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

int ds_sql_exec_script(struct ds_db *db, const char *text, struct ds_error *err)
{
	char *sql = ds_replace_all(text, DS_SQL_SCHEMA, db->schema_ident);
	int rc = ds_db_exec(db, sql, err);

	free(sql);
	return rc;
}
