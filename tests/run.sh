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

. "$top/tests/pg-server.sh"
tmp=$(mktemp -d /tmp/datashell-test.XXXXXX)

stop_server() {
	pg_server_stop
	rm -rf "$tmp"
}
trap stop_server EXIT
trap 'exit 130' INT TERM

pg_server_start "$tmp" -c fsync=off -c max_connections=50 || exit 1

export DS_TEST_TMP="$tmp" DS_PTYRUN="$ptyrun" DS_TOP="$top"
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
