#!/bin/sh
# On-call safety: error classes decide retries, breakers stop a failing task and let a
# probe through, alerts are one per incident, reach LISTEN clients and the hook, and a
# failing or hanging hook changes nothing else; SLAs that pass raise incidents.
#
# Each case loads a pipeline file of its own into a state schema of its own.
. "$DS_TOP/tests/lib.sh"
use_fresh_database t_safety

breaker_state() {	# TASK
	sql "SELECT coalesce((SELECT b.state FROM breakers b JOIN tasks t ON t.id = b.task_id
	                    WHERE t.name = '$1'), 'none')"
}

# kind:count:state of the alerts of TASK, oldest first.
alerts_of() {	# TASK
	sql "SELECT string_agg(kind || ':' || count || ':' || state, ',' ORDER BY id)
	   FROM alerts WHERE task = '$1'"
}

# The pipelines of the cases that later cases start from, and those stages: s_fatal
# after its case's backfills and workers, s_count after its case's, s_probe after its
# probe succeeded.
fatal_pipeline() {
	schema_with_pipeline s_fatal <<-'END'
	{"graphs": {"g": {}},
	 "tasks": [
	  {"name": "broken", "graph": "g", "key": "daily", "sql": "SELECT * FROM no_such_table"},
	  {"name": "after", "graph": "g", "key": "daily", "sql": "SELECT 1", "depends_on": ["broken"]}]}
	END
}

count_pipeline() {
	schema_with_pipeline s_count <<-'END'
	{"graphs": {"g": {"breaker": {"failures": 100, "window_failures": 100}}},
	 "error_classes": [{"class": "quota", "pattern": "(?i)quota", "retry": false}],
	 "tasks": [
	  {"name": "failing", "graph": "g", "key": "daily", "command": "echo 'disk full' >&2; exit 1"},
	  {"name": "over_quota", "graph": "g", "key": "daily", "command": "echo 'Quota exceeded' >&2; exit 1"}]}
	END
}

probe_pipeline() {
	schema_with_pipeline s_probe <<-END
	{"graphs": {"g": {}},
	 "tasks": [{"name": "fixed_later", "graph": "g", "key": "daily",
	   "breaker": {"failures": 1, "cooldown": 1},
	   "command": "[ -e $WORK/fixed ] || { echo 'bad input' >&2; exit 1; }"}]}
	END
}

stage_fatal() {
	use_fresh_database t_safety
	fatal_pipeline
	setup_failing "$DATASHELL" -c "backfill broken+ 2024-01-01..2024-01-05 --yes" -c "worker --drain"
	setup_failing "$DATASHELL" -c "backfill broken 2024-01-06 --yes" -c "worker --drain"
	setup sql "INSERT INTO runs (task_id, key) SELECT id, '2024-02-01' FROM tasks WHERE name = 'broken'"
	setup_failing "$DATASHELL" -c "worker --drain"
	setup sql "DELETE FROM runs WHERE key = '2024-02-01'"
}

stage_count() {
	use_fresh_database t_safety
	count_pipeline
	setup_failing "$DATASHELL" -c "backfill failing 2024-01-01..2024-01-10 --yes" -c "worker --drain"
	setup_failing "$DATASHELL" -c "backfill over_quota 2024-01-01..2024-01-03 --yes" -c "worker --drain"
}

stage_probe() {
	use_fresh_database t_safety
	rm -f "$WORK/fixed"
	probe_pipeline
	setup_failing "$DATASHELL" -c "backfill fixed_later 2024-01-01..2024-01-04 --yes" -c "worker --drain"
	touch "$WORK/fixed"
	wait_until "(SELECT retry_at <= now() FROM breakers)"
	setup "$DATASHELL" -c "worker --drain"
}

begin "a fatal failure opens the breaker at once: the rest is held, nothing more is claimed"
fatal_pipeline
ds -c "backfill broken+ 2024-01-01..2024-01-05 --yes" -c "worker --drain"
expect_exit 3
grep -A3 '^datashell: error:' "$ERR" >"$WORK/error"
expect_same "the error names the failed run and the first of those left stuck" "$WORK/error" <<-'END'
	datashell: error: the worker drained the queue, but 1 run failed and 9 runs were left waiting:
	  broken 2024-01-01: failed: relation "no_such_table" does not exist
	  after 2024-01-01: queued: upstream broken 2024-01-01 failed
	  after 2024-01-02: queued: upstream broken 2024-01-02: the breaker of broken is open
END
expect_stderr_matches 'broken 2024-01-01 failed \([0-9.]+s\) \[fatal\]: relation "no_such_table" does not exist$'
expect_eq "runs of broken" "$(run_states broken)" "failed:1,held:4"
expect_eq "runs of after" "$(run_states after)" "queued:5"
expect_eq "breaker" "$(breaker_state broken)" "open"
expect_eq "the failure and the breaker are one incident" "$(alerts_of broken)" "task_failing:2:open"
expect_sql "its severity is the breaker's" "SELECT severity FROM alerts" critical
expect_sql "the failure's class" "SELECT error_class FROM runs WHERE state = 'failed'" fatal
# A backfill while the breaker is open holds its runs too.
ds -c "backfill broken 2024-01-06 --yes" -c "worker --drain"
expect_exit 3
expect_eq "runs of broken after another backfill" "$(run_states broken)" "failed:1,held:5"
# A run queued as the breaker opened is not claimed either.
sql "INSERT INTO runs (task_id, key) SELECT id, '2024-02-01' FROM tasks WHERE name = 'broken'" >/dev/null
ds -c "worker --drain"
expect_exit 3
expect_eq "the stray run waits" "$(run_states broken)" "failed:1,held:5,queued:1"
sql "DELETE FROM runs WHERE key = '2024-02-01'" >/dev/null
ds -c "breaker list --json"
expect_exit 0
expect_eq "breaker list" "$(json_get '{breakers}[0]{task}' <"$OUT") $(json_get '{breakers}[0]{held}' <"$OUT")" "broken 5"
end_case

begin "a transient failure is retried, even with retries 0, and succeeds without an alert"
rm -f "$WORK/tries"
schema_with_pipeline s_transient <<END
{"graphs": {"g": {}},
 "tasks": [{"name": "flaky", "graph": "g", "key": "daily", "retry_delay": 0,
   "command": "n=\$(cat $WORK/tries 2>/dev/null || echo 0); echo \$((n + 1)) >$WORK/tries; [ \$n -ge 2 ] || { echo 'connection refused' >&2; exit 1; }"}]}
END
ds -c "backfill flaky 2024-01-01 --yes" -c "worker --drain"
expect_exit 0
expect_stderr_matches 'flaky 2024-01-01 failed, will retry in 0s \(attempt 1, [0-9.]+s\) \[transient\]: exited with status 1: connection refused$'
expect_eq "runs of flaky" "$(run_states flaky)" "success:1"
expect_sql "attempts" "SELECT attempt FROM runs" 3
expect_eq "alerts" "$(alerts_of flaky)" ""
expect_eq "breaker" "$(breaker_state flaky)" "closed"
end_case

begin "ten failures of one incident make one alert with count 10; a pipeline's own class"
count_pipeline
ds -c "backfill failing 2024-01-01..2024-01-10 --yes" -c "worker --drain"
expect_exit 3
expect_stderr_matches '^datashell: error: the worker drained the queue, but 10 runs failed:$'
expect_eq "runs of failing" "$(run_states failing)" "failed:10"
expect_eq "alerts" "$(alerts_of failing)" "task_failing:10:open"
expect_sql "keys" "SELECT array_length(keys, 1) || ' ' || severity FROM alerts
	WHERE task = 'failing'" "10 error"
expect_eq "breaker under its threshold" "$(breaker_state failing)" "closed"
ds -c "backfill over_quota 2024-01-01..2024-01-03 --yes" -c "worker --drain"
expect_exit 3
expect_stderr_matches 'over_quota 2024-01-01 failed \([0-9.]+s\) \[quota\]: exited with status 1: Quota exceeded$'
expect_eq "a class that does not retry opens the breaker" "$(breaker_state over_quota)" "open"
expect_eq "runs of over_quota" "$(run_states over_quota)" "failed:1,held:2"
end_case

begin "in a script, breaker reset needs --yes; with it, the held runs are queued again"
use_stage count
export DATASHELL_SCHEMA=s_count
ds -c "breaker reset over_quota"
expect_exit 3
expect_stderr <<-'END'
	datashell: error: 'breaker' would reset the breaker of over_quota (open) and queue its 2 held runs again; in a script it needs --yes
	hint: add --yes to go ahead, or --dry-run to see what it would do
END
expect_eq "still held" "$(run_states over_quota)" "failed:1,held:2"
ds -c "breaker reset over_quota --dry-run"
expect_exit 0
expect_stdout <<-'END'
	would reset the breaker of over_quota (open) and queue its 2 held runs again; nothing was changed
END
expect_eq "a dry run changes nothing" "$(run_states over_quota) $(breaker_state over_quota)" "failed:1,held:2 open"
ds -c "breaker reset over_quota --yes"
expect_exit 0
expect_stdout <<-'END'
	reset the breaker of over_quota (it was open); queued 2 held run(s) again
END
expect_eq "queued again" "$(run_states over_quota)" "failed:1,queued:2"
expect_eq "breaker" "$(breaker_state over_quota)" "closed"
expect_eq "the incident waits for a run that succeeds" "$(alerts_of over_quota)" "task_failing:2:open"
expect_sql "audited" "SELECT count(*) FROM audit_log WHERE command = 'breaker reset over_quota --yes'" 1
end_case

begin "after the cool-down one probe run goes through; its success closes the breaker"
rm -f "$WORK/fixed"
probe_pipeline
ds -c "backfill fixed_later 2024-01-01..2024-01-04 --yes" -c "worker --drain"
expect_exit 3
expect_stderr_matches '^  fixed_later 2024-01-02: held: the breaker of fixed_later is open$'
expect_eq "opened after one failure" "$(breaker_state fixed_later) $(run_states fixed_later)" "open failed:1,held:3"
touch "$WORK/fixed"
wait_until "(SELECT retry_at <= now() FROM breakers)"
ds -c "worker --drain"
expect_exit 0
expect_eq "the probe and then the rest ran" "$(run_states fixed_later)" "failed:1,success:3"
expect_eq "closed" "$(breaker_state fixed_later)" "closed"
expect_eq "the incident resolved itself" "$(alerts_of fixed_later)" "task_failing:2:resolved"
end_case

begin "a failed probe opens the breaker again"
use_stage probe
export DATASHELL_SCHEMA=s_probe
rm -f "$WORK/fixed"
sql "UPDATE runs SET state = 'queued' WHERE state = 'success'" >/dev/null
sql "UPDATE breakers SET state = 'open', retry_at = now()" >/dev/null
ds -c "worker --drain"
expect_exit 3
expect_eq "one probe failed, the rest held" "$(run_states fixed_later)" "failed:2,held:2"
expect_eq "open again" "$(breaker_state fixed_later)" "open"
end_case

begin "breaker trip holds a task by hand until a reset; it needs a reason and a real task"
schema_with_pipeline s_trip <<'END'
{"graphs": {"g": {}},
 "tasks": [{"name": "orders", "graph": "g", "key": "daily", "sql": "SELECT 1"}]}
END
ds -c "backfill orders 2024-01-01..2024-01-03 --yes"
ds -c "breaker trip orders"
expect_exit 3
expect_stderr_matches "^datashell: error: breaker trip needs --reason TEXT$"
ds -c "breaker trip ordres --reason x"
expect_exit 3
expect_stderr_matches "unknown task 'ordres' \(did you mean 'orders'\?\)"
ds -c "breaker trip orders --reason 'INC-42: bad upstream data'" -c "worker --drain"
expect_exit 3
expect_stderr_matches '^  orders 2024-01-01: held: the breaker of orders is open$'
expect_stdout_matches "^opened the breaker of orders; held 3 queued run\(s\)$"
expect_eq "held, not claimed" "$(run_states orders)" "held:3"
expect_sql "the reason" "SELECT reason FROM breakers" "tripped by postgres: INC-42: bad upstream data"
expect_sql "a manual trip sets no time for a probe" "SELECT retry_at IS NULL FROM breakers" t
# Even past the time a cooldown's probe would be due, as a tripped breaker's is.
sql "UPDATE breakers SET retry_at = now() - interval '1 second'" >/dev/null
ds -c "worker --drain"
expect_eq "a manual trip lets no probe through" "$(run_states orders)" "held:3"
ds -c "breaker reset orders --yes" -c "worker --drain"
expect_exit 0
expect_eq "after the reset" "$(run_states orders)" "success:3"
end_case

begin "alerts: a LISTEN client gets the NOTIFY; the hook gets valid JSON; ack and resolve"
schema_with_pipeline s_hook <<'END'
{"graphs": {"g": {}},
 "tasks": [{"name": "boom", "graph": "g", "key": "none", "command": "exit 1"}]}
END
# A psql session that listens, fed through a fifo: it prints the notifications it got
# when it runs its next statement, after the worker.
mkfifo "$WORK/listen.in"
psql -X -q -A -t <"$WORK/listen.in" >"$WORK/listen.out" 2>&1 &
listener=$!
exec 9>"$WORK/listen.in"
echo "LISTEN datashell_alerts; SELECT 'listening';" >&9
wait_for_file listening "$WORK/listen.out"
cat >"$WORK/hook" <<END
#!/bin/sh
cat >"$WORK/hook.\$\$.json"
END
chmod +x "$WORK/hook"
ds -c "backfill boom today --yes" -c "worker --drain --alert-hook $WORK/hook"
expect_exit 3
expect_stderr_matches '^  boom: failed: exited with status 1$'
expect_stderr_matches "$WORKER_LINE"'alert [0-9]+ \(trigger\) handed to the hook$'
echo "SELECT 1;" >&9
exec 9>&-
wait $listener
grep -q 'Asynchronous notification "datashell_alerts" with payload ".*task:boom' \
	"$WORK/listen.out" || fail "no notification: $(cat "$WORK/listen.out")"
n=0
for f in "$WORK"/hook.*.json; do
	perl -MJSON::PP -e 'local $/; my $a = decode_json(<STDIN>);
		die "no kind\n" unless $a->{kind} && $a->{id} && $a->{summary};' <"$f" ||
		fail "the hook got invalid JSON: $(cat "$f")"
	n=$((n + 1))
done
expect_eq "alerts handed to the hook" "$n" 1
# The example hook makes a PagerDuty Events v2 event of it (printed without a routing key).
PAGERDUTY_ROUTING_KEY= "$DS_TOP/examples/pagerduty-hook" <"$f" >"$WORK/event.json" ||
	fail "examples/pagerduty-hook failed"
expect_eq "the PagerDuty event" "$(perl -MJSON::PP -e 'local $/; my $e = decode_json(<STDIN>);
	print join " ", $e->{event_action}, $e->{dedup_key}, $e->{payload}{severity},
		$e->{payload}{custom_details}{count}' <"$WORK/event.json")" \
	"trigger datashell:s_hook:task:boom:$(sql "SELECT id FROM alerts") error 1"
expect_sql "what the hook was told" "SELECT string_agg(told || ' ' || told_severity, ',')
	FROM alerts" "trigger error"
id=$(sql "SELECT id FROM alerts WHERE kind = 'task_failing'")
ds -c "alerts ack $id"
expect_exit 0
expect_stdout_matches "^marked alert $id acked: boom failed for its key: exited with status 1$"
ds -c "alerts resolve $id" -c "alerts --open"
expect_exit 0
expect_stdout <<-END
	marked alert $id resolved: boom failed for its key: exited with status 1
	no open alerts
END
ds -c "alerts ack $id"
expect_exit 3
expect_stderr_matches "^datashell: error: alert $id is already resolved$"
ds -c "alerts ack 999999"
expect_exit 3
expect_stderr_matches "^datashell: error: there is no alert 999999$"
ds -c "alerts --dry-run"
expect_exit 3
expect_stderr_matches "^datashell: error: 'alerts list' takes no option '--dry-run'$"
end_case

begin "a hook that fails or hangs is recorded and changes nothing else"
schema_with_pipeline s_badhook <<'END'
{"graphs": {"g": {}},
 "tasks": [{"name": "ok_task", "graph": "g", "key": "daily", "sql": "SELECT 1"},
           {"name": "bad_task", "graph": "g", "key": "none", "command": "exit 1"}]}
END
ds -c "backfill ok_task 2024-01-01..2024-01-03 --yes" -c "backfill bad_task today --yes" \
	-c "worker --drain --alert-hook 'exit 7'"
expect_exit 3
expect_stderr_matches 'not taken by the hook: the hook exited with status 7; it is tried again later$'
expect_eq "the other runs" "$(run_states ok_task)" "success:3"
expect_sql "the hook was told nothing; it is tried again later" "SELECT string_agg(DISTINCT
	told || ' ' || hook_attempts || ' ' || (hook_next_at > now() + interval '20 seconds'), ',')
	FROM alerts" "nothing 1 true"
sql "UPDATE alerts SET hook_next_at = now()" >/dev/null
# A hanging hook whose command line no other script's can have: this script's pid, in
# seven digits, is in its duration.
hang=$(printf 'sleep 58.%07d' $$)
start=$(date +%s)
ds -c "worker --drain --alert-hook '$hang' --hook-timeout 1"
expect_exit 0
expect_stderr_matches 'not taken by the hook: the hook ran longer than 1s and was killed; it is tried again later$'
[ $(( $(date +%s) - start )) -lt 20 ] || fail "the hanging hook held the worker up"
expect_sql "hook errors" "SELECT string_agg(DISTINCT hook_error, ',') FROM alerts" \
	"the hook ran longer than 1s and was killed"
# Killed with its process group; give the kernel a moment to take the grandchild away.
for i in $(seq 30); do pgrep -f "$hang" >/dev/null || break; sleep 0.1; done
pgrep -f "$hang" >/dev/null && fail "the hook was left running"
end_case

begin "a missed SLA of a daily task raises one incident per late key; status marks late keys"
schema_with_pipeline s_sla <<'END'
{"graphs": {"g": {}},
 "tasks": [{"name": "report", "graph": "g", "key": "daily", "sql": "SELECT 1",
            "sla": {"within": "1h"}}]}
END
late=$(TZ=UTC date -d '2 days ago' +%Y-%m-%d)
# The task has no schedule: its SLA applies to the keys that were enqueued (cancelled
# runs, which the worker leaves alone), not to yesterday's, which nobody asked for.
sql "INSERT INTO runs (task_id, key, state)
     SELECT id, k, 'cancelled' FROM tasks, unnest(ARRAY['$late', '2024-01-01', '2024-01-03']) k" >/dev/null
ds -c "worker --drain"
ds -c "worker --drain"
expect_exit 0
expect_sql "yesterday's key, never enqueued, is not late" \
	"SELECT count(*) FROM alerts WHERE key = '$(TZ=UTC date -d '1 day ago' +%Y-%m-%d)'" 0
expect_sql "the key of two days ago is late, once" \
	"SELECT count(*) FROM alerts WHERE kind = 'sla_missed' AND key = '$late'" 1
expect_sql "today's key is not late yet" \
	"SELECT count(*) FROM alerts WHERE key = to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD')" 0
sql "INSERT INTO runs (task_id, key, state) SELECT id, '2024-01-02', 'success' FROM tasks" >/dev/null
ds -c "status report 2024-01-01..2024-01-03 --json"
expect_exit 0
expect_eq "status marks the late keys" "$(json_get '{tasks}[0]{strip}' <"$OUT")" '!#!'
expect_eq "and lists them" "$(json_get '{tasks}[0]{late_keys}[1]' <"$OUT")" 2024-01-03
end_case

begin "handoff sums up what is open and what happened"
use_stage fatal
export DATASHELL_SCHEMA=s_fatal
ds -c "handoff --since 1h --json"
expect_exit 0
expect_eq "open alerts" "$(json_get '{open_alerts}[0]{kind}' <"$OUT") $(json_get '{open_alerts}[0]{severity}' <"$OUT") $(json_get '{open_alerts}[1]{kind}' <"$OUT")" \
	"task_failing critical null"
expect_eq "open breakers" "$(json_get '{open_breakers}[0]{task}' <"$OUT") $(json_get '{open_breakers}[0]{held}' <"$OUT")" \
	"broken 5"
expect_eq "failed keys" "$(json_get '{failed_keys}[0]{key}' <"$OUT") $(json_get '{failed_keys}[0]{class}' <"$OUT")" \
	"2024-01-01 fatal"
expect_eq "batches" "$(json_get '{batches}[1]{command}' <"$OUT")" "backfill broken 2024-01-06 --yes"
expect_eq "who ran what" "$(json_get '{commands}[0]{command}' <"$OUT")" "init"
ds -c "handoff --since soon"
expect_exit 3
expect_stderr_matches "^datashell: error: '--since soon' is not a duration$"
end_case

begin "bad error class patterns are refused at load, with PCRE2's message and offset"
export DATASHELL_SCHEMA=s_badpattern
cat >"$WORK/bad.json" <<'END'
{"graphs": {"g": {}},
 "tasks": [{"name": "a", "graph": "g", "key": "daily", "sql": "SELECT 1",
            "error_classes": [{"class": "x", "pattern": "(unclosed"}]}]}
END
ds -c init -c "pipeline load $WORK/bad.json"
expect_exit 3
expect_stderr_matches "bad.json: tasks\[0\] \(a\).error_classes\[0\].pattern: invalid regular expression at character 10: missing closing parenthesis"
expect_sql "nothing loaded" "SELECT count(*) FROM tasks" 0
end_case

done_testing
