#!/bin/sh
# run.sh: run the test suite against a throwaway PostgreSQL server.
#
# usage: tests/run.sh PTYRUN BINARY:UNITDIR...
#
# Starts a private server (initdb in a temporary directory, Unix socket only, no TCP;
# as root the server runs as the postgres user), runs every tests/t/*.t with prove once
# per BINARY, and always stops and removes the server, also when a test fails.
set -eu

ptyrun=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
shift
top=$(cd "$(dirname "$0")/.." && pwd)

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$bindir" ] || bindir=$(dirname "$(command -v initdb)")

tmp=$(mktemp -d /tmp/datashell-test.XXXXXX)
chmod 755 "$tmp"	# the postgres user must reach its socket and data here
as_server=""
if [ "$(id -u)" = 0 ]; then
	chown postgres: "$tmp"
	as_server="runuser -u postgres --"
fi

stop_server() {
	$as_server "$bindir/pg_ctl" -D "$tmp/data" -m immediate -w stop >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap stop_server EXIT
trap 'exit 130' INT TERM

$as_server "$bindir/initdb" -D "$tmp/data" -U postgres --auth=trust --no-sync \
	--encoding=UTF8 --locale=C >"$tmp/initdb.log" 2>&1 || {
	cat "$tmp/initdb.log" >&2
	exit 1
}
$as_server "$bindir/pg_ctl" -D "$tmp/data" -l "$tmp/server.log" -w \
	-o "-c listen_addresses='' -k $tmp -c fsync=off -c max_connections=50" start >/dev/null || {
	cat "$tmp/server.log" >&2
	exit 1
}

# Point every test at this server and nothing else.
unset PGSERVICE PGSERVICEFILE PGHOSTADDR PGPORT PGPASSWORD PGOPTIONS DATASHELL_SCHEMA
export PGHOST="$tmp" PGUSER=postgres PGDATABASE=postgres
export DS_TEST_TMP="$tmp" DS_PTYRUN="$ptyrun" DS_TOP="$top" PG_BINDIR="$bindir"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=99"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=99"

status=0
for pair in "$@"; do
	bin=${pair%%:*}
	units=${pair#*:}
	DATASHELL=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
	DS_UNITS=$(cd "$units" && pwd)
	export DATASHELL DS_UNITS
	echo "== tests with $bin"
	prove --exec /bin/sh "$top"/tests/t/*.t || status=1
done
if [ $status = 0 ]; then echo "datashell tests: all passed"; else echo "datashell tests: FAILED"; fi
exit $status
