#!/bin/sh
# The state store: init creates and upgrades it; every other command refuses a
# missing, older or newer schema and names the fix.
. "$DS_TOP/tests/lib.sh"
use_fresh_database t_init

# A database without the state store, and one with it, made by one init.
stage_empty() {
	use_fresh_database t_init
}

stage_initialized() {
	use_stage empty
	setup "$DATASHELL" -c init
}

begin "status on a database without the schema names the fix"
use_stage empty
ds -c status
expect_exit 3
expect_stderr <<-'END'
	datashell: error: schema 'datashell' does not exist in database 't_init'
	hint: run 'datashell init' to create it, or choose another schema with --schema
END
end_case

begin "init --dry-run says what it would do and changes nothing"
use_stage empty
ds -c 'init --dry-run --json'
expect_exit 0
expect_eq "from" "$(json_get '{from_version}' <"$OUT")" 0
expect_eq "migrations" "$(json_get '{migrations}[0]{name}' <"$OUT")" "audit log"
expect_sql "schemas" "SELECT count(*) FROM pg_namespace WHERE nspname = 'datashell'" 0
end_case

begin "init creates the schema at the latest version"
use_stage empty
ds -c init
expect_exit 0
expect_stdout <<-END
	created schema 'datashell' at version $SCHEMA_VERSION
END
expect_sql "migrations recorded" 'SELECT string_agg(version::text, $$,$$ ORDER BY version) FROM datashell.schema_migrations' "$SCHEMA_VERSIONS"
expect_sql "audit row" 'SELECT command || $$:$$ || outcome FROM datashell.audit_log' "init:ok"
end_case

begin "init twice changes nothing, says so and leaves no audit row"
use_stage initialized
ds -c init
expect_exit 0
expect_stdout <<-END
	schema 'datashell' is up to date (version $SCHEMA_VERSION)
END
expect_sql "migrations recorded" 'SELECT count(*) FROM datashell.schema_migrations' "$SCHEMA_MIGRATIONS"
expect_sql "audit rows" 'SELECT count(*) FROM datashell.audit_log' 1
end_case

begin "status shows the connection and the schema"
use_stage initialized
ds -c status
expect_exit 0
expect_stdout_matches '^  Database +t_init$'
expect_stdout_matches '^  User +postgres$'
expect_stdout_matches "^  Version +$SCHEMA_VERSION\$"
expect_stdout_matches '^  Server version +[0-9]+'
ds -c 'status --json'
expect_eq "json database" "$(json_get '{connection}{database}' <"$OUT")" t_init
expect_eq "json version" "$(json_get '{schema}{version}' <"$OUT")" "$SCHEMA_VERSION"
expect_eq "json audit entries" "$(json_get '{audit_log}{entries}' <"$OUT")" 1
end_case

begin "an older schema is refused until init upgrades it"
use_stage initialized
# Take the schema back to version 11 by undoing the latest migrations by hand.
undo_migrations 12
ds -c status
expect_exit 3
expect_stderr <<-END
	datashell: error: schema 'datashell' is at version 11 but this datashell needs version $SCHEMA_VERSION
	hint: run 'datashell init' to upgrade it
END
ds -c init -c status
expect_exit 0
expect_stdout_matches "^upgraded schema 'datashell' from version 11 to $SCHEMA_VERSION\$"
expect_sql "audited" "SELECT detail->>'schema_from' || ' ' || (detail->>'schema_to')
	FROM datashell.audit_log ORDER BY id DESC LIMIT 1" "11 $SCHEMA_VERSION"
end_case

begin "functions changed by hand or by another build are refused, and init restores them"
use_stage initialized
sql "CREATE OR REPLACE FUNCTION datashell.hold_task(p_task integer) RETURNS integer
	LANGUAGE sql AS 'SELECT 0'; UPDATE datashell.schema_definitions SET fingerprint = 'other'" >/dev/null
ds -c status
expect_exit 3
expect_stderr <<-'END'
	datashell: error: the functions of schema 'datashell' are not those of this datashell
	hint: run 'datashell init' to bring them up to date
END
ds -c 'init --dry-run'
expect_exit 0
expect_stdout <<-END
	would bring the functions of schema 'datashell' up to date (version $SCHEMA_VERSION); nothing was changed
END
expect_sql "untouched by the dry run" "SELECT fingerprint FROM datashell.schema_definitions" other
ds -c 'init --json'
expect_exit 0
expect_eq "reported" "$(json_get '{definitions_updated}' <"$OUT")" true
expect_sql "restored" "SELECT l.lanname FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
	WHERE p.oid = 'datashell.hold_task'::regproc" plpgsql
expect_sql "audited" "SELECT detail->>'definitions_updated' FROM datashell.audit_log
	ORDER BY id DESC LIMIT 1" true
ds -c status
expect_exit 0
ds -c init
expect_stdout <<-END
	schema 'datashell' is up to date (version $SCHEMA_VERSION)
END
end_case

begin "a newer schema is refused by status and by init"
use_stage initialized
sql "INSERT INTO datashell.schema_migrations (version, name) VALUES (999, 'future')" >/dev/null
ds -c status
expect_exit 3
expect_stderr_matches "schema 'datashell' is at version 999, newer than this datashell knows \($SCHEMA_VERSION\)"
ds -c init
expect_exit 3
expect_stderr_matches "newer than this datashell knows"
expect_sql "nothing removed" 'SELECT count(*) FROM datashell.schema_migrations' $((SCHEMA_MIGRATIONS + 1))
sql "DELETE FROM datashell.schema_migrations WHERE version = 999" >/dev/null
end_case

begin "a schema that is not datashell's is named as such"
use_stage initialized
sql 'CREATE SCHEMA other' >/dev/null
ds --schema other -c status
expect_exit 3
expect_stderr_matches "schema 'other' in database 't_init' is not a datashell state store"
end_case

begin "a failed init leaves nothing behind"
use_stage initialized
sql 'CREATE SCHEMA broken; CREATE TABLE broken.audit_log (x int)' >/dev/null
ds --schema broken -c init
expect_exit 3
expect_stderr_matches 'relation "audit_log" already exists'
expect_stderr_matches 'migration 1 \(audit log\) failed; nothing was changed'
expect_sql "no migrations table" "SELECT count(*) FROM pg_tables WHERE schemaname = 'broken' AND tablename = 'schema_migrations'" 0
end_case

begin "two inits at once: both succeed, the schema is made once"
use_fresh_database t_init_race
# Hold the advisory lock init takes, start two inits, see both wait, then let them go
# together.
hold_session "SELECT pg_advisory_xact_lock(hashtextextended('datashell.init.' || 'datashell', 0))"
"$DATASHELL" -c init >"$WORK/a.out" 2>"$WORK/a.err" &
a=$!
"$DATASHELL" -c init >"$WORK/b.out" 2>"$WORK/b.err" &
b=$!
advisory="SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
	AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
wait_until "($advisory) = 2"
expect_eq "inits waiting on the lock" "$(sql "$advisory")" 2
release_session
wait $a; ca=$?
wait $b; cb=$?
expect_eq "first init exit" "$ca" 0
expect_eq "second init exit" "$cb" 0
expect_eq "outcomes" "$(cat "$WORK/a.out" "$WORK/b.out" | sort | tr '\n' ';')" \
	"created schema 'datashell' at version $SCHEMA_VERSION;schema 'datashell' is up to date (version $SCHEMA_VERSION);"
expect_sql "migrations recorded" 'SELECT count(*) FROM datashell.schema_migrations' "$SCHEMA_MIGRATIONS"
end_case

begin "any schema name the server accepts works: init, load, backfill, worker, status, breaker, swap-table"
cat >"$WORK/odd.json" <<-'END'
	{"graphs": {"g": {"max_active": 2}},
	 "tasks": [{"name": "good", "graph": "g", "key": "daily", "sql": "SELECT :'key'"},
	           {"name": "bad", "graph": "g", "key": "daily", "sql": "SELECT 1/0", "retries": 0}]}
END
# The name reaches psql as a variable (sql's search_path option cannot carry every name).
in_schema() {	# NAME QUERY
	printf '%s\n' "$2" | PGOPTIONS= psql -X -q -A -t -v ON_ERROR_STOP=1 -v s="$1" -f -
}
for name in 'a$$b' 'x$ds$y' "q'uote" '$1' 'Big Schema "Two"' '@schema@'; do
	use_stage empty
	export DATASHELL_SCHEMA=$name
	psql -X -q -c 'CREATE TABLE facts (day date, n integer);
	               INSERT INTO facts SELECT date $$2024-01-01$$ + i, i FROM generate_series(0, 9) i' ||
		fail "$name: could not create facts"
	ds -c init -c "pipeline load $WORK/odd.json" -c 'backfill good 2024-01-01..2024-01-02' \
		-c 'backfill bad 2024-01-01'
	[ "$CODE" = 0 ] || fail "$name: init, load and backfill exited $CODE: $(head -c 500 "$ERR")"
	ds -c 'worker --drain'
	# bad fails by design: the drain names it, having asked the schema what is left.
	[ "$CODE" = 3 ] && grep -q '^  bad 2024-01-01: failed: division by zero$' "$ERR" ||
		fail "$name: worker --drain exited $CODE: $(head -c 500 "$ERR")"
	ds -c status -c alerts -c 'handoff --since 1h' -c 'breaker trip good --reason test' \
		-c 'breaker reset good --yes'
	[ "$CODE" = 0 ] || fail "$name: status, alerts, handoff, breaker exited $CODE: $(head -c 500 "$ERR")"
	ds -c 'swap-table start facts'
	[ "$CODE" = 0 ] || fail "$name: swap-table start exited $CODE: $(head -c 500 "$ERR")"
	psql -X -q -c 'INSERT INTO facts_backfill SELECT * FROM facts' || fail "$name: no backfill"
	ds -c 'swap-table check facts' -c 'swap-table swap facts --yes' \
		-c 'swap-table rollback facts --yes' -c 'swap-table status'
	[ "$CODE" = 0 ] || fail "$name: swap-table exited $CODE: $(head -c 500 "$ERR")"
	got=$(in_schema "$name" "SELECT string_agg(t.name || ' ' || r.key || ' ' || r.state, ', '
	                         ORDER BY t.name, r.key) FROM :\"s\".runs r
	                         JOIN :\"s\".tasks t ON t.id = r.task_id")
	expect_eq "$name: the runs" "$got" \
		"bad 2024-01-01 failed, good 2024-01-01 success, good 2024-01-02 success"
	got=$(in_schema "$name" "SELECT string_agg(incident || ' ' || state, ', ' ORDER BY id) FROM :\"s\".alerts")
	expect_eq "$name: the alerts" "$got" "task:bad open, task:good open"
	got=$(in_schema "$name" "SELECT state FROM :\"s\".swaps")
	expect_eq "$name: the swap" "$got" "rolled back"
done
unset DATASHELL_SCHEMA
end_case

done_testing
