#!/bin/sh
# Breakers count failed runs, not attempts, let exactly one probe through however many
# workers claim, and take a pre-check whose own SQL fails for a failure of the task;
# alerts (incidents) are answered several at a time, by id or by filter, all or nothing.
#
# Each case loads a pipeline file of its own into a state schema of its own.
. "$DS_TOP/tests/lib.sh"
use_fresh_database t_alerts_breakers

# state and failures in a row of TASK's breaker.
breaker_of() {	# TASK
	sql "SELECT coalesce((SELECT b.state || ' ' || b.consecutive FROM breakers b
	                      JOIN tasks t ON t.id = b.task_id WHERE t.name = '$1'), 'none')"
}

# kind:state of the alerts of TASK, oldest first.
alerts_of() {	# TASK
	sql "SELECT string_agg(kind || ':' || state, ',' ORDER BY id) FROM alerts WHERE task = '$1'"
}

# Workers in the background; their pids go in $WORKERS and are stopped at the end.
WORKERS=""
worker_bg() {	# NAME WORKER-OPTIONS...
	t_name=$1
	shift
	"$DATASHELL" -c "worker $*" >"$WORK/$t_name.out" 2>"$WORK/$t_name.err" </dev/null &
	WORKERS="$WORKERS $!"
	T_AT_EXIT="kill $WORKERS 2>/dev/null"
}

stop_workers() {
	for t_pid in $WORKERS; do
		kill -TERM "$t_pid" 2>/dev/null
		wait "$t_pid" 2>/dev/null
	done
	WORKERS=""
	T_AT_EXIT=""
}

begin "the retries of one run count once: a run retried into success counts none"
schema_with_pipeline s_retries <<END
{"graphs": {"g": {"breaker": {"failures": 2}}},
 "tasks": [
  {"name": "flaky", "graph": "g", "key": "daily", "retry_delay": 0,
   "command": "[ \$DS_ATTEMPT -ge 3 ] || { echo 'connection refused' >&2; exit 1; }"},
  {"name": "down", "graph": "g", "key": "daily", "retry_delay": 0,
   "command": "echo 'connection refused' >&2; exit 1"}]}
END
ds -c "backfill flaky 2024-01-01 --yes" -c "worker --drain"
expect_exit 0
expect_eq "runs of flaky" "$(run_states flaky)" "success:1"
expect_sql "attempts" "SELECT attempt FROM runs" 3
expect_eq "two failed attempts of one run trip nothing" "$(breaker_of flaky)" "closed 0"
ds -c "backfill down 2024-01-01 --yes" -c "worker --drain"
expect_exit 3
expect_stderr_matches '^  down 2024-01-01: failed: exited with status 1: connection refused$'
expect_eq "runs of down" "$(run_states down)" "failed:1"
expect_sql "attempts of down" "SELECT r.attempt FROM runs r JOIN tasks t ON t.id = r.task_id
	WHERE t.name = 'down'" 4
expect_eq "four attempts of one failed run count once" "$(breaker_of down)" "closed 1"
ds -c "backfill down 2024-01-02 --yes" -c "worker --drain"
expect_exit 3
expect_eq "the second failed run in a row opens it" "$(breaker_of down)" "open 2"
expect_sql "why" "SELECT reason FROM breakers b JOIN tasks t ON t.id = b.task_id
	WHERE t.name = 'down'" "2 failures in a row: exited with status 1: connection refused"
end_case

begin "a check whose own SQL fails fails the run, with its class, and trips the breaker"
schema_with_pipeline s_check <<'END'
{"graphs": {"g": {}},
 "tasks": [
  {"name": "typo", "graph": "g", "key": "daily", "sql": "SELECT 1",
   "checks": [{"name": "ready", "sql": "SELEC true"}]},
  {"name": "gone", "graph": "g", "key": "daily", "sql": "SELECT 1",
   "checks": [{"name": "source", "sql": "SELECT count(*) > 0 FROM no_such_table"}]},
  {"name": "not_ready", "graph": "g", "key": "daily", "sql": "SELECT 1",
   "checks": [{"name": "source", "sql": "SELECT false"}]}]}
END
ds -c "backfill typo,gone,not_ready 2024-01-01..2024-01-03 --yes" -c "worker --drain"
expect_exit 3
expect_stderr_matches '^  typo 2024-01-02: held: the breaker of typo is open$'
expect_stderr_matches "typo 2024-01-01 failed \([0-9.]+s\) \[fatal\]: check 'ready' could not run: syntax error at or near \"SELEC\"$"
expect_eq "runs of typo" "$(run_states typo)" "failed:1,held:2"
expect_eq "runs of gone" "$(run_states gone)" "failed:1,held:2"
expect_eq "breaker of typo" "$(breaker_of typo)" "open 1"
expect_eq "breaker of gone" "$(breaker_of gone)" "open 1"
expect_sql "class" "SELECT string_agg(DISTINCT error_class, ',') FROM runs WHERE state = 'failed'" fatal
expect_eq "one incident of gone, the breaker's severity" "$(alerts_of gone) $(sql "SELECT severity
	FROM alerts WHERE task = 'gone'")" "task_failing:open critical"
expect_eq "a check that returns false still blocks" "$(run_states not_ready)" "blocked:3"
expect_eq "and trips nothing" "$(breaker_of not_ready)" "none"
end_case

begin "after the cool-down exactly one probe runs, with two workers claiming"
rm -f "$WORK/fixed" "$WORK/go" "$WORK/started"
schema_with_pipeline s_probe <<END
{"graphs": {"g": {}},
 "tasks": [{"name": "fixed_later", "graph": "g", "key": "daily",
   "breaker": {"failures": 1, "cooldown": "1h"},
   "command": "[ -e $WORK/fixed ] || { echo 'bad input' >&2; exit 1; }; echo \$DS_KEY >>$WORK/started; until [ -e $WORK/go ]; do sleep 0.05; done"}]}
END
setup_failing "$DATASHELL" -c "backfill fixed_later 2024-01-01..2024-01-05 --yes" \
	-c "worker --drain"
expect_eq "opened" "$(run_states fixed_later)" "failed:1,held:4"
# A run that comes back to the queue while the breaker is open (its lease expired, a
# retry was due) is queued, not held: only the probe may go all the same.
sql "UPDATE runs SET state = 'queued' WHERE key = '2024-01-05'" >/dev/null
touch "$WORK/fixed"
sql "UPDATE breakers SET retry_at = now()" >/dev/null
worker_bg w1 --concurrency 1
worker_bg w2 --concurrency 1
wait_for_file . "$WORK/started"
# The idle worker claims again and again: stop its claims twice at the graph's lock, so
# that at least one whole claim of it came after the probe began.
for round in 1 2; do
	hold_session "SELECT 1 FROM graphs FOR UPDATE"
	wait_until "($LOCK_WAITS) >= 1"
	release_session
done
expect_eq "runs started" "$(wc -l <"$WORK/started" | tr -d ' ')" 1
expect_sql "running" "SELECT count(*) FROM runs WHERE state = 'running'" 1
expect_sql "half open" "SELECT state FROM breakers" half_open
flush_sql	# the checks above read the state while the probe still runs
touch "$WORK/go"
wait_until "(SELECT count(*) = 4 FROM runs WHERE state = 'success')"
stop_workers
expect_eq "the probe and then the rest ran" "$(run_states fixed_later)" "failed:1,success:4"
expect_eq "closed" "$(breaker_of fixed_later)" "closed 0"
end_case

# Three failing tasks, one fatal: an incident each (task_failing), their ids in A1, A2,
# A3; and the lease_lost incident of a worker that died, B3.
alerts_stage() {	# SCHEMA
	schema_with_pipeline "$1" <<-'END'
	{"graphs": {"g": {}},
	 "tasks": [
	  {"name": "one", "graph": "g", "key": "none", "command": "exit 1"},
	  {"name": "two", "graph": "g", "key": "none", "command": "exit 1"},
	  {"name": "three", "graph": "g", "key": "none", "sql": "SELECT * FROM no_such_table"}]}
	END
	setup_failing "$DATASHELL" -c "backfill one,two,three today --yes" -c "worker --drain"
	A1=$(sql "SELECT id FROM alerts WHERE task = 'one'")
	A2=$(sql "SELECT id FROM alerts WHERE task = 'two'")
	A3=$(sql "SELECT id FROM alerts WHERE task = 'three'")
	B3=$(sql "SELECT raise_alert('lease_lost', 'worker:w9', NULL, NULL, 'w9',
		'worker w9 lost its lease on 1 run(s)', '{}', 'warning', NULL, NULL)")
}

# id:state of every alert, in id order.
alert_states() {
	sql "SELECT string_agg(id || ':' || state, ',' ORDER BY id) FROM alerts"
}

# The ids of the alerts in the JSON on stdin ({alerts: [...]}), in id order.
ids_of() {
	perl -MJSON::PP -e 'local $/; my $d = decode_json(<STDIN>);
		print join ",", sort { $a <=> $b } map { $_->{id} } @{$d->{alerts}}'
}

begin "ack and resolve take several ids, all or nothing, and are audited"
alerts_stage s_ids
expect_eq "alerts raised" "$(sql "SELECT count(*) FROM alerts WHERE state = 'open'")" 4
ds -c "alerts ack $A1 $A2 999998 999999"
expect_exit 3
expect_stderr_matches "^datashell: error: there are no alerts 999998, 999999$"
expect_eq "nothing acked" "$(alert_states)" "$A1:open,$A2:open,$A3:open,$B3:open"
expect_sql "the refusal is audited" "SELECT outcome || ': ' || error FROM audit_log
	WHERE command = 'alerts ack $A1 $A2 999998 999999'" "failed: there are no alerts 999998, 999999"
ds -c "alerts ack $A1 $A2 --reason 'on it, INC-7'"
expect_exit 0
expect_stdout <<-END
	marked 2 alerts acked: $A1, $A2
END
expect_eq "acked" "$(alert_states)" "$A1:acked,$A2:acked,$A3:open,$B3:open"
expect_sql "audited with the ids and the reason" "SELECT (detail->>'alerts') || ' ' ||
	(detail->>'reason') FROM audit_log WHERE command LIKE 'alerts ack % --reason %'" \
	"[$A1, $A2] on it, INC-7"
ds -c "alerts resolve $A1"
expect_exit 0
expect_stdout <<-END
	marked alert $A1 resolved: one failed for its key: exited with status 1
END
ds -c "alerts resolve $A3 $A1 $A2"
expect_exit 3
expect_stderr_matches "^datashell: error: alert $A1 is already resolved$"
expect_eq "nothing resolved" "$(alert_states)" "$A1:resolved,$A2:acked,$A3:open,$B3:open"
ds -c "alerts resolve $A2 $A3 --dry-run --json"
expect_exit 0
expect_eq "a dry run says what" "$(ids_of <"$OUT") $(json_get '{count}' <"$OUT")" "$A2,$A3 2"
expect_eq "and changes nothing" "$(alert_states)" "$A1:resolved,$A2:acked,$A3:open,$B3:open"
ds -c "alerts ack"
expect_exit 3
expect_stderr_matches "^datashell: error: alerts ack needs alert ids, or --task, --exclude, --kind or --all$"
ds -c "alerts resolve $A2 --all"
expect_exit 3
expect_stderr_matches "^datashell: error: alerts resolve takes alert ids or --all, not both$"
ds -c "alerts ack $A2 x7"
expect_exit 3
expect_stderr_matches "^datashell: error: 'x7' is not an alert id$"
expect_eq "still nothing changed" "$(alert_states)" "$A1:resolved,$A2:acked,$A3:open,$B3:open"
ds -c "alerts ack $A3 $B3 --kind lease_lost"
expect_exit 0
expect_stdout <<-END
	marked 1 alert acked: $B3
END
expect_eq "ids and a filter, together" "$(alert_states)" "$A1:resolved,$A2:acked,$A3:open,$B3:acked"
end_case

begin "--task, --kind and --all choose alerts together; the listing takes them and --state"
alerts_stage s_filters
ds -c "alerts --kind lease_lost --json"
expect_exit 0
expect_eq "by kind" "$(ids_of <"$OUT")" "$B3"
ds -c "alerts ack --task three --kind task_failing"
expect_exit 0
expect_stdout <<-END
	marked 1 alert acked: $A3
END
ds -c "alerts --exclude 'graph:g&/o/' --json"
expect_exit 0
expect_eq "--exclude leaves out the tasks' alerts, not a worker's" "$(ids_of <"$OUT")" "$A3,$B3"
ds -c "alerts --exclude onee"
expect_exit 3
expect_stderr_matches "^datashell: error: --exclude 'onee': unknown task 'onee' \(did you mean 'one'\?\)$"
ds -c "alerts ack --task one,two"
expect_exit 0
expect_stdout <<-END
	marked 2 alerts acked: $A1, $A2
END
ds -c "alerts --state acked --json"
expect_exit 0
expect_eq "acked ones" "$(ids_of <"$OUT")" "$A1,$A2,$A3"
ds -c "alerts ack --all"
expect_exit 0
expect_stdout <<-END
	marked 1 alert acked: $B3
END
ds -c "alerts ack --all"
expect_exit 0
expect_stdout <<-END
	marked 0 alerts acked
END
ds -c "alerts resolve --kind task_failing --exclude three"
expect_exit 0
expect_stdout <<-END
	marked 2 alerts resolved: $A1, $A2
END
ds -c "alerts resolve --all --kind task_failing --task graph:g"
expect_exit 0
expect_stdout <<-END
	marked 1 alert resolved: $A3
END
expect_eq "states" "$(alert_states)" "$A1:resolved,$A2:resolved,$A3:resolved,$B3:acked"
ds -c "alerts --open --kind task_failing"
expect_exit 0
expect_stdout <<-END
	no alerts match
END
ds -c "alerts --kind task_fail"
expect_exit 3
expect_stderr_matches "^datashell: error: unknown alert kind 'task_fail' \(one of task_failing, sla_missed, lease_lost, connection_refused\)$"
ds -c "alerts resolve --kind breaker_open"
expect_exit 3
expect_stderr <<-'END'
	datashell: error: unknown alert kind 'breaker_open' (one of task_failing, sla_missed, lease_lost, connection_refused)
	hint: a task's failed runs, breaker and blocked pre-checks are one incident now: task_failing
END
ds -c "alerts --state closed"
expect_exit 3
expect_stderr_matches "^datashell: error: unknown alert state 'closed' \(one of open, acked, resolved\)$"
ds -c "alerts resolve --task thre"
expect_exit 3
expect_stderr_matches "unknown task 'thre' \(did you mean 'three'\?\)"
ds -c "alerts resolve --all"
expect_exit 0
expect_stdout <<-END
	marked 1 alert resolved: $B3
END
end_case

begin "tab completes the ids of alerts not resolved, their kinds and states"
alerts_stage s_complete
sql "UPDATE alerts SET state = 'resolved' WHERE id <> $A2" >/dev/null
"$DS_PTYRUN" -t 15 -- "$DATASHELL" >"$OUT" 2>"$ERR" <<-END
	expect > \$
	send alerts ack $A1 \t
	expect alerts ack $A1 $A2 \$
	send \x03
	expect > \$
	send alerts resolve --kind lease_l\t
	expect alerts resolve --kind lease_lost \$
	send \x03
	expect > \$
	send alerts --state ack\t
	expect alerts --state acked \$
	send \x03
	expect > \$
	sendline quit
	wait 0
END
CODE=$?
expect_exit 0
end_case

done_testing
