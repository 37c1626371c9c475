#!/bin/sh
# Workers run the schedule: each pass enqueues the due keys of scheduled tasks as one
# batch of kind schedule, audited, once however many workers pass; catch-up after a
# worker was down (all, latest, a window), delay, hourly keys, lookback, manual runs
# (and keys left to manual runs that end undone), paused graphs, and scheduled runs
# ahead of a backfill's in the queue.
#
# The server's clock cannot be moved: starts and delays are chosen relative to its
# now(), and "a worker was down" is schedule_state set back. Each case has a state
# schema of its own (new_schema).
. "$DS_TOP/tests/lib.sh"
use_fresh_database t_schedule

# The UTC date N days from the server's today (N negative: before).
day() {	# N
	sql "SELECT to_char((now() AT TIME ZONE 'UTC')::date + ($1), 'YYYY-MM-DD')"
}

# The UTC hour N hours from the server's current hour.
hour() {	# N
	sql "SELECT to_char(date_trunc('hour', now() AT TIME ZONE 'UTC') + make_interval(hours => $1),
		'YYYY-MM-DD\"T\"HH24')"
}

# Load a pipeline file given on stdin.
load() {
	cat >"$WORK/p.json"
	setup "$DATASHELL" -c "pipeline load $WORK/p.json"
}

# The keys of TASK's runs in batches of kind schedule, in key order.
scheduled_keys() {	# TASK
	sql "SELECT coalesce(string_agg(r.key, ' ' ORDER BY r.key), '')
		FROM runs r JOIN tasks t ON t.id = r.task_id JOIN batches b ON b.id = r.batch_id
		WHERE t.name = '$1' AND b.kind = 'schedule'"
}

# The keys from FIRST to LAST, as scheduled_keys prints them.
keys() {	# KIND FIRST LAST
	sql "SELECT coalesce(string_agg(k, ' ' ORDER BY k), '') FROM key_series('$1', '$2', '$3') k"
}

# Runs of TASK for KEY that ended in STATE, counted.
runs_of() {	# TASK KEY [STATE]
	sql "SELECT count(*) FROM runs r JOIN tasks t ON t.id = r.task_id
		WHERE t.name = '$1' AND r.key = '$2' AND r.state = '${3:-success}'"
}

# Say that TASK's schedule covered FIRST to LAST, as a pass long ago would have.
covered() {	# TASK FIRST LAST
	queue_sql "INSERT INTO schedule_state (task_id, first_key, last_key, passed_at)
		SELECT id, '$2', '$3', now() - interval '3 days' FROM tasks WHERE name = '$1'"
}

# A run of TASK for KEY written as someone's earlier manual run in STATE would be.
manual_run() {	# TASK KEY STATE
	queue_sql "INSERT INTO runs (task_id, key, state, attempt, finished_at)
		SELECT id, '$2', '$3', CASE WHEN '$3' = 'queued' THEN 0 ELSE 1 END,
		       CASE WHEN '$3' <> 'queued' THEN now() END
		FROM tasks WHERE name = '$1'"
}

# Start a worker in the background: its pid in $BG, its output in $WORK/NAME.{out,err}.
worker_bg() {	# NAME WORKER-OPTIONS...
	name=$1
	shift
	flush_sql
	"$DATASHELL" -c "worker $*" >"$WORK/$name.out" 2>"$WORK/$name.err" </dev/null &
	BG=$!
}

# Stop a background worker and wait for it; its output becomes the case's.
worker_stop() {	# PID NAME
	kill -TERM "$1"
	wait "$1"
	CODE=$?
	cp "$WORK/$2.err" "$ERR"
	cp "$WORK/$2.out" "$OUT"
}

begin "a worker enqueues yesterday's key of a scheduled daily task and runs it, once"
new_schema s_daily
away_from_boundary
Y=$(day -1)
load <<-END
	{"graphs": {"core": {}},
	 "tasks": [{"name": "daily_a", "graph": "core", "key": "daily", "sql": "SELECT 1",
	            "schedule": {"start": "$Y"}},
	           {"name": "by_hand", "graph": "core", "key": "daily", "sql": "SELECT 1"}]}
END
worker_bg w1
wait_until "EXISTS (SELECT 1 FROM runs WHERE key = '$Y' AND state = 'success')"
wait_for_file 'schedule batch' "$WORK/w1.err"
worker_stop "$BG" w1
expect_exit 0
expect_eq "the scheduled keys" "$(scheduled_keys daily_a)" "$Y"
expect_eq "a task without a schedule" "$(scheduled_keys by_hand)" ""
expect_eq "runs" "$(runs_of daily_a "$Y")" 1
B=$(sql "SELECT id FROM batches WHERE kind = 'schedule'")
expect_stderr_matches "${WORKER_LINE}schedule batch $B enqueued 1 run: daily_a 1\$"
expect_sql "one batch, of kind schedule" "SELECT count(*) || ' ' || min(kind) || ' ' || min(runs)
	|| ' ' || min(command) FROM batches" "1 schedule 1 schedule pass"
expect_sql "the audit row" "SELECT command || ' ' || outcome || ' ' || (detail->>'batch') || ' '
	|| (detail->>'runs') || ' ' || (detail->'tasks')::text
	FROM audit_log WHERE command = 'schedule pass'" "schedule pass ok $B 1 {\"daily_a\": 1}"
expect_sql "the schedule's state" "SELECT first_key || ' ' || last_key || ' ' || batch_id
	FROM schedule_state" "$Y $Y $B"
expect_sql "the run's priority: the schedule's" "SELECT priority FROM runs" 10
expect_sql "the worker's audit row counts what its passes enqueued" \
	"SELECT string_agg(detail->>'scheduled', ',') FROM audit_log WHERE command LIKE 'worker%'" 1
end_case

begin "worker --drain enqueues the due keys before it drains, and runs them"
new_schema s_drain
away_from_boundary
S=$(day -3)
load <<-END
	{"graphs": {"core": {"schedule": {"start": "$S"}}},
	 "tasks": [{"name": "a", "graph": "core", "key": "daily", "sql": "SELECT 1"},
	           {"name": "b", "graph": "core", "key": "daily", "command": "true",
	            "depends_on": ["a"]}]}
END
ds -c 'worker --drain'
expect_exit 0
expect_stderr_matches "${WORKER_LINE}schedule batch [0-9]+ enqueued 6 runs: a 3, b 3\$"
expect_stdout_matches '^worker [^ ]+: 6 runs, 6 succeeded, 0 failed'
expect_eq "a's keys" "$(scheduled_keys a)" "$(keys daily "$S" "$(day -1)")"
expect_eq "b's keys" "$(scheduled_keys b)" "$(keys daily "$S" "$(day -1)")"
expect_sql "all done" "SELECT string_agg(DISTINCT state, ',') FROM runs" "success"
# Nothing is due since: the next drain enqueues nothing and says nothing of it.
ds -c 'worker --drain'
expect_exit 0
expect_stdout_matches '^worker [^ ]+: 0 runs,'
expect_sql "still one batch" "SELECT count(*) FROM batches" 1
end_case

begin "worker --drain waits for a pass in progress rather than drain without its keys"
new_schema s_drain_wait
away_from_boundary
S=$(day -2)
load <<-END
	{"graphs": {"core": {}},
	 "tasks": [{"name": "a", "graph": "core", "key": "daily", "command": "true",
	            "schedule": {"start": "$S"}}]}
END
# Another pass in progress: the lock it holds.
hold_session "SELECT pg_advisory_xact_lock(hashtextextended('datashell.schedule.s_drain_wait', 0))"
worker_bg w1 --drain
wait_until "EXISTS (SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock'
	AND wait_event = 'advisory' AND query LIKE '%schedule_pass%')"
kill -0 "$BG" 2>/dev/null || fail "the drain did not wait for the pass in progress"
release_session
wait "$BG"
CODE=$?
cp "$WORK/w1.err" "$ERR"
expect_exit 0
expect_eq "the keys" "$(scheduled_keys a)" "$S $(day -1)"
expect_eq "done" "$(runs_of a "$(day -1)")" 1
end_case

begin "catch-up all: a worker that was down runs every key it missed"
new_schema s_all
away_from_boundary
load <<-END
	{"graphs": {"core": {}},
	 "tasks": [{"name": "a", "graph": "core", "key": "daily", "command": "true",
	            "schedule": {"start": "$(day -20)", "catchup": "all"}}]}
END
covered a "$(day -20)" "$(day -5)"
ds -c 'worker --drain'
expect_exit 0
expect_eq "the keys" "$(scheduled_keys a)" "$(keys daily "$(day -4)" "$(day -1)")"
expect_sql "the state" "SELECT first_key || ' ' || last_key FROM schedule_state" \
	"$(day -20) $(day -1)"
end_case

begin "catch-up latest: only the last due key"
new_schema s_latest
away_from_boundary
load <<-END
	{"graphs": {"core": {}},
	 "tasks": [{"name": "a", "graph": "core", "key": "daily", "command": "true",
	            "schedule": {"start": "$(day -20)", "catchup": "latest"}}]}
END
covered a "$(day -20)" "$(day -5)"
ds -c 'worker --drain'
expect_exit 0
expect_eq "the keys" "$(scheduled_keys a)" "$(day -1)"
expect_sql "the keys left out are covered" "SELECT last_key FROM schedule_state" "$(day -1)"
ds -c 'worker --drain'
expect_sql "and never enqueued later" "SELECT count(*) FROM runs" 1
end_case

begin "catch-up 7d: the keys that became due within the window, also from a new start"
new_schema s_window
away_from_boundary
load <<-END
	{"graphs": {"core": {}},
	 "tasks": [{"name": "a", "graph": "core", "key": "daily", "command": "true",
	            "schedule": {"start": "$(day -30)", "catchup": "7d"}},
	           {"name": "fresh", "graph": "core", "key": "daily", "command": "true",
	            "schedule": {"start": "$(day -30)", "catchup": "7d"}}]}
END
covered a "$(day -30)" "$(day -20)"
ds -c 'worker --drain'
expect_exit 0
expect_eq "the keys" "$(scheduled_keys a)" "$(keys daily "$(day -7)" "$(day -1)")"
expect_eq "a task never passed" "$(scheduled_keys fresh)" "$(keys daily "$(day -7)" "$(day -1)")"
end_case

begin "two workers started at once: no run or batch twice"
new_schema s_two
away_from_boundary
load <<-END
	{"graphs": {"core": {"max_active": 8, "schedule": {"start": "$(day -54)"}}},
	 "tasks": [{"name": "a", "graph": "core", "key": "daily", "command": "true"},
	           {"name": "b", "graph": "core", "key": "daily", "sql": "SELECT 1"}]}
END
worker_bg w1 --concurrency 2
P1=$BG
worker_bg w2 --concurrency 2
P2=$BG
wait_until "(SELECT count(*) FROM runs WHERE state = 'success') = 108" 120
worker_stop "$P1" w1
expect_exit 0
worker_stop "$P2" w2
expect_exit 0
expect_sql "one batch" "SELECT count(*) || ' ' || min(runs) FROM batches" "1 108"
expect_sql "no key twice" "SELECT count(*) FROM (SELECT task_id, key FROM runs
	GROUP BY 1, 2 HAVING count(*) > 1) d" 0
expect_sql "every key once" "SELECT count(DISTINCT (task_id, key)) FROM runs" 108
expect_sql "one audit row" "SELECT count(*) FROM audit_log WHERE command = 'schedule pass'" 1
end_case

begin "three draining workers at once: no run or batch twice, every key run"
new_schema s_three
away_from_boundary
load <<-END
	{"graphs": {"core": {"max_active": 8, "schedule": {"start": "$(day -40)"}}},
	 "tasks": [{"name": "a", "graph": "core", "key": "daily", "sql": "SELECT 1"},
	           {"name": "b", "graph": "core", "key": "daily", "sql": "SELECT 1", "depends_on": ["a"]},
	           {"name": "c", "graph": "core", "key": "daily", "command": "true"}]}
END
worker_bg w1 --drain --concurrency 2
P1=$BG
worker_bg w2 --drain --concurrency 2
P2=$BG
worker_bg w3 --drain --concurrency 2
P3=$BG
for p in "$P1" "$P2" "$P3"; do
	wait "$p" || fail "a worker exited $?"
done
expect_sql "one batch" "SELECT count(*) || ' ' || min(runs) FROM batches" "1 120"
expect_sql "every key once, done" "SELECT count(DISTINCT (task_id, key)) || ' ' || count(*)
	|| ' ' || string_agg(DISTINCT state, ',') FROM runs" "120 120 success"
expect_eq "one log line among them" \
	"$(cat "$WORK/w1.err" "$WORK/w2.err" "$WORK/w3.err" | grep -c 'schedule batch')" 1
end_case

begin "a key not due yet is not enqueued; the worker passes again when it is"
new_schema s_delay
away_from_boundary 90
# Yesterday's key becomes due 10 seconds from now.
D=$(sql "SELECT ceil(extract(epoch FROM now() - date_trunc('day', now() AT TIME ZONE 'UTC')
	AT TIME ZONE 'UTC'))::integer + 10")
load <<-END
	{"graphs": {"core": {}},
	 "tasks": [{"name": "a", "graph": "core", "key": "daily", "command": "true",
	            "schedule": {"start": "$(day -3)", "delay": $D}},
	           {"name": "later", "graph": "core", "key": "daily", "command": "true",
	            "schedule": {"start": "$(day -3)", "delay": "1d"}}]}
END
expect_sql "the pass says when the next key is due, in seconds of the server's clock" \
	"SELECT (p->>'runs') || ' ' || ((p->>'next_due_in')::float8 BETWEEN 0 AND 11)
	 || ' ' || (p->>'next_due' = iso_utc(key_due_at('daily', '$(day -1)',
	    task_schedule('{\"delay\": $D}', NULL))))
	FROM schedule_pass() p" "4 true true"
expect_eq "a's keys so far" "$(scheduled_keys a)" "$(day -3) $(day -2)"
expect_eq "a delay of a day" "$(scheduled_keys later)" "$(day -3) $(day -2)"
# Within 40 seconds: sooner than the pass the worker makes every minute anyway.
worker_bg w1
wait_until "EXISTS (SELECT 1 FROM runs WHERE key = '$(day -1)' AND state = 'success')" 40
worker_stop "$BG" w1
expect_exit 0
expect_eq "a's keys" "$(scheduled_keys a)" "$(day -3) $(day -2) $(day -1)"
expect_eq "still not due" "$(scheduled_keys later)" "$(day -3) $(day -2)"
expect_stderr_matches "${WORKER_LINE}schedule batch [0-9]+ enqueued 1 run: a 1\$"
end_case

begin "hourly schedules enqueue the hours that ended, with their delay"
new_schema s_hourly
away_from_boundary
load <<-END
	{"graphs": {"core": {}},
	 "tasks": [{"name": "h", "graph": "core", "key": "hourly", "command": "true",
	            "schedule": {"start": "$(hour -5)"}},
	           {"name": "h_late", "graph": "core", "key": "hourly", "command": "true",
	            "schedule": {"start": "$(hour -5)", "delay": "2h"}},
	           {"name": "h_day", "graph": "core", "key": "hourly", "command": "true",
	            "schedule": {"start": "$(day 0)", "catchup": "latest"}}]}
END
ds -c 'worker --drain'
expect_exit 0
expect_eq "h" "$(scheduled_keys h)" "$(keys hourly "$(hour -5)" "$(hour -1)")"
expect_eq "h_late" "$(scheduled_keys h_late)" "$(keys hourly "$(hour -5)" "$(hour -3)")"
if [ "$(hour 0)" = "$(day 0)T00" ]; then
	expect_eq "h_day: nothing due yet today" "$(scheduled_keys h_day)" ""
else
	expect_eq "h_day: a start on a date starts at its hour 00" "$(scheduled_keys h_day)" \
		"$(hour -1)"
fi
end_case

begin "lookback runs the done keys before each new one again"
new_schema s_lookback
away_from_boundary
load <<-END
	{"graphs": {"core": {}},
	 "tasks": [{"name": "a", "graph": "core", "key": "daily", "command": "true",
	            "schedule": {"start": "$(day -6)", "lookback": 2}}]}
END
for n in 6 5 4 3 2; do
	manual_run a "$(day -$n)" success
done
covered a "$(day -6)" "$(day -2)"
ds -c 'worker --drain'
expect_exit 0
expect_eq "the new key and the two before it" "$(scheduled_keys a)" "$(day -3) $(day -2) $(day -1)"
expect_eq "run again" "$(runs_of a "$(day -3)")" 2
expect_eq "not again" "$(runs_of a "$(day -4)")" 1
expect_stderr_matches "enqueued 3 runs: a 3\$"
end_case

begin "a key run by hand is not run again; a manual run that failed or was cancelled is"
new_schema s_manual
away_from_boundary
load <<-END
	{"graphs": {"core": {}},
	 "tasks": [{"name": "a", "graph": "core", "key": "daily", "command": "true",
	            "schedule": {"start": "$(day -5)"}}]}
END
manual_run a "$(day -5)" success
manual_run a "$(day -4)" failed
manual_run a "$(day -3)" cancelled
manual_run a "$(day -2)" queued
ds -c 'worker --drain'
expect_exit 0
expect_eq "scheduled" "$(scheduled_keys a)" "$(day -4) $(day -3) $(day -1)"
expect_eq "done by hand: once" "$(runs_of a "$(day -5)")" 1
expect_eq "failed by hand, then scheduled" "$(runs_of a "$(day -4)")" 1
expect_eq "cancelled by hand, then scheduled" "$(runs_of a "$(day -3)")" 1
expect_eq "waiting by hand: run once, not doubled" \
	"$(sql "SELECT count(*) || ' ' || string_agg(state, ',') FROM runs WHERE key = '$(day -2)'")" \
	"1 success"
# The schedule set back over keys that are all done: the state moves, no batch is left.
queue_sql "UPDATE schedule_state SET last_key = '$(day -2)', batch_id = NULL"
expect_sql "a pass over done keys" \
	"SELECT (p->>'runs') || ' ' || coalesce(p->>'batch', 'none') FROM schedule_pass() p" "0 none"
expect_sql "no empty batch" "SELECT count(*) FROM batches" 1
expect_sql "the state moved" "SELECT last_key FROM schedule_state" "$(day -1)"
end_case

begin "a key left to a manual run still waiting takes its priority, and is taken back when that run ends undone"
new_schema s_left
away_from_boundary
load <<-END
	{"graphs": {"core": {}},
	 "tasks": [{"name": "a", "graph": "core", "key": "daily", "command": "true",
	            "schedule": {"start": "$(day -3)"}}]}
END
manual_run a "$(day -3)" queued
manual_run a "$(day -2)" queued
expect_sql "the pass enqueues the key nobody has" "SELECT p->>'runs' FROM schedule_pass() p" 1
expect_sql "and leaves the waiting keys to their runs" \
	"SELECT string_agg(key, ' ' ORDER BY key) FROM schedule_left" "$(day -3) $(day -2)"
expect_sql "which take the schedule's priority" \
	"SELECT string_agg(DISTINCT priority::text, ' ') FROM runs WHERE state = 'queued'" 10
ds -c "cancel a $(day -3) --yes"
expect_exit 0
ds -c 'worker --drain'
expect_exit 0
expect_eq "the cancelled key, taken back" "$(scheduled_keys a)" "$(day -3) $(day -1)"
expect_eq "run once it was taken back" "$(runs_of a "$(day -3)")" 1
expect_eq "the manual run that succeeded stands" "$(runs_of a "$(day -2)")" 1
expect_sql "a pass after enqueues nothing" "SELECT p->>'runs' FROM schedule_pass() p" 0
expect_sql "and forgets the key left to the run that succeeded" \
	"SELECT count(*) FROM schedule_left" 0
expect_sql "no batch left empty" "SELECT count(*) FROM batches WHERE kind = 'schedule'" 2
end_case

begin "a paused graph's schedule enqueues nothing, and catches up on resume"
new_schema s_paused
away_from_boundary
load <<-END
	{"graphs": {"core": {"schedule": {"start": "$(day -3)"}}, "other": {}},
	 "tasks": [{"name": "a", "graph": "core", "key": "daily", "command": "true"},
	           {"name": "o", "graph": "other", "key": "daily", "command": "true",
	            "schedule": {"start": "$(day -1)"}}]}
END
setup "$DATASHELL" -c 'pipeline pause core'
ds -c 'worker --drain'
expect_exit 0
expect_eq "paused" "$(scheduled_keys a)" ""
expect_eq "another graph" "$(scheduled_keys o)" "$(day -1)"
expect_sql "no state for the paused" "SELECT count(*) FROM schedule_state s JOIN tasks t
	ON t.id = s.task_id WHERE t.name = 'a'" 0
setup "$DATASHELL" -c 'pipeline resume core'
ds -c 'worker --drain'
expect_exit 0
expect_eq "resumed: caught up" "$(scheduled_keys a)" "$(keys daily "$(day -3)" "$(day -1)")"
expect_sql "done" "SELECT count(*) FROM runs WHERE state = 'success'" 4
end_case

begin "scheduled runs are claimed before a backfill's"
new_schema s_priority
away_from_boundary
load <<-END
	{"graphs": {"core": {"max_active": 1}},
	 "tasks": [{"name": "a", "graph": "core", "key": "daily", "command": "true",
	            "schedule": {"start": "$(day -2)"}},
	           {"name": "b", "graph": "core", "key": "daily", "command": "true"}]}
END
setup "$DATASHELL" -c "backfill b $(day -30)..$(day -1) --yes"
# The pass an operator makes by hand, as a worker would at its start.
expect_sql "the pass" "SELECT schedule_pass()->>'runs'" 2
ds -c 'worker --drain'
expect_exit 0
expect_sql "priorities" "SELECT string_agg(DISTINCT b.kind || ' ' || r.priority, ', ')
	FROM runs r JOIN batches b ON b.id = r.batch_id" "backfill 0, schedule 10"
expect_sql "the first two runs claimed" "SELECT string_agg(name || ' ' || key, ', ' ORDER BY started_at)
	FROM (SELECT t.name, r.key, r.started_at FROM runs r JOIN tasks t ON t.id = r.task_id
	      ORDER BY r.started_at LIMIT 2) f" "a $(day -2), a $(day -1)"
end_case

begin "a pass that waits does not hold up the renewal of the leases"
new_schema s_lease
away_from_boundary
load <<-END
	{"graphs": {"core": {}},
	 "tasks": [{"name": "slow", "graph": "core", "key": "daily",
	            "command": "until [ -e '$WORK/go' ]; do sleep 0.05; done"},
	           {"name": "a", "graph": "core", "key": "daily", "command": "true",
	            "schedule": {"start": "$(day -1)"}}]}
END
manual_run slow "$(day -1)" queued
# The pass waits for the batches table; claims and renewals do not touch it.
hold_session "LOCK TABLE batches IN EXCLUSIVE MODE"
worker_bg w1 --lease 2 --concurrency 2
wait_until "EXISTS (SELECT 1 FROM runs WHERE state = 'running')"
L=$(sql "SELECT lease_until FROM runs WHERE state = 'running'")
wait_until "EXISTS (SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock'
	AND query LIKE '%schedule_pass%')"
wait_until "(SELECT lease_until FROM runs WHERE state = 'running') > '$L'::timestamptz + interval '1s'"
expect_sql "nothing enqueued meanwhile" "SELECT count(*) FROM batches" 0
release_session
wait_until "EXISTS (SELECT 1 FROM runs r JOIN tasks t ON t.id = r.task_id
	WHERE t.name = 'a' AND r.state = 'success')"
: >"$WORK/go"
wait_until "NOT EXISTS (SELECT 1 FROM runs WHERE state <> 'success')"
worker_stop "$BG" w1
expect_exit 0
expect_sql "the slow run kept its lease: one attempt" "SELECT attempt FROM runs r
	JOIN tasks t ON t.id = r.task_id WHERE t.name = 'slow'" 1
end_case

begin "a pass skipped for another's is made again a second later"
new_schema s_skip
away_from_boundary
load <<-END
	{"graphs": {"core": {}},
	 "tasks": [{"name": "a", "graph": "core", "key": "daily", "command": "true",
	            "schedule": {"start": "$(day -1)"}}]}
END
hold_session "SELECT pg_advisory_xact_lock(hashtextextended('datashell.schedule.s_skip', 0))"
expect_sql "a pass meanwhile" "SELECT schedule_pass()::text" '{"skipped": true}'
worker_bg w1
wait_until "EXISTS (SELECT 1 FROM workers WHERE stopped_at IS NULL)"
release_session
wait_until "EXISTS (SELECT 1 FROM runs WHERE state = 'success')" 10
worker_stop "$BG" w1
expect_exit 0
expect_eq "the key" "$(scheduled_keys a)" "$(day -1)"
end_case

begin "a pass that fails is reported, and the worker goes on with the queue"
new_schema s_fail
away_from_boundary
load <<-END
	{"graphs": {"core": {}},
	 "tasks": [{"name": "a", "graph": "core", "key": "daily", "command": "true",
	            "schedule": {"start": "$(day -1)"}}]}
END
manual_run a "$(day -2)" queued
queue_sql "ALTER TABLE schedule_state RENAME TO schedule_state_away"
ds -c 'worker --drain'
expect_exit 0
expect_stderr_matches "${WORKER_LINE}the schedule's pass failed: .*schedule_state.* does not exist\$"
expect_stdout_matches '^worker [^ ]+: 1 run, 1 succeeded'
expect_eq "nothing scheduled" "$(sql "SELECT count(*) FROM batches")" 0
end_case

begin "init replaces the pass without wait by the one with it; a schema made before has one"
new_schema s_upgrade
away_from_boundary
sql "DROP FUNCTION schedule_pass(boolean);
	CREATE FUNCTION schedule_pass() RETURNS jsonb LANGUAGE sql AS 'SELECT NULL::jsonb'" >/dev/null
ds -c init
expect_exit 0
expect_sql "one function" "SELECT string_agg(p.oid::regprocedure::text, ',') FROM pg_proc p
	WHERE p.proname = 'schedule_pass' AND p.pronamespace = 's_upgrade'::regnamespace" \
	"schedule_pass(boolean)"
expect_sql "called without arguments" "SELECT schedule_pass() ? 'next_due_in'" t
end_case

done_testing
