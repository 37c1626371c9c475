/*
 * sql.h: the SQL that datashell runs on its state store, kept as SQL in core/sql/ and
 * embedded into the binary at build time (tools/embed-sql writes build/gen/sql_files.*).
 *
 *   core/sql/migrations/NNNN-what.sql  tables and their data, append only, numbered
 *   core/sql/definitions/NN-what.sql   functions, triggers, views and grants as they
 *                                      are now, re-applied by init, in name order
 *   core/sql/AREA/NAME.sql             one statement each: DS_SQL_AREA_NAME
 *
 * The one placeholder is @schema@, the state schema's quoted name; values are always
 * $n parameters.
 */
#ifndef DS_SQL_H
#define DS_SQL_H

#include <libpq-fe.h>
#include <jansson.h>

#include "sql_files.h" /* build/gen, written by tools/embed-sql */
#include "db.h"

struct ds_sql_file {
	const char *path; /* under core/sql/ */
	const char *text;
};

struct ds_sql_migration {
	int version;
	const char *name;
	const char *path;
	const char *text;
};

/* Indexed by enum ds_sql_id. */
extern const struct ds_sql_file ds_sql_statements[DS_SQL_COUNT];
/* In version order; the last has version 0. */
extern const struct ds_sql_migration ds_sql_migrations[];
/* In the order init applies them; the last has a NULL path. */
extern const struct ds_sql_file ds_sql_definitions[];
/* The md5 of the definitions' text: init records it, and a schema whose record differs
 * has functions from another build. */
extern const char ds_sql_definitions_fingerprint[];

/* The placeholder every SQL file may use for the state schema. */
#define DS_SQL_SCHEMA "@schema@"

/*
 * The text of statement id for db's schema. Substituted once per connection and kept
 * by db (ds_db_release frees it): callers do not free it.
 */
const char *ds_sql(struct ds_db *db, enum ds_sql_id id);

/* ds_db_query and ds_db_json_rows on an embedded statement. */
PGresult *ds_sql_query(struct ds_db *db, enum ds_sql_id id, int nparams, const char *const *params,
		       struct ds_error *err);
json_t *ds_sql_json_rows(struct ds_db *db, enum ds_sql_id id, int nparams,
			 const char *const *params, struct ds_error *err);

/*
 * Listings for people stop at a limit (the 100 first runs of a batch, say) and say how
 * many rows there are in all: their statements end in "LIMIT $n::integer" and count
 * every row in a column "total" (count(*) OVER ()). A limit of DS_EVERY_ROW lists them
 * all.
 */
#define DS_EVERY_ROW 0

/* A limit as the parameter of "LIMIT $n::integer", written into buf: NULL for every row. */
const char *ds_sql_limit(char buf[static 16], int limit);

/*
 * The column "total" of rows, which counts every row there is (0 if rows is empty),
 * taken out of each row.
 */
json_int_t ds_rows_take_total(json_t *rows);

/* Run a script (a migration, the definitions) for db's schema; see ds_db_exec. */
int ds_sql_exec_script(struct ds_db *db, const char *text, struct ds_error *err);

#endif
