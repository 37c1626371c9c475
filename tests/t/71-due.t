#!/bin/sh
# Keys that are not due yet are never run: the runs table refuses them whoever inserts,
# backfill and force-run cut a range at each task's last due key (and fail when nothing
# is due), status marks them, and they are never late. The clock is the server's; the
# expectations are read from date(1) in UTC, as the server's are, by cases that start
# well before the next hour (away_from_boundary).
. "$DS_TOP/tests/lib.sh"
use_fresh_database t_due71
export TZ=UTC

day() {	# OFFSET-IN-DAYS: that UTC date, as a key
	date -u -d "$1 days" +%Y-%m-%d
}

# plain: daily, due at the end of its day in UTC. late: due 2 days after. kiri: due at
# the end of its day in Kiritimati (UTC+14). hourly: hours. snap: due at the start of its
# day (a snapshot). once: a task of key none.
stage_tasks() {
	use_fresh_database t_due71
	cat >"$WORK/p.json" <<-'END'
	{"graphs": {"g": {}},
	 "tasks": [
	  {"name": "plain", "graph": "g", "key": "daily", "sql": "SELECT 1"},
	  {"name": "late", "graph": "g", "key": "daily", "sql": "SELECT 1", "schedule": {"delay": "48h"}},
	  {"name": "kiri", "graph": "g", "key": "daily", "sql": "SELECT 1",
	   "schedule": {"timezone": "Pacific/Kiritimati"}},
	  {"name": "hourly", "graph": "g", "key": "hourly", "sql": "SELECT 1"},
	  {"name": "snap", "graph": "g", "key": "daily", "sql": "SELECT 1", "schedule": {"due": "start"}},
	  {"name": "once", "graph": "g", "key": "none", "sql": "SELECT 1"}]}
	END
	setup "$DATASHELL" -c init -c "pipeline load $WORK/p.json"
}

state() {	# everything a refused command must leave as it was
	sql "SELECT (SELECT count(*) FROM datashell.runs) || ' runs, '
	         || (SELECT count(*) FROM datashell.batches) || ' batches, '
	         || (SELECT count(*) FROM datashell.partitions) || ' partitions'"
}

last_audit() {
	sql "SELECT command || ' | ' || outcome || ' | ' || coalesce(error, '')
	     FROM datashell.audit_log ORDER BY id DESC LIMIT 1"
}

begin "the runs table refuses a key that is not due, whoever inserts it"
use_stage tasks
away_from_boundary
today=$(day 0)
tomorrow=$(day 1)
sql "INSERT INTO datashell.runs (task_id, key) SELECT id, '$today' FROM datashell.tasks WHERE name = 'plain'" \
	>"$WORK/out" 2>&1 && fail "today's key was inserted"
expect_eq "the refusal" "$(grep ERROR "$WORK/out")" \
	"ERROR:  run of task plain for key '$today' refused: the key is not due until ${tomorrow}T00:00:00Z (a key is due once its period has ended, in its task's time zone, plus its delay)"
sql "INSERT INTO datashell.runs (task_id, key)
     SELECT t.id, to_char(d, 'YYYY-MM-DD')
     FROM datashell.tasks t, generate_series('$(day -30)'::date, '$(day 0)'::date, interval '1 day') d
     WHERE t.name = 'plain'" >"$WORK/out" 2>&1 && fail "a range into today was inserted"
expect_eq "one future key in a bulk insert refuses the statement" "$(state)" "0 runs, 0 batches, 0 partitions"
sql "INSERT INTO datashell.runs (task_id, key) SELECT id, '$(day -2)' FROM datashell.tasks WHERE name = 'late'" \
	>"$WORK/out" 2>&1 && fail "a key within the delay was inserted"
expect_eq "the delay counts" "$(grep -c "not due until $(day 1)T00:00:00Z" "$WORK/out")" 1
sql "INSERT INTO datashell.runs (task_id, key) SELECT id, '$(day -4)' FROM datashell.tasks WHERE name = 'late'
     UNION ALL SELECT id, '' FROM datashell.tasks WHERE name = 'once'" >/dev/null
expect_eq "due keys go in" "$(state)" "2 runs, 0 batches, 2 partitions"
sql "UPDATE datashell.runs SET key = '$today' WHERE key = '$(day -4)'" >"$WORK/out" 2>&1 &&
	fail "a run was moved to a key not due"
expect_eq "nor may a run be moved to one" "$(grep -c 'is not due until' "$WORK/out")" 1
end_case

begin "backfill cuts a range into the future per task, and the plan says so"
use_stage tasks
away_from_boundary
first=$(day -5)
last=$(day 5)
kiri_last=$(TZ=Pacific/Kiritimati date -d yesterday +%Y-%m-%d)
kiri_due=$(( ( $(date -u -d "$kiri_last" +%s) - $(date -u -d "$first" +%s) ) / 86400 + 1 ))
ds -c "backfill plain,late,kiri,once $first..$last --dry-run --json"
expect_exit 0
expect_eq "plain: due until yesterday" \
	"$(json_get '{plan}[3]{task}' <"$OUT") $(json_get '{plan}[3]{keys}' <"$OUT") $(json_get '{plan}[3]{not_due}' <"$OUT") $(json_get '{plan}[3]{enqueue}' <"$OUT")" \
	"plain 11 6 5"
expect_eq "late: until 3 days ago" \
	"$(json_get '{plan}[1]{task}' <"$OUT") $(json_get '{plan}[1]{not_due}' <"$OUT") $(json_get '{plan}[1]{enqueue}' <"$OUT")" \
	"late 8 3"
expect_eq "kiri: until yesterday in Kiritimati" \
	"$(json_get '{plan}[0]{task}' <"$OUT") $(json_get '{plan}[0]{enqueue}' <"$OUT")" "kiri $kiri_due"
expect_eq "once: always due" \
	"$(json_get '{plan}[2]{task}' <"$OUT") $(json_get '{plan}[2]{not_due}' <"$OUT") $(json_get '{plan}[2]{enqueue}' <"$OUT")" \
	"once 0 1"
expect_eq "the not-due section: plain" "$(json_get '{not_due}[2]' <"$OUT")" \
	"{\"due_at\":\"$(day 1)T00:00:00Z\",\"from\":\"$(day 0)\",\"keys\":6,\"task\":\"plain\"}"
expect_eq "late" "$(json_get '{not_due}[1]' <"$OUT")" \
	"{\"due_at\":\"$(day 1)T00:00:00Z\",\"from\":\"$(day -2)\",\"keys\":8,\"task\":\"late\"}"
expect_eq "kiri" "$(json_get '{not_due}[0]{from}' <"$OUT")" "$(date -u -d "$kiri_last + 1 day" +%Y-%m-%d)"
expect_eq "no section entry for a task with nothing cut" "$(json_get '{not_due}[3]' <"$OUT")" null
expect_eq "the dry run changed nothing" "$(state)" "0 runs, 0 batches, 0 partitions"
ds -c "backfill plain,late,kiri,once $first..$last"
expect_exit 0
expect_stdout_matches '^Not due$'
expect_stdout_matches "^   plain \| +6 \| $(day 0) \| $(day 1)T00:00:00Z \(in [0-9]+[hm]\)"
expect_stdout_matches "^   late  \| +8 \| $(day -2) \|"
expect_sql "enqueued up to each task's last due key" "
	SELECT string_agg(t.name || ' ' || r.n || ' ' || r.last, ', ' ORDER BY t.name)
	FROM (SELECT task_id, count(*) AS n, max(key) AS last FROM datashell.runs GROUP BY task_id) r
	JOIN datashell.tasks t ON t.id = r.task_id" \
	"kiri $kiri_due $kiri_last, late 3 $(day -3), once 1 , plain 5 $(day -1)"
end_case

begin "a range with nothing due fails, says when the keys become due, and changes nothing"
use_stage tasks
away_from_boundary
ds -c "backfill plain,late 2099-01-01..2099-01-31"
expect_exit 3
expect_stderr <<-END
	datashell: error: nothing to run: no key of 2099-01-01..2099-01-31 is due yet
	  late: 2099-01-01 becomes due at 2099-01-04T00:00:00Z
	  plain: 2099-01-01 becomes due at 2099-01-02T00:00:00Z
	hint: a key is due once its period has ended, in its task's time zone, plus its delay (datashell-pipelines(5), SCHEDULES)
END
expect_eq "state" "$(state)" "0 runs, 0 batches, 0 partitions"
expect_eq "audited as refused" "$(last_audit)" \
	"backfill plain,late 2099-01-01..2099-01-31 | failed | nothing to run: no key of 2099-01-01..2099-01-31 is due yet
  late: 2099-01-01 becomes due at 2099-01-04T00:00:00Z
  plain: 2099-01-01 becomes due at 2099-01-02T00:00:00Z"
ds -c "backfill plain 2099-01-01..2099-01-31 --dry-run --json"
expect_exit 3
expect_stderr_matches '^datashell: error: nothing to run: no key of 2099-01-01..2099-01-31 is due yet$'
ds -c "backfill plain 2099-02 --json"
expect_exit 3
expect_stderr_matches '^  plain: 2099-02-01 becomes due at 2099-02-02T00:00:00Z$'
ds -c "backfill plain today"
expect_exit 3
expect_stderr_matches "^datashell: error: nothing to run: $(day 0) is not due yet$"
expect_stderr_matches "^  plain: $(day 0) becomes due at $(day 1)T00:00:00Z$"
ds -c "backfill late yesterday"
expect_exit 3
expect_stderr_matches "^  late: $(day -1) becomes due at $(day 2)T00:00:00Z$"
expect_eq "state after all" "$(state)" "0 runs, 0 batches, 0 partitions"
ds -c "backfill plain,late yesterday --json"
expect_exit 0
expect_eq "one task due, the other cut" \
	"$(json_get '{enqueued}' <"$OUT") $(json_get '{not_due}[0]{task}' <"$OUT")" "1 late"
ds -c "backfill snap today..$(day 1) --json"
expect_exit 0
expect_eq "a snapshot's key is due when its day begins" \
	"$(json_get '{enqueued}' <"$OUT") $(json_get '{not_due}[0]{from}' <"$OUT") $(json_get '{not_due}[0]{due_at}' <"$OUT")" \
	"1 $(day 1) $(day 1)T00:00:00Z"
end_case

begin "force-run refuses a key that is not due, and runs it for the tasks it is due for"
use_stage tasks
away_from_boundary
ds -c "force-run plain today"
expect_exit 3
expect_stderr_matches "^  plain: $(day 0) becomes due at $(day 1)T00:00:00Z$"
ds -c "force-run plain today --dry-run"
expect_exit 3
expect_eq "state" "$(state)" "0 runs, 0 batches, 0 partitions"
expect_eq "audited" "$(last_audit | head -1)" \
	"force-run plain today | failed | nothing to run: $(day 0) is not due yet"
ds -c "force-run plain,late $(day -2) --dry-run --json"
expect_exit 0
expect_eq "the dry run's plan" "$(json_get '{plan}[0]{not_due}' <"$OUT") $(json_get '{plan}[1]{enqueue}' <"$OUT") $(json_get '{not_due}[0]{from}' <"$OUT")" \
	"1 1 $(day -2)"
ds -c "force-run plain,late $(day -2) --json"
expect_exit 0
expect_eq "enqueued" "$(json_get '{enqueued}' <"$OUT")" 1
expect_sql "the run" "SELECT t.name || ' ' || r.key FROM datashell.runs r JOIN datashell.tasks t ON t.id = r.task_id" \
	"plain $(day -2)"
end_case

begin "a month that has not ended is cut at its last due key"
use_stage tasks
away_from_boundary
month=$(date -u +%Y-%m)
days=$(date -u -d "$month-01 + 1 month - 1 day" +%d | sed 's/^0//')
dom=$(date -u +%d | sed 's/^0//')
ds -c "backfill plain $month --json"
if [ "$dom" = 1 ]; then
	expect_exit 3	# the first of the month: none of it is due yet
else
	expect_exit 0
	expect_eq "enqueued, cut" "$(json_get '{enqueued}' <"$OUT") $(json_get '{plan}[0]{not_due}' <"$OUT") $(json_get '{not_due}[0]{from}' <"$OUT")" \
		"$((dom - 1)) $((days - dom + 1)) $(day 0)"
fi
ds -c "backfill plain 2024-02 --json"
expect_exit 0
expect_eq "a month that has ended is due whole" \
	"$(json_get '{enqueued}' <"$OUT") $(json_get '{plan}[0]{not_due}' <"$OUT") $(json_get '{not_due}' <"$OUT")" "29 0 null"
end_case

begin "hourly keys: the hours not yet ended are not due"
use_stage tasks
away_from_boundary
hour=$(date -u +%H | sed 's/^0//')
ds -c "backfill hourly $(day -1)T00..$(day 0)T23 --json"
expect_exit 0
expect_eq "due: yesterday's hours and today's ended ones" \
	"$(json_get '{enqueued}' <"$OUT") $(json_get '{plan}[0]{not_due}' <"$OUT") $(json_get '{not_due}[0]{from}' <"$OUT")" \
	"$((24 + hour)) $((24 - hour)) $(date -u +%Y-%m-%dT%H)"
expect_eq "due at the end of the hour" "$(json_get '{not_due}[0]{due_at}' <"$OUT")" \
	"$(date -u -d '1 hour' +%Y-%m-%dT%H):00:00Z"
ds -c "force-run hourly $(date -u +%Y-%m-%dT%H)"
expect_exit 3
expect_stderr_matches "^  hourly: $(date -u +%Y-%m-%dT%H) becomes due at $(date -u -d '1 hour' +%Y-%m-%dT%H):00:00Z$"
end_case

begin "status marks keys that are not due yet with _, and --json says not_due"
use_stage tasks
away_from_boundary
sql "INSERT INTO datashell.runs (task_id, key, state) SELECT id, '$(day -2)', 'success' FROM datashell.tasks WHERE name = 'plain'" >/dev/null
ds -c "status plain,late $(day -3)..$(day 1) --json"
expect_exit 0
expect_eq "late: within its delay" "$(json_get '{tasks}[0]{strip}' <"$OUT")" ".____"
expect_eq "plain" "$(json_get '{tasks}[1]{strip}' <"$OUT")" ".#.__"
expect_eq "counted" "$(json_get '{tasks}[1]{not_due}' <"$OUT") $(json_get '{tasks}[1]{missing}' <"$OUT")" "2 2"
expect_eq "and named" "$(json_get "{tasks}[1]{states}{$(day 0)}" <"$OUT") $(json_get "{tasks}[1]{states}{$(day -1)}" <"$OUT")" \
	"not_due null"
ds -c "status plain $(day -3)..$(day 1)"
expect_exit 0
expect_stdout_matches '^Legend .* \. missing  _ not due yet  ! late'
# One line under the axis, or a line per month when the five days cross one's end.
expect_eq "the strip" "$(sed -n '/^Strips$/,/^Tasks$/p' "$OUT" |
	grep -E '^ +(plain|[0-9]{4}-[0-9]{2}) +[.#_]+$' | awk '{ printf "%s", $2 }')" ".#.__"
end_case

begin "a key that is not due is never late; SLAs apply to due keys of scheduled tasks and to enqueued keys"
use_fresh_database t_due71
away_from_boundary
cat >"$WORK/p.json" <<-END
	{"graphs": {"g": {}},
	 "tasks": [
	  {"name": "manual", "graph": "g", "key": "daily", "sql": "SELECT 1", "sla": {"within": "1s"}},
	  {"name": "slow", "graph": "g", "key": "daily", "sql": "SELECT 1", "sla": {"within": "1s"},
	   "schedule": {"delay": "72h", "start": "$(day -1)"}},
	  {"name": "sched", "graph": "g", "key": "daily", "sql": "SELECT 1", "sla": {"within": "1s"},
	   "schedule": {"start": "$(day -2)", "catchup": "latest"}}]}
END
setup "$DATASHELL" -c init -c "pipeline load $WORK/p.json"
sql "INSERT INTO datashell.runs (task_id, key, state) SELECT id, '$(day -2)', 'cancelled' FROM datashell.tasks WHERE name = 'manual'" >/dev/null
sql "SELECT datashell.check_slas()" >/dev/null
expect_sql "late keys" "SELECT string_agg(task || ' ' || key, ', ' ORDER BY task, key) FROM datashell.alerts WHERE kind = 'sla_missed'" \
	"manual $(day -2), sched $(day -2), sched $(day -1)"
expect_sql "the one rule, for a key not due past its SLA" "
	SELECT datashell.key_late('daily', '$(day -1)', '{\"within\": 1}', datashell.task_schedule('{\"delay\": 172800, \"start\": \"2024-01-01\"}', NULL), NULL, now())
	       || ' ' || datashell.key_late('daily', '$(day -1)', '{\"within\": 1}', datashell.task_schedule('{\"start\": \"2024-01-01\"}', NULL), NULL, now())" \
	"false true"
ds -c "status manual,slow,sched $(day -3)..$(day 0) --json"
expect_exit 0
expect_eq "manual: only the enqueued key is late" "$(json_get '{tasks}[0]{strip}' <"$OUT")" ".!._"
expect_eq "sched: due keys from its start" "$(json_get '{tasks}[1]{strip}' <"$OUT")" ".!!_"
expect_eq "slow: not due, so never late" "$(json_get '{tasks}[2]{strip}' <"$OUT")" "____"
ds -c "handoff --since 10d --json"
expect_exit 0
expect_eq "handoff's late keys" "$(perl -MJSON::PP -e 'local $/; print join ",", map { "$_->{task} $_->{key}" }
	sort @{ decode_json(<STDIN>)->{late_keys} }' <"$OUT")" "manual $(day -2),sched $(day -2),sched $(day -1)"
end_case

done_testing
