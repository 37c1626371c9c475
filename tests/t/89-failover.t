#!/bin/sh
# The state store fails over: a primary with a streaming standby (pg_basebackup -R), the
# primary stopped as in a crash (-m immediate) mid-drain and the standby promoted. A
# worker given both hosts with target_session_attrs=read-write reconnects to the new
# primary, every connection it opens included, and the same process ends the drain with
# every key written exactly once there: a commit lost with the old primary (the standby
# replays asynchronously) took its run's work with it, and the run runs again. A
# backfill --wait given the hosts in PG* variables waits across it. Without
# target_session_attrs, a standby still in recovery is refused, with why.
#
# A server of its own with a standby; each case makes its pair afresh.
. "$DS_TOP/tests/lib.sh"

# A primary with a streaming standby, new for the case, with database t_failover; sql
# and ds reach it through PGHOST and PGPORT, both hosts, and PGTARGETSESSIONATTRS, so
# that they follow the failover as a user's tools would. $BOTH is the same as a
# conninfo string, $PRIMARY_DIR the primary's socket directory.
failover_pair() {
	[ -n "${STANDBY_DIR:-}" ] && pg_standby_stop && pg_server_stop &&
		rm -rf "$WORK/pg" "$STANDBY_DIR"
	# The servers take PGPORT for their own port.
	unset PGTARGETSESSIONATTRS PGPORT
	use_private_server
	use_fresh_database t_failover
	use_standby
	PRIMARY_DIR=$PGHOST
	BOTH="host=$PRIMARY_DIR,$STANDBY_DIR port=5432,$STANDBY_PORT target_session_attrs=read-write dbname=t_failover"
	export PGHOST="$PRIMARY_DIR,$STANDBY_DIR" PGPORT="5432,$STANDBY_PORT" \
		PGTARGETSESSIONATTRS=read-write
}

# A pipeline of one daily SQL task, w, that writes its key to public.written, then, once
# more than GATE keys are written, waits for advisory lock 15, which the test holds
# (hold_session) until the primary dies: however fast the machine, the primary dies
# mid-drain, and the runs that wait then die with it.
gated_task() {	# SCHEMA GATE
	sql "CREATE TABLE IF NOT EXISTS public.written (key text)"
	schema_with_pipeline "$1" <<-END
		{"graphs": {"core": {}},
		 "tasks": [{"name": "w", "graph": "core", "key": "daily",
		            "sql": "INSERT INTO public.written VALUES (:'key'); SELECT pg_advisory_xact_lock_shared(15) FROM (SELECT count(*) AS n FROM public.written) w WHERE w.n > $2"}]}
	END
}

# The primary dies with the worker mid-drain, and the standby becomes the primary.
fail_over() {
	stop_server
	release_session
	promote_standby
}

# 2,000 daily keys.
KEYS=2019-01-01..2024-06-22

# Wait until the standby has replayed what CONDITION needs, as wait_until waits.
standby_has() {	# CONDITION
	(
		export PGHOST="$STANDBY_DIR" PGPORT="$STANDBY_PORT" PGTARGETSESSIONATTRS=any
		wait_until "$1"
	)
}

begin "a worker and backfill --wait given both hosts ride out a failover: each of 2,000 keys written once in the new primary"
failover_pair
gated_task t_drain 1500
hold_session "SELECT pg_advisory_lock(15)"
# The waiting command has the hosts from PGHOST, PGPORT and PGTARGETSESSIONATTRS.
ds_bg bf -c "backfill w $KEYS --yes --wait --json"
bf=$BG
standby_has "(SELECT count(*) FROM runs) = 2000"
ds_bg w -d "$BOTH" -c 'worker --drain --concurrency 4 --lease 2 --reconnect-timeout 2m'
w=$BG
wait_until "(SELECT count(*) FROM public.written) >= 500" 120
fail_over
bg_wait $w w 240
expect_exit 0
# Its control connection or a slot's saw the loss first.
expect_stderr_matches "${WORKER_LINE}(the connection to the server was lost|the worker lost a connection to the warehouse): .+ abandoned\$"
expect_stderr_matches "${WORKER_LINE}reconnected at attempt [0-9]+, after [0-9.]+s without the server\$"
expect_stdout_matches '^worker [^ ]+: [0-9]+ runs, [0-9]+ succeeded, 0 failed'
bg_wait $bf bf 60
expect_exit 0
expect_eq "the batch's runs that succeeded, as it says" \
	"$(json_get '{result}{states}{success}' <"$OUT")" 2000
expect_sql "the new primary is the old standby" \
	"SELECT current_setting('port') || ' ' || pg_is_in_recovery()" "$STANDBY_PORT false"
expect_sql "keys written, and how often the most written one was" \
	"SELECT count(DISTINCT key) || ' ' || max(n) FROM (
	 SELECT key, count(*) AS n FROM public.written GROUP BY key) k" "2000 1"
expect_sql "the runs" "SELECT state || ':' || count(*) FROM runs GROUP BY state" "success:2000"
expect_sql "one worker, the same process, stopped" \
	"SELECT count(*) || ' ' || count(stopped_at) FROM workers" "1 1"
expect_sql "the backfill's audit row, concluded" \
	"SELECT outcome FROM audit_log WHERE command LIKE 'backfill%'" ok
end_case

begin "without target_session_attrs, a standby in recovery is refused with why, and the worker waits for its promotion"
failover_pair
unset PGTARGETSESSIONATTRS
ANY="host=$PRIMARY_DIR,$STANDBY_DIR port=5432,$STANDBY_PORT dbname=t_failover"
gated_task t_any 5
standby_has "(SELECT count(*) FROM tasks) = 1"
ds -d "host=$STANDBY_DIR port=$STANDBY_PORT dbname=t_failover" -c 'worker --drain'
expect_exit 2
expect_stderr_matches "^datashell: error: the server at host $STANDBY_DIR port $STANDBY_PORT is a standby in recovery \(read-only\), not the primary; target_session_attrs=read-write in the connection string makes libpq pass it by\$"
# A command that writes is refused by the standby, and told where it is.
ds -d "host=$STANDBY_DIR port=$STANDBY_PORT dbname=t_failover" -c 'backfill w 2024-01-01 --yes'
expect_exit 3
expect_stderr_matches "^datashell: error: cannot execute .* in a read-only transaction\$"
expect_stderr_matches "^hint: the server at host $STANDBY_DIR port $STANDBY_PORT is a standby in recovery; connect to the primary \(target_session_attrs=read-write in the connection string makes libpq pass a standby by\)\$"
setup "$DATASHELL" -c 'backfill w 2024-01-01..2024-01-20 --yes'
hold_session "SELECT pg_advisory_lock(15)"
ds_bg w -d "$ANY" -c 'worker --drain --concurrency 2 --lease 2 --reconnect-timeout 2m'
w=$BG
wait_until "(SELECT count(*) FROM public.written) >= 5"
stop_server
release_session
wait_for_file "to reconnect failed: the server at host $STANDBY_DIR port $STANDBY_PORT is a standby in recovery" "$WORK/w.err" 60
promote_standby
bg_wait $w w 120
expect_exit 0
expect_stderr_matches "${WORKER_LINE}reconnected at attempt [0-9]+, after "
expect_sql "keys written, and how often the most written one was" \
	"SELECT count(DISTINCT key) || ' ' || max(n) FROM (
	 SELECT key, count(*) AS n FROM public.written GROUP BY key) k" "20 1"
expect_sql "the runs" "SELECT state || ':' || count(*) FROM runs GROUP BY state" "success:20"
end_case

done_testing
