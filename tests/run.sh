#!/bin/sh
# run.sh: run the test suite against throwaway PostgreSQL servers.
#
# usage: tests/run.sh [-j JOBS] [-p PTYRUN] [-b BINARY:UNITDIR]... [FILE [CASES]]...
#
#   tests/run.sh                        every file, against the plain build (./datashell)
#   tests/run.sh t/70-backfill.t        one file (also tests/t/70-backfill.t, 70-backfill.t)
#   tests/run.sh t/70-backfill.t 12     only case 12 of it, as prove numbers it ("ok 12")
#   tests/run.sh t/85-swap.t 3,7-9      cases 3, 7, 8 and 9; the others are reported skipped
#                                       (prove shows every line of a file with selected cases)
#   tests/run.sh -b build/asan/datashell:build/asan/tests t/80-worker.t
#                                       one file against the sanitizer build
#
# make check runs every file against both builds:
#   tests/run.sh -b ./datashell:build/tests -b build/asan/datashell:build/asan/tests
#
# Without -b the plain build is tested, and made first (make datashell build/ptyrun and
# the unit tests). A selected case runs with its file's setup (the code outside
# begin ... end_case) and its own; see tests/lib.sh. The C unit tests (01..07) run whole.
#
# Each BINARY gets a private server of its own (initdb in a temporary directory, on
# /dev/shm when it has room; Unix socket only, no TCP; as root the server runs as the
# postgres user), and its files run under prove, JOBS at a time (default 4), the longest
# files first. The builds run side by side: the first one's output streams, the others'
# follow when they are done. The servers are always stopped and removed, also when a
# test fails or on Ctrl-C. The last line says "datashell tests: all passed" or
# "datashell tests: FAILED" (exit status 1).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
jobs=4
ptyrun=$top/build/ptyrun
bins=""
files=""
select=""

usage() {
	sed -n '4p' "$0" | sed 's/^# *//' >&2
	exit 2
}

# A test file named as given, or relative to tests/ or tests/t/.
find_test() {	# NAME
	for f in "$1" "$top/tests/$1" "$top/tests/t/$1" "$top/tests/t/$1.t"; do
		if [ -f "$f" ]; then
			echo "$(cd "$(dirname "$f")" && pwd)/$(basename "$f")"
			return 0
		fi
	done
	echo "run.sh: no test file '$1'" >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	-j) [ $# -ge 2 ] || usage; jobs=$2; shift 2 ;;
	-j*) jobs=${1#-j}; shift ;;
	-p) [ $# -ge 2 ] || usage; ptyrun=$2; shift 2 ;;
	-b) [ $# -ge 2 ] || usage; bins="$bins $2"; shift 2 ;;
	-h | --help) usage ;;
	-*) usage ;;
	*)
		f=$(find_test "$1")
		files="$files $f"
		shift
		# Case numbers after a file select its cases.
		case ${1:-} in
		[0-9]*)
			expr "$1" : '[0-9][0-9,-]*$' >/dev/null || usage
			select="$select $(basename "$f"):$1"
			shift
			;;
		esac
		;;
	esac
done

if [ -z "$bins" ]; then
	units=$(cd "$top" && ls tests/unit/test_*.c | sed 's|tests/unit/\(.*\)\.c|build/tests/\1|')
	make -s -C "$top" datashell build/ptyrun $units
	bins="$top/datashell:$top/build/tests"
fi
# The longest files first, so that the last one to start is a short one; their sizes
# say well enough which take longest.
[ -n "$files" ] || files=$(ls -S "$top"/tests/t/*.t)
ptyrun=$(cd "$(dirname "$ptyrun")" && pwd)/$(basename "$ptyrun")

. "$top/tests/pg-server.sh"
# The servers, and the scripts' files, go to a RAM file system when there is one with
# room (DS_TEST_TMPDIR says where otherwise): the tests make and drop many small
# databases, and on a disk the kernel's work for their files costs ten times the CPU.
base=${DS_TEST_TMPDIR:-/tmp}
if [ -z "${DS_TEST_TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ] &&
	[ "$(df -Pk /dev/shm 2>/dev/null | awk 'NR == 2 { print $4 }')" -gt 4000000 ] 2>/dev/null; then
	base=/dev/shm
fi
tmp=$(mktemp -d "$base/datashell-test.XXXXXX")
chmod 755 "$tmp"
pids=""

cleanup() {
	trap '' HUP INT PIPE TERM
	for p in $pids; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in $pids; do
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
# Also when the output goes away (tests/run.sh | head), the servers are stopped.
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 141' PIPE
trap 'exit 143' TERM

export DS_PTYRUN="$ptyrun" DS_TOP="$top" DS_SELECT="$select"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=99"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=99"

descendants() {	# PID
	for t_child in $(ps -o pid= --ppid "$1"); do
		echo "$t_child"
		descendants "$t_child"
	done
}

alive() {	# PID...
	for t_pid do
		kill -0 "$t_pid" 2>/dev/null && return 0
	done
	return 1
}

# One build's suite against a server of its own. It runs in the background (suite ... &),
# a process of its own whose traps always stop the server, and prove with it.
suite() {	# N BINARY:UNITDIR
	dir=$tmp/$1
	bin=${2%%:*}
	units=${2#*:}
	mkdir "$dir"
	prove_pid=""
	# prove, the scripts it runs and what they started, which would go on without it;
	# the scripts get a moment to clean up (a private server) before their files go.
	stop() {
		trap '' TERM	# a second signal must not cut the cleaning short
		if [ -n "$prove_pid" ]; then
			tree=$(descendants "$prove_pid")
			kill -TERM "$prove_pid" $tree 2>/dev/null || true
			i=0
			while [ $i -lt 20 ] && alive $tree; do
				sleep 0.25
				i=$((i + 1))
			done
		fi
		pg_server_stop
	}
	trap stop EXIT
	trap 'exit 143' TERM
	echo "== tests with $bin"
	# A throwaway server: nothing is written for a crash to find (fsync, full pages),
	# and its WAL is kept small, as it may live in memory.
	pg_server_start "$dir" -c fsync=off -c full_page_writes=off -c max_wal_size=128MB \
		-c max_connections=50 || exit 1
	DATASHELL=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
	DS_UNITS=$(cd "$units" && pwd)
	export DATASHELL DS_UNITS DS_TEST_TMP="$dir"
	# prove runs in the background too, so that a TERM reaches stop() at once.
	# shellcheck disable=SC2086
	prove -j "$jobs" --timer ${select:+--verbose} --exec /bin/sh $files &
	prove_pid=$!
	rc=0
	wait "$prove_pid" || rc=$?
	prove_pid=""
	exit $rc
}

# Every suite runs in the background, so that run.sh, waiting, takes a signal at once
# and passes it on (cleanup); the first suite writes straight to the output.
n=0
for pair in $bins; do
	n=$((n + 1))
	if [ $n = 1 ]; then
		suite 1 "$pair" &
	else
		suite "$n" "$pair" >"$tmp/$n.log" 2>&1 &
	fi
	pids="$pids $!"
done

status=0
n=0
for p in $pids; do
	n=$((n + 1))
	wait "$p" || status=1
	[ $n = 1 ] || cat "$tmp/$n.log"
done
pids=""
if [ $status = 0 ]; then echo "datashell tests: all passed"; else echo "datashell tests: FAILED"; fi
exit $status
