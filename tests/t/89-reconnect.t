#!/bin/sh
# A worker rides out a restart of its server: it says it lost it (with the server's or
# libpq's words), abandons the runs in hand to their leases, reconnects with backoff,
# saying so at each attempt, and goes on; it gives up, exit 2 with the last error,
# after --reconnect-timeout, and a stop request ends its waiting at once. Every line it
# writes carries the time. --wait rides it out as well; other commands whose server
# dies exit 2 with the server's message, and the state is whole when the server is
# back: no run lost, none done twice.
#
# A server of its own, stopped as in a crash and started again on the same socket.
# Each case has a state schema of its own, its pipeline loaded as a user would.
. "$DS_TOP/tests/lib.sh"
use_private_server
use_fresh_database t_reconnect

# How a worker says it lost its server: its control connection, or a slot's.
LOST='(the connection to the server was lost|the worker lost a connection to the warehouse): '

# A worker of the schema is registered and beating.
LIVE_WORKER="(SELECT count(*) FROM workers WHERE stopped_at IS NULL) = 1"

# A pipeline of one daily SQL task, NAME, whose body is BODY.
one_task() {	# SCHEMA NAME BODY
	schema_with_pipeline "$1" <<-END
		{"graphs": {"core": {"max_active": 4}},
		 "tasks": [{"name": "$2", "graph": "core", "key": "daily", "sql": "$3"}]}
	END
}

# A SQL body that writes the key to TABLE, then, once more than N keys are written,
# waits for advisory lock 15, which the test holds (hold_session) until the server dies:
# the runs after the first N are in hand when it does, however slow or loaded the
# machine, and their writes die with them.
gated_body() {	# TABLE N
	echo "INSERT INTO public.$1 VALUES (:'key'); SELECT pg_advisory_xact_lock_shared(15) FROM (SELECT count(*) AS n FROM public.$1) w WHERE w.n > $2"
}

# The worker's runs in hand (CONCURRENCY of them) all wait for the gate.
gate_full() {	# CONCURRENCY
	wait_until "(SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted) = $1"
}

# Every line of the worker's stderr ($ERR) but the shell's last error has the time.
expect_stamped_lines() {
	grep -vE "$WORKER_LINE" "$ERR" | grep -v '^datashell: error: ' >"$WORK/unstamped"
	[ -s "$WORK/unstamped" ] && fail "lines without a time: $(head -c 2000 "$WORK/unstamped")"
}

begin "a draining worker rides out a restart: the same process ends the drain, each key written once"
sql "CREATE TABLE public.written (key text)"
one_task t_ride slow "$(gated_body written 4)"
setup "$DATASHELL" -c 'backfill slow 2024-01-01..2024-01-16 --yes'
hold_session "SELECT pg_advisory_lock(15)"
ds_bg w -c 'worker --drain --concurrency 2 --lease 2'
w=$BG
wait_until "(SELECT count(*) FROM public.written) >= 4"
gate_full 2
stop_server
release_session
wait_for_file 'attempt 1 to reconnect failed' "$WORK/w.err"
start_server
bg_wait $w w 90
expect_exit 0
expect_stderr_matches "${WORKER_LINE}$LOST.+; [0-9]+ runs? in hand abandoned\$"
expect_stderr_matches "${WORKER_LINE}reconnecting in [0-9.]+s \(attempt 1\)\$"
expect_stderr_matches "${WORKER_LINE}attempt 1 to reconnect failed: could not connect to the server: .+; attempt 2 in [0-9.]+s\$"
expect_stderr_matches "${WORKER_LINE}reconnected at attempt [0-9]+, after [0-9.]+s without the server\$"
expect_stamped_lines
expect_stdout_matches '^worker [^ ]+: [0-9]+ runs, [0-9]+ succeeded, 0 failed'
expect_sql "keys written, and how often the most written one was" \
	"SELECT count(DISTINCT key) || ' ' || max(n) FROM (
	 SELECT key, count(*) AS n FROM public.written GROUP BY key) k" "16 1"
expect_sql "the runs" "SELECT state || ':' || count(*) FROM runs GROUP BY state" "success:16"
expect_sql "the worker's row, live again and then stopped" \
	"SELECT count(*) FROM workers WHERE stopped_at IS NOT NULL" 1
end_case

begin "a command in hand when the server dies is killed; its run comes back and runs again"
schema_with_pipeline t_command <<-END
	{"graphs": {"core": {}},
	 "tasks": [{"name": "cmd", "graph": "core", "key": "daily",
	            "command": "echo \$\$ >>$WORK/pids; [ \$(wc -l <$WORK/pids) -gt 1 ] || sleep 300"}]}
END
setup "$DATASHELL" -c 'backfill cmd 2024-04-01 --yes'
ds_bg w -c 'worker --drain --lease 2'
w=$BG
wait_for_file '^[0-9]+$' "$WORK/pids"
stop_server
wait_for_file 'reconnecting in' "$WORK/w.err"
start_server
bg_wait $w w 90
expect_exit 0
expect_stderr_matches "${WORKER_LINE}cmd 2024-04-01 abandoned with the connection; its lease brings it back to the queue\$"
kill -0 "$(head -n 1 "$WORK/pids")" 2>/dev/null && fail "the first command still runs"
expect_eq "the commands started" "$(grep -c . "$WORK/pids")" 2
# The claim may have been lost with the crash (it does not wait for the disk): then the
# run is at its first attempt again.
expect_sql "the run" "$(run_field_sql cmd 2024-04-01 "r.state")" success
end_case

begin "a worker whose sessions an administrator terminates reconnects at once, and stops as usual"
new_schema t_terminated
ds_bg w -c worker
w=$BG
wait_until "$LIVE_WORKER"
sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
     WHERE datname = current_database() AND pid <> pg_backend_pid()" >/dev/null
wait_for_file 'reconnected at attempt 1,' "$WORK/w.err"
wait_until "$LIVE_WORKER"
kill -TERM $w
bg_wait $w w 30
expect_exit 0
# The server's words (terminating connection due to administrator command) or, when the
# worker wrote to the closed connection before it read them, libpq's.
expect_stderr_matches "${WORKER_LINE}$LOST(.*terminating connection|server closed the connection)"
expect_stamped_lines
expect_sql "its row, stopped" "SELECT count(*) FROM workers WHERE stopped_at IS NOT NULL" 1
end_case

begin "a worker back with runs still running under its name stands for them until it stops"
sql "CREATE TABLE public.held_back (key text)"
one_task t_back gated "$(gated_body held_back 0)"
setup "$DATASHELL" -c 'backfill gated 2024-01-01..2024-01-04 --yes'
hold_session "SELECT pg_advisory_lock(15)"
ds_bg w -c 'worker --concurrency 2 --lease 2'
w=$BG
gate_full 2
sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
     WHERE datname = current_database() AND application_name LIKE 'datashell%'" >/dev/null
wait_for_file 'reconnected at attempt 1,' "$WORK/w.err"
# Its row counts the two runs it left to their leases as well as its two slots, for the
# claims that skip counting running runs (queue/claim.sql); not only while they run: a
# worker that lives on is not told when the reaper takes them.
expect_sql "what its row stands for beyond its slots" "SELECT abandoned FROM workers" 2
release_session
wait_until "(SELECT count(*) FROM runs WHERE state = 'success') = 4"
kill -TERM $w
bg_wait $w w 30
expect_exit 0
expect_sql "stopped with nothing in hand" "SELECT abandoned || ' ' || (stopped_at IS NOT NULL)
	FROM workers" "0 true"
end_case

begin "a worker that registers again ends the session it lost, and a claim left in it rolls back"
one_task t_lost_session z "SELECT 1"
ds_bg w -c 'worker --concurrency 2'
w=$BG
wait_until "$LIVE_WORKER"
name=$(sql "SELECT name FROM workers")
# A session the worker lost but the server still runs, in the middle of a claim: it has
# made a run running under the worker's name and not committed. The worker's row names
# it as the worker's session.
hold_session "INSERT INTO runs (task_id, key, state, worker, attempt, started_at, lease_until)
	SELECT id, '2024-01-01', 'running', '$name', 1, now(), now() + interval '1 hour'
	FROM tasks WHERE name = 'z'" "application_name=lost_session"
sql "UPDATE workers w SET session_pid = a.pid, session_start = a.backend_start
     FROM pg_stat_activity a WHERE a.application_name = 'lost_session'" >/dev/null
sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
     WHERE datname = current_database() AND application_name LIKE 'datashell%'" >/dev/null
wait_for_file 'reconnected at attempt 1,' "$WORK/w.err"
expect_sql "the lost session, ended" \
	"SELECT count(*) FROM pg_stat_activity WHERE application_name = 'lost_session'" 0
expect_sql "its claim, rolled back" "SELECT count(*) FROM runs" 0
expect_sql "the row names the worker's new session" \
	"SELECT count(*) FROM workers w JOIN pg_stat_activity a ON a.pid = w.session_pid
	 AND a.backend_start = w.session_start WHERE a.application_name LIKE 'datashell%'" 1
release_session
setup "$DATASHELL" -c 'backfill z 2024-01-01 --yes'
wait_until "(SELECT count(*) FROM runs WHERE state = 'success') = 1"
kill -TERM $w
bg_wait $w w 30
expect_exit 0
end_case

begin "a SQL run whose success committed as the worker lost its server is told a success, not abandoned"
# The task's own SQL, with a notice to keep, terminates the worker's other sessions:
# its success commits, and keeping its notices finds the server lost.
schema_with_pipeline t_committed <<-'END'
	{"graphs": {"core": {}},
	 "tasks": [{"name": "cut", "graph": "core", "key": "daily",
	            "sql": "DO 'BEGIN RAISE NOTICE ''cutting''; END'; SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name LIKE 'datashell%'"}]}
END
setup "$DATASHELL" -c 'backfill cut 2024-05-01 --yes'
ds -c 'worker --drain'
expect_exit 0
expect_stderr_matches "${WORKER_LINE}cut 2024-05-01 success \\([0-9.]+s\\)\$"
grep -q 'abandoned with the connection' "$ERR" && fail "a run whose success committed was told abandoned: $(cat "$ERR")"
expect_stdout_matches '^worker [^ ]+: 1 runs?, 1 succeeded, 0 failed'
expect_sql "the run" "$(run_field_sql cut 2024-05-01 "r.state || ' ' || r.attempt")" "success 1"
end_case

begin "what the hook was told as the server was lost is recorded once the worker is back, and not told again"
schema_with_pipeline t_hook <<-'END'
	{"graphs": {"core": {}},
	 "tasks": [{"name": "boom", "graph": "core", "key": "none", "command": "exit 1"}]}
END
ds -c 'backfill boom today --yes' -c 'worker --drain'
expect_exit 3
# A hook that takes the action, and meanwhile the worker's sessions are terminated.
rm -f "$WORK/cut_told"
cat >"$WORK/cutting" <<-END
	#!/bin/sh
	json=\$(cat)
	printf '%s\n' "\$json" >>"$WORK/cut_told"
	psql -X -q -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
	               WHERE datname = current_database() AND application_name LIKE 'datashell%'" >/dev/null
END
chmod +x "$WORK/cutting"
ds -c "worker --drain --alert-hook $WORK/cutting"
expect_exit 0
expect_stderr_matches "${WORKER_LINE}alert [0-9]+ \\(trigger\\) handed to the hook\$"
expect_stderr_matches "${WORKER_LINE}reconnected at attempt "
expect_sql "recorded as told" "SELECT told || ' ' || told_severity || ' ' || (hook_lease_until IS NULL)
	FROM alerts" "trigger error true"
ds -c "worker --drain --alert-hook $WORK/cutting"
expect_exit 0
expect_eq "told once" "$(grep -c . "$WORK/cut_told")" 1
end_case

begin "a worker whose server stays down exits 2 after --reconnect-timeout, with the last error"
new_schema t_gone
ds_bg w -c 'worker --reconnect-timeout 2s'
w=$BG
wait_until "$LIVE_WORKER"
stop_server
bg_wait $w w 30
start_server
expect_exit 2
expect_stderr_matches "${WORKER_LINE}$LOST[a-z].+; 0 runs in hand abandoned\$"
expect_stderr_matches "${WORKER_LINE}attempt 1 to reconnect failed: could not connect to the server: "
expect_stderr_matches '^datashell: error: the worker could not reconnect within 2s: could not connect to the server: .*(No such file or directory|Connection refused)'
expect_stamped_lines
end_case

begin "a worker's reconnection to a server that takes the connection and never answers ends, without connect_timeout"
# The server stopped as in a crash, and its socket taken by one that never answers: an
# attempt waits 10 seconds when nothing sets connect_timeout, not forever.
new_schema t_hung
ds_bg w -c 'worker --reconnect-timeout 5s'
w=$BG
wait_until "$LIVE_WORKER"
stop_server
rm -f "$PG_SERVER_DIR/.s.PGSQL.5432"
silent_server "$PG_SERVER_DIR" 5432
bg_wait $w w 60
stop_silent
start_server
expect_exit 2
expect_stderr_matches '^datashell: error: the worker could not reconnect within 5s: could not connect to the server: .+ timeout expired$'
end_case

begin "a stop request while the worker waits to reconnect ends it at once: exit 2, and why"
new_schema t_stopped
ds_bg w -c 'worker --reconnect-timeout 1h'
w=$BG
wait_until "$LIVE_WORKER"
stop_server
wait_for_file 'reconnecting in' "$WORK/w.err"
kill -TERM $w
bg_wait $w w 10
start_server
expect_exit 2
expect_stderr_matches "^datashell: error: $LOST.+ \\(the worker was stopped before it could reconnect\\)\$"
end_case

begin "backfill and force-run --wait ride out a restart and end with their batches; with --reconnect-timeout 0 they exit 2"
sql "CREATE TABLE public.waited (key text)"
one_task t_wait slow "$(gated_body waited 3)"
hold_session "SELECT pg_advisory_lock(15)"
ds_bg bf -c 'backfill slow 2024-02-01..2024-02-10 --wait --yes'
bf=$BG
wait_until "(SELECT count(*) FROM batches) = 1"
ds_bg w -c 'worker --drain --concurrency 2 --lease 2'
w=$BG
wait_until "(SELECT count(*) FROM public.waited) >= 3"
gate_full 2
# Enqueued with the worker's slots held at the gate: their runs wait for the server's
# return, and so do the commands.
ds_bg fr -c 'force-run slow 2024-02-11 --wait'
fr=$BG
wait_until "(SELECT count(*) FROM batches) = 2"
ds_bg gone -c 'force-run slow 2024-02-12 --wait --reconnect-timeout 0'
gone=$BG
wait_until "(SELECT count(*) FROM batches) = 3"
stop_server
release_session
bg_wait $gone gone 30
expect_exit 2
expect_stderr_matches '^datashell: error: the connection to the server was lost: [^ ]'
wait_for_file 'reconnecting in' "$WORK/w.err"
start_server
bg_wait $w w 90
expect_exit 0
expect_stderr_matches "${WORKER_LINE}reconnected at attempt "
bg_wait $bf bf 60
expect_exit 0
bg_wait $fr fr 60
expect_exit 0
expect_sql "keys written, and how often the most written one was" \
	"SELECT count(DISTINCT key) || ' ' || max(n) FROM (
	 SELECT key, count(*) AS n FROM public.waited GROUP BY key) k" "12 1"
expect_sql "the batches' runs" "SELECT batch_id || ' ' || state || ':' || count(*) FROM runs
	GROUP BY batch_id, state ORDER BY batch_id" "1 success:10
2 success:1
3 success:1"
expect_sql "the waiting commands' audit rows, concluded" \
	"SELECT string_agg(outcome, ' ' ORDER BY id) FROM audit_log
	 WHERE command LIKE 'backfill%' OR command LIKE 'force-run%'" "ok ok waiting"
end_case

begin "at a terminal, --wait says that it lost the server, reconnects and goes on"
one_task t_tty quick "SELECT 1"
DATASHELL_PAGER= TERM=xterm "$DS_PTYRUN" -t 60 -- "$DATASHELL" >"$OUT" 2>"$ERR" <<-END
	expect t_tty> \$
	sendline force-run quick 2024-06-01 --wait
	expect datashell: batch [0-9]+: 0/1 runs done
	run psql -X -q -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'datashell' AND datname = current_database()" >/dev/null
	expect datashell: batch [0-9]+: the connection to the server was lost: [^;]+; reconnecting
	run "$DATASHELL" -c 'worker --drain' >/dev/null 2>&1
	expect datashell: batch [0-9]+: 1/1 runs done, 0 failed
	expect t_tty> \$
	sendline quit
	wait 0
END
CODE=$?
expect_exit 0
expect_sql "the run" "$(run_field_sql quick 2024-06-01 "r.state")" success
end_case

begin "cancel whose server dies exits 2 with the message and cancels nothing; once it is back, cancel does"
one_task t_cancel idle "SELECT 1"
setup "$DATASHELL" -c 'backfill idle 2024-03-01..2024-03-03 --yes'
# cancel waits for a run's row, which this session holds locked, when the server dies.
hold_session "SELECT 1 FROM runs WHERE key = '2024-03-02' FOR UPDATE"
ds_bg c -c 'cancel 1 --yes'
c=$BG
wait_until "$DS_LOCK_WAIT_SQL"
stop_server
bg_wait $c c 30
release_session
start_server
expect_exit 2
expect_stderr_matches '^datashell: error: the connection to the server was lost: [^ ]'
expect_sql "the runs, untouched" "SELECT state || ':' || count(*) FROM runs GROUP BY state" "queued:3"
expect_sql "the batch, not cancelled" "SELECT cancelled_at IS NULL FROM batches" t
expect_sql "no audit row says it was done" \
	"SELECT count(*) FROM audit_log WHERE command LIKE 'cancel%' AND outcome = 'ok'" 0
ds -c 'cancel 1 --yes'
expect_exit 0
expect_sql "then cancelled" "SELECT state || ':' || count(*) FROM runs GROUP BY state" "cancelled:3"
end_case

begin "--reconnect-timeout takes durations, and 0"
new_schema t_options
ds -c 'worker --reconnect-timeout 5 --drain'
expect_exit 3
expect_stderr <<-'END'
	datashell: error: --reconnect-timeout: '5' is not a duration
	hint: a whole number and a unit (30s, 5m, 1h), or 0 to exit at once when the server is lost
END
ds -c 'worker --reconnect-timeout 0 --drain' -c 'worker --reconnect-timeout 90s --drain'
expect_exit 0
# backfill and force-run take it for --wait, checked before anything is enqueued.
for cmd in 'backfill nothing today --wait' 'force-run nothing today --wait'; do
	ds -c "$cmd --reconnect-timeout 2w"
	expect_exit 3
	expect_stderr <<-'END'
		datashell: error: --reconnect-timeout: '2w' is more than the longest, 604800s (a week)
	END
done
expect_sql "nothing enqueued" "SELECT count(*) FROM batches" 0
end_case

begin "what the server says as a worker's connection starts is not written, also when it reconnects: every line has the time"
# A setting of the database that names no tablespace makes the server warn each session
# as it starts, before it is ready, as a server shut down at that moment does
# (terminating connection due to immediate shutdown command); libpq writes that to
# stderr unless the connection has its notice processor from the start. The session's,
# the slots' and the schedule pass's connections hear it, and hear it again as they come
# back after their sessions are terminated.
one_task t_warned quiet "SELECT 1"
setup "$DATASHELL" -c 'backfill quiet 2024-06-01..2024-06-02 --yes'
admin_sql -c "ALTER DATABASE t_reconnect SET default_tablespace = 'no_such_tablespace'" >/dev/null
ds_bg w -c 'worker --concurrency 2'
w=$BG
wait_until "(SELECT count(*) FROM runs WHERE state = 'success') = 2"
admin_sql -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
	      WHERE datname = 't_reconnect' AND application_name LIKE 'datashell%'" >/dev/null
wait_for_file 'reconnected at attempt 1,' "$WORK/w.err"
wait_until "$LIVE_WORKER"
kill -TERM $w
bg_wait $w w 30
admin_sql -c "ALTER DATABASE t_reconnect RESET default_tablespace" >/dev/null
expect_exit 0
expect_stdout_matches '^worker [^ ]+: 2 runs, 2 succeeded, 0 failed'
expect_stamped_lines
end_case

begin "a worker whose server is stopped as its schedule pass's connection starts writes only lines with the time"
# The server waits post_auth_delay in each of the worker's sessions as it starts, after
# authenticating it and before the session is ready: once registered, the worker
# connects for its first schedule pass, and is held there meanwhile. A server stopped
# then tells that session it is terminating (due to immediate shutdown command), as
# case 6 met by chance.
new_schema t_starting
export PGOPTIONS='-c post_auth_delay=4'
ds_bg w -c 'worker --reconnect-timeout 1s'
w=$BG
unset PGOPTIONS
wait_until "$LIVE_WORKER"
stop_server
bg_wait $w w 30
start_server
expect_exit 2
expect_stderr_matches "${WORKER_LINE}the schedule's pass failed: cannot open another connection: "
expect_stderr_matches '^datashell: error: the worker could not reconnect within 1s: '
expect_stamped_lines
end_case

begin "connect_timeout ends a connection to a server that does not answer: exit 2, and why"
# The postmaster stopped, the kernel still takes the connection, and nobody answers it.
t_postmaster=$(head -n 1 "$PG_SERVER_DIR/data/postmaster.pid")
kill -STOP "$t_postmaster"
export PGCONNECT_TIMEOUT=2
ds_bg c -c status
c=$BG
unset PGCONNECT_TIMEOUT
bg_wait $c c 30
kill -CONT "$t_postmaster"
expect_exit 2
expect_stderr_matches '^datashell: error: could not connect to the server: .+ timeout expired$'
end_case

begin "connect_timeout on a host that does not answer goes on to the next host, as libpq does"
# A first host that takes the connection and never answers (a primary gone silent), a
# second that answers (the standby promoted after it): the connection is made to the
# second once connect_timeout expires on the first.
new_schema t_silent
silent_server "$WORK/silent"
PGHOST="$WORK/silent,$PGHOST" PGCONNECT_TIMEOUT=2 ds -c status
stop_silent
expect_exit 0
expect_stdout_matches "^ +Host +$PG_SERVER_DIR$"
end_case

done_testing
