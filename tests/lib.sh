# lib.sh: what every test script shares. Source it first; it speaks TAP for prove.
#
# A test case reads like a spec:
#
#   begin "init twice reports that the schema is up to date"
#   ds -c init
#   expect_exit 0
#   expect_stdout <<-'END'
#   	schema 'datashell' is up to date (version 1)
#   END
#   end_case
#
# ds runs the binary under test ($DATASHELL) with stdout and stderr captured in
# $OUT and $ERR and its exit code in $CODE. expect_* record failures; end_case prints
# "ok N" or "not ok N" with the differences. done_testing prints the plan.
#
# Cases stand alone: a case makes the state it needs at its start (use_stage, new_schema,
# a database or schema of its own) and never relies on what an earlier case did or left.
# Code outside begin ... end_case is the script's setup (helpers, fixtures, its database):
# it runs whichever cases run, so it must not rely on a case either. So one case can run
# alone, with the setup it needs:
#
#   tests/run.sh t/70-backfill.t 12
#
# run.sh says so in DS_SELECT ("70-backfill.t:12"), and the script is run as a copy
# without the bodies of the other cases, which are reported as skipped.
#
# Scripts run side by side against one server, so a script keeps to its database (and
# its cases to their schemas or copies of it), or says why not (use_private_server).
# Nothing waits a fixed time for something to happen: wait_until, wait_for_file and
# ptyrun's until poll for it, with a deadline that only a failure reaches.
#
# What is here, in order: TAP (begin, fail, end_case, done_testing); running the binary
# (ds, ds_stdin, ds_as, setup); expectations (expect_*); SQL (sql, sql_in, and the queue:
# queue_sql, expect_sql, flush_sql); waiting (wait_until, wait_for_file, hold_session,
# LOCK_WAITS); the state a case starts from (use_fresh_database, use_stage, new_schema,
# use_private_server, whose server stop_server crashes and start_server brings back, and
# use_standby, its streaming standby that promote_standby makes the primary);
# the binary in the background (ds_bg, bg_wait), and Ctrl-C through a pseudo-terminal
# while it waits for a lock (ctrl_c_lock_wait); reading the state (run_field,
# run_outcome, swap_state, rows_of, schema_dump, hold_lock, json_get).

set -u

: "${DATASHELL:?run the tests through make check}"

# The cases selected for this script (DS_SELECT is "FILE:CASES ..." with CASES as in
# "3,5-7"): run a copy of it in which the other cases are skipped.
if [ -z "${T_SELECTED:-}" ]; then
	for t_sel in ${DS_SELECT:-}; do
		case $t_sel in "${0##*/}":*) T_SELECTED=${t_sel#*:} ;; esac
	done
	if [ -n "${T_SELECTED:-}" ]; then
		T_COPY=$(mktemp "${DS_TEST_TMP:-/tmp}/selected.XXXXXX")
		awk -v want="$T_SELECTED" '
			BEGIN {
				n = split(want, part, ",")
				for (i = 1; i <= n; i++)
					if (split(part[i], r, "-") == 2)
						for (j = r[1] + 0; j <= r[2] + 0; j++) sel[j] = 1
					else
						sel[part[i] + 0] = 1
			}
			/^begin / { skip = !(++c in sel); print; next }
			skip && /^end_case$/ { skip = 0; print "skip_case"; next }
			!skip { print }
		' "$0" >"$T_COPY" || exit 1
		export T_SELECTED T_COPY
		exec /bin/sh "$T_COPY"
	fi
fi
# The copy has been read by now, or is being read through an open file.
[ -n "${T_COPY:-}" ] && rm -f "$T_COPY"

# psql, pg_dump and pgbench straight from the server's directory: Debian's wrappers in
# /usr/bin are a Perl script that costs each call five times what psql itself does.
[ -n "${PG_BINDIR:-}" ] && export PATH="$PG_BINDIR:$PATH"

T_NUM=0
T_FAILED=0
T_CASE=""
WORK=$(mktemp -d "${DS_TEST_TMP:-/tmp}/t.XXXXXX")
OUT=$WORK/stdout
ERR=$WORK/stderr
CODE=0
# The case's failures, one per line: a file, so that a failure recorded in a subshell
# (a $(...), a pipeline, a background job) counts as well.
T_FAILS=$WORK/fails

# Each script gets its own home, so history and the private cluster stay in $WORK.
export HOME="$WORK/home" XDG_DATA_HOME="$WORK/data" XDG_STATE_HOME="$WORK/state"
export NO_COLOR=1
unset XDG_CONFIG_HOME INPUTRC
mkdir -p "$HOME"
chmod 755 "$WORK"

# Scripts that start something long-lived put the command that stops it here.
T_AT_EXIT=""

cleanup_work() {
	trap '' INT TERM	# a second signal must not cut the cleaning short
	[ -n "${T_TEMPLATES:-}" ] && drop_templates
	[ -n "$T_AT_EXIT" ] && eval "$T_AT_EXIT"
	rm -rf "$WORK"
}
trap cleanup_work EXIT
# Stopped by run.sh (or by hand), clean up as well: a private server must not outlive us.
trap 'exit 143' TERM
trap 'exit 130' INT

begin() {
	T_CASE=$1
	: >"$T_FAILS"
}

fail() {
	printf '%s\n' "$1" >>"$T_FAILS"
}

end_case() {
	flush_sql
	T_NUM=$((T_NUM + 1))
	if [ ! -s "$T_FAILS" ]; then
		echo "ok $T_NUM - $T_CASE"
	else
		T_FAILED=$((T_FAILED + 1))
		echo "not ok $T_NUM - $T_CASE"
		# On stderr, which prove shows also when it is not verbose (make check, CI):
		# a failure that comes once in many runs must say what it was the first time.
		{
			echo "# $(basename "$0") case $T_NUM, $T_CASE:"
			sed 's/^/#   /' "$T_FAILS"
		} >&2
	fi
	: >"$T_FAILS"
}

# A case that was not selected.
skip_case() {
	T_NUM=$((T_NUM + 1))
	echo "ok $T_NUM - $T_CASE # skip not selected"
}

done_testing() {
	echo "1..$T_NUM"
	[ "$T_FAILED" = 0 ]
}

# Run the binary under test, capturing everything.
ds() {
	flush_sql
	"$DATASHELL" "$@" >"$OUT" 2>"$ERR" </dev/null
	CODE=$?
}

# As ds, with standard input from the caller (a script on stdin).
ds_stdin() {
	flush_sql
	"$DATASHELL" "$@" >"$OUT" 2>"$ERR"
	CODE=$?
}

# As ds, as another database user.
ds_as() {	# USER ARGS...
	t_user=$1
	shift
	flush_sql
	PGUSER=$t_user "$DATASHELL" "$@" >"$OUT" 2>"$ERR" </dev/null
	CODE=$?
}

# A step of a case's setup, not under test: its output is kept out of the way, and if it
# fails the case fails with what it printed.
setup() {	# COMMAND [ARGS...]
	"$@" >"$WORK/setup.out" 2>&1 </dev/null ||
		fail "setup: $* exited $?: $(head -c 2000 "$WORK/setup.out")"
}

# The same for a step that fails by design, as a command whose checks fail does (exit
# status 3): any other outcome fails the case.
setup_failing() {	# COMMAND [ARGS...]
	"$@" >"$WORK/setup.out" 2>&1 </dev/null
	t_code=$?
	[ "$t_code" = 3 ] ||
		fail "setup: $* exited $t_code, expected 3: $(head -c 2000 "$WORK/setup.out")"
}

expect_exit() {
	[ "$CODE" = "$1" ] || fail "exit code $CODE, expected $1; stderr: $(head -c 2000 "$ERR")"
	check_sanitizers
}

# A sanitizer report anywhere in stderr fails the case, whatever the exit code.
check_sanitizers() {
	if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$ERR"; then
		fail "sanitizer report: $(head -c 3000 "$ERR")"
	fi
}

# Compare a captured stream with the expected text on stdin (tabs stripped by <<-).
expect_same() {	# NAME FILE
	cat >"$WORK/expected"
	if ! diff -u "$WORK/expected" "$2" >"$WORK/diff"; then
		fail "$1 differs:
$(cat "$WORK/diff")"
	fi
}

expect_stdout() {
	expect_same stdout "$OUT"
}

expect_stderr() {
	expect_same stderr "$ERR"
}

expect_stdout_matches() {	# EXTENDED-REGEX
	grep -qE -- "$1" "$OUT" || fail "stdout does not match /$1/: $(head -c 2000 "$OUT")"
}

expect_stderr_matches() {	# EXTENDED-REGEX
	grep -qE -- "$1" "$ERR" || fail "stderr does not match /$1/: $(head -c 2000 "$ERR")"
}

# The start of a line the worker writes, as an extended regex: the time, to the
# millisecond, in UTC. expect_stderr_matches "$WORKER_LINE"'orders 2024-01-05 started$'
WORKER_LINE='^datashell: [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z worker: '

expect_eq() {	# WHAT ACTUAL EXPECTED
	[ "$2" = "$3" ] || fail "$1 is '$2', expected '$3'"
}

# Statements and checks may wait in a queue that runs in one psql session, in order,
# in the case's state schema as sql: a case's setup, or a series of checks, costs one
# process instead of one each. The queue runs before the next ds, ds_stdin, ds_as, sql,
# sql_in, hold_session, release_session, use_fresh_database, use_stage or end_case, or
# at flush_sql: anything else that needs what is queued, or changes what a queued check
# reads, calls flush_sql first. An error of a queued statement fails the case.
T_SQLQ=0

# Queue a statement; what it prints is dropped.
queue_sql() {	# SQL
	printf '\\echo @@-\n%s\n;\n' "$1" >>"$WORK/q.sql"
}

# Expect QUERY to print EXPECTED: expect_eq WHAT "$(sql QUERY)" EXPECTED, queued.
expect_sql() {	# WHAT QUERY EXPECTED
	T_SQLQ=$((T_SQLQ + 1))
	printf '%s' "$1" >"$WORK/q.$T_SQLQ.what"
	printf '%s' "$3" >"$WORK/q.$T_SQLQ.want"
	printf '\\echo @@%s\n%s\n;\n' "$T_SQLQ" "$2" >>"$WORK/q.sql"
}

# Run the queue, and check what each queued check printed.
flush_sql() {
	[ -s "$WORK/q.sql" ] || return 0
	mv "$WORK/q.sql" "$WORK/q.run"
	PGOPTIONS=$(sql_options) psql -X -q -A -t -f "$WORK/q.run" >"$WORK/q.out" 2>"$WORK/q.err"
	awk -v dir="$WORK" '
		/^@@-$/ { f = ""; next }
		/^@@[0-9]+$/ { f = dir "/q." substr($0, 3) ".got"; printf "" >f; next }
		f != "" { print >f }' "$WORK/q.out"
	[ -s "$WORK/q.err" ] && fail "psql: $(head -c 2000 "$WORK/q.err")"
	for t_n in $(sed -n 's/^\\echo @@\([0-9][0-9]*\)$/\1/p' "$WORK/q.run"); do
		t_got=$(cat "$WORK/q.$t_n.got" 2>/dev/null)
		t_want=$(cat "$WORK/q.$t_n.want")
		[ "$t_got" = "$t_want" ] ||
			fail "$(cat "$WORK/q.$t_n.what") is '$t_got', expected '$t_want'"
		rm -f "$WORK/q.$t_n.what" "$WORK/q.$t_n.want" "$WORK/q.$t_n.got"
	done
}

# psql's options for the test server: in the state schema of the case, if it named one.
sql_options() {
	echo "-c client_min_messages=warning${DATASHELL_SCHEMA:+ -c search_path=\"$DATASHELL_SCHEMA\",public}"
}

# The migrations of this tree (core/sql/migrations/NNNN-*.sql): their versions, comma
# separated, how many, and the newest, which init brings a schema to. Tests that name the
# schema's version read these, so that a new migration changes no test; the binary's own
# list must agree, or they fail.
SCHEMA_VERSIONS=$(ls "$DS_TOP"/core/sql/migrations | sed -n 's/^0*\([0-9][0-9]*\)-.*\.sql$/\1/p' |
	sort -n | paste -sd, -)
SCHEMA_MIGRATIONS=$(echo "$SCHEMA_VERSIONS" | tr ',' '\n' | wc -l)
SCHEMA_VERSION=${SCHEMA_VERSIONS##*,}

# Take the schema (DATASHELL_SCHEMA, or datashell) back to the version before FROM (12 or
# later) by undoing migrations FROM and up, newest first, as an upgrade test needs before
# 'init' brings it up again; a test going further back undoes the older ones itself.
# Each migration's undo is written here once.
undo_migrations() {	# FROM
	t_from=$1
	# A view holds on to the columns it reads (done_keys: partitions.built_by, of
	# migration 11; capped_batches: batches.max_active, of migration 15); init makes
	# them again.
	t_q="SET search_path TO \"${DATASHELL_SCHEMA:-datashell}\";
		DROP VIEW done_keys;
		DROP VIEW IF EXISTS capped_batches;"
	[ "$t_from" -le 21 ] && t_q="$t_q
		ALTER TABLE workers DROP COLUMN session_pid, DROP COLUMN session_start;"
	[ "$t_from" -le 20 ] && t_q="$t_q
		DROP INDEX workers_may_hold;"
	[ "$t_from" -le 19 ] && t_q="$t_q
		ALTER TABLE workers DROP COLUMN abandoned;"
	[ "$t_from" -le 18 ] && t_q="$t_q
		DROP INDEX swaps_active;
		CREATE UNIQUE INDEX swaps_active ON swaps (table_schema, table_name)
		    WHERE state <> 'finished';
		ALTER TABLE swaps DROP COLUMN connection;"
	[ "$t_from" -le 17 ] && t_q="$t_q
		DROP TABLE connections;
		ALTER TABLE runs DROP COLUMN connection;
		ALTER TABLE run_attempts DROP COLUMN connection;"
	[ "$t_from" -le 16 ] && t_q="$t_q
		DROP FUNCTION run_counts_follow() CASCADE;
		DROP TABLE run_counts;"
	[ "$t_from" -le 15 ] && t_q="$t_q
		ALTER TABLE batches DROP COLUMN max_active;
		DROP INDEX runs_batch_queued;"
	[ "$t_from" -le 14 ] && t_q="$t_q
		ALTER TABLE alerts DROP COLUMN severity, DROP COLUMN keys, DROP COLUMN runs,
		  DROP COLUMN told, DROP COLUMN told_severity, DROP COLUMN hook_attempts,
		  DROP COLUMN hook_next_at, DROP COLUMN hook_lease_until,
		  ADD COLUMN hook_state text NOT NULL DEFAULT 'pending';
		CREATE INDEX alerts_hook ON alerts (id) WHERE hook_state = 'pending';"
	[ "$t_from" -le 13 ] && t_q="$t_q
		DROP TABLE run_attempts;
		ALTER TABLE runs DROP COLUMN marked, DROP COLUMN reason;"
	[ "$t_from" -le 12 ] && t_q="$t_q
		ALTER TABLE partitions DROP COLUMN built_version;
		ALTER TABLE swap_partitions DROP COLUMN built_version;
		ALTER TABLE tasks DROP COLUMN fingerprint, DROP COLUMN version;
		ALTER TABLE runs DROP COLUMN version;"
	sql "$t_q
		DELETE FROM schema_migrations WHERE version >= $t_from" >/dev/null
}

# Run SQL on the test server, one statement (or several in one string) per argument, in
# one session; prints the unaligned results. With DATASHELL_SCHEMA set (new_schema), its
# tables come first on the search path.
sql() {	# SQL...
	flush_sql
	for t_q do
		set -- "$@" -c "$t_q"
		shift
	done
	PGOPTIONS=$(sql_options) psql -X -q -A -t -v ON_ERROR_STOP=1 "$@"
}

# As sql, with the SQL on stdin. Further arguments go to psql (-v NAME=VALUE).
sql_in() {
	flush_sql
	PGOPTIONS=$(sql_options) psql -X -q -A -t -v ON_ERROR_STOP=1 "$@" -f -
}

# Wait until the SQL condition holds, asked every 50 ms by one session, as sql would ask
# it; fail the case if it does not hold within SECONDS (default 30). A condition that
# errors counts as false (a table may not exist yet), and the last error is reported at
# the deadline. Each try is a transaction of its own, so it sees what others committed
# meanwhile and holds no lock between tries.
wait_until() {	# CONDITION [SECONDS]
	if ! sql_in -v cond="$1" -v secs="${2:-30}" >"$WORK/wait_until.out" 2>&1 <<-'SQL'
		SET ds.wait_cond = :'cond';
		SET ds.wait_secs = :'secs';
		DO $$
		DECLARE
			deadline timestamptz := clock_timestamp() +
				make_interval(secs => current_setting('ds.wait_secs')::float8);
			ok boolean;
			why text := 'it was false';
		BEGIN
			LOOP
				BEGIN
					EXECUTE format('SELECT (%s)::boolean', current_setting('ds.wait_cond')) INTO ok;
				EXCEPTION WHEN OTHERS THEN
					ok := false;
					why := SQLERRM;
				END;
				EXIT WHEN ok;
				IF clock_timestamp() > deadline THEN
					RAISE EXCEPTION 'not within %s (%)', current_setting('ds.wait_secs'), why;
				END IF;
				COMMIT;
				PERFORM pg_sleep(0.05);
			END LOOP;
		END
		$$;
	SQL
	then
		fail "timed out waiting for: $1: $(sed -n 's/^.*ERROR: *//p' "$WORK/wait_until.out")"
		return 1
	fi
}

# A fresh state schema SCHEMA with the pipeline file on stdin loaded into it; sql and
# ds work in it from then on (DATASHELL_SCHEMA).
schema_with_pipeline() {	# SCHEMA
	export DATASHELL_SCHEMA=$1
	cat >"$WORK/$1.json"
	setup "$DATASHELL" -c init -c "pipeline load $WORK/$1.json"
}

# "state:count,..." of TASK's runs, states in name order.
run_states() {	# TASK
	sql "SELECT string_agg(state || ':' || n, ',' ORDER BY state) FROM (
	     SELECT r.state, count(*) AS n FROM runs r JOIN tasks t ON t.id = r.task_id
	     WHERE t.name = '$1' GROUP BY r.state) s"
}

# For a case (or a file) whose keys the next hour, and so the next day in any zone,
# would change: wait, polling the server's clock, while it is within SECONDS (default
# 30) of the next hour, so that the keys computed at its start hold until its end.
away_from_boundary() {	# [SECONDS]
	wait_until "extract(epoch FROM date_trunc('hour', clock_timestamp()) + interval '1 hour'
		- clock_timestamp()) > ${1:-30}" $((${1:-30} + 15))
}

# Wait until a line of FILE matches the extended regex; fail the case if none does within
# SECONDS (default 30).
wait_for_file() {	# REGEX FILE [SECONDS]
	t_deadline=$(($(date +%s) + ${3:-30}))
	until grep -qE -- "$1" "$2" 2>/dev/null; do
		if [ "$(date +%s)" -ge "$t_deadline" ]; then
			fail "timed out waiting for /$1/ in $2: $(head -c 2000 "$2" 2>/dev/null)"
			return 1
		fi
		sleep 0.05
	done
}

# A session that runs SQL in a transaction and keeps it open, with its locks, until
# release_session ends it; returns once SQL has run. Its statements come through a fifo.
# PSQL-ARGS say where, when not in the test server's database: -d "$WAREHOUSE".
hold_session() {	# SQL [PSQL-ARGS...]
	t_held_sql=$1
	shift
	flush_sql
	rm -f "$WORK/held.in" "$WORK/held.out"
	mkfifo "$WORK/held.in"
	PGOPTIONS=$(sql_options) psql -X -q -A -t -v ON_ERROR_STOP=1 "$@" <"$WORK/held.in" \
		>"$WORK/held.out" 2>&1 &
	T_HOLDER=$!
	exec 7>"$WORK/held.in"
	printf 'BEGIN;\n%s;\n\\echo held\n' "$t_held_sql" >&7
	wait_for_file '^held$' "$WORK/held.out"
}

# End hold_session's transaction with a commit, so that what it wrote counts.
commit_session() {
	flush_sql
	(printf 'COMMIT;\n\\q\n' >&7) 2>/dev/null
	exec 7>&-
	wait "$T_HOLDER"
}

release_session() {
	flush_sql
	# It is told to quit rather than left to see the end of the fifo: a process started
	# meanwhile may hold the fifo open. In a subshell: should the session have ended
	# already, SIGPIPE ends only that.
	(printf 'ROLLBACK;\n\\q\n' >&7) 2>/dev/null
	exec 7>&-
	wait "$T_HOLDER"
}

# How many sessions of this script's database wait for a lock: wait_until "($LOCK_WAITS) = 1".
export LOCK_WAITS="SELECT count(*) FROM pg_stat_activity
	WHERE datname = current_database() AND wait_event_type = 'Lock'"

# SQL in the server's postgres database, for what concerns whole databases.
admin_sql() {
	PGOPTIONS='-c client_min_messages=warning' psql -X -q -d postgres -v ON_ERROR_STOP=1 "$@"
}

# A fresh database for this script, so scripts do not see each other's state; a case
# may take one afresh as well.
use_fresh_database() {	# NAME
	flush_sql
	admin_sql -c "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)" >/dev/null 2>&1
	admin_sql -c "CREATE DATABASE \"$1\"" >/dev/null || exit 1
	export PGDATABASE="$1"
}

# A state a case starts from. The script defines stage_NAME, which makes that state in
# the script's database ($PGDATABASE), usually starting with use_stage of the stage it
# builds on. use_stage NAME gives the case a fresh copy of the database in that state:
# the first time, stage_NAME makes it and it is kept as a template; after that the
# template is copied. So a case never sees what an earlier case did, and each stage is
# made once per run of the script.
T_TEMPLATES=""
use_stage() {	# NAME
	flush_sql
	t_template=${PGDATABASE}__$1
	case $T_TEMPLATES in
	*" $t_template "*)
		admin_sql \
			-c "DROP DATABASE IF EXISTS \"$PGDATABASE\" WITH (FORCE)" \
			-c "CREATE DATABASE \"$PGDATABASE\" TEMPLATE \"$t_template\"" >/dev/null ||
			fail "setup: could not copy stage $1"
		return
		;;
	esac
	"stage_$1"
	flush_sql
	# CREATE DATABASE waits a moment for the sessions that made the stage to go away.
	t_template=${PGDATABASE}__$1
	admin_sql \
		-c "DROP DATABASE IF EXISTS \"$t_template\"" \
		-c "CREATE DATABASE \"$t_template\" TEMPLATE \"$PGDATABASE\"" >/dev/null ||
		fail "setup: could not keep stage $1"
	T_TEMPLATES="$T_TEMPLATES $t_template "
}

drop_templates() {
	for t_template in $T_TEMPLATES; do
		admin_sql -c "DROP DATABASE IF EXISTS \"$t_template\"" >/dev/null 2>&1
	done
}

# A state schema of the case's own, made by init: DATASHELL_SCHEMA names it for the
# binary and for sql, sql_in, expect_sql, wait_until and run_field.
new_schema() {	# NAME
	export DATASHELL_SCHEMA=$1
	setup "$DATASHELL" -c init
}

# A server of this script's own, for a script that changes what belongs to the whole
# server (role memberships) while other scripts run against the shared one. It is
# stopped when the script ends; PGHOST, PGUSER and PGDATABASE point at it.
use_private_server() {
	. "$DS_TOP/tests/pg-server.sh"
	mkdir "$WORK/pg"
	pg_server_start "$WORK/pg" -c fsync=off -c full_page_writes=off -c max_wal_size=128MB \
		-c max_connections=20 ||
		{ echo "Bail out! could not start a private server"; exit 1; }
	T_AT_EXIT="${T_AT_EXIT:+$T_AT_EXIT; }pg_server_stop"
}

# With a server of the script's own: it dies as in a crash (immediate: no goodbye to the
# clients), and comes back on the same socket with the same settings.
stop_server() {
	pg_server_stop
}

start_server() {
	pg_server_again || fail "the server did not start again"
}

# With a server of the script's own: a streaming standby of it, made by pg_basebackup -R
# on a socket of its own, $STANDBY_DIR and port $STANDBY_PORT (the server's is 5432); it
# is stopped when the script ends. A failover is stop_server, then promote_standby.
use_standby() {
	STANDBY_DIR=$WORK/pg2
	STANDBY_PORT=5433
	mkdir "$STANDBY_DIR"
	T_AT_EXIT="${T_AT_EXIT:+$T_AT_EXIT; }pg_standby_stop"
	pg_standby_start "$STANDBY_DIR" "$STANDBY_PORT" ||
		{ echo "Bail out! could not start a streaming standby"; exit 1; }
}

promote_standby() {
	pg_standby_promote || fail "the standby was not promoted"
}

# A warehouse: a cluster of its own, apart from the state store's server, in
# $WORK/wh, Unix socket only, with database wh; $WAREHOUSE is its connection string, as
# a pipeline file names it, and wh_sql runs SQL there as sql does in the state store.
# It is stopped when the script ends; restart_warehouse stops it as in a crash and
# starts it again.
use_warehouse() {
	. "$DS_TOP/tests/pg-server.sh"
	mkdir "$WORK/wh"
	pg_cluster_start "$WORK/wh" -c fsync=off -c full_page_writes=off ||
		{ echo "Bail out! could not start a warehouse"; exit 1; }
	T_AT_EXIT="${T_AT_EXIT:+$T_AT_EXIT; }pg_cluster_stop '$WORK/wh'"
	WAREHOUSE="host=$WORK/wh user=postgres dbname=wh"
	psql -X -q -h "$WORK/wh" -U postgres -d postgres -c "CREATE DATABASE wh" >/dev/null ||
		{ echo "Bail out! could not create the warehouse's database"; exit 1; }
}

wh_sql() {	# SQL
	PGOPTIONS='-c client_min_messages=warning' psql -X -A -t -q -v ON_ERROR_STOP=1 -d "$WAREHOUSE" -c "$1"
}

# The journal's swaps of table $1, as "id state connection" (swap-table --connection).
journal_of() {	# TABLE
	sql "SELECT string_agg(id || ' ' || datashell.swap_shown_state(state, timings) || ' ' ||
	                       coalesce(connection, '-'), ',' ORDER BY id)
	     FROM datashell.swaps WHERE table_name = '$1'"
}

# The warehouse's copy of the journal's swaps of table $1, as "id state".
copy_of() {	# TABLE
	wh_sql "SELECT string_agg(id || ' ' || state, ',' ORDER BY id)
	        FROM datashell.swaps WHERE table_name = '$1'"
}

# How many keys of task $1 have records: production's, then the swap's by side.
records_of() {	# TASK
	sql "SELECT (SELECT count(*) FROM datashell.partitions p JOIN datashell.tasks t ON t.id = p.task_id
	             WHERE t.name = '$1' AND p.built_by IS NOT NULL) || ' ' ||
	            coalesce((SELECT string_agg(side || '=' || n, ',' ORDER BY side)
	                      FROM (SELECT side, count(*) AS n FROM datashell.swap_partitions p
	                            JOIN datashell.tasks t ON t.id = p.task_id WHERE t.name = '$1'
	                            GROUP BY side) s), '-')"
}

# The tables of the warehouse's schema public, by name.
wh_tables() {
	wh_sql "SELECT string_agg(tablename, ' ' ORDER BY tablename) FROM pg_tables
	        WHERE schemaname = 'public'"
}

restart_warehouse() {
	pg_cluster_stop "$WORK/wh"
	pg_cluster_again "$WORK/wh" -c fsync=off -c full_page_writes=off ||
		fail "the warehouse did not start again"
}

# Start datashell in the background: its pid in $BG, its output in $WORK/NAME.{out,err}.
ds_bg() {	# NAME ARGS...
	t_name=$1
	shift
	flush_sql
	"$DATASHELL" "$@" >"$WORK/$t_name.out" 2>"$WORK/$t_name.err" </dev/null &
	BG=$!
}

# Wait for it; its exit code in $CODE, its output in $OUT and $ERR as ds leaves them.
# With SECONDS, fail the case (and kill it) if it has not exited by then.
bg_wait() {	# PID NAME [SECONDS]
	if [ -n "${3:-}" ]; then
		t_deadline=$(($(date +%s) + $3))
		while kill -0 "$1" 2>/dev/null; do
			if [ "$(date +%s)" -ge "$t_deadline" ]; then
				fail "$2 did not exit within $3s"
				kill -KILL "$1"
				break
			fi
			sleep 0.05
		done
	fi
	wait "$1"
	CODE=$?
	cp "$WORK/$2.err" "$ERR"
	cp "$WORK/$2.out" "$OUT"
}

# An expression over the latest run of TASK for KEY, in the state schema: the query,
# and its value.
run_field_sql() {	# TASK KEY EXPRESSION
	t_schema=\"${DATASHELL_SCHEMA:-datashell}\"
	echo "SELECT $3 FROM $t_schema.runs r JOIN $t_schema.tasks t ON t.id = r.task_id
	      WHERE t.name = '$1' AND r.key = '$2' ORDER BY r.id DESC LIMIT 1"
}

run_field() {	# TASK KEY EXPRESSION
	sql "$(run_field_sql "$@")"
}

# Expect the counts of ended runs that the triggers keep (run_counts, summed over the
# slots) to be those a scan of runs finds, queued as expect_sql.
expect_run_counts_true() {
	t_schema=\"${DATASHELL_SCHEMA:-datashell}\"
	t_scan="SELECT task_id, state, count(*) AS runs, count(d) AS timed,
	               round(coalesce(sum(d), 0)::numeric, 3) AS seconds,
	               count(*) FILTER (WHERE d <= 0.1) AS b0, count(*) FILTER (WHERE d <= 1) AS b2,
	               count(*) FILTER (WHERE d <= 60) AS b6, count(*) FILTER (WHERE d <= 21600) AS b12
	        FROM (SELECT task_id, state, date_part('epoch', finished_at - started_at) AS d
	              FROM $t_schema.runs
	              WHERE state IN ('success', 'failed', 'blocked', 'cancelled')) r
	        GROUP BY task_id, state"
	t_kept="SELECT task_id, state, sum(runs), sum(timed), round(sum(seconds)::numeric, 3),
	               sum(b0), sum(b2), sum(b6), sum(b12)
	        FROM $t_schema.run_counts
	        GROUP BY task_id, state
	        HAVING sum(runs) <> 0"
	expect_sql "counts kept by the triggers that a scan does not find" \
		"SELECT count(*) FROM (($t_kept) EXCEPT ($t_scan)) d" 0
	expect_sql "counts a scan finds that the triggers did not keep" \
		"SELECT count(*) FROM (($t_scan) EXCEPT ($t_kept)) d" 0
}

# state, attempt and error of the latest run of TASK for KEY, as "state|attempt|error";
# expect_outcome checks it, queued as expect_sql.
T_OUTCOME="r.state || '|' || r.attempt || '|' || coalesce(r.error, '')"
run_outcome() {	# TASK KEY
	run_field "$1" "$2" "$T_OUTCOME"
}

expect_outcome() {	# WHAT TASK KEY EXPECTED
	expect_sql "$1" "$(run_field_sql "$2" "$3" "$T_OUTCOME")" "$4"
}

# The state of the latest swap of TABLE: the query, and its value.
swap_state_sql() {	# TABLE
	echo "SELECT state FROM datashell.swaps WHERE table_name = '$1' ORDER BY id DESC LIMIT 1"
}

swap_state() {	# TABLE
	sql "$(swap_state_sql "$1")"
}

# The rows of TABLE (columns day and n) as "day=n,...": the query, and its value.
rows_of_sql() {	# TABLE
	echo "SELECT coalesce(string_agg(day || '=' || n, ',' ORDER BY day), '') FROM $1"
}

rows_of() {	# TABLE
	sql "$(rows_of_sql "$1")"
}

# The schema of this script's database as pg_dump prints it, without its comments;
# arguments go to pg_dump (-T to leave tables out).
schema_dump() {	# [PG_DUMP-OPTIONS...]
	flush_sql
	pg_dump -s "$@" "$PGDATABASE" | grep -v -e '^--' -e '^\\'
}

# Run datashell with ARGS in the background and kill it with SIGKILL once CONDITION (a
# boolean SQL expression, as wait_until takes) holds: a shell killed where a step waits.
# A server that takes connections in DIR (a socket for PORT, default PGPORT or 5432) and
# never answers, as a host gone silent; SILENT is its pid, for stop_silent.
silent_server() {	# DIR [PORT]
	t_sock="$1/.s.PGSQL.${2:-${PGPORT:-5432}}"
	mkdir -p "$1"
	perl -MIO::Socket::UNIX -e 'my $s = IO::Socket::UNIX->new(Type => SOCK_STREAM(),
		Local => $ARGV[0], Listen => 8) or die "$!\n"; sleep 120' "$t_sock" &
	SILENT=$!
	t_end=$(($(date +%s) + 30))
	while [ ! -S "$t_sock" ] && [ "$(date +%s)" -lt "$t_end" ]; do sleep 0.05; done
}

stop_silent() {
	kill "$SILENT"
	wait "$SILENT" 2>/dev/null || true
}

kill_when() {	# CONDITION ARGS...
	t_cond=$1
	shift
	"$DATASHELL" "$@" >/dev/null 2>"$WORK/bg.err" &
	t_shell=$!
	wait_until "$t_cond"
	kill -9 $t_shell
	wait $t_shell 2>/dev/null
}

# Conditions for kill_when and wait_until: a datashell session of this database waits for
# a lock; none is left (the server has noticed that a killed shell is gone).
DS_LOCK_WAIT_SQL="(SELECT count(*) FROM pg_stat_activity WHERE application_name = 'datashell'
	AND datname = current_database() AND wait_event_type = 'Lock') = 1"
DS_GONE_SQL="(SELECT count(*) FROM pg_stat_activity WHERE application_name = 'datashell'
	AND datname = current_database()) = 0"

# Ctrl-C, through a real pseudo-terminal (tests/ptyrun), while COMMAND waits for a lock
# that the case holds (hold_session): sent once a session of datashell waits for a lock
# in database DB ("$PGDATABASE", or a connection string: "$WAREHOUSE"), it must cancel
# the statement ("canceling statement due to user request"). At the prompt PROMPT (a
# regex: 'datashell>'), the shell goes on: the next command runs and quit exits 0. With
# PROMPT -, COMMAND is a script's (-c COMMAND -c 'help quit'), which stops: "interrupted",
# its next command not run, exit 3. ptyrun's verdict lands in $CODE and $ERR.
ctrl_c_lock_wait() {	# DB PROMPT|- COMMAND [DATASHELL-ARGS...]
	t_db=$1 t_prompt=$2 t_command=$3
	shift 3
	{
		[ "$t_prompt" = - ] || printf 'expect %s $\nsendline %s\n' "$t_prompt" "$t_command"
		printf '%s\n' 'until [ "$(psql -XAt -d "$T_LOCK_DB" -c "SELECT $T_LOCK_WAIT")" = t ]' \
			'send \x03' 'expect error: canceling statement due to user request'
		if [ "$t_prompt" = - ]; then
			printf '%s\n' 'expect datashell: interrupted; the rest of the script was not run' \
				'expect-not usage: quit' 'wait 3'
		else
			printf 'expect %s $\n' "$t_prompt"
			printf '%s\n' 'sendline help quit' 'expect usage: quit' 'sendline quit' 'wait 0'
		fi
	} >"$WORK/ctrl_c.pty"
	[ "$t_prompt" = - ] && set -- "$@" -c "$t_command" -c 'help quit'
	T_LOCK_DB=$t_db T_LOCK_WAIT=$DS_LOCK_WAIT_SQL "$DS_PTYRUN" -t 20 -- "$DATASHELL" "$@" \
		<"$WORK/ctrl_c.pty" >"$OUT" 2>"$ERR"
	CODE=$?
}

# A session that holds a lock while its query is pg_sleep(60), as a blocker shows in
# pg_stat_activity (hold_session's is idle in its transaction): LOCKSQL is its statement,
# in a transaction. release_lock ends it.
hold_lock() {	# LOCKSQL
	flush_sql
	PGAPPNAME=swap_holder psql -X -q -c 'BEGIN' -c "$1" -c 'SELECT pg_sleep(60)' \
		>/dev/null 2>&1 &
	holder=$!
	T_AT_EXIT="kill $holder 2>/dev/null"
	wait_until "(SELECT count(*) FROM pg_stat_activity WHERE application_name = 'swap_holder'
	             AND datname = current_database() AND query LIKE '%pg_sleep%') = 1"
}

release_lock() {
	sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
	     WHERE application_name = 'swap_holder' AND datname = current_database()" >/dev/null
	wait $holder
	T_AT_EXIT=""
}

# The task names of the --json plan (backfill, force-run) in $OUT, in its order.
plan_tasks() {
	perl -MJSON::PP -e 'local $/; print join ",", map { $_->{task} }
		@{ JSON::PP->new->decode(<STDIN>)->{plan} }' <"$OUT"
}

# A dry run of backfill SELECTOR [OPTIONS] for 2024-01-05 plans the tasks WANT, their names
# in the plan's order, comma-separated.
expect_backfill_plan() {	# SELECTOR OPTIONS WANT
	ds -c "backfill '$1' 2024-01-05 $2 --dry-run --json"
	expect_exit 0
	expect_eq "plan of $1 $2" "$(plan_tasks)" "$3"
}

# Read one value out of JSON on stdin: json_get '{schema}{version}' or '{rows}[0]{name}'.
json_get() {
	perl -MJSON::PP -e '
		local $/; my $d = JSON::PP->new->allow_nonref->decode(<STDIN>);
		for my $step ($ARGV[0] =~ /(\{[^}]*\}|\[\d+\])/g) {
			$d = $step =~ /^\{(.*)\}$/ ? $d->{$1} : $d->[substr($step, 1, -1)];
		}
		print ref $d ? JSON::PP->new->canonical->encode($d) : defined $d ? $d : "null";
	' "$1"
}
