#!/bin/sh
# schedule.sh: the speed of the schedule's pass (definitions/72-schedule.sql).
#
# usage: bench/schedule.sh [DATASHELL]   (make bench-schedule)
#
# It measures and prints, each with its target:
#  - a pass with nothing due over 1,000 scheduled daily tasks, in database time (the
#    execution time of SELECT schedule_pass() as the server reports it, best of 50 in
#    one session), beside a plain read of the same tasks measured the same way (target:
#    under 10 ms);
#  - a catch-up of 1,000 hourly tasks over 30 days, 720,000 runs enqueued by one pass,
#    against the bare INSERT ... SELECT of the same rows into runs in the same run
#    (target: at most 1.5 times).
# It starts its own throwaway PostgreSQL server and removes it afterwards.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
ds=${1:-$top/datashell}
. "$top/tests/pg-server.sh"
tmp=$(mktemp -d /tmp/datashell-bench.XXXXXX)
trap 'pg_server_stop; rm -rf "$tmp"' EXIT
pg_server_start "$tmp" -c shared_buffers=512MB -c max_wal_size=4GB || exit 1
export TZ=UTC

psql() { command psql -X -q -v ON_ERROR_STOP=1 "$@"; }

report() {	# WHAT VALUE TARGET VERDICT
	printf '%-64s %10s   target %-10s %s\n' "$1" "$2" "$3" "$4"
}

# The best of N figures of database time (ms) for a statement, run N times in one
# session: the execution time the server reports (EXPLAIN ANALYZE, without timing each
# node), which leaves out the trip to the client and the shell's own start.
best_ms() {	# N SQL
	n=$1
	i=0
	: >"$tmp/timing.sql"
	while [ $i -lt "$n" ]; do
		printf 'EXPLAIN (ANALYZE, TIMING OFF) %s;\n' "$2" >>"$tmp/timing.sql"
		i=$((i + 1))
	done
	psql -A -t -f "$tmp/timing.sql" | sed -n 's/^Execution Time: \([0-9.]*\) ms.*/\1/p' |
		sort -n | head -n 1
}

# Seconds taken by a command, with millisecond resolution.
seconds() {
	start=$(date +%s%N)
	"$@" >/dev/null
	end=$(date +%s%N)
	echo "$(( (end - start) / 1000000 ))" | awk '{ printf "%.3f", $1 / 1000 }'
}

# N tasks of kind KEY in 10 graphs, each scheduled from START (a key).
pipeline() {	# FILE KEY START
	perl -e '
		my ($key, $start) = @ARGV;
		print "{\"graphs\": {", join(",", map { "\"g$_\": {\"max_active\": 8}" } 0..9), "},\n";
		print "\"tasks\": [\n";
		for my $i (0..999) {
			my $g = $i % 10;
			print "{\"name\": \"t$i\", \"graph\": \"g$g\", \"key\": \"$key\", \"sql\": \"SELECT 1\",",
			      " \"schedule\": {\"start\": \"$start\"}}";
			print $i < 999 ? ",\n" : "\n";
		}
		print "]}\n";
	' "$2" "$3" >"$1"
}

# (a) Nothing due: 1,000 daily tasks whose schedules have covered every due key.
start=$(date -u -d '-30 days' +%Y-%m-%d)
pipeline "$tmp/daily.json" daily "$start"
"$ds" -c init -c "pipeline load --yes $tmp/daily.json" >/dev/null
psql -c "SELECT datashell.schedule_pass()" -c "VACUUM ANALYZE" >/dev/null
left=$(psql -A -t -c "SELECT count(*) FROM datashell.schedule_due(now())")
[ "$left" = 0 ] || { echo "schedule.sh: $left keys still due after a pass" >&2; exit 1; }
t_ref=$(best_ms 50 "SELECT count(*) FROM datashell.tasks t JOIN datashell.graphs g ON g.name = t.graph
	LEFT JOIN datashell.schedule_state s ON s.task_id = t.id")
t_pass=$(best_ms 50 "SELECT datashell.schedule_pass()")
verdict=$(echo "${t_pass:-x}" | awk '{ print ($1 ~ /^[0-9.]+$/ && $1 < 10) ? "ok" : "MISSED" }')
report "pass, nothing due, 1000 tasks (a plain read of them: ${t_ref} ms)" "${t_pass} ms" "< 10 ms" \
	"$verdict"

# (b) A catch-up: 1,000 hourly tasks whose schedules start 720 hours before the last due
# hour, in a schema of their own.
export DATASHELL_SCHEMA=catchup
first=$(psql -A -t -c "SELECT to_char(date_trunc('hour', now() AT TIME ZONE 'UTC')
	- interval '720 hours', 'YYYY-MM-DD\"T\"HH24')")
pipeline "$tmp/hourly.json" hourly "$first"
"$ds" -c init -c "pipeline load --yes $tmp/hourly.json" >/dev/null
psql -c "VACUUM ANALYZE" >/dev/null

# The reference: the same rows, as the pass writes them, by one plain INSERT ... SELECT.
bare() {
	psql -c "BEGIN" -c "INSERT INTO catchup.batches (kind, command) VALUES ('bench', 'bare')" \
		-c "INSERT INTO catchup.runs (task_id, key, batch_id, priority, ord, state)
		    SELECT t.id, to_char(h, 'YYYY-MM-DD\"T\"HH24'), currval('catchup.batches_id_seq'),
		           10, catchup.key_ord(to_char(h, 'YYYY-MM-DD\"T\"HH24')), 'queued'
		    FROM catchup.tasks t,
		         generate_series(date_trunc('hour', now() AT TIME ZONE 'UTC') - interval '720 hours',
		                         date_trunc('hour', now() AT TIME ZONE 'UTC') - interval '1 hour',
		                         interval '1 hour') h
		    ORDER BY 2, 1" -c "ROLLBACK"
}
pass() {
	psql -c "SELECT catchup.schedule_pass()"
}
bare >/dev/null	# warm the cache the same way for both
t_bare=$(seconds bare)
t_catchup=$(seconds pass)
n=$(psql -A -t -c "SELECT count(*) FROM catchup.runs")
ratio=$(echo "$t_catchup $t_bare" | awk '{ printf "%.2f", $1 / $2 }')
verdict=$(echo "$ratio" | awk '{ print ($1 <= 1.5) ? "ok" : "MISSED" }')
report "catch-up of $n runs: pass ${t_catchup}s, bare INSERT ${t_bare}s" "${ratio}x" "<= 1.5x" \
	"$verdict"
[ "$n" = 720000 ] || { echo "schedule.sh: the pass enqueued $n runs, not 720000" >&2; exit 1; }
