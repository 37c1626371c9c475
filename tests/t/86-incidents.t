#!/bin/sh
# Incidents, not alerts: one open incident per task and cause, whose severity rises,
# which resolves itself when its cause clears; the hook is told a trigger, an update
# when the severity rose and a resolve, each once, under one deduplication key, retried
# with backoff when it fails, and never the resolved history.
#
# Each case loads a pipeline file of its own into a state schema of its own.
. "$DS_TOP/tests/lib.sh"
use_fresh_database t_incidents

# A hook that appends what it is told to FILE, one JSON document a line.
make_hook() {	# NAME FILE
	cat >"$WORK/$1.sh" <<-END
	#!/bin/sh
	json=\$(cat)
	printf '%s\n' "\$json" >>"$2"
	END
	chmod +x "$WORK/$1.sh"
}

# "action incident severity" of each thing told in FILE, in order.
told() {	# FILE
	[ -e "$1" ] || return 0
	perl -MJSON::PP -ne 'next unless /\S/; my $a = decode_json($_);
		print "$a->{action} $a->{incident} $a->{severity}\n"' "$1"
}

# The incidents whose things told in FILE do not share one dedup_key (naming the
# schema and the incident's id), or the same action told twice: nothing when all is well.
told_wrong() {	# FILE
	[ -e "$1" ] || return 0
	perl -MJSON::PP -ne 'next unless /\S/; my $a = decode_json($_);
		my $want = "datashell:$a->{schema}:$a->{incident}:$a->{id}";
		print "$a->{id}: dedup_key $a->{dedup_key}\n" if $a->{dedup_key} ne $want;
		print "$a->{id}: $a->{action} twice\n" if $seen{"$a->{id} $a->{action}"}++;' "$1"
}

Y=$(TZ=UTC date -d '1 day ago' +%Y-%m-%d)

night_pipeline() {	# BROKEN-SQL
	cat <<-END
	{"graphs": {"g": {"max_active": 1}},
	 "tasks": [
	  {"name": "broken", "graph": "g", "key": "daily", "sql": "$1"},
	  {"name": "flaky", "graph": "g", "key": "hourly", "retry_delay": 0,
	   "command": "[ \$DS_ATTEMPT -ge 2 ] || { echo 'connection refused' >&2; exit 1; }"},
	  {"name": "checked", "graph": "g", "key": "daily", "retries": 0,
	   "command": "[ -e $WORK/checked_ok ] || { echo 'no rows' >&2; exit 1; }",
	   "checks": [{"name": "source", "sql": "SELECT EXISTS (SELECT 1 FROM public.ready)"}]},
	  {"name": "hourly_sla", "graph": "g", "key": "hourly", "command": "true",
	   "sla": {"within": "1s"}}]}
	END
}

# Keys of yesterday's hours FROM..TO of hourly_sla, enqueued and cancelled: late.
late_hours() {	# FROM TO
	sql "INSERT INTO runs (task_id, key, state)
	     SELECT t.id, '${Y}T' || lpad(h::text, 2, '0'), 'cancelled'
	     FROM tasks t, generate_series($1, $2) h WHERE t.name = 'hourly_sla'" >/dev/null
}

begin "a night of failures: one incident per task and cause, all resolved once fixed, each told once"
rm -f "$WORK/checked_ok" "$WORK/night"
make_hook hook "$WORK/night"
night_pipeline 'SELEC 1' >"$WORK/broken.json"
schema_with_pipeline s_night <"$WORK/broken.json"
sql "DROP TABLE IF EXISTS public.ready; CREATE TABLE public.ready (x integer)" >/dev/null
late_hours 0 11
# Done seconds after its deadline, before any check: never late.
sql "INSERT INTO runs (task_id, key, state) SELECT id, '${Y}T12', 'success' FROM tasks
     WHERE name = 'hourly_sla'" >/dev/null
ds -c "backfill broken,checked 2024-01-01..2024-01-02 --yes" -c "backfill flaky ${Y}T05 --yes" \
	-c "worker --drain --alert-hook $WORK/hook.sh"
expect_exit 3
expect_eq "runs of flaky" "$(run_states flaky)" "success:1"
expect_sql "open incidents, one per task and cause" "SELECT string_agg(incident || ' ' || severity
	|| ' ' || count, ', ' ORDER BY incident) FROM alerts WHERE state <> 'resolved'
	AND incident <> 'task:broken'" "sla:hourly_sla:$Y error 1, task:checked warning 2"
expect_sql "broken: its failure and its breaker, one incident" "SELECT severity || ' ' || state
	FROM alerts WHERE task = 'broken'" "critical open"
expect_sql "the late keys" "SELECT array_to_string(keys, ' ') FROM alerts WHERE kind = 'sla_missed'" \
	"$(for h in 00 01 02 03 04 05 06 07 08 09 10 11; do printf '%sT%s ' "$Y" "$h"; done | sed 's/ $//')"
expect_eq "the hook was told" "$(told "$WORK/night" | sort)" "$(sort <<-END
	trigger task:broken critical
	trigger task:checked warning
	trigger sla:hourly_sla:$Y error
	END
)"
# Later that night: more hours late, the same day; the check passes and the task fails.
late_hours 13 15
sql "INSERT INTO public.ready VALUES (1)" >/dev/null
ds -c "backfill checked 2024-01-03 --yes" -c "worker --drain --alert-hook $WORK/hook.sh"
expect_exit 3
expect_sql "still one incident a cause" "SELECT string_agg(incident || ' ' || severity || ' '
	|| cardinality(keys), ', ' ORDER BY incident) FROM alerts WHERE state <> 'resolved'" \
	"sla:hourly_sla:$Y error 15, task:broken critical 1, task:checked error 3"
expect_eq "an update, only where the severity rose" "$(told "$WORK/night" | tail -n +4)" \
	"update task:checked error"
# The fixes: the task's SQL and its breaker; the check's data; the late hours marked.
night_pipeline 'SELECT 1' >"$WORK/fixed.json"
touch "$WORK/checked_ok"
ds -c "pipeline load $WORK/fixed.json" -c "breaker reset broken --yes" \
	-c "backfill checked 2024-01-01..2024-01-03 --yes" \
	-c "mark hourly_sla ${Y}T00..${Y}T11 ${Y}T13..${Y}T15 --skipped --reason 'no data that night' --yes"
expect_exit 0
ds -c "worker --drain --alert-hook $WORK/hook.sh"
expect_exit 0
expect_eq "runs of checked" "$(run_states checked)" "blocked:2,failed:1,success:3"
expect_eq "runs of broken" "$(run_states broken)" "failed:1,success:1"
expect_sql "every incident resolved itself" "SELECT string_agg(incident || ' ' || state || ' '
	|| resolved_by, ', ' ORDER BY incident) FROM alerts" \
	"sla:hourly_sla:$Y resolved datashell, task:broken resolved datashell, task:checked resolved datashell"
expect_eq "told: one trigger and one resolve each, an update where it rose" \
	"$(told "$WORK/night" | sort)" "$(sort <<-END
	trigger task:broken critical
	trigger task:checked warning
	trigger sla:hourly_sla:$Y error
	update task:checked error
	resolve task:broken critical
	resolve task:checked error
	resolve sla:hourly_sla:$Y error
	END
)"
expect_eq "one dedup_key per incident, no action twice" "$(told_wrong "$WORK/night")" ""
# The example hook makes PagerDuty events of them (printed without a routing key): an
# update is a trigger again under the same key, a resolve needs nothing but the key.
perl -MJSON::PP -ne 'print if decode_json($_)->{incident} eq "task:checked"' "$WORK/night" |
	while IFS= read -r line; do
		printf '%s\n' "$line" | PAGERDUTY_ROUTING_KEY= "$DS_TOP/examples/pagerduty-hook" ||
			echo "examples/pagerduty-hook failed"
	done >"$WORK/events"
key="datashell:s_night:task:checked:$(sql "SELECT id FROM alerts WHERE incident = 'task:checked'")"
expect_eq "the PagerDuty events" "$(perl -MJSON::PP -ne 'my $e = decode_json($_);
	print join(" ", $e->{event_action}, $e->{dedup_key}, $e->{payload}{severity} // "-",
		$e->{payload}{custom_details}{count} // "-"), "\n"' "$WORK/events")" \
	"trigger $key warning 2
trigger $key error 3
resolve $key - -"
ds -c "worker --drain --alert-hook $WORK/hook.sh"
expect_exit 0
expect_eq "nothing more to tell" "$(told "$WORK/night" | wc -l | tr -d ' ')" 7
end_case

begin "a delivery that failed is tried again after its backoff, by the next worker"
rm -f "$WORK/failed_once" "$WORK/retried"
cat >"$WORK/once" <<END
#!/bin/sh
[ -e "$WORK/failed_once" ] || { touch "$WORK/failed_once"; exit 1; }
json=\$(cat)
printf '%s\n' "\$json" >>"$WORK/retried"
END
chmod +x "$WORK/once"
schema_with_pipeline s_retry <<'END'
{"graphs": {"g": {}},
 "tasks": [{"name": "boom", "graph": "g", "key": "none", "command": "exit 1"}]}
END
ds -c "backfill boom today --yes" -c "worker --drain --alert-hook $WORK/once"
expect_exit 3
expect_stderr_matches "$WORKER_LINE"'alert [0-9]+ \(trigger\) not taken by the hook: the hook exited with status 1; it is tried again later$'
expect_sql "told nothing; tried again in 30s" "SELECT told || ' ' || hook_attempts || ' '
	|| (hook_next_at - hook_at) || ' ' || hook_error FROM alerts" \
	"nothing 1 00:00:30 the hook exited with status 1"
ds -c "alerts --json"
expect_exit 0
expect_eq "the listing says so" "$(json_get '{alerts}[0]{hook}' <"$OUT") $(json_get '{alerts}[0]{hook_attempts}' <"$OUT")" \
	"trigger pending 1"
# However slow this machine, the next attempt is not due yet for the next worker.
sql "UPDATE alerts SET hook_next_at = now() + interval '1 hour'" >/dev/null
ds -c "worker --drain --alert-hook $WORK/once"
expect_exit 0
[ -e "$WORK/retried" ] && fail "delivered again before its backoff: $(cat "$WORK/retried")"
sql "UPDATE alerts SET hook_next_at = now()" >/dev/null
ds -c "worker --drain --alert-hook $WORK/once"
expect_exit 0
expect_stderr_matches "$WORKER_LINE"'alert [0-9]+ \(trigger\) handed to the hook$'
expect_eq "delivered" "$(told "$WORK/retried")" "trigger task:boom error"
expect_sql "and recorded" "SELECT told || ' ' || told_severity || ' ' || hook_attempts || ' '
	|| coalesce(hook_error, '-') || ' ' || coalesce(hook_next_at::text, '-') FROM alerts" \
	"trigger error 0 - -"
expect_sql "the backoff doubles from 30s to at most 30 minutes" "SELECT hook_backoff(1) || ' '
	|| hook_backoff(2) || ' ' || hook_backoff(6) || ' ' || hook_backoff(7) || ' '
	|| hook_backoff(1000)" "00:00:30 00:01:00 00:16:00 00:30:00 00:30:00"
# Resolved by hand, then failing again: a new incident, with a key of its own.
first=$(sql "SELECT id FROM alerts")
ds -c "alerts resolve $first" -c "backfill boom today --yes" -c "worker --drain --alert-hook $WORK/once"
expect_exit 3
expect_sql "a new incident" "SELECT string_agg(id || ' ' || state, ', ' ORDER BY id) FROM alerts" \
	"$first resolved, $((first + 1)) open"
expect_eq "told" "$(told "$WORK/retried")" "trigger task:boom error
resolve task:boom error
trigger task:boom error"
expect_eq "one dedup_key per incident" "$(told_wrong "$WORK/retried")" ""
expect_eq "two incidents, two keys" "$(perl -MJSON::PP -ne 'print decode_json($_)->{dedup_key}, "\n"' \
	"$WORK/retried" | sort -u | wc -l | tr -d ' ')" 2
end_case

begin "a hook started for the first time tells the open incidents, not the resolved history"
rm -f "$WORK/first"
make_hook first "$WORK/first"
schema_with_pipeline s_first <<'END'
{"graphs": {"g": {}},
 "tasks": [{"name": "report", "graph": "g", "key": "hourly", "command": "true",
            "sla": {"within": "1s"}},
           {"name": "boom", "graph": "g", "key": "none", "command": "exit 1"}]}
END
# 48 hours of SLA misses of before, all resolved; then one task failing now.
sql "SELECT count(raise_alert('sla_missed', 'sla:report:' || left(k, 10), 'report', k, NULL,
	     'late', '{}', 'error', ARRAY[k], NULL))
     FROM (SELECT to_char(timestamp '2024-01-01' + make_interval(hours => h), 'YYYY-MM-DD\"T\"HH24') k
           FROM generate_series(0, 47) h) s;
     UPDATE alerts SET state = 'resolved'" >/dev/null
ds -c "backfill boom today --yes" -c "worker --drain"
expect_exit 3
expect_sql "incidents" "SELECT string_agg(state || ' ' || count, ', ' ORDER BY min) FROM (SELECT
	state, count(*), min(id) FROM alerts GROUP BY state) s" "resolved 2, open 1"
ds -c "worker --drain --alert-hook $WORK/first.sh"
expect_exit 0
expect_eq "exactly one trigger" "$(told "$WORK/first")" "trigger task:boom error"
expect_sql "the history stays untold" "SELECT count(*) FROM alerts WHERE told = 'nothing'" 2
end_case

begin "two workers with hooks never tell the same action twice"
rm -f "$WORK/both"
cat >"$WORK/slow" <<END
#!/bin/sh
json=\$(cat)
sleep 0.05
printf '%s\n' "\$json" >>"$WORK/both"
END
chmod +x "$WORK/slow"
schema_with_pipeline s_two <<'END'
{"graphs": {"g": {}},
 "tasks": [{"name": "t", "graph": "g", "key": "none", "command": "true"}]}
END
sql "SELECT count(raise_alert('task_failing', 'task:t' || i, NULL, NULL, NULL, 'failing',
	     '{}', 'error', NULL, NULL)) FROM generate_series(1, 20) i" >/dev/null
"$DATASHELL" -c "worker --alert-hook $WORK/slow" >"$WORK/w1.out" 2>"$WORK/w1.err" </dev/null &
w1=$!
"$DATASHELL" -c "worker --alert-hook $WORK/slow" >"$WORK/w2.out" 2>"$WORK/w2.err" </dev/null &
w2=$!
T_AT_EXIT="kill $w1 $w2 2>/dev/null"
wait_until "(SELECT count(*) = 20 FROM alerts WHERE told = 'trigger')" 60
sql "UPDATE alerts SET state = 'resolved'" >/dev/null
wait_until "(SELECT count(*) = 20 FROM alerts WHERE told = 'resolve')" 60
kill -TERM $w1 $w2
wait $w1
wait $w2
T_AT_EXIT=""
expect_eq "forty actions told" "$(told "$WORK/both" | wc -l | tr -d ' ')" 40
expect_eq "none twice" "$(told_wrong "$WORK/both")" ""
expect_eq "the workers say so" "$(cat "$WORK/w1.err" "$WORK/w2.err" |
	grep -c 'handed to the hook$')" 40
end_case

begin "a worker's lost leases are one incident, resolved once the runs it lost have ended"
rm -f "$WORK"/nap.*.pid
schema_with_pipeline s_lease <<END
{"graphs": {"g": {}},
 "tasks": [{"name": "nap", "graph": "g", "key": "daily",
   "command": "if [ \\"\$DS_ATTEMPT\\" = 1 ]; then echo \$\$ >'$WORK/nap.'\$DS_KEY.pid; exec sleep 60; fi; echo rested"}]}
END
ds -c "backfill nap 2024-01-01..2024-01-02 --yes"
expect_exit 0
"$DATASHELL" -c "worker --lease 2 --concurrency 2" >"$WORK/killed.out" 2>"$WORK/killed.err" </dev/null &
killed=$!
T_AT_EXIT="kill -KILL $killed 2>/dev/null; cat '$WORK'/nap.*.pid | xargs kill 2>/dev/null"
# Both first attempts began (killed between its claim and its fork, the worker would
# never start one): each said its pid.
wait_for_file . "$WORK/nap.2024-01-01.pid"
wait_for_file . "$WORK/nap.2024-01-02.pid"
kill -KILL $killed
wait $killed 2>/dev/null
cat "$WORK"/nap.*.pid | xargs kill
T_AT_EXIT=""
lost=$(sql "SELECT max(worker) FROM runs")
wait_until "(SELECT bool_and(lease_until < now()) FROM runs)"
# The graph paused: the next worker reaps the runs but runs none of them.
ds -c "pipeline pause g" -c "worker --drain"
expect_sql "one incident for the worker" "SELECT string_agg(concat_ws(' ', kind, incident, state,
	severity, cardinality(runs)), ', ') FROM alerts" "lease_lost worker:$lost open warning 2"
expect_sql "its runs are queued: it stays open" "SELECT settle_incidents()" 0
ds -c "pipeline resume g" -c "worker --drain --lease 30"
expect_exit 0
expect_eq "runs of nap" "$(run_states nap)" "success:2"
# The next look (every 30 seconds; a worker's first pass) resolves it.
ds -c "worker --drain"
expect_exit 0
expect_sql "resolved" "SELECT state || ' ' || resolved_by FROM alerts" "resolved datashell"
end_case

begin "the upgrade merges the open alerts of before into incidents"
new_schema s_upgrade
export DATASHELL_SCHEMA=s_upgrade
setup "$DATASHELL" -c init
# Back to version 13, with the alerts that version raised.
undo_migrations 14
sql "INSERT INTO alerts (kind, incident, task, key, worker, summary, state, hook_state,
                         count, last_seen) VALUES
       ('task_failed', 'task_failed:a', 'a', '2024-01-01', NULL, 'a failed', 'open', 'sent',
        3, now() - interval '2 hours'),
       ('breaker_open', 'breaker_open:a', 'a', NULL, NULL, 'the breaker of a opened', 'open',
        'pending', 1, now() - interval '1 hour'),
       ('check_blocked', 'check_blocked:b', 'b', '2024-01-02', NULL, 'b blocked', 'acked',
        'sent', 1, now()),
       ('sla_missed', 'sla_missed:r:2024-01-01T01', 'r', '2024-01-01T01', NULL, 'late 1',
        'open', 'sent', 1, now()),
       ('sla_missed', 'sla_missed:r:2024-01-01T02', 'r', '2024-01-01T02', NULL, 'late 2',
        'open', 'pending', 1, now()),
       ('sla_missed', 'sla_missed:r:2024-01-02T00', 'r', '2024-01-02T00', NULL, 'late 3',
        'resolved', 'sent', 1, now()),
       ('lease_lost', 'lease_lost:w1', NULL, NULL, 'w1', 'w1 lost', 'open', 'failed', 1, now())" \
	>/dev/null
ds -c init
expect_exit 0
expect_stdout_matches "^upgraded schema 's_upgrade' from version 13 to $SCHEMA_VERSION\$"
expect_sql "the incidents" "SELECT string_agg(concat_ws(' ', id, kind, incident, state, count,
	severity, array_to_string(keys, ','), summary, told, hook_action(a), detail->>'merged_into'),
	E'\n' ORDER BY id) FROM alerts a" "1 task_failing task:a open 4 critical 2024-01-01 the breaker of a opened trigger update
2 task_failing task:a resolved 1 critical  the breaker of a opened nothing 1
3 task_failing task:b acked 1 warning 2024-01-02 b blocked trigger
4 sla_missed sla:r:2024-01-01 open 2 error 2024-01-01T01,2024-01-01T02 late 2 trigger
5 sla_missed sla:r:2024-01-01 resolved 1 error 2024-01-01T02 late 2 nothing 4
6 sla_missed sla:r:2024-01-02 resolved 1 error 2024-01-02T00 late 3 resolve
7 lease_lost worker:w1 open 1 warning  w1 lost nothing trigger"
end_case

done_testing
