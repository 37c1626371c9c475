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

set -u

: "${DATASHELL:?run the tests through make check}"
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
	[ -n "$T_AT_EXIT" ] && eval "$T_AT_EXIT"
	rm -rf "$WORK"
}
trap cleanup_work EXIT

begin() {
	T_CASE=$1
	: >"$T_FAILS"
}

fail() {
	printf '%s\n' "$1" >>"$T_FAILS"
}

end_case() {
	T_NUM=$((T_NUM + 1))
	if [ ! -s "$T_FAILS" ]; then
		echo "ok $T_NUM - $T_CASE"
	else
		T_FAILED=$((T_FAILED + 1))
		echo "not ok $T_NUM - $T_CASE"
		sed 's/^/# /' "$T_FAILS"
	fi
	: >"$T_FAILS"
}

done_testing() {
	echo "1..$T_NUM"
	[ "$T_FAILED" = 0 ]
}

# Run the binary under test, capturing everything.
ds() {
	"$DATASHELL" "$@" >"$OUT" 2>"$ERR" </dev/null
	CODE=$?
}

# As ds, with standard input from the caller (a script on stdin).
ds_stdin() {
	"$DATASHELL" "$@" >"$OUT" 2>"$ERR"
	CODE=$?
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

expect_eq() {	# WHAT ACTUAL EXPECTED
	[ "$2" = "$3" ] || fail "$1 is '$2', expected '$3'"
}

# Run SQL on the test server; prints the unaligned result.
sql() {
	PGOPTIONS='-c client_min_messages=warning' psql -X -q -A -t -v ON_ERROR_STOP=1 -c "$1"
}

# SQL on stdin, with the state schema ($DATASHELL_SCHEMA, else datashell) first on the
# search path; prints the unaligned result. Further arguments go to psql (-v NAME=VALUE).
sql_in() {
	PGOPTIONS="-c client_min_messages=warning -c search_path=\"${DATASHELL_SCHEMA:-datashell}\",public" \
		psql -X -q -A -t -v ON_ERROR_STOP=1 "$@" -f -
}

# Wait until the SQL condition holds, asked every 50 ms by one session, in the state
# schema as sql_in; fail the case if it does not hold within SECONDS (default 30). A
# condition that errors counts as false (a table may not exist yet), and the last error
# is reported at the deadline. Each try is a transaction of its own, so it sees what
# others committed meanwhile and holds no lock between tries.
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

# Wait until a line of FILE matches the extended regex; fail the case if none does within
# SECONDS (default 30).
wait_for_file() {	# REGEX FILE [SECONDS]
	deadline=$(($(date +%s) + ${3:-30}))
	until grep -qE -- "$1" "$2" 2>/dev/null; do
		if [ "$(date +%s)" -ge "$deadline" ]; then
			fail "timed out waiting for /$1/ in $2: $(head -c 2000 "$2" 2>/dev/null)"
			return 1
		fi
		sleep 0.05
	done
}

# A session that runs SQL in a transaction and keeps it open, with its locks, until
# release_session ends it; returns once SQL has run. Its statements come through a fifo.
hold_session() {	# SQL
	rm -f "$WORK/held.in" "$WORK/held.out"
	mkfifo "$WORK/held.in"
	psql -X -q -A -t -v ON_ERROR_STOP=1 <"$WORK/held.in" >"$WORK/held.out" 2>&1 &
	T_HOLDER=$!
	exec 7>"$WORK/held.in"
	printf 'BEGIN;\n%s;\n\\echo held\n' "$1" >&7
	wait_for_file '^held$' "$WORK/held.out"
}

release_session() {
	# It is told to quit rather than left to see the end of the fifo: a process started
	# meanwhile may hold the fifo open. In a subshell: should the session have ended
	# already, SIGPIPE ends only that.
	(printf 'ROLLBACK;\n\\q\n' >&7) 2>/dev/null
	exec 7>&-
	wait "$T_HOLDER"
}

# How many sessions of this script's database wait for a lock. A ptyrun script sees one
# start waiting with: until [ "$(psql -XAtc "$LOCK_WAITS")" = 1 ]
export LOCK_WAITS="SELECT count(*) FROM pg_stat_activity
	WHERE datname = current_database() AND wait_event_type = 'Lock'"

# A server of this script's own, for a script that changes what belongs to the whole
# server (role memberships) while other scripts run against the shared one. It is
# stopped when the script ends; PGHOST, PGUSER and PGDATABASE point at it.
use_private_server() {
	. "$DS_TOP/tests/pg-server.sh"
	mkdir "$WORK/pg"
	pg_server_start "$WORK/pg" -c fsync=off -c max_connections=20 ||
		{ echo "Bail out! could not start a private server"; exit 1; }
	T_AT_EXIT="${T_AT_EXIT:+$T_AT_EXIT; }pg_server_stop"
}

# A fresh database for this script, so scripts do not see each other's state.
use_fresh_database() {	# NAME
	psql -X -q -d postgres -c "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)" >/dev/null 2>&1
	psql -X -q -d postgres -c "CREATE DATABASE \"$1\"" >/dev/null || exit 1
	export PGDATABASE="$1"
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
