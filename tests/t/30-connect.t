#!/bin/sh
# Connections: libpq conventions, and exit 2 with libpq's reason when there is no server.
. "$DS_TOP/tests/lib.sh"
use_fresh_database t_connect

# A database without the state store, and one with it.
stage_empty() {
	use_fresh_database t_connect
}

stage_initialized() {
	use_stage empty
	setup "$DATASHELL" -c init
}

begin "no server reachable: exit 2 with libpq's reason"
PGHOST="$WORK/nowhere" ds -c status
expect_exit 2
expect_stderr_matches '^datashell: error: could not connect to the server: connection to server on socket ".*/nowhere/\.s\.PGSQL\.5432" failed: No such file or directory$'
expect_stderr_matches '^hint: '
end_case

begin "a script stops at the lost connection with exit 2, even with --keep-going"
printf 'help quit\nstatus\nhelp exit\n' >"$WORK/s.ds"
PGHOST="$WORK/nowhere" ds --keep-going -f "$WORK/s.ds"
expect_exit 2
if grep -q 'usage: exit' "$OUT"; then fail "the script went on after the connection failed"; fi
end_case

begin "commands that need no server work without one"
PGHOST="$WORK/nowhere" ds -c help -c 'help status'
expect_exit 0
end_case

begin "-d takes a conninfo string"
use_stage empty
ds -d "host=$PGHOST dbname=t_connect" -c init
expect_exit 0
ds -d "host=$PGHOST dbname=t_connect" -c 'status --json'
expect_exit 0
expect_eq "database" "$(json_get '{connection}{database}' <"$OUT")" t_connect
end_case

begin "-d takes a URI"
use_stage initialized
host=$(printf '%s' "$PGHOST" | sed 's|/|%2F|g')
ds -d "postgresql://postgres@$host/t_connect" -c 'status --json'
expect_exit 0
expect_eq "database" "$(json_get '{connection}{database}' <"$OUT")" t_connect
end_case

begin "-d takes a plain database name; PGDATABASE is the default"
use_stage initialized
sql 'DROP DATABASE IF EXISTS t_connect_empty' >/dev/null
sql 'CREATE DATABASE t_connect_empty' >/dev/null
ds -d t_connect_empty -c 'status --json'
expect_exit 3
expect_stderr_matches "schema 'datashell' does not exist in database 't_connect_empty'"
ds -c 'status --json'
expect_exit 0
end_case

begin "a service file is honoured"
use_stage initialized
printf '[ds]\nhost=%s\ndbname=t_connect\nuser=postgres\n' "$PGHOST" >"$WORK/services"
PGSERVICEFILE="$WORK/services" PGDATABASE=postgres ds -d service=ds -c 'status --json'
expect_exit 0
expect_eq "database" "$(json_get '{connection}{database}' <"$OUT")" t_connect
end_case

begin "a connection lost mid-script exits 2"
use_stage initialized
# Between the two commands, once the first has printed its result, a second session
# terminates the shell's backend (and waits until it is gone).
mkfifo "$WORK/fifo"
{
	echo status
	wait_for_file '^  Database' "$OUT"
	sql "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity
	     WHERE application_name = 'datashell' AND datname = current_database()" >/dev/null
	echo status
	echo 'help quit'
} >"$WORK/fifo" &
writer=$!
ds_stdin <"$WORK/fifo"
wait $writer
expect_exit 2
expect_stderr_matches 'error: the connection to the server was lost'
if grep -q 'usage: quit' "$OUT"; then fail "the script went on after the connection was lost"; fi
end_case

done_testing
