#!/bin/sh
# Every statement under core/sql/ is prepared against fresh state schemas (in C; see
# tests/unit/test_sql.c) whose names need quoting, each in another way: a name may hold
# anything the server accepts, the quotes of a function body ($$, $ds$) and the
# placeholder itself among it. init must make each of them first.
. "$DS_TOP/tests/lib.sh"
use_fresh_database t_sql
set -- 'ds "q" sch' 'a$$b' 'x$ds$y' "q'uote" '$1' 'Big Schema' '@schema@'
for t_schema do
	DATASHELL_SCHEMA=$t_schema "$DATASHELL" -c init >/dev/null 2>"$ERR" ||
		{ echo "Bail out! init of schema $t_schema failed: $(cat "$ERR")"; exit 1; }
done
"$DS_UNITS/test_sql" "$@"
