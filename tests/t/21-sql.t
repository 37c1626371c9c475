#!/bin/sh
# Every statement under core/sql/ is prepared against a fresh state schema (in C; see
# tests/unit/test_sql.c), and the schema's name is one that needs quoting.
. "$DS_TOP/tests/lib.sh"
use_fresh_database t_sql
export DATASHELL_SCHEMA='ds "q" sch'
"$DATASHELL" -c init >/dev/null 2>"$ERR" || { echo "Bail out! init failed: $(cat "$ERR")"; exit 1; }
"$DS_UNITS/test_sql"
