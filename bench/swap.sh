#!/bin/sh
# swap.sh: how long swap-table holds its lock, and how long check takes, as tables grow.
#
# usage: bench/swap.sh [DATASHELL]   (make bench-swap; SIZES="10000 100000" to choose)
#
# For tables of 10 thousand to 10 million rows (with an index, a view and a serial id),
# it prints, each with its target:
#  - the time the ACCESS EXCLUSIVE lock is held during swap (target: under 50 ms, and
#    not growing with the table);
#  - the time check takes to compare the table with its shadow, against one sequential
#    scan of both tables (target: at most 1.5 times), and for reference against a scan
#    that reads every value (count(*) reads none: PostgreSQL does not deform the rows).
# Then, for a table of 100 thousand rows read by a materialized view whose query takes
# seconds (MV_SLEEP, default 3), the time the lock is held during swap (target: under
# 50 ms: the view is built again before the lock), beside the time its query takes.
# It starts its own throwaway PostgreSQL server and removes it afterwards.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
ds=${1:-$top/datashell}
sizes=${SIZES:-10000 100000 1000000 10000000}
. "$top/tests/pg-server.sh"
tmp=$(mktemp -d /tmp/datashell-bench.XXXXXX)
trap 'pg_server_stop; rm -rf "$tmp"' EXIT
pg_server_start "$tmp" -c shared_buffers=1GB -c max_wal_size=8GB -c fsync=off || exit 1

psql() { command psql -X -q -v ON_ERROR_STOP=1 "$@"; }

report() {	# WHAT VALUE TARGET VERDICT
	printf '%-52s %12s   target %-14s %s\n' "$1" "$2" "$3" "$4"
}

json_field() {	# KEY: a number from the JSON document on stdin
	perl -MJSON::PP -e 'local $/; print JSON::PP->new->decode(<STDIN>)->{$ARGV[0]}' "$1"
}

"$ds" -c init >/dev/null
for n in $sizes; do
	t=bench_$n
	psql -c "CREATE TABLE $t (id bigserial PRIMARY KEY, day date NOT NULL, amount numeric,
	                          note text);
	         INSERT INTO $t (day, amount, note)
	           SELECT date '2024-01-01' + i % 365, i, 'order ' || i
	           FROM generate_series(1, $n) i;
	         CREATE INDEX ${t}_day ON $t (day);
	         CREATE VIEW ${t}_v AS SELECT day, amount FROM $t"
	"$ds" -c "swap-table start $t" >/dev/null
	psql -c "INSERT INTO ${t}_backfill SELECT * FROM $t" -c "VACUUM ANALYZE $t, ${t}_backfill"
	# One sequential scan of each table, timed by the server's clock as check is.
	scan() {
		psql -c '\timing on' -c "SELECT count(*) FROM $t" -c "SELECT count(*) FROM ${t}_backfill" |
			awk '/^Time:/ { ms += $2 } END { printf "%d", ms }'
	}
	# For reference, no target: a scan that reads every value (count(*) looks at none).
	scan_values() {
		psql -c '\timing on' \
			-c "SELECT count(id), count(day), count(amount), count(note) FROM $t" \
			-c "SELECT count(id), count(day), count(amount), count(note) FROM ${t}_backfill" |
			awk '/^Time:/ { ms += $2 } END { printf "%d", ms }'
	}
	scan >/dev/null	# the same warm cache for both
	scan_ms=$(scan)
	values_ms=$(scan_values)
	check_ms=$("$ds" -c "swap-table check $t --key day --json" | json_field check_ms)
	lock_ms=$("$ds" -c "swap-table swap $t --yes --json" | json_field lock_ms)
	ratio=$(echo "$check_ms $scan_ms" | awk '{ printf "%.2f", $1 / ($2 > 0 ? $2 : 1) }')
	report "swap: lock held, $n rows" "$lock_ms ms" "< 50 ms" \
		"$(echo "$lock_ms" | awk '{ print ($1 < 50) ? "ok" : "SLOW" }')"
	report "check: $check_ms ms vs a scan of both $scan_ms ms, $n rows" "${ratio}x" \
		"<= 1.5x" "$(echo "$ratio" | awk '{ print ($1 <= 1.5) ? "ok" : "SLOW" }')"
	report "  (a scan of both reading every value: $values_ms ms)" \
		"$(echo "$check_ms $values_ms" | awk '{ printf "%.2fx", $1 / ($2 > 0 ? $2 : 1) }')" \
		"-" "(reference)"
	"$ds" -c "swap-table finish $t --yes" >/dev/null
	psql -c "DROP VIEW ${t}_v" -c "DROP TABLE $t"
done

# A materialized view whose query takes MV_SLEEP seconds: its copy is built before the lock.
t=bench_mv
sleep_s=${MV_SLEEP:-3}
psql -c "CREATE TABLE $t (id bigserial PRIMARY KEY, day date NOT NULL, amount numeric);
         INSERT INTO $t (day, amount)
           SELECT date '2024-01-01' + i % 365, i FROM generate_series(1, 100000) i;
         CREATE MATERIALIZED VIEW ${t}_daily AS
           SELECT day, sum(amount) AS total FROM $t, (SELECT pg_sleep($sleep_s)) s GROUP BY day;
         CREATE UNIQUE INDEX ${t}_daily_day ON ${t}_daily (day)"
build_ms=$(psql -c '\timing on' -c "REFRESH MATERIALIZED VIEW ${t}_daily" |
	awk '/^Time:/ { printf "%d", $2 }')
"$ds" -c "swap-table start $t" >/dev/null
psql -c "INSERT INTO ${t}_backfill SELECT * FROM $t"
"$ds" -c "swap-table check $t" >/dev/null
lock_ms=$("$ds" -c "swap-table swap $t --yes --json" | json_field lock_ms)
report "swap: lock held, a materialized view built in $build_ms ms" "$lock_ms ms" "< 50 ms" \
	"$(echo "$lock_ms" | awk '{ print ($1 < 50) ? "ok" : "SLOW" }')"
"$ds" -c "swap-table finish $t --yes" >/dev/null
