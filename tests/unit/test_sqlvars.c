/* test_sqlvars: psql-style variables in task SQL, and what the scanner leaves alone. */
#include <stdlib.h>

#include "../../core/sqlvars.h"
#include "tap.h"

/* clang-format off */
static const struct ds_sqlvar vars[] = {
	{ "key", "2024-01-05", 0 },
	{ "target", "ana lytics.Or\"ders", 1 },
	{ "task", "it's", 0 },
	{ "graph", "back\\slash", 0 },
	{ "key_start", NULL, 0 },
};
/* clang-format on */

static void expands(const char *sql, const char *want, const char *name)
{
	struct ds_error err;
	char *got = ds_sql_expand(sql, vars, 5, &err);

	if (!got) {
		tap_ok(0, name);
		printf("#   unexpected error: %s\n", err.message);
		return;
	}
	tap_is_str(got, want, name);
	free(got);
}

int main(void)
{
	struct ds_error err;

	expands("DELETE FROM :\"target\" WHERE day = :'key'",
		"DELETE FROM \"ana lytics\".\"Or\"\"ders\" WHERE day = '2024-01-05'",
		"a literal and a qualified identifier");
	expands("SELECT :'task'", "SELECT 'it''s'", "quotes are doubled");
	expands("SELECT :'graph'", "SELECT  E'back\\\\slash'", "backslashes as PQescapeLiteral");
	expands("SELECT ':''key''', \":'key'\" FROM t", "SELECT ':''key''', \":'key'\" FROM t",
		"literals and quoted identifiers are left alone");
	expands("SELECT 1 -- :'key'\n/* :'key' /* nested */ :'key' */ , $$ :'key' $$, $f$:'key'$f$",
		"SELECT 1 -- :'key'\n/* :'key' /* nested */ :'key' */ , $$ :'key' $$, $f$:'key'$f$",
		"comments and dollar quotes are left alone");
	expands("SELECT x::text, $1, :key, :'key'::date",
		"SELECT x::text, $1, :key, '2024-01-05'::date",
		"casts, parameters and bare :names are left alone");

	tap_ok(ds_sql_expand("SELECT :'key_start'", vars, 5, &err) == NULL, "a NULL value fails");
	tap_is_str(err.message, "variable 'key_start' at character 8 has no value here",
		   "and names the variable");
	tap_ok(ds_sql_expand("SELECT :'nope'", vars, 5, &err) == NULL, "an unknown variable fails");

	tap_is_int(ds_sql_check_vars("SELECT :'key', :\"target\"", ds_sql_known_vars, &err), 0,
		   "known variables pass the check");
	tap_is_int(ds_sql_check_vars("SELECT 1,\n :'kye'", ds_sql_known_vars, &err), -1,
		   "an unknown one fails the check");
	tap_is_str(err.message, "unknown variable 'kye' at character 12 (did you mean 'key'?)",
		   "with its offset and a suggestion");
	tap_is_int(err.column, 12, "and the offset in column");

	return tap_done();
}
