# 22-embed-sql.t: tools/embed-sql, which the build runs to embed core/sql/ into the
# binary, refuses a file that holds no statement, naming it: an empty migration once built
# a binary whose init crashed. Runs the tool over trees of its own; needs no database
# server.

: "${DS_TOP:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$DS_TOP/tests/lib.sh"

# A tree of SQL as core/sql/ is laid out, in $WORK/sql: one file of each kind, each with
# a statement after comments, as the project's files begin.
sql_tree() {
	rm -rf "$WORK/sql" "$WORK/gen"
	mkdir -p "$WORK/sql/migrations" "$WORK/sql/definitions" "$WORK/sql/area" "$WORK/gen"
	printf -- '-- the table\nCREATE TABLE t (a int);\n' >"$WORK/sql/migrations/0001-a-table.sql"
	printf '/* a /* nested */ comment */\nCREATE VIEW v AS SELECT 1;\n' \
		>"$WORK/sql/definitions/10-v.sql"
	printf -- '-- one row\nSELECT a\nFROM t;\n' >"$WORK/sql/area/one-row.sql"
}

# Run tools/embed-sql over $WORK/sql into $WORK/gen, as ds runs the binary.
embed() {
	"$DS_TOP/tools/embed-sql" "$WORK/sql" "$WORK/gen/sql_files.c" "$WORK/gen/sql_files.h" \
		>"$OUT" 2>"$ERR"
	CODE=$?
}

begin "files that hold a statement are embedded, comments and all"
sql_tree
embed
expect_exit 0
grep -q '^	DS_SQL_AREA_ONE_ROW,$' "$WORK/gen/sql_files.h" ||
	fail "sql_files.h has no DS_SQL_AREA_ONE_ROW: $(cat "$WORK/gen/sql_files.h")"
for t_line in '"-- the table\n"' '"/* a /* nested */ comment */\n"' '"FROM t;\n"'; do
	grep -qF "$t_line" "$WORK/gen/sql_files.c" || fail "sql_files.c has no line $t_line"
done
end_case

# Each way of holding nothing, in FILE of a tree that is otherwise whole: empty, white
# space (and a stray semicolon), comments of both sorts, nested.
expect_refused() {	# FILE
	for t_text in '' '\n  \t\n;\n' '-- to do\n/* later /* or */ never */\n'; do
		sql_tree
		printf -- "$t_text" >"$WORK/sql/$1"
		embed
		expect_exit 1
		expect_stderr <<-END
		embed-sql: '$WORK/sql/$1' holds no statement, only white space or comments; write its SQL or remove it
		END
		[ ! -e "$WORK/gen/sql_files.c" ] || fail "sql_files.c was written for '$t_text'"
	done
}

begin "a migration with no statement is refused, named"
expect_refused migrations/0002-nothing.sql
end_case

begin "a definitions file with no statement is refused, named"
expect_refused definitions/20-nothing.sql
end_case

begin "a statement file with no statement is refused, named"
expect_refused area/nothing.sql
end_case

done_testing
