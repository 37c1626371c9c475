#!/bin/sh
# The worker: claims ready runs, runs SQL in one transaction with its success and
# commands in their own process group, retries, blocks on checks, honours timeouts,
# cancellation, leases, signals, paused graphs and max_active.
#
# Each case has a state schema of its own (new_schema), so that no case sees another's
# runs. Graphs, tasks and runs are written with SQL, as 'pipeline load' and 'backfill'
# would write them; the statements are queued (queue_sql) and run in one session before
# the case's next command.
. "$DS_TOP/tests/lib.sh"
use_fresh_database t_worker

graph() {	# NAME [MAX_ACTIVE]
	queue_sql "INSERT INTO graphs (name, max_active) VALUES ('$1', ${2:-4})"
}

# A task; the body is dollar-quoted, so it needs no quoting here.
task() {	# NAME GRAPH KIND sql|command BODY
	queue_sql "INSERT INTO tasks (name, graph, key_kind, $4, definition)
	           VALUES ('$1', '$2', '$3', \$ds_body\$$5\$ds_body\$, '{}')"
}

set_task() {	# NAME ASSIGNMENTS
	queue_sql "UPDATE tasks SET $2 WHERE name = '$1'"
}

dep() {	# TASK UPSTREAM [OFFSET]
	queue_sql "INSERT INTO task_deps (task_id, upstream_id, key_offset)
	           SELECT t.id, u.id, ${3:-0} FROM tasks t, tasks u
	           WHERE t.name = '$1' AND u.name = '$2'"
}

# Queue a run of TASK for each key from FIRST to LAST ('' for a task without keys).
enqueue() {	# TASK FIRST [LAST [PRIORITY]]
	queue_sql "INSERT INTO runs (task_id, key, priority)
	           SELECT t.id, k, ${4:-0} FROM tasks t, key_series(t.key_kind, '$2', '${3:-$2}') k
	           WHERE t.name = '$1'"
}

# Start a worker in the background: its pid in $BG, its output in $WORK/NAME.{out,err}.
worker_bg() {	# NAME WORKER-OPTIONS...
	name=$1
	shift
	flush_sql
	"$DATASHELL" -c "worker $*" >"$WORK/$name.out" 2>"$WORK/$name.err" </dev/null &
	BG=$!
}

# Wait for a background worker; its exit code in $CODE, its stderr checked as ds's is.
worker_wait() {	# PID NAME
	wait "$1"
	CODE=$?
	cp "$WORK/$2.err" "$ERR"
	cp "$WORK/$2.out" "$OUT"
}

now_ms() {
	echo $(( $(date +%s%N) / 1000000 ))
}

# A command for a task that says it started (in FILE.started), waits until the case lets
# it go (go FILE), at most a minute, then prints WORD: so a run is surely in hand, and
# still in hand, when a signal comes. A run that is only claimed is not yet in hand.
held_command() {	# FILE WORD
	echo "echo started >'$1.started'; i=0; until [ -e '$1' ] || [ \$i -ge 1200 ]; do sleep 0.05; i=\$((i + 1)); done; echo $2"
}

begin "two workers drain SQL tasks with a dependency: every run succeeds once, rows land once"
new_schema w_sql
graph core 4
queue_sql "CREATE TABLE public.raw_orders (k text, n int);
      CREATE TABLE public.daily_totals (k text, total int)"
task raw_orders core daily sql "INSERT INTO :\"target\" VALUES (:'key', 1), (:'key', 2)"
task daily_totals core daily sql \
	"INSERT INTO :\"target\" SELECT :'key', sum(n) FROM raw_orders WHERE k = :'key'"
set_task raw_orders "target = 'public.raw_orders'"
set_task daily_totals "target = 'public.daily_totals'"
dep daily_totals raw_orders
# The downstream runs come first in the queue: only the dependency holds them back.
enqueue daily_totals 2024-01-01 2024-01-10
enqueue raw_orders 2024-01-01 2024-01-10
worker_bg a --drain --concurrency 2 --json
a=$BG
worker_bg b --drain --concurrency 2 --json
b=$BG
worker_wait $a a
expect_exit 0
runs_a=$(json_get '{runs}' <"$OUT")
ok_a=$(json_get '{succeeded}' <"$OUT")
worker_wait $b b
expect_exit 0
runs_b=$(json_get '{runs}' <"$OUT")
ok_b=$(json_get '{succeeded}' <"$OUT")
expect_eq "runs claimed by the two workers" "$((runs_a + runs_b))" 20
expect_eq "runs succeeded by the two workers" "$((ok_a + ok_b))" 20
expect_sql "runs succeeded at the first attempt" \
	"SELECT count(*) FROM runs WHERE state = 'success' AND attempt = 1" 20
expect_sql "raw rows, distinct raw rows" \
	"SELECT count(*) || ' ' || count(DISTINCT (k, n)) FROM raw_orders" "20 20"
expect_sql "totals: rows, keys, each total" \
	"SELECT count(*) || ' ' || count(DISTINCT k) || ' ' || min(total) || ' ' || max(total)
	         FROM daily_totals" "10 10 3 3"
expect_sql "downstream runs started before their upstream finished" \
	"SELECT count(*) FROM runs d JOIN runs u ON u.key = d.key
	         WHERE d.task_id = (SELECT id FROM tasks WHERE name = 'daily_totals')
	           AND u.task_id = (SELECT id FROM tasks WHERE name = 'raw_orders')
	           AND d.started_at < u.finished_at" 0
expect_sql "workers registered and stopped" \
	"SELECT count(*) FROM workers WHERE stopped_at IS NOT NULL AND concurrency = 2" 2
expect_sql "audit rows" "SELECT count(*) FROM audit_log WHERE command LIKE 'worker %'" 2
grep -qE "$WORKER_LINE"'raw_orders 2024-01-0[1-9] started$' "$WORK/a.err" "$WORK/b.err" ||
	fail "no 'started' line: $(head -c 1000 "$WORK/a.err")"
grep -qE "$WORKER_LINE"'daily_totals 2024-01-[0-9]* success \([0-9.]*s\)$' \
	"$WORK/a.err" "$WORK/b.err" || fail "no 'success' line: $(head -c 1000 "$WORK/a.err")"
end_case

begin "a failing task is retried with backoff, then fails; its downstreams wait, --drain exits 3"
new_schema w_retry
graph core
task flaky core daily sql "SELECT 1/0"
task after_flaky core daily sql "SELECT 1"
task after_after core daily sql "SELECT 1"
set_task flaky "retries = 2, retry_delay_s = 1"
dep after_flaky flaky
dep after_after after_flaky
enqueue flaky 2024-01-01
enqueue after_flaky 2024-01-01
enqueue after_after 2024-01-01
start=$(now_ms)
ds -c 'worker --drain'
elapsed=$(( $(now_ms) - start ))
expect_exit 3
grep -A4 '^datashell: error:' "$ERR" >"$WORK/error"
expect_same "the error names the failed run and those it left stuck" "$WORK/error" <<-'END'
	datashell: error: the worker drained the queue, but 1 run failed and 2 runs were left waiting:
	  flaky 2024-01-01: failed: division by zero
	  after_after 2024-01-01: queued: upstream flaky 2024-01-01 failed
	  after_flaky 2024-01-01: queued: upstream flaky 2024-01-01 failed
	hint: 'why TASK KEY' tells what each waits for, down to its root cause
END
expect_outcome "flaky" flaky 2024-01-01 "failed|3|division by zero"
expect_outcome "its downstream" after_flaky 2024-01-01 "queued|0|"
expect_outcome "and the next one" after_after 2024-01-01 "queued|0|"
[ "$elapsed" -ge 2900 ] || fail "retries 1s then 2s apart should take 3s, took ${elapsed}ms"
expect_stderr_matches "$WORKER_LINE"'flaky 2024-01-01 failed, will retry in 1s \(attempt 1, [0-9.]+s\) \[error\]: division by zero$'
expect_stderr_matches "$WORKER_LINE"'flaky 2024-01-01 failed, will retry in 2s \(attempt 2, '
expect_stderr_matches "$WORKER_LINE"'flaky 2024-01-01 started \(attempt 3\)$'
expect_stderr_matches "$WORKER_LINE"'flaky 2024-01-01 failed \([0-9.]+s\) \[error\]: division by zero$'
expect_stdout_matches '^worker [^ ]+:[0-9]+:[0-9a-f]+: 3 runs, 0 succeeded, 1 failed, 2 retried, 0 blocked, 0 cancelled$'
end_case

begin "a check that returns false blocks the run: no body, no retry; one that errs fails it"
new_schema w_check
graph core
queue_sql "CREATE TABLE public.checked (k text)"
task guarded core daily sql "INSERT INTO checked VALUES (:'key')"
task misconfigured core daily sql "INSERT INTO checked VALUES (:'key')"
set_task guarded "retries = 3, checks = '[{\"name\": \"always\", \"sql\": \"SELECT true\"},
	{\"name\": \"source_ready\", \"sql\": \"SELECT count(*) > 0 FROM checked WHERE k = :''key''\"}]'"
set_task misconfigured "checks = '[{\"name\": \"lookup\", \"sql\": \"SELECT * FROM no_such_table\"}]'"
enqueue guarded 2024-01-01
enqueue misconfigured 2024-01-01
ds -c 'worker --drain --json'
expect_exit 3
expect_stderr_matches '^  guarded 2024-01-01: blocked: check .source_ready. failed: returned false$'
expect_outcome "guarded" guarded 2024-01-01 \
	"blocked|1|check 'source_ready' failed: returned false"
expect_outcome "misconfigured" misconfigured 2024-01-01 \
	"failed|1|check 'lookup' could not run: relation \"no_such_table\" does not exist"
expect_sql "rows written" "SELECT count(*) FROM checked" 0
expect_eq "blocked in the summary" "$(json_get '{blocked}' <"$OUT")" 1
end_case

begin "complete_when sees the body's work; false fails the run and rolls the work back"
new_schema w_complete
graph core
queue_sql "CREATE TABLE public.completed (k text)"
task never_complete core daily sql "INSERT INTO completed VALUES ('never')"
task complete core daily sql "INSERT INTO completed VALUES (:'key')"
set_task never_complete "complete_when = 'SELECT false'"
set_task complete "complete_when = 'SELECT count(*) = 1 FROM completed WHERE k = :''key'''"
enqueue never_complete 2024-01-01
enqueue complete 2024-01-02
ds -c 'worker --drain'
expect_exit 3
expect_stderr_matches '^  never_complete 2024-01-01: failed: complete_when returned false$'
expect_outcome "never_complete" never_complete 2024-01-01 \
	"failed|1|complete_when returned false"
expect_outcome "complete" complete 2024-01-02 "success|1|"
expect_sql "rows" "SELECT string_agg(k, ',') FROM completed" "2024-01-02"
end_case

begin "the SQL variables: key, task, graph, target, key_start and key_end"
new_schema w_vars
graph core
queue_sql "CREATE TABLE public.vars (k text, task text, graph text, key_start text, key_end text)"
body="INSERT INTO :\"target\" VALUES (:'key', :'task', :'graph', :'key_start', :'key_end')"
task by_hour core hourly sql "$body"
task by_day core daily sql "$body"
task no_key core none sql "INSERT INTO :\"target\" VALUES (:'key', :'task', :'graph')"
task no_key_start core none sql "SELECT :'key_start'"
set_task by_hour "target = 'public.vars'"
set_task by_day "target = 'public.vars'"
set_task no_key "target = 'public.vars'"
enqueue by_hour 2024-02-29T23
enqueue by_day 2024-02-29
enqueue no_key ''
enqueue no_key_start ''
ds -c 'worker --drain --concurrency 4'
expect_exit 3
expect_stderr_matches '^datashell: error: the worker drained the queue, but 1 run failed:$'
echo "SELECT * FROM vars ORDER BY k" | sql_in >"$WORK/vars"
expect_same "rows" "$WORK/vars" <<-'END'
	|no_key|core||
	2024-02-29|by_day|core|2024-02-29 00:00:00|2024-03-01 00:00:00
	2024-02-29T23|by_hour|core|2024-02-29 23:00:00|2024-03-01 00:00:00
END
expect_outcome "a variable without a value fails at once" no_key_start '' \
	"failed|1|the task's SQL: variable 'key_start' at character 8 has no value here"
end_case

begin "a command task gets DS_* in its environment, /dev/null as input, its output kept"
new_schema w_command
graph cmd
task show_env cmd daily command 'printf "task=%s key=%s target=%s graph=%s attempt=%s\n" \
	"$DS_TASK" "$DS_KEY" "$DS_TARGET" "$DS_GRAPH" "$DS_ATTEMPT"
echo "run=$DS_RUN_ID"; read line || echo "no input"'
task chatty cmd daily command 'i=0; while [ $i -lt 1000 ]; do echo "line $i of a chatty task"
	i=$((i + 1)); done; echo "the end" >&2'
task failing cmd daily command 'echo starting; echo "cannot read input.csv" >&2; exit 3'
set_task show_env "target = 'public.orders'"
enqueue show_env 2024-01-05
enqueue chatty 2024-01-05
enqueue failing 2024-01-05
ds -c 'worker --drain --concurrency 3'
expect_exit 3
expect_stderr_matches '^  failing 2024-01-05: failed: exited with status 3: cannot read input.csv$'
id=$(run_field show_env 2024-01-05 r.id)
run_field show_env 2024-01-05 r.output >"$WORK/env"
expect_same "show_env's output" "$WORK/env" <<-END
	task=show_env key=2024-01-05 target=public.orders graph=cmd attempt=1
	run=$id
	no input

END
expect_outcome "show_env" show_env 2024-01-05 "success|1|"
expect_eq "chatty's output: length, start, end" \
	"$(run_field chatty 2024-01-05 "length(output) <= 4096 AND output NOT LIKE 'line 0 %'
	                                AND output LIKE '%line 999 of a chatty task' || chr(10) ||
	                                'the end' || chr(10)")" t
expect_outcome "failing" failing 2024-01-05 \
	"failed|1|exited with status 3: cannot read input.csv"
end_case

begin "a command past its timeout is killed with its process group and fails"
new_schema w_timeout
graph cmd
task slow cmd none command "sleep 30 & echo \$! >'$WORK/slow.child'; wait"
set_task slow "timeout_s = 1"
task slow_sql cmd none sql "SELECT pg_sleep(30)"
set_task slow_sql "timeout_s = 1"
enqueue slow ''
enqueue slow_sql ''
start=$(now_ms)
ds -c 'worker --drain --concurrency 2'
elapsed=$(( $(now_ms) - start ))
expect_exit 3
expect_stderr_matches '^  slow: failed: timed out after 1s$'
expect_outcome "slow" slow '' "failed|1|timed out after 1s"
expect_outcome "slow_sql" slow_sql '' "failed|1|timed out after 1s"
# The commands sleep 30 s: well under that means they were stopped, whatever the load.
[ "$elapsed" -lt 20000 ] || fail "the timeouts took ${elapsed}ms"
child=$(cat "$WORK/slow.child" 2>/dev/null)
[ -n "$child" ] || fail "the command did not record its child"
# Killed, it may linger as a zombie until init reaps it.
[ -n "$child" ] && ps -o stat= -p "$child" | grep -qv '^Z' &&
	fail "the command's child $child still runs"
end_case

begin "cancel requested for a running command stops it, and the run ends cancelled"
new_schema w_cancel
graph cmd
task sleepy cmd none command "sleep 30"
enqueue sleepy ''
start=$(now_ms)
worker_bg cancel --drain --lease 1
wait_until "EXISTS (SELECT 1 FROM runs WHERE state = 'running')"
echo "UPDATE runs SET cancel_requested = true WHERE state = 'running';" | sql_in
worker_wait $BG cancel
elapsed=$(( $(now_ms) - start ))
expect_exit 0
expect_outcome "sleepy" sleepy '' "cancelled|1|cancelled on request"
[ "$elapsed" -lt 20000 ] || fail "cancelling took ${elapsed}ms"
expect_stderr_matches "$WORKER_LINE"'sleepy cancelled \([0-9.]+s\): cancelled on request$'
end_case

begin "a worker killed with SIGKILL loses nothing: its run is claimed again after the lease"
new_schema w_kill
graph cmd
# The first attempt naps until its worker is killed (and then until the case ends it);
# the second rests at once.
task nap cmd daily command "if [ \"\$DS_ATTEMPT\" = 1 ]; then echo \$\$ >'$WORK/nap.pid'; exec sleep 60; fi
echo rested"
enqueue nap 2024-01-01
worker_bg killed --lease 2
killed=$BG
# Running in the queue is not enough: killed between its claim and its fork, the worker
# would never start the first attempt, and its nap would never say its pid.
wait_for_file . "$WORK/nap.pid"
kill -KILL $killed
wait $killed 2>/dev/null
first=$(run_field nap 2024-01-01 r.worker)
# The killed worker's lease (2s) is what sends its run back; the drainer's own is long,
# so that a machine slowed to a crawl cannot let it lapse and count a third attempt.
ds -c 'worker --drain --lease 30'
kill "$(cat "$WORK/nap.pid")"
expect_exit 0
expect_outcome "nap" nap 2024-01-01 "success|2|"
expect_eq "output" "$(run_field nap 2024-01-01 r.output)" "rested"
[ "$(run_field nap 2024-01-01 r.worker)" != "$first" ] || fail "the killed worker kept the run"
expect_stderr_matches "$WORKER_LINE"'nap 2024-01-01 started \(attempt 2\)$'
expect_sql "the killed worker was never marked stopped" \
	"SELECT stopped_at IS NULL FROM workers WHERE name = '$first'" t
end_case

begin "SIGTERM: the run in hand finishes, nothing more is claimed, exit 0"
new_schema w_term
graph cmd
task finish_me cmd daily command "$(held_command "$WORK/go" finished)"
enqueue finish_me 2024-01-01 2024-01-02
worker_bg term
wait_for_file started "$WORK/go.started"
kill -TERM $BG
touch "$WORK/go"
worker_wait $BG term
expect_exit 0
expect_sql "runs by state" "SELECT string_agg(state || ':' || attempt, ',' ORDER BY key)
	FROM runs" "success:1,queued:0"
expect_eq "output" "$(run_field finish_me 2024-01-01 r.output)" "finished"
expect_sql "stopped" "SELECT count(*) FROM workers WHERE stopped_at IS NOT NULL" 1
expect_stdout_matches ': 1 run, 1 succeeded, 0 failed'
end_case

begin "SIGINT in a script does the same; a second signal gives the run in hand back"
new_schema w_int
graph cmd
task long cmd none command "echo started >'$WORK/long.started'; exec sleep 30"
enqueue long ''
worker_bg int --lease 3
wait_for_file started "$WORK/long.started"
kill -INT $BG
wait_for_file "$WORKER_LINE"'stopping: 1 run in hand to finish first; a second signal gives the runs in hand back to the queue$' "$WORK/int.err"
# It waits: it renews the run's lease after it said so (every second, for a lease of 3).
lease=$(sql "SELECT lease_until FROM runs")
wait_until "(SELECT state = 'running' AND lease_until > '$lease' FROM runs)" 15
kill -0 $BG 2>/dev/null || fail "the worker did not wait for the run in hand"
start=$(now_ms)
kill -TERM $BG
worker_wait $BG int
expect_exit 0
[ $(( $(now_ms) - start )) -lt 20000 ] || fail "the second signal did not stop the run"
expect_outcome "long" long '' "queued|1|the worker was stopped before the run ended"
expect_eq "its worker" "$(run_field long '' "coalesce(worker, 'none')")" none
expect_stderr_matches "$WORKER_LINE"'long given back to the queue '
expect_stdout_matches '^worker [^ ]+: 1 run, 0 succeeded, 0 failed, 0 retried, 0 blocked, 0 cancelled, 1 given back to the queue$'
end_case

begin "Ctrl-C at the prompt lets the run in hand finish, and the shell goes on"
new_schema w_prompt
graph cmd
rm -f "$WORK/go"
task at_prompt cmd daily command "$(held_command "$WORK/go" done)"
enqueue at_prompt 2024-01-01 2024-01-02
# Ctrl-C reaches the worker before the write to the terminal returns; only then may the
# run in hand end.
flush_sql
TERM=xterm "$DS_PTYRUN" -t 20 -- "$DATASHELL" >"$OUT" 2>"$ERR" <<-END
	expect t_worker/w_prompt> \$
	sendline worker
	expect at_prompt 2024-01-01 started
	send \\x03
	run touch '$WORK/go'
	expect at_prompt 2024-01-01 success
	expect : 1 run, 1 succeeded
	expect t_worker/w_prompt> \$
	sendline quit
	wait 0
END
CODE=$?
expect_exit 0
expect_sql "runs by state" "SELECT string_agg(state, ',' ORDER BY key) FROM runs" \
	"success,queued"
end_case

begin "a paused graph is not claimed from, and --drain exits at once"
new_schema w_paused
graph frozen
queue_sql "UPDATE graphs SET paused = true"
task icy frozen daily sql "SELECT 1"
enqueue icy 2024-01-01
ds -c 'worker --drain --json'
expect_exit 3
expect_stderr <<-'END'
	datashell: error: the worker drained the queue, but 1 run was left waiting:
	  icy 2024-01-01: queued: graph frozen is paused
	hint: 'why TASK KEY' tells what each waits for, down to its root cause
END
expect_eq "runs" "$(json_get '{runs}' <"$OUT")" 0
expect_outcome "icy" icy 2024-01-01 "queued|0|"
end_case

begin "max_active holds with more slots than it allows, and with two workers"
new_schema w_narrow
graph narrow 1
task span narrow daily command "start=\$(date +%s%N); sleep 0.2
	echo \"\$start \$(date +%s%N)\" >'$WORK/span.'\$DS_KEY"
enqueue span 2024-01-01 2024-01-06
worker_bg n1 --drain --concurrency 3
n1=$BG
worker_bg n2 --drain --concurrency 3
worker_wait $BG n2
expect_exit 0
worker_wait $n1 n1
expect_exit 0
expect_sql "succeeded" "SELECT count(*) FROM runs WHERE state = 'success'" 6
cat "$WORK"/span.* | sort -n | awk '
	NR > 1 && $1 < end { print "overlap: " $1 " starts before " end }
	{ end = $2 }' >"$WORK/overlaps"
[ -s "$WORK/overlaps" ] && fail "runs overlapped: $(cat "$WORK/overlaps")"
[ "$(cat "$WORK"/span.* | wc -l)" = 6 ] || fail "not every run recorded its span"
end_case

begin "max_active counts the runs a stopped worker left in hand and those of a worker that stopped beating"
new_schema w_fleet
graph fleet 5
task left fleet daily sql "SELECT 1"
# Each run says how many runs of the graph were running as it ran.
task seen fleet daily sql "INSERT INTO public.fleet_seen
	SELECT count(*) FROM w_fleet.runs WHERE state = 'running'"
queue_sql "DROP TABLE IF EXISTS public.fleet_seen; CREATE TABLE public.fleet_seen (n bigint)"
enqueue left 2024-01-01 2024-01-04
enqueue seen 2024-02-01 2024-02-06
# gone stopped on an error with two runs in hand, whose leases have not run out; lost
# has not beaten for an hour and holds two. With the live worker's two slots that is six
# runs the workers may hold, more than the graph's five, so a claim counts them: one
# slot is free. Counted from the rows' concurrency alone (lost's beat too old, gone
# stopped), the fleet would be two, and the graph would get six at once.
queue_sql "INSERT INTO workers (name, host, pid, concurrency, heartbeat_at, stopped_at, abandoned)
	   VALUES ('gone', 'h', 1, 8, now() - interval '1 hour', now() - interval '1 hour', 2),
	          ('lost', 'h', 2, 8, now() - interval '1 hour', NULL, 0)"
queue_sql "UPDATE runs r
	   SET state = 'running', attempt = 1, started_at = now(),
	       lease_until = now() + interval '1 hour',
	       worker = CASE WHEN r.key < '2024-01-03' THEN 'gone' ELSE 'lost' END
	   FROM tasks t WHERE t.id = r.task_id AND t.name = 'left'"
worker_bg fleet --concurrency 2
fleet=$BG
wait_until "(SELECT count(*) FROM runs r JOIN tasks t ON t.id = r.task_id
	     WHERE t.name = 'seen' AND r.state = 'success') = 6" 60
expect_sql "the runs of seen, each alone beside the four left in hand" \
	"SELECT count(*) || ' ' || min(n) || ' ' || max(n) FROM public.fleet_seen" "6 5 5"
expect_sql "gone still stands for the runs it left" \
	"SELECT abandoned FROM workers WHERE name = 'gone'" 2
# Once gone's runs are queued again and run, the reaper settles its row.
queue_sql "UPDATE runs SET lease_until = now() - interval '1 second' WHERE worker = 'gone'"
flush_sql
wait_until "(SELECT abandoned FROM workers WHERE name = 'gone') = 0" 30
expect_sql "gone's runs, run again" "SELECT string_agg(state, ' ') FROM runs r
	JOIN tasks t ON t.id = r.task_id WHERE t.name = 'left' AND r.key < '2024-01-03'" \
	"success success"
kill -TERM $fleet
bg_wait $fleet fleet 30
expect_exit 0
expect_sql "the worker stopped with nothing in hand" \
	"SELECT abandoned FROM workers WHERE name NOT IN ('gone', 'lost')" 0
end_case

# The most spans in $WORK/DIR/* (each "start end", in nanoseconds) that overlap at
# one moment: a run counts from its start to its end; an end at the same moment as a
# start comes first.
most_at_once() {	# DIR
	cat "$WORK/$1"/* | awk '{ print $1, 1; print $2, -1 }' | sort -k1,1n -k2,2n |
		awk '{ n += $2; if (n > most) most = n } END { print most + 0 }'
}

begin "backfill --max-active caps its batch across two workers; an uncapped batch is not"
new_schema w_batch_cap
graph wide 8
# A run records its span under its month: January is capped, February is not.
mkdir "$WORK/2024-01" "$WORK/2024-02"
task span wide daily command "start=\$(date +%s%N); sleep 0.4
	echo \"\$start \$(date +%s%N)\" >'$WORK/'\${DS_KEY%-*}/\$DS_KEY"
ds -c 'backfill span 2024-01-01..2024-01-08 --max-active 2 --dry-run'
expect_exit 0
expect_stdout_matches '^Max active +2$'
ds -c 'backfill span 2024-01-01..2024-01-08 --max-active 2 --json'
expect_exit 0
expect_eq "the plan says it" "$(json_get '{max_active}' <"$OUT")" 2
expect_sql "stored with the batch" "SELECT max_active FROM batches" 2
expect_sql "audited" "SELECT detail->>'max_active' FROM audit_log WHERE command LIKE 'backfill%'" 2
ds -c 'status 1 --json'
expect_eq "status shows it" "$(json_get '{max_active}' <"$OUT")" 2
worker_bg c1 --drain --concurrency 4
c1=$BG
worker_bg c2 --drain --concurrency 4
worker_wait $BG c2
expect_exit 0
worker_wait $c1 c1
expect_exit 0
expect_eq "capped runs recorded" "$(ls "$WORK/2024-01" | wc -l)" 8
expect_eq "most capped runs at once" "$(most_at_once 2024-01)" 2
ds -c 'backfill span 2024-02-01..2024-02-08'
expect_exit 0
worker_bg f1 --drain --concurrency 4
f1=$BG
worker_bg f2 --drain --concurrency 4
worker_wait $BG f2
expect_exit 0
worker_wait $f1 f1
expect_exit 0
expect_eq "uncapped runs recorded" "$(ls "$WORK/2024-02" | wc -l)" 8
free_most=$(most_at_once 2024-02)
[ "$free_most" -gt 2 ] || fail "the uncapped batch ran at most $free_most at once"
ds -c 'backfill span 2024-03-01 --max-active 0'
expect_exit 3
expect_stderr <<-'END'
	datashell: error: '--max-active' must be from 1 to 100000, not 0
END
end_case

begin "--graph limits the worker to one graph; an unknown graph names the closest"
new_schema w_graphs
graph alpha
graph beta
task in_alpha alpha daily sql "SELECT 1"
task in_beta beta daily sql "SELECT 1"
enqueue in_alpha 2024-01-01
enqueue in_beta 2024-01-01
ds -c 'worker --graph alpha --drain'
expect_exit 0
expect_outcome "in_alpha" in_alpha 2024-01-01 "success|1|"
expect_outcome "in_beta" in_beta 2024-01-01 "queued|0|"
ds -c 'worker --graph alpah --drain'
expect_exit 3
expect_stderr <<-'END'
	datashell: error: unknown graph 'alpah' (did you mean 'alpha'?)
	hint: the graphs are 'alpha', 'beta'
END
end_case

begin "higher priority is claimed first"
new_schema w_priority
graph core
task ordered core daily sql "SELECT 1"
enqueue ordered 2024-01-01 2024-01-02
enqueue ordered 2024-01-03 2024-01-03 10
ds -c 'worker --drain'
expect_exit 0
expect_sql "order of the starts" "SELECT string_agg(key, ',' ORDER BY started_at, id)
	FROM runs" "2024-01-03,2024-01-01,2024-01-02"
end_case

# A claim starts its scan where the worker's last claim found its first run
# (queue/claim.sql). What sorts before that point must still be claimed: runs the worker
# was notified of at once, runs that became ready silently within about a second. The
# slow runs (0.1 s each, one at a time) give a second's delay room for several of them.

# How many runs of TASK started after the run of TASK2 for KEY was queued and before it
# started.
STARTED_BETWEEN="SELECT count(*) FROM runs r JOIN tasks t ON t.id = r.task_id,
	(SELECT r2.queued_at AS q, r2.started_at AS s FROM runs r2 JOIN tasks t2 ON t2.id = r2.task_id
	 WHERE t2.name = '%s' AND r2.key = '%s' ORDER BY r2.id DESC LIMIT 1) f
	WHERE t.name = '%s' AND r.started_at > f.q AND r.started_at < f.s"

begin "a worker far into the queue claims next a force-run of an earlier key, and a run whose priority was raised"
new_schema w_bound_force
graph core 4
task slow core daily sql "SELECT pg_sleep(0.1)"
enqueue slow 2024-01-01 2024-03-31
worker_bg bound_force --concurrency 1
wait_until "(SELECT count(*) FROM runs WHERE state = 'success') >= 5"
ds -c 'force-run slow 2024-01-02'
expect_exit 0
wait_until "$(run_field_sql slow 2024-01-02 "r.state = 'success'")"
# The schedule's pass raises the priority of a waiting run: the last of the queue.
raised=$(sql "UPDATE runs SET priority = 10 WHERE key = '2024-03-31' RETURNING clock_timestamp()")
wait_until "$(run_field_sql slow 2024-03-31 "r.state = 'success'")"
kill -TERM $BG
worker_wait $BG bound_force
expect_exit 0
# The claim sent before the notification came may take one run of the queue first.
expect_sql "queued runs started before the force-run" \
	"SELECT ($(printf "$STARTED_BETWEEN" slow 2024-01-02 slow)) <= 1" t
expect_sql "queued runs started before the raised one" \
	"SELECT count(*) <= 1 FROM runs WHERE started_at > '$raised'
	 AND started_at < ($(run_field_sql slow 2024-03-31 r.started_at))" t
end_case

begin "a retry that became due before where the claims begin is claimed well before the queue ends"
new_schema w_bound_retry
graph core 4
queue_sql "CREATE SEQUENCE flaky_attempts"
task flaky core daily sql "SELECT 1 / (nextval('w_bound_retry.flaky_attempts') - 1)"
set_task flaky "retries = 1, retry_delay_s = 1"
task slow core daily sql "SELECT pg_sleep(0.1)"
enqueue flaky 2024-01-01
enqueue slow 2024-01-02 2024-03-31
worker_bg bound_retry --drain --concurrency 1
bg_wait $BG bound_retry 60
expect_exit 0
expect_eq "the retry" "$(run_field flaky 2024-01-01 "r.state || ' ' || r.attempt")" "success 2"
# Due a second after its failure, it is claimed within about a second more: most of the
# queue's 90 runs of 0.1 s come after it.
expect_sql "runs of the queue started after its second attempt" \
	"SELECT count(*) >= 30 FROM runs r JOIN tasks t ON t.id = r.task_id
	 WHERE t.name = 'slow'
	   AND r.started_at > ($(run_field_sql flaky 2024-01-01 r.started_at))" t
end_case

begin "a drain while a transaction holds an old snapshot runs every run once"
new_schema w_bound_held
graph core 64
graph capped 1
task a core daily sql "SELECT 1"
task b core daily sql "SELECT 1"
dep b a
task c capped daily sql "SELECT 1"
enqueue a 2024-01-01 2024-03-31
enqueue b 2024-01-01 2024-03-31
enqueue c 2024-01-01 2024-01-20
# Every run claimed from here on leaves an entry in the queue's index that no claim can
# mark dead.
hold_session "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM runs"
worker_bg bound_held --drain --concurrency 4
bg_wait $BG bound_held 60
expect_exit 0
release_session
expect_sql "runs by state and attempt" "SELECT string_agg(n || ' ' || state || ' ' || attempt, ', '
	ORDER BY state) FROM (SELECT state, attempt, count(*) AS n FROM runs GROUP BY 1, 2) s" \
	"202 success 1"
end_case

begin "a SQL run whose lease was taken rolls back and records nothing"
new_schema w_lost
graph core
queue_sql "CREATE TABLE public.stolen (k text)"
# The run inserts, then waits for a lock the case holds until the lease was taken.
hold_session "SELECT pg_advisory_xact_lock(8042)"
task slow_insert core daily sql "INSERT INTO stolen VALUES (:'key'); SELECT pg_advisory_xact_lock(8042)"
enqueue slow_insert 2024-01-01
worker_bg lost --lease 1
wait_until "EXISTS (SELECT 1 FROM runs WHERE state = 'running')"
echo "UPDATE runs SET worker = 'someone-else', lease_until = now() + interval '1 hour'
      WHERE state = 'running';" | sql_in
wait_for_file 'slow_insert 2024-01-01 lost its lease' "$WORK/lost.err"
release_session
kill -TERM $BG
worker_wait $BG lost
expect_exit 0
expect_stderr_matches "$WORKER_LINE"'slow_insert 2024-01-01 lost its lease '
expect_eq "the run" "$(run_field slow_insert 2024-01-01 "r.state || ' ' || r.worker")" \
	"running someone-else"
expect_sql "rows" "SELECT count(*) FROM stolen" 0
end_case

begin "the example pipeline, loaded and backfilled, is run by two workers to completion"
new_schema w_example
ds -c "pipeline load '$DS_TOP/examples/pipeline.json'" -c "backfill 'raw_orders+' 2024-01-01..2024-01-03"
expect_exit 0
TMPDIR=$WORK worker_bg e1 --drain --concurrency 2
e1=$BG
TMPDIR=$WORK worker_bg e2 --drain --concurrency 2
worker_wait $BG e2
expect_exit 3
expect_stderr_matches '^datashell: error: the worker drained the queue, but 1 run was left waiting:$'
worker_wait $e1 e1
expect_exit 3
expect_stderr_matches '^  revenue_growth 2024-01-01: queued: upstream orders_daily 2023-12-31 has no run: nobody asked for it$'
# revenue_growth compares with the day before, which was not backfilled for the first key.
expect_sql "runs by state" "SELECT string_agg(n || ' ' || state, ', ' ORDER BY state)
	FROM (SELECT state, count(*) AS n FROM runs GROUP BY state) s" "1 queued, 14 success"
expect_outcome "the one waiting" revenue_growth 2024-01-01 "queued|0|"
expect_eq "files the command wrote" "$(ls "$WORK/datashell-demo" | wc -l)" 3
end_case

begin "bad numbers are usage errors"
new_schema w_usage
ds -c 'worker --concurrency 0'
expect_exit 3
expect_stderr <<-'END'
	datashell: error: '--concurrency' must be from 1 to 64, not 0
END
ds -c 'worker --lease 0 --drain'
expect_exit 3
expect_stderr_matches "'--lease' must be from 1 to"
end_case

done_testing
