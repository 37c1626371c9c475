#!/bin/sh
# --local and 'local start|stop|status': the private cluster under $XDG_DATA_HOME.
. "$DS_TOP/tests/lib.sh"

dir="$XDG_DATA_HOME/datashell"
# Whatever happens, do not leave a server running.
T_AT_EXIT='"$PG_BINDIR/pg_ctl" -D "$dir/pgdata" -m immediate -w stop >/dev/null 2>&1 || runuser -u postgres -- "$PG_BINDIR/pg_ctl" -D "$dir/pgdata" -m immediate -w stop >/dev/null 2>&1'
# Nothing may reach the test server by accident.
unset PGHOST PGDATABASE PGUSER

# The state of the private cluster: absent, stopped or running.
cluster_state() {
	"$DATASHELL" -c 'local status --json' 2>/dev/null | json_get '{state}'
}

# Each case says which state it starts from; one that is there already is taken as it
# is, since making a cluster takes a while. A cluster is only ever made by --local -c
# init, so one that is there has the state store.
no_cluster() {
	[ "$(cluster_state)" = running ] && setup "$DATASHELL" -c 'local stop'
	rm -rf "$dir"
}

cluster_running() {
	[ "$(cluster_state)" = running ] || setup "$DATASHELL" --local -c init
}

cluster_stopped() {
	[ "$(cluster_state)" = stopped ] && return
	cluster_running
	setup "$DATASHELL" -c 'local stop'
}

begin "local status before first use: absent"
no_cluster
ds -c 'local status --json'
expect_exit 0
expect_eq "state" "$(json_get '{state}' <"$OUT")" absent
expect_eq "data directory" "$(json_get '{data_directory}' <"$OUT")" "$dir/pgdata"
end_case

begin "--local creates the cluster on first use and connects to it"
no_cluster
ds --local -c init
expect_exit 0
expect_stdout <<-END
	created schema 'datashell' at version $SCHEMA_VERSION
END
expect_stderr_matches "^datashell: creating a private PostgreSQL cluster in '$dir/pgdata'$"
ds --local -c 'status --json'
expect_exit 0
expect_eq "host" "$(json_get '{connection}{host}' <"$OUT")" "$dir/run"
[ -S "$dir/run/.s.PGSQL.5432" ] || fail "no socket in $dir/run"
end_case

begin "the private server listens on its socket only, as the postgres user when root"
cluster_running
user=$("$DATASHELL" --local -c 'status --json' | json_get '{connection}{user}')
listen=$(psql -X -A -t -h "$dir/run" -U "$user" -d postgres -c 'SHOW listen_addresses' 2>&1) ||
	fail "psql could not reach the private server: $listen"
expect_eq "listen_addresses" "$listen" ""
if [ "$(id -u)" = 0 ]; then
	expect_eq "data directory owner" "$(stat -c %U "$dir/pgdata")" postgres
	owner=$(ps -o user= -p "$(head -n 1 "$dir/pgdata/postmaster.pid")")
	expect_eq "server process owner" "$owner" postgres
fi
end_case

begin "local status: running"
cluster_running
ds -c 'local status'
expect_exit 0
expect_stdout_matches '^State +running$'
expect_stdout_matches "^Socket directory +$dir/run$"
end_case

begin "local stop stops it; again says it was not running"
cluster_running
ds -c 'local stop'
expect_exit 0
expect_stdout <<-'END'
	stopped the private server
END
[ -S "$dir/run/.s.PGSQL.5432" ] && fail "the socket is still there"
ds -c 'local stop'
expect_exit 0
expect_stdout <<-'END'
	the private server was not running
END
ds -c 'local status --json'
expect_eq "state" "$(json_get '{state}' <"$OUT")" stopped
end_case

begin "--local starts a stopped cluster again, state intact"
cluster_stopped
ds --local -c 'status --json'
expect_exit 0
expect_eq "schema version kept" "$(json_get '{schema}{version}' <"$OUT")" "$SCHEMA_VERSION"
if grep -q 'creating' "$ERR"; then fail "it created a second cluster: $(cat "$ERR")"; fi
end_case

begin "local start on a running cluster changes nothing"
cluster_running
ds -c 'local start --json'
expect_exit 0
expect_eq "created" "$(json_get '{created}' <"$OUT")" false
end_case

begin "an unknown action suggests the right one"
ds -c 'local stat'
expect_exit 3
expect_stderr <<-'END'
	datashell: error: unknown action 'local stat' (did you mean 'local start'?)
	hint: usage: local start|stop|status
END
end_case

ds -c 'local stop' >/dev/null 2>&1
done_testing
