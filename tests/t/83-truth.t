#!/bin/sh
# Scripts are told the truth: --wait stops, exit 3, with the reason when nothing can
# progress (no live worker, everything left stuck); the audit log records what came of
# a command, not what was asked; a lost connection exits 2 with the server's or libpq's
# words, under --wait and under a worker.
#
# A server of its own: a case stops it the hard way (as a crash would) and starts it
# again. Each case has a state schema of its own (new_schema); graphs, tasks and runs
# are written with SQL, as 'pipeline load' would write them.
. "$DS_TOP/tests/lib.sh"
use_private_server
use_fresh_database t_truth

graph() {	# NAME
	queue_sql "INSERT INTO graphs (name, max_active) VALUES ('$1', 4)"
}

task() {	# NAME GRAPH SQL
	queue_sql "INSERT INTO tasks (name, graph, key_kind, sql, definition)
	           VALUES ('$1', '$2', 'daily', \$ds_body\$$3\$ds_body\$, '{}')"
}

# The audit row of the last command line that starts with PREFIX: "outcome|error".
audit_of_sql() {	# PREFIX
	echo "SELECT outcome || '|' || coalesce(error, '') FROM audit_log
	      WHERE command LIKE '$1%' ORDER BY id DESC LIMIT 1"
}

# A worker of the schema is registered and beating.
LIVE_WORKER="(SELECT count(*) FROM workers WHERE stopped_at IS NULL) = 1"

begin "--wait with no live worker stops within the grace period: exit 3, and why"
new_schema t_noworker
graph core
task lonely core "SELECT 1"
DATASHELL_WAIT_GRACE=1 ds -c 'backfill lonely 2024-01-01 --wait --yes'
expect_exit 3
expect_stderr <<-'END'
	datashell: error: no live worker for 1s: nothing runs the 1 run of batch 1 left
	hint: start one ('datashell -c worker'); the runs stay queued, 'status 1' shows them
END
expect_outcome "the run stays" lonely 2024-01-01 "queued|0|"
expect_sql "the audit row says what came of it" "$(audit_of_sql backfill)" \
	"failed|no live worker for 1s: nothing runs the 1 run of batch 1 left"
end_case

begin "--wait with everything left stuck (paused graph, open breaker) stops and names each"
new_schema t_stuck
graph frozen
graph core
queue_sql "UPDATE graphs SET paused = true WHERE name = 'frozen'"
task icy frozen "SELECT 1"
task broken core "SELECT 1"
flush_sql
setup "$DATASHELL" -c 'breaker trip broken --reason bad'
DATASHELL_WAIT_GRACE=1 ds -c 'backfill icy,broken 2024-01-01..2024-01-02 --wait --yes'
expect_exit 3
expect_stderr <<-'END'
	datashell: error: nothing can progress: the 4 runs of batch 1 left are stuck
	  broken 2024-01-01: held: the breaker of broken is open
	  broken 2024-01-02: held: the breaker of broken is open
	  icy 2024-01-01: queued: graph frozen is paused
	  icy 2024-01-02: queued: graph frozen is paused
	hint: only a person can move them; 'status 1' shows them
END
end_case

begin "force-run --wait whose run fails is audited failed, with the error; one that succeeds ok"
new_schema t_forced
graph core
task bad core "SELECT 1/0"
task good core "SELECT 1"
queue_sql "UPDATE tasks SET retries = 0"
ds_bg w -c worker
w=$BG
wait_until "$LIVE_WORKER"
ds -c 'force-run bad 2024-01-01 --wait'
expect_exit 3
expect_stderr_matches '^datashell: error: 1 run of batch 1 did not succeed$'
expect_sql "the failed wait's audit row" "$(audit_of_sql 'force-run bad')" \
	"failed|1 run of batch 1 did not succeed"
ds -c 'force-run good 2024-01-01 --wait'
expect_exit 0
expect_sql "the good one's" "$(audit_of_sql 'force-run good')" "ok|"
expect_sql "no row is left waiting" "SELECT count(*) FROM audit_log WHERE outcome = 'waiting'" 0
kill -TERM $w
bg_wait $w w
expect_exit 0
end_case

begin "breaker trip is audited as what it did: opened, with the reason"
new_schema t_trip
graph core
task orders core "SELECT 1"
ds -c 'breaker trip orders --reason "bad upstream data"'
expect_exit 0
ds -c 'log --command breaker --json'
expect_exit 0
expect_eq "touched" "$(
	json_get "[0]{touched}" <"$OUT")" \
	"breaker opened, reason bad upstream data, task orders, was closed"
ds -c 'breaker reset orders --yes'
expect_exit 0
expect_sql "the reset's row" \
	"SELECT detail->>'breaker' || ' ' || (detail->>'was') FROM audit_log
	 WHERE command LIKE 'breaker reset%'" "closed open"
end_case

begin "worker --drain exits 3 when runs failed or are left stuck, and names them; 0 when all is done"
new_schema t_drain
graph core
task bad core "SELECT 1/0"
task after core "SELECT 1"
task fine core "SELECT 1"
queue_sql "UPDATE tasks SET retries = 0"
queue_sql "INSERT INTO task_deps (task_id, upstream_id, key_offset)
           SELECT t.id, u.id, 0 FROM tasks t, tasks u WHERE t.name = 'after' AND u.name = 'bad'"
queue_sql "INSERT INTO runs (task_id, key) SELECT id, '2024-01-01' FROM tasks"
ds -c 'worker --drain --json'
expect_exit 3
# A failed drain still prints its summary, as psql prints rows before it exits non-zero.
expect_eq "the summary, on stdout" "$(json_get '{runs}' <"$OUT") $(json_get '{failed}' <"$OUT")" "2 1"
expect_eq "the failed run in it" \
	"$(json_get '{failed_runs}[0]{task}' <"$OUT"): $(json_get '{failed_runs}[0]{why}' <"$OUT")" \
	"bad: division by zero"
expect_eq "the run left stuck in it" \
	"$(json_get '{stuck_runs}[0]{task}' <"$OUT") $(json_get '{stuck_runs}[0]{state}' <"$OUT")" \
	"after queued"
grep -A3 '^datashell: error:' "$ERR" >"$WORK/error"
expect_same "the error" "$WORK/error" <<-'END'
	datashell: error: the worker drained the queue, but 1 run failed and 1 run was left waiting:
	  bad 2024-01-01: failed: division by zero
	  after 2024-01-01: queued: upstream bad 2024-01-01 failed
	hint: 'why TASK KEY' tells what each waits for, down to its root cause
END
expect_sql "the audit row" "$(audit_of_sql worker)" \
	"failed|the worker drained the queue, but 1 run failed and 1 run was left waiting:
  bad 2024-01-01: failed: division by zero
  after 2024-01-01: queued: upstream bad 2024-01-01 failed"
queue_sql "UPDATE runs SET state = 'cancelled' WHERE state = 'queued'"
queue_sql "INSERT INTO runs (task_id, key) SELECT id, '2024-01-02' FROM tasks WHERE name = 'fine'"
ds -c 'worker --drain'
expect_exit 0
expect_stdout_matches '^worker [^ ]+: 1 run, 1 succeeded, 0 failed'
grep -q '^datashell: error:' "$ERR" && fail "an error after a drain that left all done"
end_case

begin "a connection terminated under --wait with --reconnect-timeout 0 exits 2 with the server's message"
new_schema t_term_wait
graph core
task waiting core "SELECT 1"
ds_bg bf -c 'backfill waiting 2024-01-01 --wait --yes --reconnect-timeout 0'
bf=$BG
wait_until "(SELECT count(*) FROM batches) = 1"
sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
     WHERE datname = current_database() AND pid <> pg_backend_pid()" >/dev/null
bg_wait $bf bf
expect_exit 2
expect_stderr_matches '^datashell: error: the connection to the server was lost: .*terminating connection'
end_case

begin "a connection terminated under a worker with --reconnect-timeout 0 exits 2 with the server's message"
new_schema t_term_worker
graph core
ds_bg w -c 'worker --reconnect-timeout 0'
w=$BG
wait_until "$LIVE_WORKER"
sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
     WHERE datname = current_database() AND pid <> pg_backend_pid()" >/dev/null
bg_wait $w w
expect_exit 2
expect_stderr_matches '^datashell: error: the connection to the server was lost: .*[a-z]'
end_case

begin "a server that dies under --wait (--reconnect-timeout 0): exit 2 with libpq's message, never an empty one"
new_schema t_crash
graph core
task waiting core "SELECT 1"
ds_bg bf -c 'backfill waiting 2024-01-01 --wait --yes --reconnect-timeout 0'
bf=$BG
wait_until "(SELECT count(*) FROM batches) = 1"
stop_server
bg_wait $bf bf
start_server
expect_exit 2
expect_stderr_matches '^datashell: error: the connection to the server was lost: [a-z]'
end_case

begin "a server that dies under a worker (--reconnect-timeout 0) running a SQL task: exit 2 with libpq's message"
new_schema t_crash_worker
graph core
task sleeper core "SELECT pg_sleep(60)"
queue_sql "INSERT INTO runs (task_id, key) SELECT id, '2024-01-01' FROM tasks"
ds_bg w -c 'worker --concurrency 2 --reconnect-timeout 0'
w=$BG
wait_until "(SELECT count(*) FROM runs WHERE state = 'running') = 1"
stop_server
bg_wait $w w
start_server
expect_exit 2
expect_stderr_matches '^datashell: error: the (worker lost a connection to the warehouse|connection to the server was lost): [a-z]'
end_case

done_testing
