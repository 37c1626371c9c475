/* complete.c: the names tab completion offers, each read in one short statement. */
#include <stdio.h>
#include <stdlib.h>

#include "complete.h"
#include "util.h"

/*
 * One query per kind. %1$s is the quoted state schema; the catalog query has $1, the
 * state schema's name as the catalog spells it, to leave datashell's own tables out.
 */
static const struct {
	const char *sql;
	int nparams;
} names_sql[DS_NAMES_COUNT] = {
	[DS_NAMES_TASKS] = { "SELECT name FROM %1$s.tasks WHERE removed_at IS NULL ORDER BY name",
			     0 },
	[DS_NAMES_GRAPHS] = { "SELECT name FROM %1$s.graphs WHERE removed_at IS NULL"
			      " ORDER BY name",
			      0 },
	[DS_NAMES_BATCHES] = { "SELECT id::text FROM %1$s.batches ORDER BY id DESC LIMIT 50", 0 },
	[DS_NAMES_TABLES] = { "SELECT c.oid::regclass::text FROM pg_class c"
			      " JOIN pg_namespace n ON n.oid = c.relnamespace"
			      " WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition"
			      " AND n.nspname NOT IN ('pg_catalog', 'information_schema', $1)"
			      " AND n.nspname NOT LIKE 'pg\\_%%' ORDER BY 1 LIMIT 2000",
			      1 },
};

/* The first column of a query's rows, with the statement timeout held to this read. */
static char **read_names(struct ds_db *db, const char *sql, int nparams, struct ds_error *err)
{
	const char *params[] = { db->schema };
	char *set = ds_xprintf("BEGIN; SET LOCAL statement_timeout = %d", DS_COMPLETE_TIMEOUT_MS);
	PGresult *res = NULL;
	char **names;
	int n;

	if (ds_db_exec(db, set, err) == 0)
		res = ds_db_query(db, sql, nparams, params, err);
	free(set);
	ds_db_rollback(db);
	if (!res)
		return NULL;
	n = PQntuples(res);
	names = ds_xmalloc((size_t)(n + 1) * sizeof(*names));
	for (int i = 0; i < n; i++)
		names[i] = ds_xstrdup(PQgetvalue(res, i, 0));
	names[n] = NULL;
	PQclear(res);
	return names;
}

char **ds_complete_names(struct ds_db *db, enum ds_name_kind kind, struct ds_error *err)
{
	char *sql;
	char **names;

	if (kind < 0 || kind >= DS_NAMES_COUNT)
		return ds_error_set(err, DS_ERR_FAILED, "no such kind of name"), NULL;
	sql = ds_xprintf(names_sql[kind].sql, db->schema_ident);
	names = read_names(db, sql, names_sql[kind].nparams, err);
	free(sql);
	return names;
}

void ds_names_free(char **names)
{
	for (size_t i = 0; names && names[i]; i++)
		free(names[i]);
	free(names);
}
