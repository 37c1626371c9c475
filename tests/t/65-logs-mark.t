#!/bin/sh
# History and marks: logs lists every run of one key, newest first, with its worker,
# attempts, times, state, error, output, version and table; mark records keys as done
# without running them, so that downstream runs, status shows a skipped key as s, and the
# key is neither late nor stale. Refused marks change nothing; the audit log keeps the
# reason; a viewer may read the history but not mark (the database refuses it).
. "$DS_TOP/tests/lib.sh"
# Roles belong to the whole server: this script has a server of its own.
use_private_server
use_fresh_database t_logs
export TZ=UTC

VIEWER=t_logs_viewer OPERATOR=t_logs_operator
"$DATASHELL" -c init >/dev/null 2>&1 || { echo "Bail out! init failed"; exit 1; }
sql "CREATE ROLE $VIEWER LOGIN IN ROLE datashell_viewer;
     CREATE ROLE $OPERATOR LOGIN IN ROLE datashell_operator" >/dev/null ||
	{ echo "Bail out! could not create the users"; exit 1; }

# raw prints a line and fails until $WORK/ok exists; clean, downstream of raw, prints
# one. raw is late at 06:00 UTC the next day.
PIPE=$WORK/pipe.json
cat >"$PIPE" <<END
{"graphs": {"core": {}},
 "tasks": [
  {"name": "raw", "graph": "core", "key": "daily",
   "command": "echo raw-\$DS_KEY; test -e $WORK/ok || { echo no-data >&2; exit 1; }",
   "sla": {"time": "06:00", "timezone": "UTC"}},
  {"name": "clean", "graph": "core", "key": "daily", "depends_on": ["raw"],
   "command": "echo clean-\$DS_KEY"}]}
END

# loaded: the pipeline loaded, nothing run. ran: raw 2024-01-01 failed once, then
# succeeded.
stage_loaded() {
	use_fresh_database t_logs
	setup "$DATASHELL" -c init -c "pipeline load $PIPE"
}
stage_ran() {
	use_stage loaded
	rm -f "$WORK/ok"
	setup_failing "$DATASHELL" --keep-going -c 'force-run raw 2024-01-01' -c 'worker --drain' \
		-c 'status raw 2024-01-01'
	touch "$WORK/ok"
	setup "$DATASHELL" -c 'force-run raw 2024-01-01' -c 'worker --drain'
	rm -f "$WORK/ok"
}

begin "logs lists the runs of a key newest first, with output, error and version"
use_stage ran
ds -c 'logs raw 2024-01-01 --json'
expect_exit 0
expect_eq "two runs, newest first" "$(perl -MJSON::PP -e 'local $/; print join " ",
	map { "$_->{state}:$_->{attempt}:$_->{error_class}" } @{ decode_json(<STDIN>) }' <"$OUT")" \
	"success:1: failed:1:error"
expect_eq "ids descending" "$(json_get '[0]{run}' <"$OUT")" \
	"$(sql "SELECT max(id) FROM datashell.runs")"
expect_eq "output" "$(json_get '[0]{output}' <"$OUT")" "raw-2024-01-01"
expect_eq "error" "$(json_get '[1]{error}' <"$OUT" | grep -c no-data)" 1
expect_eq "version" "$(json_get '[0]{version}' <"$OUT")" \
	"$(sql "SELECT version FROM datashell.tasks WHERE name = 'raw'")"
expect_eq "table" "$(json_get '[0]{table}' <"$OUT"):$(json_get '[0]{swap}' <"$OUT")" "production:null"
expect_eq "worker" "$(json_get '[0]{worker}' <"$OUT" | grep -c .)" 1
expect_eq "duration" "$(json_get '[0]{duration_ms}' <"$OUT" | grep -cE '^[0-9]+$')" 1
expect_eq "fields" "$(perl -MJSON::PP -e 'local $/; print join ",", sort keys %{ decode_json(<STDIN>)->[0] }' <"$OUT")" \
	"attempt,batch,batch_kind,connection,duration_ms,earlier_attempts,error,error_class,finished_at,marked,marked_by,output,queued_at,reason,run,started_at,state,swap,table,version,worker"
ds -c 'logs raw 2024-01-01'
expect_exit 0
expect_stdout <<-END
	run 2  success  attempt 1  started $(sql "SELECT datashell.iso_utc(started_at) FROM datashell.runs WHERE id = 2")  ended $(sql "SELECT datashell.iso_utc(finished_at) || '  (' || to_char((extract(epoch FROM finished_at - started_at) * 1000)::bigint / 1000.0, 'FM0.000') || 's)' FROM datashell.runs WHERE id = 2")
	  batch 2 (force-run)  worker $(sql "SELECT worker FROM datashell.runs WHERE id = 2")  version $(sql "SELECT left(version, 12) FROM datashell.tasks WHERE name = 'raw'")  table production
	  output:
	    raw-2024-01-01

	run 1  failed  attempt 1  started $(sql "SELECT datashell.iso_utc(started_at) FROM datashell.runs WHERE id = 1")  ended $(sql "SELECT datashell.iso_utc(finished_at) || '  (' || to_char((extract(epoch FROM finished_at - started_at) * 1000)::bigint / 1000.0, 'FM0.000') || 's)' FROM datashell.runs WHERE id = 1")
	  batch 1 (force-run)  worker $(sql "SELECT worker FROM datashell.runs WHERE id = 1")  version $(sql "SELECT left(version, 12) FROM datashell.tasks WHERE name = 'raw'")  table production
	  error [error]:
	    exited with status 1: no-data
	  output:
	    raw-2024-01-01
	    no-data
END
end_case

begin "logs shows each attempt of a retried run, the failed ones kept"
use_stage loaded
rm -f "$WORK/ok"
sql "UPDATE datashell.tasks SET retries = 1, retry_delay_s = 0 WHERE name = 'raw'" >/dev/null
setup_failing "$DATASHELL" -c 'force-run raw 2024-01-01' -c 'worker --drain'
ds -c 'logs raw 2024-01-01 --json'
expect_exit 0
expect_eq "one run, two attempts" "$(json_get '[0]{state}' <"$OUT"):$(json_get '[0]{attempt}' <"$OUT"):$(json_get '[1]' <"$OUT")" "failed:2:null"
expect_eq "the first attempt" "$(json_get '[0]{earlier_attempts}[0]{attempt}' <"$OUT"):$(json_get '[0]{earlier_attempts}[0]{error_class}' <"$OUT"):$(json_get '[0]{earlier_attempts}[0]{output}' <"$OUT" | head -1):$(json_get '[0]{earlier_attempts}[1]' <"$OUT")" \
	"1:error:raw-2024-01-01:null"
expect_eq "its fields" "$(perl -MJSON::PP -e 'local $/; print join ",", sort keys %{ decode_json(<STDIN>)->[0]{earlier_attempts}[0] }' <"$OUT")" \
	"attempt,connection,duration_ms,error,error_class,finished_at,output,started_at,worker"
ds -c 'logs raw 2024-01-01'
expect_stdout_matches '^  attempt 1  failed, retried  started [0-9T:-]+Z  ended [0-9T:-]+Z  \([0-9.]+s\)  worker '
expect_stdout_matches '^      exited with status 1: no-data$'
end_case

begin "logs keeps the attempt a worker lost with its lease"
use_stage loaded
setup "$DATASHELL" -c 'force-run raw 2024-01-01'
sql "UPDATE datashell.runs SET state = 'running', worker = 'ghost', attempt = 1,
     started_at = now() - interval '1 minute', lease_until = now() - interval '1 second'" >/dev/null
touch "$WORK/ok"
setup "$DATASHELL" -c 'worker --drain'
rm -f "$WORK/ok"
ds -c 'logs raw 2024-01-01 --json'
expect_exit 0
expect_eq "the run" "$(json_get '[0]{state}' <"$OUT"):$(json_get '[0]{attempt}' <"$OUT")" "success:2"
expect_eq "the lost attempt" "$(json_get '[0]{earlier_attempts}[0]{attempt}' <"$OUT"):$(json_get '[0]{earlier_attempts}[0]{worker}' <"$OUT"):$(json_get '[0]{earlier_attempts}[0]{error}' <"$OUT")" \
	"1:ghost:the lease of worker ghost expired; queued again"
end_case

begin "logs takes yesterday for the key it names"
use_stage loaded
away_from_boundary
key=$(sql "SELECT to_char(now() AT TIME ZONE 'UTC' - interval '1 day', 'YYYY-MM-DD')")
setup "$DATASHELL" -c "force-run raw $key"
ds -c 'logs raw yesterday --json'
expect_exit 0
expect_eq "its run" "$(json_get '[0]{state}' <"$OUT")" queued
end_case

begin "logs: an unknown task, a bad key and a key with no run are errors"
use_stage ran
ds -c 'logs rwa 2024-01-01'
expect_exit 3
expect_stderr_matches "unknown task 'rwa' \(did you mean 'raw'\?\)"
ds -c 'logs raw 2024-01-01..2024-01-02'
expect_exit 3
expect_stderr_matches "'2024-01-01..2024-01-02' is not a key of task raw, whose keys are dates"
ds -c 'logs raw 2024-01-01T07'
expect_exit 3
expect_stderr_matches "'2024-01-01T07' is not a key of task raw, whose keys are dates"
ds -c 'logs raw 2024-01-02'
expect_exit 3
expect_stderr_matches "task raw has no run for key '2024-01-02'"
end_case

begin "mark --success lets the downstream task run, and logs shows who marked it and why"
use_stage loaded
ds -c 'mark raw 2024-01-05 --success --reason "loaded by hand, INC-7"'
expect_exit 0
expect_stdout_matches '^marked 1 key of raw success \(batch [0-9]+\)$'
setup "$DATASHELL" -c 'force-run clean 2024-01-05' -c 'worker --drain'
expect_outcome "downstream ran" clean 2024-01-05 "success|1|"
ds -c 'logs raw 2024-01-05 --json'
expect_eq "the mark" "$(json_get '[0]{state}' <"$OUT"):$(json_get '[0]{marked}' <"$OUT"):$(json_get '[0]{marked_by}' <"$OUT"):$(json_get '[0]{reason}' <"$OUT"):$(json_get '[0]{batch_kind}' <"$OUT")" \
	"success:true:$(sql 'SELECT current_user'):loaded by hand, INC-7:mark"
ds -c 'logs raw 2024-01-05'
expect_stdout_matches "^run [0-9]+  success  marked by $(sql 'SELECT current_user') at [0-9T:-]+Z: loaded by hand, INC-7\$"
expect_stdout_matches "^  batch [0-9]+ \(mark\)  version [0-9a-f]{12}  table production\$"
expect_sql "audited with the reason" "SELECT outcome || ' ' || command || ' ' || (detail->>'keys')
	FROM datashell.audit_log WHERE command LIKE 'mark %'" \
	'ok mark raw 2024-01-05 --success --reason "loaded by hand, INC-7" 1'
end_case

begin "mark --skipped: status shows s; the key is done, not late, not stale"
use_stage loaded
# A failed key beside them is late.
setup_failing "$DATASHELL" -c 'force-run raw 2024-01-01' -c 'worker --drain'
ds -c 'mark raw 2024-01-02..2024-01-03 --skipped --reason "shop closed" --json'
expect_exit 0
expect_eq "keys" "$(json_get '{keys}' <"$OUT")" '["2024-01-02","2024-01-03"]'
ds -c 'status raw 2024-01-01..2024-01-03 --json'
expect_eq "strip" "$(json_get '{tasks}[0]{strip}' <"$OUT")" "!ss"
expect_eq "counts" "$(json_get '{tasks}[0]{skipped}' <"$OUT"):$(json_get '{tasks}[0]{late}' <"$OUT"):$(json_get '{tasks}[0]{stale}' <"$OUT")" "2:1:0"
expect_eq "state" "$(json_get '{tasks}[0]{states}{2024-01-02}' <"$OUT")" "skipped"
expect_eq "late keys" "$(json_get '{tasks}[0]{late_keys}' <"$OUT")" '["2024-01-01"]'
ds -c 'status raw 2024-01-01..2024-01-03'
expect_stdout_matches '^Legend .* s skipped '
ds -c 'backfill raw+ 2024-01-02..2024-01-03 --dry-run --json'
expect_exit 0
expect_eq "the plan: raw complete, clean to run" "$(json_get '{plan}[1]{task}' <"$OUT"):$(json_get '{plan}[1]{complete}' <"$OUT"):$(json_get '{plan}[1]{enqueue}' <"$OUT"):$(json_get '{plan}[1]{stale}' <"$OUT") $(json_get '{plan}[0]{task}' <"$OUT"):$(json_get '{plan}[0]{enqueue}' <"$OUT")" \
	"raw:2:0:0 clean:2"
expect_sql "built by the task's version" "SELECT count(*) FROM datashell.partitions p
	JOIN datashell.tasks t ON t.id = p.task_id WHERE p.built_version = t.version AND p.state = 'success'" 2
end_case

begin "mark --dry-run checks the keys and changes nothing, and takes no batch id"
use_stage loaded
ds -c 'mark raw 2024-01-02 2024-01-03 --skipped --reason x --dry-run --json'
expect_exit 0
expect_eq "would mark" "$(json_get '{keys}' <"$OUT"):$(json_get '{dry_run}' <"$OUT")" '["2024-01-02","2024-01-03"]:true'
expect_eq "no batch, no runs" "$(json_get '{batch}' <"$OUT") $(json_get '{runs}' <"$OUT")" 'null []'
expect_sql "nothing marked" "SELECT count(*) FROM datashell.runs" 0
expect_sql "nothing audited" "SELECT count(*) FROM datashell.audit_log WHERE command LIKE 'mark %'" 0
expect_sql "no batch id taken" "SELECT is_called FROM datashell.batches_id_seq" f
expect_sql "no run id taken" "SELECT is_called FROM datashell.runs_id_seq" f
ds -c 'mark raw 2999-01-01 --skipped --reason x --dry-run'
expect_exit 3
expect_stderr_matches "the key is not due until"
ds -c "mark raw 2024-01-02T05 --skipped --reason x --dry-run"
expect_exit 3
expect_stderr_matches "'2024-01-02T05' is not a key of task raw, whose keys are dates"
ds -c 'backfill raw 2024-01-04'
ds -c 'mark raw 2024-01-03..2024-01-05 --skipped --reason x --dry-run'
expect_exit 3
expect_stderr_matches "key '2024-01-04' of task raw has a run queued"
ds -c 'mark raw 2024-01-02 --skipped --reason x --json'
expect_exit 0
expect_eq "the next mark takes the next batch id" "$(json_get '{batch}' <"$OUT")" 2
end_case

begin "at a terminal mark asks first; no changes nothing, yes marks"
use_stage loaded
TERM=xterm DATASHELL_PAGER= "$DS_PTYRUN" -t 15 -- "$DATASHELL" >"$OUT" 2>"$ERR" <<-'END'
	expect datashell> $
	sendline mark raw 2024-01-02 2024-01-03 --skipped --reason "shop closed"
	expect mark 2024-01-02 2024-01-03 of raw skipped\? \[y/N\] $
	sendline n
	expect nothing changed: did not mark 2024-01-02 2024-01-03 of raw skipped
	expect datashell> $
	sendline mark raw 2024-01-02 --skipped --reason "shop closed"
	expect \[y/N\] $
	sendline y
	expect marked 1 key of raw skipped \(batch [0-9]+\)
	expect datashell> $
	sendline quit
	wait 0
END
CODE=$?
expect_exit 0
expect_sql "one key marked" "SELECT string_agg(key || ' ' || marked, ',') FROM datashell.runs" "2024-01-02 skipped"
end_case

begin "refused marks change nothing"
use_stage loaded
setup "$DATASHELL" -c 'force-run raw 2024-01-01'
before=$(sql "SELECT count(*) || '/' || (SELECT count(*) FROM datashell.batches) FROM datashell.runs")
ds -c 'mark raw 2024-01-01 2024-01-02 --skipped --reason x'
expect_exit 3
expect_stderr_matches "key '2024-01-01' of task raw has a run queued \(run [0-9]+\)"
ds -c 'mark raw 2999-01-01 --skipped --reason x'
expect_exit 3
expect_stderr_matches "the key is not due until"
ds -c 'mark rwa 2024-01-02 --skipped --reason x'
expect_exit 3
expect_stderr_matches "unknown task 'rwa'"
ds -c 'mark raw 2024-01-02T01 --skipped --reason x'
expect_exit 3
expect_stderr_matches "is not a key of task raw"
ds -c 'mark raw 2024-01-02 --skipped'
expect_exit 3
expect_stderr_matches "mark needs --reason TEXT"
ds -c 'mark raw 2024-01-02 --reason x'
expect_exit 3
expect_stderr_matches "mark needs one of --success and --skipped"
expect_sql "nothing changed" "SELECT count(*) || '/' || (SELECT count(*) FROM datashell.batches)
	FROM datashell.runs" "$before"
expect_sql "the refusals are audited" "SELECT count(*) FROM datashell.audit_log
	WHERE command LIKE 'mark %' AND outcome = 'failed'" 3
end_case

begin "a mark racing a backfill of the same key waits for it, then refuses"
use_stage loaded
hold_session "INSERT INTO datashell.runs (task_id, key)
	SELECT id, '2024-01-02' FROM datashell.tasks WHERE name = 'raw'"
"$DATASHELL" -c 'mark raw 2024-01-02 --skipped --reason x' >"$WORK/mark.out" 2>"$WORK/mark.err" &
pid=$!
wait_until "($LOCK_WAITS) = 1"
commit_session
wait "$pid"
CODE=$?
cp "$WORK/mark.out" "$OUT"
cp "$WORK/mark.err" "$ERR"
expect_exit 3
expect_stderr_matches "a run of task raw was enqueued for one of the keys meanwhile"
expect_sql "only the backfill's run" "SELECT string_agg(state || ' ' || coalesce(marked, '-'), ',')
	FROM datashell.runs" "queued -"
end_case

begin "a viewer may read the history but not mark; an operator may mark"
use_stage ran
ds_as $VIEWER -c 'logs raw 2024-01-01'
expect_exit 0
ds_as $VIEWER -c 'mark raw 2024-01-02 --skipped --reason x'
expect_exit 3
expect_stderr_matches "mark needs the datashell_operator role \(you are $VIEWER\)"
expect_sql "not marked" "SELECT count(*) FROM datashell.runs WHERE key = '2024-01-02'" 0
sql "SET ROLE $VIEWER; SELECT * FROM datashell.mark_keys('raw', '{2024-01-02}', 'skipped', 'x', 'sql')" \
	>/dev/null 2>&1 && fail "the database let a viewer mark"
ds_as $OPERATOR -c 'mark raw 2024-01-02 --skipped --reason x'
expect_exit 0
expect_sql "marked" "SELECT marked FROM datashell.runs WHERE key = '2024-01-02'" skipped
end_case

begin "logs shows the notices and warnings a SQL task's checks and body raised, and only those"
use_fresh_database t_logs
sql "CREATE FUNCTION public.say(t text) RETURNS boolean LANGUAGE plpgsql
     AS \$\$BEGIN RAISE NOTICE '%', t; RETURN true; END\$\$" >/dev/null
schema_with_pipeline t_notices <<-'END'
	{"graphs": {"core": {}},
	 "tasks": [
	  {"name": "noisy", "graph": "core", "key": "daily",
	   "checks": [{"name": "ready", "sql": "SELECT public.say('source ready')"}],
	   "sql": "SELECT public.say('loaded 42 rows'); DO $$BEGIN RAISE WARNING 'late data'; END$$"},
	  {"name": "halfway", "graph": "core", "key": "daily", "retries": 0,
	   "sql": "SELECT public.say('half done'); SELECT 1/0"},
	  {"name": "chatty", "graph": "core", "key": "daily",
	   "sql": "DO $$BEGIN FOR i IN 1..3000 LOOP RAISE NOTICE 'line %', i; END LOOP; END$$"}]}
END
setup_failing "$DATASHELL" -c 'backfill noisy,halfway,chatty 2024-01-01 --yes' -c 'worker --drain'
expect_sql "a long run of notices: its last 4 KiB" \
	"$(run_field_sql chatty 2024-01-01 "length(r.output) <= 4096 AND length(r.output) > 4000
	   AND rtrim(r.output, E'\n') LIKE '%NOTICE:  line 2999' || E'\n' || 'NOTICE:  line 3000'")" t
ds -c 'logs noisy 2024-01-01 --json'
expect_exit 0
expect_eq "the success's notices" "$(json_get '[0]{output}' <"$OUT")" "NOTICE:  source ready
NOTICE:  loaded 42 rows
WARNING:  late data"
ds -c 'logs noisy 2024-01-01'
expect_exit 0
grep -A4 '^  output:$' "$OUT" >"$WORK/shown"
expect_same "logs" "$WORK/shown" <<-'END'
	  output:
	    NOTICE:  source ready
	    NOTICE:  loaded 42 rows
	    WARNING:  late data
END
ds -c 'logs halfway 2024-01-01 --json'
expect_exit 0
expect_eq "the failure's" "$(json_get '[0]{state}' <"$OUT"): $(json_get '[0]{output}' <"$OUT")" \
	"failed: NOTICE:  half done"
unset DATASHELL_SCHEMA
end_case

done_testing
