/* complete.c: the names tab completion offers, each read in one short statement. */
#include <stdlib.h>

#include "complete.h"
#include "sql.h"
#include "util.h"

/*
 * One statement per kind, in core/sql/names/. The catalog's has $1, the state schema's
 * name as the catalog spells it, to leave datashell's own tables out.
 */
static const struct {
	enum ds_sql_id id;
	int nparams;
} names_sql[DS_NAMES_COUNT] = {
	[DS_NAMES_TASKS] = { DS_SQL_NAMES_TASKS, 0 },
	[DS_NAMES_GRAPHS] = { DS_SQL_NAMES_GRAPHS, 0 },
	[DS_NAMES_BATCHES] = { DS_SQL_NAMES_BATCHES, 0 },
	[DS_NAMES_TABLES] = { DS_SQL_NAMES_TABLES, 1 },
	[DS_NAMES_ALERTS] = { DS_SQL_NAMES_ALERTS, 0 },
};

/* The timeout as text, so that the transaction verb that sets it is a constant. */
#define TEXT_OF(n) #n
#define TEXT(n)	   TEXT_OF(n)

#define BEGIN_WITH_TIMEOUT "BEGIN; SET LOCAL statement_timeout = " TEXT(DS_COMPLETE_TIMEOUT_MS)

/* The first column of a statement's rows, with the statement timeout held to this read. */
static char **read_names(struct ds_db *db, enum ds_sql_id id, int nparams, struct ds_error *err)
{
	const char *params[] = { db->schema };
	PGresult *res = NULL;
	char **names;
	int n;

	if (ds_db_exec(db, BEGIN_WITH_TIMEOUT, err) == 0)
		res = ds_sql_query(db, id, nparams, params, err);
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
	if (kind < 0 || kind >= DS_NAMES_COUNT)
		return ds_error_set(err, DS_ERR_FAILED, "no such kind of name"), NULL;
	return read_names(db, names_sql[kind].id, names_sql[kind].nparams, err);
}

void ds_names_free(char **names)
{
	for (size_t i = 0; names && names[i]; i++)
		free(names[i]);
	free(names);
}
