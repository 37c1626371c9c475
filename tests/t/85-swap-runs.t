#!/bin/sh
# What the runs of a plain swap write: while wh.sw is rebuilt (started, checked, rolled
# back), every run of its task writes wh.sw_backfill too, SQL in the same transaction, a
# command in a second pass; not while swapped. A run of backfill --into backfill names
# its swap, not a table: it writes the swap's T_backfill only while there is one, and
# abandon cancels it; nothing recreates a table the swap gave up. The upgrade to version
# 8 turns the table names of waiting runs into their swaps.
. "$DS_TOP/tests/lib.sh"
use_fresh_database t_swap_runs

# The task sw_task writes its key into :"target", creating the table if it is missing
# (as many tasks do): a run pointed at a table that is gone would make it again.
stage_fixture() {
	use_fresh_database t_swap_runs
	setup "$DATASHELL" -c init
	setup sql "CREATE SCHEMA wh;
	           CREATE TABLE wh.sw (day date PRIMARY KEY, n integer NOT NULL)"
	cat >"$WORK/sw.json" <<-END
	{"graphs": {"core": {}},
	 "tasks": [
	   {"name": "sw_task", "graph": "core", "key": "daily", "target": "wh.sw",
	    "sql": "CREATE TABLE IF NOT EXISTS :\"target\" (day date PRIMARY KEY, n integer NOT NULL); DELETE FROM :\"target\" WHERE day = :'key'; INSERT INTO :\"target\" VALUES (:'key', 2)"},
	   {"name": "sw_cmd", "graph": "core", "key": "daily", "target": "wh.sw",
	    "command": "echo \"pass \$DS_TARGET_PASS for \$DS_TARGET\""}]}
	END
	setup "$DATASHELL" -c "pipeline load $WORK/sw.json"
}

# started: the swap of wh.sw started; into: then ten keys enqueued into wh.sw_backfill.
stage_started() {
	use_stage fixture
	setup "$DATASHELL" -c 'swap-table start wh.sw'
}

stage_into() {
	use_stage started
	setup "$DATASHELL" -c 'backfill sw_task 2024-01-01..2024-01-10 --into backfill'
}

begin "a run after check writes T and T_backfill, so the swapped-in table has its key"
use_stage into
ds -c 'worker --drain' -c 'swap-table check wh.sw --key day'
expect_exit 0
ds -c 'backfill sw_task 2024-01-11' -c 'worker --drain'
expect_exit 0
expect_eq "both tables, in one run" "$(rows_of wh.sw):$(sql "SELECT count(*) FROM wh.sw_backfill WHERE day = '2024-01-11'")" \
	"2024-01-11=2:1"
ds -c 'swap-table swap wh.sw --yes'
expect_exit 0
expect_sql "the swapped-in table has it" "SELECT n FROM wh.sw WHERE day = '2024-01-11'" 2
expect_sql "and the backfill" "SELECT count(*) FROM wh.sw" 11
# Swapped: T is the rebuilt table, written alone; T_old is not written.
ds -c 'force-run sw_task 2024-01-12' -c 'worker --drain'
expect_exit 0
expect_eq "T only" "$(sql "SELECT count(*) FROM wh.sw WHERE day = '2024-01-12'"):$(sql "SELECT count(*) FROM wh.sw_old WHERE day = '2024-01-12'")" \
	"1:0"
# Rolled back: the rebuilt table is T_backfill again, and written again.
ds -c 'swap-table rollback wh.sw --yes --lose-writes' -c 'force-run sw_task 2024-01-13' -c 'worker --drain'
expect_exit 0
expect_eq "both again" "$(sql "SELECT count(*) FROM wh.sw WHERE day = '2024-01-13'"):$(sql "SELECT count(*) FROM wh.sw_backfill WHERE day = '2024-01-13'")" \
	"1:1"
end_case

begin "a command task runs a second time for T_backfill, told which pass it is"
use_stage started
ds -c 'force-run sw_cmd 2024-01-01' -c 'worker --drain'
expect_exit 0
run_field sw_cmd 2024-01-01 r.output >"$WORK/output"
expect_same "the output of both passes" "$WORK/output" <<-'END'
	pass main for wh.sw
	--- DS_TARGET_PASS=backfill DS_TARGET=wh.sw_backfill ---
	pass backfill for wh.sw_backfill

END
end_case

begin "a run of backfill --into names its swap; once the swap is swapped it is cancelled, not run"
use_stage into
expect_sql "the runs name the swap" "SELECT string_agg(DISTINCT (r.swap_id = s.id)::text, ',')
	FROM datashell.runs r, datashell.swaps s WHERE s.table_name = 'sw'" true
ds -c 'swap-table check wh.sw' -c 'swap-table swap wh.sw --yes'
expect_exit 0
ds -c 'worker --drain'
expect_exit 0
expect_sql "nothing recreated wh.sw_backfill" "SELECT to_regclass('wh.sw_backfill') IS NULL" t
expect_sql "the new wh.sw untouched" "SELECT count(*) FROM wh.sw" 0
expect_outcome "cancelled, saying why" sw_task 2024-01-05 \
	"cancelled|0|cancelled before it ran: swap 1 of wh.sw is swapped, so wh.sw_backfill is not its incoming table any more"
expect_sql "all of them" "SELECT string_agg(DISTINCT state, ',') FROM datashell.runs" cancelled
end_case

begin "abandon cancels the swap's waiting runs and stops its running ones; nothing recreates the table"
use_stage into
# One run as a worker holds it.
sql "UPDATE datashell.runs SET state = 'running', worker = 'w1', attempt = 1,
       lease_until = now() + interval '1 hour' WHERE key = '2024-01-10'" >/dev/null
ds -c 'swap-table abandon wh.sw --dry-run --json'
expect_exit 0
expect_eq "dry run counts" "$(json_get '{runs}{cancelled}' <"$OUT") $(json_get '{runs}{stopping}' <"$OUT")" "9 1"
expect_sql "dry run changes nothing" "SELECT count(*) FROM datashell.runs WHERE state = 'queued'" 9
ds -c 'swap-table abandon wh.sw --yes --json'
expect_exit 0
expect_eq "counted" "$(json_get '{runs}{cancelled}' <"$OUT") $(json_get '{runs}{stopping}' <"$OUT")" "9 1"
expect_sql "audited" "SELECT detail->'runs'->>'cancelled' FROM datashell.audit_log
	WHERE command LIKE 'swap-table abandon wh.sw --yes%' AND outcome = 'ok'" 9
expect_sql "cancelled" "SELECT string_agg(DISTINCT state || ':' || error, ',') FROM datashell.runs WHERE key < '2024-01-10'" \
	"cancelled:cancelled by postgres: swap 1 was abandoned"
expect_sql "the running one is asked to stop" "SELECT cancel_requested FROM datashell.runs WHERE key = '2024-01-10'" t
# Its worker is gone: its lease expires, and the run ends cancelled, not queued again.
sql "UPDATE datashell.runs SET lease_until = now() - interval '1 second' WHERE key = '2024-01-10'" >/dev/null
ds -c 'worker --drain'
expect_exit 0
expect_sql "the table was not recreated" "SELECT to_regclass('wh.sw_backfill') IS NULL" t
expect_sql "no run is left" "SELECT string_agg(DISTINCT state, ',') FROM datashell.runs" cancelled
expect_sql "wh.sw untouched" "SELECT count(*) FROM wh.sw" 0
end_case

begin "a run with a key that is not its task's is refused at insert, and the queue keeps working"
use_stage fixture
out=$(sql "INSERT INTO datashell.runs (task_id, key)
	SELECT id, 'not-a-date' FROM datashell.tasks WHERE name = 'sw_task'" 2>&1)
expect_eq "refused" "$(echo "$out" | head -2)" "ERROR:  run of task sw_task for key 'not-a-date' refused: 'not-a-date' is not a key of task sw_task, whose keys are dates (2024-01-05)
HINT:  runs are enqueued by backfill and force-run, which make their keys from a range; a run's task, key and swap are never changed"
for key in 2024-02-30 2024-13-01 2024-1-05 2024-01-05T07 ''; do
	out=$(sql "INSERT INTO datashell.runs (task_id, key)
		SELECT id, '$key' FROM datashell.tasks WHERE name = 'sw_task'" 2>&1)
	expect_eq "'$key' refused" "$(echo "$out" | grep -c 'is not a key of task sw_task')" 1
done
out=$(sql "UPDATE datashell.runs SET key = 'x' WHERE false;
	INSERT INTO datashell.runs (task_id, key) SELECT id, '2024-01-05' FROM datashell.tasks WHERE name = 'sw_task';
	UPDATE datashell.runs SET key = 'garbage'" 2>&1)
expect_eq "an update too" "$(echo "$out" | grep -c "key 'garbage' refused")" 1
ds -c 'backfill sw_task 2024-01-01..2024-01-02' -c 'worker --drain'
expect_exit 0
expect_sql "the queue works" "SELECT count(*) FROM datashell.runs WHERE state = 'success'" 2
end_case

begin "a run names only a swap of its task's target with a T_backfill"
use_stage started
sql "CREATE TABLE wh.other (day date PRIMARY KEY, n integer NOT NULL)" >/dev/null
"$DATASHELL" -c 'swap-table start wh.other' >/dev/null 2>&1
out=$(sql "INSERT INTO datashell.runs (task_id, key, swap_id)
	SELECT t.id, '2024-01-05', s.id FROM datashell.tasks t, datashell.swaps s
	WHERE t.name = 'sw_task' AND s.table_name = 'other'" 2>&1)
expect_eq "refused" "$(echo "$out" | grep -c "swap 2 is not a swap of wh.sw, the target of task sw_task, with a T_backfill to write")" 1
expect_sql "nothing inserted" "SELECT count(*) FROM datashell.runs" 0
end_case

begin "init upgrades waiting runs from a table name to their swap, and cancels those with none"
use_stage started
# Version 7's runs: a table name in target, the swap unknown to them (and no write log).
undo_migrations 12
sql "DROP TRIGGER runs_check_inserted ON datashell.runs;
     DROP TRIGGER partitions_after_insert ON datashell.runs;
     DROP TRIGGER partitions_after_update ON datashell.runs;
     ALTER TABLE datashell.runs DROP COLUMN swap_id CASCADE, ADD COLUMN target text;
     DROP TABLE datashell.swap_writes;
     ALTER TABLE datashell.swaps DROP COLUMN writes_since;
     DROP TABLE datashell.schedule_state, datashell.schedule_left;
     ALTER TABLE datashell.graphs DROP COLUMN schedule CASCADE;
     DROP TABLE datashell.swap_partitions;
     ALTER TABLE datashell.partitions DROP COLUMN built_by;
     DELETE FROM datashell.schema_migrations WHERE version IN (8, 9, 10, 11);
     INSERT INTO datashell.runs (task_id, key, state, target)
     SELECT id, k, s, tg FROM datashell.tasks, (VALUES
       ('2024-01-01', 'queued', 'wh.sw_backfill'), ('2024-01-02', 'held', 'wh.sw_backfill'),
       ('2024-01-03', 'queued', 'wh.gone_backfill'), ('2024-01-04', 'success', 'wh.gone_backfill'),
       ('2024-01-05', 'queued', NULL), ('not-a-date', 'queued', NULL)) v(k, s, tg)
     WHERE name = 'sw_task'" >/dev/null
ds -c init
expect_exit 0
expect_stdout_matches "^upgraded schema 'datashell' from version 7 to $SCHEMA_VERSION\$"
expect_sql "the runs" "SELECT string_agg(key || ' ' || state || ' ' || coalesce(swap_id::text, '-')
	|| ' ' || coalesce(error, '-'), E'\n' ORDER BY key) FROM datashell.runs" \
	"2024-01-01 queued 1 -
2024-01-02 held 1 -
2024-01-03 cancelled - cancelled by the upgrade to schema version 8: it was to write wh.gone_backfill, which is not the T_backfill of a swap under way; backfill --into backfill enqueues it again
2024-01-04 success - -
2024-01-05 queued - -
not-a-date cancelled - cancelled by the upgrade to schema version 8: 'not-a-date' is not a daily key"
ds -c 'worker --drain'
# The held run stays held, and the drain says so.
expect_exit 3
expect_stderr_matches '^  sw_task 2024-01-02: held: is held, though the breaker of sw_task is closed$'
expect_eq "the upgraded runs wrote wh.sw_backfill, the others both" "$(rows_of wh.sw):$(rows_of wh.sw_backfill)" \
	"2024-01-05=2:2024-01-01=2,2024-01-05=2"
end_case

done_testing
