#!/bin/sh
# When keys are due (definitions/15-due.sql), and the schedules of pipeline files that
# say so: read, checked field by field, merged over their graph's.
. "$DS_TOP/tests/lib.sh"
use_fresh_database t_due

stage_initialized() {
	use_fresh_database t_due
	setup "$DATASHELL" -c init
}

# Every moment from $1 to $2 (every 10 minutes) against every schedule of $3 (a VALUES
# list of jsonb): last_due_key must be the last key whose key_due_at has come, among
# the keys of the days around.
last_due_disagreements() {
	sql "SET search_path = datashell;
	WITH s(s) AS (SELECT task_schedule(v, NULL) FROM (VALUES $3) AS v(v)),
	     ats AS (SELECT g AS at FROM generate_series('$1'::timestamptz, '$2', '10 min') g),
	     hours AS (SELECT to_char(g, 'YYYY-MM-DD\"T\"HH24') AS k
	               FROM generate_series('$1'::timestamptz AT TIME ZONE 'UTC' - interval '3 days',
	                                    '$2'::timestamptz AT TIME ZONE 'UTC' + interval '3 days',
	                                    '1 hour') g),
	     days AS (SELECT DISTINCT left(k, 10) AS k FROM hours)
	SELECT count(*) FILTER (WHERE last_due_key('hourly', s, at)
	                              IS DISTINCT FROM (SELECT max(k) FROM hours
	                                                WHERE key_due_at('hourly', k, s) <= at))
	       + count(*) FILTER (WHERE last_due_key('daily', s, at)
	                                IS DISTINCT FROM (SELECT max(k) FROM days
	                                                  WHERE key_due_at('daily', k, s) <= at))
	       || ' of ' || count(*)
	FROM ats, s"
}

begin "a key is due when its period ends in its zone, plus the delay, or when it begins"
use_stage initialized
expect_sql "daily, UTC, no delay" "SELECT datashell.iso_utc(datashell.key_due_at('daily', '2026-12-02',
	datashell.task_schedule(NULL, NULL)))" "2026-12-03T00:00:00Z"
expect_sql "daily, 2h delay" "SELECT datashell.iso_utc(datashell.key_due_at('daily', '2026-12-02',
	datashell.task_schedule('{\"delay\": 7200}', NULL)))" "2026-12-03T02:00:00Z"
expect_sql "daily, New York" "SELECT datashell.iso_utc(datashell.key_due_at('daily', '2026-12-02',
	datashell.task_schedule('{\"timezone\": \"America/New_York\"}', NULL)))" "2026-12-03T05:00:00Z"
expect_sql "daily, at its start" "SELECT datashell.iso_utc(datashell.key_due_at('daily', '2026-12-02',
	datashell.task_schedule('{\"due\": \"start\", \"delay\": 60}', NULL)))" "2026-12-02T00:01:00Z"
expect_sql "hourly, 30 minutes delay" "SELECT datashell.iso_utc(datashell.key_due_at('hourly', '2026-12-02T23',
	datashell.task_schedule('{\"delay\": 1800}', NULL)))" "2026-12-03T00:30:00Z"
expect_sql "none is always due" "SELECT datashell.key_due_at('none', '',
	datashell.task_schedule('{\"delay\": 1800}', NULL))" "-infinity"
expect_sql "last due key: a second before and at the moment" "
	SELECT datashell.last_due_key('daily', s, '2026-12-03 01:59:59Z') || ' '
	       || datashell.last_due_key('daily', s, '2026-12-03 02:00:00Z')
	FROM datashell.task_schedule('{\"delay\": 7200}', NULL) s" "2026-12-01 2026-12-02"
end_case

begin "the days the clocks change: the skipped hour is due with the one before, the repeated one after its second pass"
use_stage initialized
expect_sql "Berlin, spring" "SELECT string_agg(k || '=' || to_char(datashell.key_due_at('hourly', k,
	datashell.task_schedule('{\"timezone\": \"Europe/Berlin\"}', NULL)) AT TIME ZONE 'UTC', 'HH24:MI'), ' ' ORDER BY k)
	FROM unnest(ARRAY['2026-03-29T01', '2026-03-29T02', '2026-03-29T03']) k" \
	"2026-03-29T01=01:00 2026-03-29T02=01:00 2026-03-29T03=02:00"
expect_sql "Berlin, autumn" "SELECT string_agg(k || '=' || to_char(datashell.key_due_at('hourly', k,
	datashell.task_schedule('{\"timezone\": \"Europe/Berlin\"}', NULL)) AT TIME ZONE 'UTC', 'HH24:MI'), ' ' ORDER BY k)
	FROM unnest(ARRAY['2026-10-25T00', '2026-10-25T01', '2026-10-25T02', '2026-10-25T03']) k" \
	"2026-10-25T00=23:00 2026-10-25T01=01:00 2026-10-25T02=02:00 2026-10-25T03=03:00"
expect_sql "a Berlin day of 23 hours is due at its local midnight" "SELECT datashell.iso_utc(datashell.key_due_at(
	'daily', '2026-03-29', datashell.task_schedule('{\"timezone\": \"Europe/Berlin\"}', NULL)))" \
	"2026-03-29T22:00:00Z"
BERLIN="('{\"timezone\": \"Europe/Berlin\"}'::jsonb), ('{\"timezone\": \"Europe/Berlin\", \"due\": \"start\"}'),
	('{\"timezone\": \"Europe/Berlin\", \"delay\": 5400}')"
expect_eq "Berlin, spring: the last due key agrees with key_due_at" \
	"$(last_due_disagreements '2026-03-28 18:00Z' '2026-03-30 06:00Z' "$BERLIN")" "0 of 651"
expect_eq "Berlin, autumn" \
	"$(last_due_disagreements '2026-10-24 18:00Z' '2026-10-26 06:00Z' "$BERLIN")" "0 of 651"
expect_eq "New York, autumn" \
	"$(last_due_disagreements '2026-10-31 18:00Z' '2026-11-02 12:00Z' \
		"('{\"timezone\": \"America/New_York\"}'::jsonb), ('{\"timezone\": \"America/New_York\", \"due\": \"start\", \"delay\": 600}')")" \
	"0 of 506"
end_case

begin "schedules load normalized, a graph's under its tasks'"
use_stage initialized
cat >"$WORK/p.json" <<-'END'
	{"graphs": {"core": {"schedule": {"start": "2026-11-25", "delay": "2h", "timezone": "Europe/Paris"}}},
	 "tasks": [
	  {"name": "a", "graph": "core", "key": "daily", "sql": "SELECT 1", "schedule": {"lookback": 2, "catchup": "7d"}},
	  {"name": "h", "graph": "core", "key": "hourly", "sql": "SELECT 1",
	   "schedule": {"catchup": "latest", "timezone": "UTC", "due": "start", "priority": 50}},
	  {"name": "m", "graph": "core", "key": "daily", "sql": "SELECT 1", "schedule": false},
	  {"name": "n", "graph": "core", "key": "none", "sql": "SELECT 1"}]}
END
ds -c "pipeline load $WORK/p.json"
expect_exit 0
expect_sql "graph" "SELECT schedule FROM datashell.graphs" \
	'{"delay": 7200, "start": "2026-11-25", "timezone": "Europe/Paris"}'
expect_sql "in force" "SELECT string_agg(t.name || ' ' || datashell.task_schedule(t.definition->'schedule', g.schedule)::text, ' | ' ORDER BY t.name)
	FROM datashell.tasks t JOIN datashell.graphs g ON g.name = t.graph" \
	'a {"due": "end", "delay": 7200, "start": "2026-11-25", "catchup": 604800, "lookback": 2, "priority": 10, "timezone": "Europe/Paris"} | h {"due": "start", "delay": 7200, "start": "2026-11-25", "catchup": "latest", "lookback": 0, "priority": 50, "timezone": "UTC"} | m {"due": "end", "delay": 0, "catchup": "all", "lookback": 0, "priority": 10, "timezone": "UTC"} | n {"due": "end", "delay": 7200, "start": "2026-11-25", "catchup": "all", "lookback": 0, "priority": 10, "timezone": "Europe/Paris"}'
expect_sql "scheduled" "SELECT string_agg(t.name || ' ' || s.start, ', ' ORDER BY t.name)
	FROM datashell.schedule_tasks(now()) s JOIN datashell.tasks t ON t.id = s.task_id" \
	"a 2026-11-25, h 2026-11-25T00"
ds -c "pipeline load $WORK/p.json"
expect_stdout <<-'END'
	loaded 1 file: no changes (4 tasks unchanged)
END
end_case

begin "a file without schedules loads as it did: its definitions are unchanged"
use_stage initialized
cat >"$WORK/p.json" <<-'END'
	{"graphs": {"g": {}}, "tasks": [{"name": "a", "graph": "g", "key": "daily", "sql": "SELECT 1"}]}
END
ds -c "pipeline load $WORK/p.json"
expect_exit 0
expect_sql "no schedule field" "SELECT definition ? 'schedule' FROM datashell.tasks" f
expect_sql "graph" "SELECT schedule FROM datashell.graphs" '{}'
end_case

begin "a bad schedule is refused with its file, task and field, and nothing is loaded"
use_stage initialized
cat >"$WORK/bad.json" <<-'END'
	{"graphs": {"core": {"schedule": {"start": "2026-11-25T03", "delay": "-2h", "timezone": "Nowhere/Town"}}},
	 "tasks": [
	  {"name": "a", "graph": "core", "key": "daily", "sql": "SELECT 1",
	   "schedule": {"start": "2026-13-01", "catchup": "sometimes", "lookback": -1, "timezone": "Mars/Base", "due": "middle"}},
	  {"name": "h", "graph": "core", "key": "hourly", "sql": "SELECT 1",
	   "schedule": {"catchup": true, "lookback": 1.5, "start": "2026-11", "delay": -5}},
	  {"name": "d", "graph": "core", "key": "daily", "sql": "SELECT 1",
	   "schedule": {"start": "2026-11-25T03", "lookback": 1001, "catchup": "0s", "every": "1d"}},
	  {"name": "n", "graph": "core", "key": "none", "sql": "SELECT 1", "schedule": {"start": "2026-01-01"}},
	  {"name": "t", "graph": "core", "key": "daily", "sql": "SELECT 1", "schedule": true}]}
END
ds -c "pipeline load $WORK/bad.json"
expect_exit 3
expect_stderr <<-END
	datashell: error: $WORK/bad.json: graphs.core.schedule.start: invalid start '2026-11-25T03': a graph's schedule starts on a date
	$WORK/bad.json: graphs.core.schedule.delay: invalid duration '-2h': give seconds or a duration such as "30s", "5m", "1h" or "7d"
	$WORK/bad.json: tasks[0] (a).schedule.start: invalid start '2026-13-01': expected a date such as "2024-01-01"
	$WORK/bad.json: tasks[0] (a).schedule.catchup: unknown catch-up policy 'sometimes': give "all", "latest" or a window such as "7d"
	$WORK/bad.json: tasks[0] (a).schedule.lookback: must be at least 0, got -1
	$WORK/bad.json: tasks[0] (a).schedule.due: unknown 'due' value 'middle'
	$WORK/bad.json: tasks[1] (h).schedule.start: invalid start '2026-11': expected a date such as "2024-01-01" or an hour such as "2024-01-01T06"
	$WORK/bad.json: tasks[1] (h).schedule.delay: must be at least 0, got -5
	$WORK/bad.json: tasks[1] (h).schedule.catchup: expected "all", "latest" or a window such as "7d", got a boolean
	$WORK/bad.json: tasks[1] (h).schedule.lookback: expected a whole number, got a fractional number
	$WORK/bad.json: tasks[2] (d).schedule: unknown field 'every'
	$WORK/bad.json: tasks[2] (d).schedule.start: invalid start '2026-11-25T03': the keys of a daily task are dates
	$WORK/bad.json: tasks[2] (d).schedule.catchup: must be at least 1s, got '0s'
	$WORK/bad.json: tasks[2] (d).schedule.lookback: must be at most 1000, got 1001
	$WORK/bad.json: tasks[3] (n).schedule: a task with key 'none' has no keys to schedule; give false to take no schedule from its graph
	$WORK/bad.json: tasks[4] (t).schedule: expected an object, or false for none, got a boolean
	$WORK/bad.json: tasks[0] (a).schedule.timezone: unknown time zone 'Mars/Base': the server has no such zone (see pg_timezone_names), such as 'Europe/Paris' or 'UTC'
	$WORK/bad.json: graphs.core.schedule.timezone: unknown time zone 'Nowhere/Town': the server has no such zone (see pg_timezone_names), such as 'Europe/Paris' or 'UTC'
	hint: nothing was changed; fix these problems and load again
END
expect_sql "graphs loaded" "SELECT count(*) FROM datashell.graphs" 0
expect_sql "tasks loaded" "SELECT count(*) FROM datashell.tasks" 0
end_case

done_testing
