/*
 * test_sql.c: every embedded statement parses and resolves against a fresh state
 * schema, so that a typo in a rarely run path fails make check, not a night on call.
 *
 * Run by tests/t/21-sql.t against the test server (PG* variables), after init of the
 * schema named by DATASHELL_SCHEMA. Each statement is prepared, not run: the server
 * parses it, resolves every table, column, function and type, and types its
 * parameters, and changes nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/db.h"
#include "../../core/sql.h"
#include "../../core/util.h"
#include "tap.h"

static void test_statement(struct ds_db *db, enum ds_sql_id id)
{
	PGresult *res = PQprepare(db->conn, "", ds_sql(db, id), 0, NULL);
	int ok = PQresultStatus(res) == PGRES_COMMAND_OK;

	if (!tap_ok(ok, ds_sql_statements[id].path))
		printf("#   %s", PQresultErrorMessage(res));
	PQclear(res);
}

/*
 * Another placeholder than @schema@ (an @name@) would reach the server as text: in a
 * string literal it parses, so preparing the statement cannot tell. (printf's %1$s is
 * no mark: format() takes it too, and swap/check_statements.sql uses it so.)
 */
static int foreign_placeholder(const char *text)
{
	for (const char *at = strchr(text, '@'); at; at = strchr(at + 1, '@')) {
		size_t n = strspn(at + 1, "abcdefghijklmnopqrstuvwxyz_");

		if (n && at[1 + n] == '@' && strncmp(at, DS_SQL_SCHEMA, strlen(DS_SQL_SCHEMA)))
			return 1;
		at += n;
	}
	return 0;
}

static void test_placeholders(void)
{
	int clean = 1;

	for (int id = 0; id < DS_SQL_COUNT; id++)
		if (foreign_placeholder(ds_sql_statements[id].text)) {
			printf("#   %s has a placeholder other than %s\n",
			       ds_sql_statements[id].path, DS_SQL_SCHEMA);
			clean = 0;
		}
	tap_ok(clean, "@schema@ is the only placeholder");
}

/* The file's bytes, or NULL; caller frees. */
static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *text;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	text = malloc((size_t)n + 1);
	if (fread(text, 1, (size_t)n, f) != (size_t)n) {
		free(text);
		text = NULL;
	} else {
		text[n] = '\0';
	}
	fclose(f);
	return text;
}

/* What the binary carries is each file byte for byte: quotes, backslashes, tabs. */
static int embedded_as_written(const char *path, const char *text)
{
	char *full = ds_xprintf("%s/core/sql/%s", getenv("DS_TOP"), path);
	char *file = read_file(full);
	int same = file && !strcmp(file, text);

	if (!same)
		printf("#   %s differs from its embedded text\n", full);
	free(file);
	free(full);
	return same;
}

static void test_embedded_text(void)
{
	int same = 1;

	for (int id = 0; id < DS_SQL_COUNT; id++)
		same &= embedded_as_written(ds_sql_statements[id].path, ds_sql_statements[id].text);
	for (const struct ds_sql_migration *m = ds_sql_migrations; m->version; m++)
		same &= embedded_as_written(m->path, m->text);
	for (const struct ds_sql_file *f = ds_sql_definitions; f->path; f++)
		same &= embedded_as_written(f->path, f->text);
	tap_ok(same, "every file is embedded byte for byte");
}

int main(void)
{
	struct ds_conn_target target = { 0 };
	struct ds_error err = { 0 };
	struct ds_db db = { 0 };
	const char *schema = getenv("DATASHELL_SCHEMA");

	if (ds_db_connect(&db, &target, schema ? schema : "datashell", &err) < 0) {
		printf("Bail out! %s\n", err.message);
		return 1;
	}
	for (int id = 0; id < DS_SQL_COUNT; id++)
		test_statement(&db, (enum ds_sql_id)id);
	test_placeholders();
	test_embedded_text();
	ds_db_release(&db);
	return tap_done();
}
