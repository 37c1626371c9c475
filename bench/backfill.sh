#!/bin/sh
# backfill.sh: the speed of planning and enqueueing, and of status, at scale.
#
# usage: bench/backfill.sh [DATASHELL]   (make bench-backfill)
#
# With 1,000 tasks in 10 graphs, it measures and prints, each with its target:
#  - enqueueing a 365-day backfill of all of them (365,000 runs), against the bare
#    INSERT ... SELECT of the same rows through psql (target: at most 1.5 times);
#  - re-planning the same backfill when every key is complete (target: under 0.5 s);
#  - status with no argument over a million runs (target: under 100 ms);
#  - metrics over the same million runs, which it reads whole (target: under a second).
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

# Seconds taken by a command, with millisecond resolution.
seconds() {
	start=$(date +%s%N)
	"$@" >/dev/null
	end=$(date +%s%N)
	echo "$(( (end - start) / 1000000 ))" | awk '{ printf "%.3f", $1 / 1000 }'
}

# The best of N timings of a command: the figure least disturbed by other load.
best_seconds() {	# N COMMAND...
	n=$1
	shift
	best=""
	while [ "$n" -gt 0 ]; do
		t=$(seconds "$@")
		best=$(echo "$t ${best:-$t}" | awk '{ print ($1 < $2) ? $1 : $2 }')
		n=$((n - 1))
	done
	echo "$best"
}

report() {	# WHAT VALUE TARGET VERDICT
	printf '%-58s %10s   target %-12s %s\n' "$1" "$2" "$3" "$4"
}

# 1,000 daily tasks in 10 graphs, each depending on the one before it in its graph.
perl -e '
	print "{\"graphs\": {", join(",", map { "\"g$_\": {\"max_active\": 8}" } 0..9), "},\n";
	print "\"tasks\": [\n";
	for my $i (0..999) {
		my $g = $i % 10;
		my $dep = $i >= 10 ? ", \"depends_on\": [\"t" . ($i - 10) . "\"]" : "";
		print "{\"name\": \"t$i\", \"graph\": \"g$g\", \"key\": \"daily\", \"sql\": \"SELECT 1\"$dep}";
		print $i < 999 ? ",\n" : "\n";
	}
	print "]}\n";
' >"$tmp/pipeline.json"
"$ds" -c init -c "pipeline load $tmp/pipeline.json" >/dev/null

all=$(perl -e 'print join ",", map { "graph:g$_" } 0..9')

# The reference: the same 365,000 rows inserted by one plain INSERT ... SELECT.
bare() {
	psql -c "BEGIN" -c "INSERT INTO datashell.batches (kind, command) VALUES ('bench', 'bare')" \
		-c "INSERT INTO datashell.runs (task_id, key, batch_id)
		    SELECT t.id, to_char(d, 'YYYY-MM-DD'), currval('datashell.batches_id_seq')
		    FROM datashell.tasks t, generate_series(date '2023-01-01', date '2023-12-31',
		                                            interval '1 day') d" -c "ROLLBACK"
}
bare >/dev/null	# warm the cache the same way for both
t_bare=$(seconds bare)
t_backfill=$(seconds "$ds" -c "backfill $all 2023-01-01..2023-12-31 --yes")
n=$(psql -A -t -c "SELECT count(*) FROM datashell.runs")
ratio=$(echo "$t_backfill $t_bare" | awk '{ printf "%.2f", $1 / $2 }')
verdict=$(echo "$ratio" | awk '{ print ($1 <= 1.5) ? "ok" : "MISSED" }')
report "backfill of $n runs: ${t_backfill}s, bare INSERT ${t_bare}s" "${ratio}x" "<= 1.5x" "$verdict"

# Measure reads after the writes have settled: vacuumed, and checkpointed so that no
# background flush of the bulk writes competes with them.
psql -c "UPDATE datashell.runs SET state = 'success', finished_at = now() - interval '2 days'" \
	-c "VACUUM ANALYZE datashell.runs" -c "VACUUM ANALYZE datashell.partitions" -c CHECKPOINT
t_replan=$(best_seconds 3 "$ds" -c "backfill $all 2023-01-01..2023-12-31 --dry-run")
verdict=$(echo "$t_replan" | awk '{ print ($1 < 0.5) ? "ok" : "MISSED" }')
report "re-plan of the same backfill, all complete (best of 3)" "${t_replan}s" "< 0.5s" "$verdict"

# A million runs: the year above, plus history and a live queue.
psql -c "INSERT INTO datashell.runs (task_id, key, state, started_at, finished_at)
	 SELECT t.id, to_char(d, 'YYYY-MM-DD'), 'success',
	        now() - interval '3 days' - random() * interval '10 minutes', now() - interval '3 days'
	 FROM datashell.tasks t, generate_series(date '2021-01-01', date '2022-08-31',
	                                         interval '1 day') d
	 LIMIT 620000" \
	-c "INSERT INTO datashell.runs (task_id, key, state)
	    SELECT t.id, to_char(d, 'YYYY-MM-DD'), 'queued'
	    FROM datashell.tasks t, generate_series(date '2024-01-01', date '2024-01-15',
	                                            interval '1 day') d" \
	-c "VACUUM ANALYZE datashell.runs" -c "VACUUM ANALYZE datashell.partitions" -c CHECKPOINT
n=$(psql -A -t -c "SELECT count(*) FROM datashell.runs")
"$ds" -c status >/dev/null
best=$(best_seconds 5 "$ds" -c 'status --json')
ms=$(echo "$best" | awk '{ printf "%d", $1 * 1000 }')
verdict=$(echo "$ms" | awk '{ print ($1 < 100) ? "ok" : "MISSED" }')
report "status over $n runs (whole command, best of 5)" "${ms} ms" "< 100 ms" "$verdict"

# metrics reads every run once, for the runs by state and the duration histogram.
"$ds" -c metrics >/dev/null
best=$(best_seconds 3 "$ds" -c metrics)
ms=$(echo "$best" | awk '{ printf "%d", $1 * 1000 }')
verdict=$(echo "$ms" | awk '{ print ($1 < 1000) ? "ok" : "MISSED" }')
report "metrics over $n runs (whole command, best of 3)" "${ms} ms" "< 1000 ms" "$verdict"
