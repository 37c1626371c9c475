/*
 * test_sql.c: every embedded statement parses and resolves against a fresh state
 * schema, so that a typo in a rarely run path fails make check, not a night on call.
 *
 * Run by tests/t/21-sql.t against the test server (PG* variables), after init of the
 * schemas named by its arguments (or DATASHELL_SCHEMA), each a name that needs quoting. Each
 * statement is prepared, not run: the server parses it, resolves every table, column, function and
 * type, and types its parameters, and changes nothing.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/db.h"
#include "../../core/sql.h"
#include "../../core/util.h"
#include "tap.h"

/* Prepare statement ID; on failure say why, and which schema it was prepared for. */
static int prepares(struct ds_db *db, enum ds_sql_id id)
{
	PGresult *res = PQprepare(db->conn, "", ds_sql(db, id), 0, NULL);
	int ok = PQresultStatus(res) == PGRES_COMMAND_OK;

	if (!ok)
		printf("#   %s in schema %s: %s", ds_sql_statements[id].path, db->schema_ident,
		       PQresultErrorMessage(res));
	PQclear(res);
	return ok;
}

static int connect_to(struct ds_db *db, const char *schema)
{
	struct ds_conn_target target = { 0 };
	struct ds_error err = { 0 };

	if (ds_db_connect(db, &target, schema, &err) == 0)
		return 0;
	printf("Bail out! %s\n", err.message);
	return -1;
}

/* Each statement is a test of its own in the first schema. */
static int test_statements(const char *schema)
{
	struct ds_db db = { 0 };

	if (connect_to(&db, schema) < 0)
		return -1;
	for (int id = 0; id < DS_SQL_COUNT; id++)
		tap_ok(prepares(&db, (enum ds_sql_id)id), ds_sql_statements[id].path);
	ds_db_release(&db);
	return 0;
}

/* In another schema, whose name is odd in another way, all of them are one test. */
static int test_statements_in(const char *schema)
{
	struct ds_db db = { 0 };
	int all = 1;
	char *name;

	if (connect_to(&db, schema) < 0)
		return -1;
	for (int id = 0; id < DS_SQL_COUNT; id++)
		all &= prepares(&db, (enum ds_sql_id)id);
	name = ds_xprintf("every statement prepares in schema %s", db.schema_ident);
	tap_ok(all, name);
	free(name);
	ds_db_release(&db);
	return 0;
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

/*
 * Where in TEXT @schema@ would be pasted into a quoted body: inside a dollar-quoted
 * function body or DO block, or a string literal. A schema's name may hold any text,
 * $$ or a quote among it, and would end the quote there; such a body names the state's
 * objects through its own SET search_path instead. Returns the quote's opening, or
 * NULL. Comments and quoted identifiers are skipped, as the server's lexer does.
 */
static int within(const char *from, const char *to, const char *needle)
{
	size_t n = strlen(needle);

	for (; from + n <= to; from++)
		if (!strncmp(from, needle, n))
			return 1;
	return 0;
}

static const char *schema_in_quotes(const char *text)
{
	const char *p = text;

	while (*p) {
		const char *end = NULL, *open = p;
		size_t tag = 0;

		if (!strncmp(p, "--", 2)) {
			p += strcspn(p, "\n");
			continue;
		}
		if (!strncmp(p, "/*", 2)) {
			end = strstr(p + 2, "*/");
			p = end ? end + 2 : p + strlen(p);
			continue;
		}
		if (*p == '"' || *p == '\'') {
			for (end = p + 1; *end && (*end != *p || end[1] == *p); end++)
				if (*end == *p)
					end++;
		} else if (*p == '$' && (p == text || !(isalnum((unsigned char)p[-1]) ||
							p[-1] == '_' || p[-1] == '$'))) {
			tag = 1 + strspn(p + 1, "abcdefghijklmnopqrstuvwxyz"
						"ABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789");
			if (p[tag] != '$' || isdigit((unsigned char)p[1])) {
				p++;
				continue;
			}
			tag++;
			for (end = p + tag; *end && strncmp(end, p, tag); end++)
				;
		} else {
			p++;
			continue;
		}
		if (*open != '"' && within(open, end, DS_SQL_SCHEMA))
			return open;
		p = *end ? end + (tag ? tag : 1) : end;
	}
	return NULL;
}

static void quoted_schema(const char *path, const char *text, int *clean)
{
	const char *at = schema_in_quotes(text);

	if (at) {
		printf("#   %s: %s inside the quotes at '%.20s'\n", path, DS_SQL_SCHEMA, at);
		*clean = 0;
	}
}

static void test_no_schema_in_quotes(void)
{
	int clean = 1;

	for (int id = 0; id < DS_SQL_COUNT; id++)
		quoted_schema(ds_sql_statements[id].path, ds_sql_statements[id].text, &clean);
	for (const struct ds_sql_migration *m = ds_sql_migrations; m->version; m++)
		quoted_schema(m->path, m->text, &clean);
	for (const struct ds_sql_file *f = ds_sql_definitions; f->path; f++)
		quoted_schema(f->path, f->text, &clean);
	tap_ok(clean, "@schema@ is never inside a dollar-quoted body or a string");
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

/*
 * A script of comments alone runs nothing and says so (tools/embed-sql refuses such a
 * file; a script that reaches the server empty must not pass for one that ran).
 */
static int test_empty_script(const char *schema)
{
	struct ds_db db = { 0 };
	struct ds_error err = { 0 };

	if (connect_to(&db, schema) < 0)
		return -1;
	tap_is_int(ds_sql_exec_script(&db, "-- nothing\n/* to run */ ;\n", &err), -1,
		   "a script of comments fails");
	tap_is_str(err.message, "the SQL holds no statement, only white space or comments",
		   "and says that it holds no statement");
	ds_db_release(&db);
	return 0;
}

/* The schemas are the arguments, or DATASHELL_SCHEMA (default datashell); init made them. */
int main(int argc, char **argv)
{
	const char *schema = getenv("DATASHELL_SCHEMA");
	const char *first = argc > 1 ? argv[1] : schema ? schema : "datashell";

	if (test_statements(first) < 0)
		return 1;
	for (int i = 2; i < argc; i++)
		if (test_statements_in(argv[i]) < 0)
			return 1;
	test_placeholders();
	test_no_schema_in_quotes();
	test_embedded_text();
	if (test_empty_script(first) < 0)
		return 1;
	return tap_done();
}
