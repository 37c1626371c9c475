#!/bin/sh
# schedule: where each scheduled task's schedule stands (its policy, the last key covered,
# the next key and when it is due, what the next pass would enqueue, whether it is
# paused); and what a pipeline load says the next pass will enqueue when it adds a
# schedule or moves a start earlier. The dates are relative to the server's clock.
. "$DS_TOP/tests/lib.sh"
use_fresh_database t_schedule_cmd
cd "$WORK" || exit 1
# The stage's keys, made once, hold for every case: no hour begins while the file runs.
away_from_boundary 180

# Days before today (UTC), as a key.
days_ago() {	# N
	date -u -d "-$1 days" +%Y-%m-%d
}

# pipeline.json: two graphs; ops gives its tasks a schedule in Paris with a delay. Among
# core's tasks, orders_daily is scheduled from 10 days ago with a 2h delay, clicks_hourly
# from yesterday, adhoc has no schedule; ops_report takes its graph's schedule.
write_pipeline() {	# FILE [ADHOC_SCHEDULE] [ORDERS_START]
	cat >"$1" <<-EOF
	{"graphs": {"core": {"max_active": 4},
	            "ops": {"max_active": 2,
	                    "schedule": {"timezone": "America/New_York", "delay": "90m"}}},
	 "tasks": [
	  {"name": "orders_daily", "graph": "core", "key": "daily", "sql": "SELECT 1",
	   "schedule": {"start": "${3:-$(days_ago 10)}", "delay": "2h", "lookback": 1}},
	  {"name": "clicks_hourly", "graph": "core", "key": "hourly", "sql": "SELECT 1",
	   "schedule": {"start": "$(days_ago 1)", "catchup": "7d", "priority": 20}},
	  {"name": "adhoc", "graph": "core", "key": "daily", "sql": "SELECT 1"${2:+, \"schedule\": $2}},
	  {"name": "ops_report", "graph": "ops", "key": "daily", "sql": "SELECT 1",
	   "schedule": {"start": "$(days_ago 3)", "due": "start", "catchup": "latest"}}
	 ]}
	EOF
}

# One field of a task's row of 'schedule --json' in $OUT: "missing" if it has no row.
field() {	# TASK FIELD
	perl -MJSON::PP -e '
		local $/; my $d = JSON::PP->new->decode(<STDIN>);
		my ($row) = grep { $_->{task} eq $ARGV[0] } @{ $d->{schedules} };
		my $v = $row ? $row->{$ARGV[1]} : "missing";
		print defined $v ? (JSON::PP::is_bool($v) ? ($v ? "true" : "false") : $v) : "null";
	' "$1" "$2" <"$OUT"
}

# The tasks of 'schedule --json' in $OUT, in order, comma separated.
listed() {
	perl -MJSON::PP -e '
		local $/; my $d = JSON::PP->new->decode(<STDIN>);
		print join ",", map { $_->{task} } @{ $d->{schedules} };
	' <"$OUT"
}

stage_loaded() {
	use_fresh_database t_schedule_cmd
	write_pipeline pipeline.json
	setup "$DATASHELL" -c init -c "pipeline load pipeline.json"
}

begin "schedule lists the scheduled tasks with their policy; a task without a schedule is not listed"
use_stage loaded
ds -c 'schedule --json'
expect_exit 0
expect_eq "tasks listed" "$(listed)" "clicks_hourly,orders_daily,ops_report"
expect_eq "adhoc" "$(field adhoc task)" "missing"
expect_eq "orders_daily start" "$(field orders_daily start)" "$(days_ago 10)"
expect_eq "orders_daily delay" "$(field orders_daily delay)" "2h"
expect_eq "orders_daily time zone" "$(field orders_daily timezone)" "UTC"
expect_eq "orders_daily due" "$(field orders_daily due)" "end"
expect_eq "orders_daily catch-up" "$(field orders_daily catchup)" "all"
expect_eq "orders_daily lookback" "$(field orders_daily lookback)" "1"
expect_eq "orders_daily priority" "$(field orders_daily priority)" "10"
expect_eq "orders_daily key" "$(field orders_daily key)" "daily"
expect_eq "orders_daily last key, before any pass" "$(field orders_daily last_key)" "null"
expect_eq "orders_daily paused" "$(field orders_daily paused)" "false"
expect_eq "clicks_hourly start: the first hour of the day" "$(field clicks_hourly start)" \
	"$(days_ago 1)T00"
expect_eq "clicks_hourly catch-up window" "$(field clicks_hourly catchup)" "7d"
expect_eq "clicks_hourly priority" "$(field clicks_hourly priority)" "20"
expect_eq "ops_report: its graph's zone" "$(field ops_report timezone)" "America/New_York"
expect_eq "ops_report: its graph's delay" "$(field ops_report delay)" "90m"
expect_eq "ops_report due" "$(field ops_report due)" "start"
expect_eq "ops_report catch-up" "$(field ops_report catchup)" "latest"
ds -c schedule
expect_exit 0
expect_stdout_matches '^ +task +\| graph \| paused \| +next_key +\| +next_due_at +\| enqueue \| last_key \|'
expect_stdout_matches '^ +orders_daily +\| core +\| no +\| '
expect_stdout_matches '\(3 rows\)'
if grep -q adhoc "$OUT"; then fail "adhoc is listed: $(cat "$OUT")"; fi
end_case

begin "the next key is the first not yet due, with its due time: a delayed schedule and a time-zoned one"
use_stage loaded
ds -c 'schedule --json'
expect_exit 0
# Worked out here from the rule itself, not from key_due_at: a daily key is due when
# its day has ended in the zone, plus the delay; the next one is the day that the
# moment less the delay falls in (or, due at its start, the day after).
expect_sql "orders_daily next key and due time (UTC, 2h)" "
	SELECT k || ' ' || to_char((k::date + 1) + interval '2 hours', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')
	FROM (SELECT to_char(now() AT TIME ZONE 'UTC' - interval '2 hours', 'YYYY-MM-DD') AS k) x" \
	"$(field orders_daily next_key) $(field orders_daily next_due_at)"
expect_sql "ops_report next key and due time (New York, 90m, at its start)" "
	SELECT k || ' ' || to_char((k::date::timestamp AT TIME ZONE 'America/New_York' + interval '90 minutes')
	                           AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')
	FROM (SELECT to_char((now() - interval '90 minutes') AT TIME ZONE 'America/New_York'
	                     + interval '1 day', 'YYYY-MM-DD') AS k) x" \
	"$(field ops_report next_key) $(field ops_report next_due_at)"
expect_sql "clicks_hourly next key: the hour under way" "
	SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24')" \
	"$(field clicks_hourly next_key)"
end_case

begin "enqueue is what the next pass enqueues; after the pass the last key moves on and nothing is left"
use_stage loaded
ds -c 'schedule --json'
expect_exit 0
orders=$(field orders_daily enqueue)
clicks=$(field clicks_hourly enqueue)
ops=$(field ops_report enqueue)
expect_eq "ops_report, latest only" "$ops" 1
expect_sql "orders_daily: from its start to the last due key" "
	SELECT count(*) FROM generate_series('$(days_ago 10)'::date,
	       (now() AT TIME ZONE 'UTC' - interval '2 hours')::date - 1, '1 day')" "$orders"
pass=$(sql "SELECT datashell.schedule_pass()::jsonb -> 'tasks'")
expect_eq "the pass enqueued what schedule said" "$pass" \
	"{\"ops_report\": $ops, \"orders_daily\": $orders, \"clicks_hourly\": $clicks}"
ds -c 'schedule --json'
expect_exit 0
expect_eq "orders_daily enqueue after the pass" "$(field orders_daily enqueue)" 0
expect_eq "ops_report enqueue after the pass" "$(field ops_report enqueue)" 0
expect_sql "orders_daily last key: the key before the next" "
	SELECT to_char((now() AT TIME ZONE 'UTC' - interval '2 hours')::date - 1, 'YYYY-MM-DD')" \
	"$(field orders_daily last_key)"
end_case

begin "a paused graph's schedules show paused, with nothing to enqueue"
use_stage loaded
setup "$DATASHELL" -c 'pipeline pause core'
ds -c 'schedule --json'
expect_exit 0
expect_eq "orders_daily paused" "$(field orders_daily paused)" "true"
expect_eq "orders_daily enqueue" "$(field orders_daily enqueue)" 0
expect_eq "ops_report paused" "$(field ops_report paused)" "false"
ds -c 'pipeline show orders_daily'
expect_exit 0
expect_stdout_matches "^Schedule +from $(days_ago 10), due 2h after the end \(UTC\), catch-up all, lookback 1, priority 10 \(paused with its graph\)$"
ds -c 'pipeline show adhoc'
expect_stdout_matches '^Schedule +none: run by hand; keys due at the end \(UTC\)$'
end_case

begin "a selector narrows the list; a selection without a schedule says so; a bad one fails"
use_stage loaded
ds -c 'schedule graph:ops --json'
expect_exit 0
expect_eq "graph:ops" "$(listed)" "ops_report"
ds -c 'schedule /_daily$/,clicks_hourly --json'
expect_exit 0
expect_eq "a pattern and a name" "$(listed)" "clicks_hourly,orders_daily"
ds -c 'schedule adhoc'
expect_exit 0
expect_stdout_matches '^the task selected has no schedule; a "schedule" with a "start"'
ds -c 'schedule adhoc --json'
expect_exit 0
expect_eq "adhoc, as JSON" "$(listed)" ""
ds -c 'schedule orders_dialy'
expect_exit 3
expect_stderr_matches "unknown task 'orders_dialy' \(did you mean 'orders_daily'\?\)"
ds -c 'schedule a b'
expect_exit 3
expect_stderr_matches "'schedule' takes at most 1 argument"
end_case

begin "pipeline load says how many runs the next pass will enqueue for a new schedule"
use_stage loaded
write_pipeline new.json '{"start": "'"$(days_ago 5)"'"}'
ds -c 'pipeline load new.json'
expect_exit 0
expect_stdout_matches '^the next schedule pass will enqueue 5 runs: adhoc 5$'
ds -c 'pipeline load new.json'
expect_exit 0
if grep -q 'schedule pass' "$OUT"; then fail "an unchanged load speaks of the schedule: $(cat "$OUT")"; fi
end_case

begin "pipeline load counts the keys a start moved earlier opens, after a pass"
use_stage loaded
sql "SELECT datashell.schedule_pass()" >/dev/null
write_pipeline earlier.json "" "$(days_ago 13)"
ds -c 'pipeline load earlier.json --json'
expect_exit 0
expect_eq "the plan" "$(json_get '{schedule}' <"$OUT")" '{"runs":3,"tasks":{"orders_daily":3}}'
sql "SELECT datashell.schedule_pass()" >/dev/null
expect_sql "the pass enqueued those three" "
	SELECT string_agg(r.key, ',' ORDER BY r.key) FROM datashell.runs r
	JOIN datashell.tasks t ON t.id = r.task_id
	WHERE t.name = 'orders_daily' AND r.key < '$(days_ago 10)'" \
	"$(days_ago 13),$(days_ago 12),$(days_ago 11)"
end_case

begin "a task whose keys change kind starts its schedule again, and the load counts it"
use_stage loaded
sql "SELECT datashell.schedule_pass()" >/dev/null
write_pipeline hourly.json
sed 's/"name": "orders_daily", "graph": "core", "key": "daily"/"name": "orders_daily", "graph": "core", "key": "hourly"/' \
	hourly.json >hourly2.json
ds -c 'pipeline load hourly2.json --json'
expect_exit 0
planned=$(json_get '{schedule}{tasks}{orders_daily}' <"$OUT")
ds -c 'schedule orders_daily --json'
expect_exit 0
expect_eq "the plan counts what schedule then says" "$planned" "$(field orders_daily enqueue)"
expect_sql "the hours from the start to the last due one" "
	SELECT count(*) FROM generate_series('$(days_ago 10)'::timestamp,
	       date_trunc('hour', now() AT TIME ZONE 'UTC' - interval '2 hours') - interval '1 hour',
	       '1 hour')" "$planned"
end_case

begin "a dry run says the same and leaves nothing"
use_stage loaded
write_pipeline new.json '{"start": "'"$(days_ago 2)"'", "catchup": "latest"}'
ds -c 'pipeline load --dry-run new.json'
expect_exit 0
expect_stdout_matches '^the next schedule pass would enqueue 1 run: adhoc 1$'
expect_stdout_matches 'nothing was changed$'
expect_sql "adhoc has no schedule" "
	SELECT definition ? 'schedule' FROM datashell.tasks WHERE name = 'adhoc'" "f"
expect_sql "no run, no schedule state" "
	SELECT (SELECT count(*) FROM datashell.runs) + (SELECT count(*) FROM datashell.schedule_state)" 0
ds -c 'schedule adhoc --json'
expect_eq "adhoc still unscheduled" "$(listed)" ""
end_case

begin "at a terminal, a load whose next pass would enqueue more than 1000 runs asks first; no loads nothing"
use_stage loaded
write_pipeline pipeline.json
perl -MJSON::PP -e '
	local $/; my $d = JSON::PP->new->decode(<STDIN>);
	push @{ $d->{tasks} }, {name => "big_hourly", graph => "core", key => "hourly",
	                        sql => "SELECT 1", schedule => {start => $ARGV[0]}};
	print JSON::PP->new->canonical->encode($d);
' "$(days_ago 60)" <pipeline.json >big.json
TERM=xterm DATASHELL_PAGER= "$DS_PTYRUN" -t 15 -- "$DATASHELL" >"$OUT" 2>"$ERR" <<-'END'
	expect datashell> $
	sendline pipeline load big.json
	expect big_hourly +\| +[0-9]+
	expect load the files and let the next schedule pass enqueue [0-9]+ runs\? \[y/N\] $
	sendline n
	expect nothing changed: did not load the files and let the next schedule pass enqueue[[:space:]]+[0-9]+ runs
	expect datashell> $
	sendline pipeline load big.json
	expect \[y/N\] $
	sendline y
	expect the next schedule pass will enqueue [0-9]+ runs: big_hourly [0-9]+
	expect datashell> $
	sendline quit
	wait 0
END
CODE=$?
expect_exit 0
expect_sql "big_hourly loaded once, audited once" "
	SELECT count(*) || ' ' || (SELECT count(*) FROM datashell.audit_log
	                           WHERE command = 'pipeline load big.json' AND outcome = 'ok')
	FROM datashell.tasks WHERE name = 'big_hourly'" "1 1"
ds -c 'pipeline load big.json'
expect_exit 0
expect_stdout_matches 'no changes'
end_case

begin "tab completes the command and its selector"
use_stage loaded
TERM=xterm "$DS_PTYRUN" -t 15 -- "$DATASHELL" >"$OUT" 2>"$ERR" <<-'END'
	expect datashell> $
	send sched\t
	expect schedule $
	send orders_d\t
	expect orders_daily $
	send \b,graph:o\t
	expect ,graph:ops $
	sendline
	expect \(2 rows\)
	expect datashell> $
	sendline quit
	wait 0
END
CODE=$?
expect_exit 0
end_case

done_testing
