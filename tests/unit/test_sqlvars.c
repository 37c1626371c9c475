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

/* The transaction control statement found in sql, as "WORDS@line:column", or "". */
static char *control(const char *sql)
{
	static char buf[200];
	size_t offset;
	char *what;
	int line, column;

	if (!ds_sql_transaction_control(sql, &offset, &what))
		return "";
	ds_sql_position(sql, offset, &line, &column);
	snprintf(buf, sizeof(buf), "%s@%d:%d", what, line, column);
	free(what);
	return buf;
}

static void transaction_control(void)
{
	tap_is_str(control("INSERT INTO t VALUES (1);\n  COMMIT;"), "COMMIT@2:3",
		   "COMMIT is found, at its line and column");
	tap_is_str(control("begin; select 1"), "begin@1:1", "BEGIN, in any case");
	tap_is_str(control("SELECT 1; START\n TRANSACTION ISOLATION LEVEL SERIALIZABLE"),
		   "START TRANSACTION@1:11", "START TRANSACTION");
	tap_is_str(control("SELECT 1;end"), "end@1:10", "END");
	tap_is_str(control("SELECT 1;ABORT;"), "ABORT@1:10", "ABORT");
	tap_is_str(control("SELECT 1; ROLLBACK AND CHAIN"), "ROLLBACK@1:11", "ROLLBACK");
	tap_is_str(control("PREPARE TRANSACTION 'x'"), "PREPARE TRANSACTION@1:1",
		   "PREPARE TRANSACTION");
	tap_is_str(control("COMMIT PREPARED 'x'"), "COMMIT@1:1", "COMMIT PREPARED");
	tap_is_str(control("SELECT '\xc3\xa9t\xc3\xa9'; COMMIT"), "COMMIT@1:15",
		   "columns count characters, not bytes");
	tap_is_str(control("SAVEPOINT a; SELECT 1; ROLLBACK TO a; ROLLBACK WORK TO SAVEPOINT a; "
			   "RELEASE a"),
		   "", "savepoints stay in the transaction");
	tap_is_str(control("PREPARE q AS SELECT 1; CALL p(); SELECT commit FROM t"), "",
		   "PREPARE of a statement, CALL and a column named commit are not control");
	tap_is_str(control("SELECT 'a; COMMIT', \"b; COMMIT\"; -- ; COMMIT\n/* ; COMMIT */ SELECT "
			   "$$ ; COMMIT $$"),
		   "", "nor is COMMIT in strings, identifiers, comments and dollar quotes");
	tap_is_str(control("SELECT e'\\'; COMMIT; '"), "", "nor after an escaped quote");
	tap_is_str(control("SELECT a$b$; COMMIT; $b$"), "COMMIT@1:14",
		   "but it is after a word with a $ in it");
	tap_is_str(control("DO $$ BEGIN COMMIT; END $$"), "", "a DO block is one statement");
	tap_is_str(
		control("CREATE OR REPLACE PROCEDURE p() BEGIN ATOMIC INSERT INTO t VALUES (1);\n"
			"SELECT CASE WHEN true THEN 1 END; END; SELECT 1"),
		"", "a BEGIN ATOMIC body is part of its statement");
	tap_is_str(control("CREATE FUNCTION f() RETURNS int BEGIN ATOMIC SELECT 1; END;\nCOMMIT"),
		   "COMMIT@2:1", "and the statement ends after its END");
	tap_is_str(control("SELECT (1); COMMIT"), "COMMIT@1:13", "after parentheses");
	tap_is_str(control(""), "", "empty SQL");
	tap_is_str(control(";;"), "", "empty statements");
}

/* What a task's version reads of its SQL: tokens, not layout or comments. */
static void normalizes(const char *sql, const char *want, const char *name)
{
	char *got = ds_sql_normalize(sql);

	tap_is_str(got, want, name);
	free(got);
}

static void normalize(void)
{
	normalizes("SELECT  a,\n\tb -- why\nFROM t /* x /* y */ z */ WHERE c=:'key';",
		   "SELECT a , b FROM t WHERE c = :'key' ;", "comments and layout go");
	normalizes("SELECT 'a  b',\"x  y\",  $$ c\n d $$", "SELECT 'a  b' , \"x  y\" , $$ c\n d $$",
		   "literals, quoted names and dollar bodies are kept as written");
	normalizes("SELECT 'a  -- b'", "SELECT 'a  -- b'", "a comment inside a string is text");
	normalizes("  -- only a comment\n", "", "comments alone are nothing");
	normalizes("SELECT x::int", "SELECT x :: int", "a cast is a token");
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

	/* As the server's lexer cuts SQL: what looks like a quote but is not one. */
	expands("SELECT a$b$, :'key', c$d$", "SELECT a$b$, '2024-01-05', c$d$",
		"a '$' inside an identifier starts no dollar quote");
	expands("SELECT x$$ FROM t WHERE d = :'key' -- $$",
		"SELECT x$$ FROM t WHERE d = '2024-01-05' -- $$",
		"nor does '$$' at the end of one");
	expands("SELECT CASE WHEN b THEN 'y' ELSE'x\\' END, :'key'",
		"SELECT CASE WHEN b THEN 'y' ELSE'x\\' END, '2024-01-05'",
		"a word ending in E before a quote is no E'' string");
	expands("SELECT e'it\\'s :''key', :'key'", "SELECT e'it\\'s :''key', '2024-01-05'",
		"in an E'' string a backslash escapes the quote");
	expands("SELECT 'C:\\', :'key'", "SELECT 'C:\\', '2024-01-05'",
		"in a plain string a backslash is a plain character");
	expands("SELECT E'a'\n'\\' :''key', :'key'", "SELECT E'a'\n'\\' :''key', '2024-01-05'",
		"an E'' string continued on the next line keeps its escapes");
	expands("SELECT E'a' -- c\n  'b\\' :''key', :'key'",
		"SELECT E'a' -- c\n  'b\\' :''key', '2024-01-05'", "also across a comment");
	expands("SELECT E'a' '\\', :'key' -- '", "SELECT E'a' '\\', '2024-01-05' -- '",
		"on the same line there is no continuation");
	expands("SELECT B'01', X'1F', N'n:''key''', U&'\\0041:''key''', :'key'",
		"SELECT B'01', X'1F', N'n:''key''', U&'\\0041:''key''', '2024-01-05'",
		"bit, hex, national and Unicode strings");
	expands("SELECT U&\"a:'key'\"\"\", :'key'", "SELECT U&\"a:'key'\"\"\", '2024-01-05'",
		"a Unicode quoted identifier");
	expands("SELECT \"a\"\"b:'key'\", :'key'", "SELECT \"a\"\"b:'key'\", '2024-01-05'",
		"a doubled quote inside a quoted identifier");
	expands("SELECT $a1$ :'key' $a$ $1$ $a1$, :'key'",
		"SELECT $a1$ :'key' $a$ $1$ $a1$, '2024-01-05'",
		"a dollar quote ends at its own tag");
	expands("SELECT $1$a$ :'key' $a$, :'key'", "SELECT $1$a$ :'key' $a$, '2024-01-05'",
		"a tag cannot start with a digit: $1 is a parameter, then $a$");
	expands("SELECT $_$ :'key' $_$, $\xc3\xa9$ :'key' $\xc3\xa9$, :'key'",
		"SELECT $_$ :'key' $_$, $\xc3\xa9$ :'key' $\xc3\xa9$, '2024-01-05'",
		"tags of '_' and of letters beyond ASCII");
	expands("SELECT 1 /* a /* b */ :'key' */ , :'key'",
		"SELECT 1 /* a /* b */ :'key' */ , '2024-01-05'", "block comments nest");
	expands("SELECT 2*/* :'key' */3, :'key'", "SELECT 2*/* :'key' */3, '2024-01-05'",
		"a comment right after an operator");
	expands("SELECT 1 --:'key'\r:'key'", "SELECT 1 --:'key'\r'2024-01-05'",
		"a -- comment ends at a carriage return");
	expands("SELECT 1e5, 0x1F, 1_000, :'key'", "SELECT 1e5, 0x1F, 1_000, '2024-01-05'",
		"numbers");
	expands("SELECT :'key'::date, ::'key'", "SELECT '2024-01-05'::date, ::'key'",
		"after :: a quote is a string");
	expands("SELECT a:'key'", "SELECT a'2024-01-05'", "a variable right after a word");
	expands("SELECT 'unterminated :'key'", "SELECT 'unterminated :'key'",
		"an unterminated string runs to the end");
	expands("SELECT $$ :'key'", "SELECT $$ :'key'", "so does an unterminated dollar quote");
	expands("SELECT /* :'key'", "SELECT /* :'key'", "and an unterminated comment");
	expands("SELECT E'\\", "SELECT E'\\", "a backslash at the very end");
	expands("", "", "empty SQL");

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

	transaction_control();
	normalize();
	return tap_done();
}
