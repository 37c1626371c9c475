#!/bin/sh
# Which table a key is complete in: production's record (partitions) and that of a
# swap's incoming table (swap_partitions) are kept apart. A run of backfill --into
# backfill completes the key of T_backfill alone: status, plans and the upstream check of
# a downstream task, SLAs and handoff read production's, status --into backfill the
# shadow's. A plain run during the swap (or in mode v2) writes both tables and counts for
# both. swap makes the shadow's record production's and keeps production's aside,
# rollback puts both back exactly, finish and abandon leave no record of a table that is
# gone. The upgrade to version 11 counts the records made before for production.
. "$DS_TOP/tests/lib.sh"
use_fresh_database t_swap_truth

# sw_task writes its key into :"target" (wh.sw, and wh.sw_backfill too during a swap);
# down reads nothing but waits for sw_task's key.
stage_fixture() {
	use_fresh_database t_swap_truth
	setup "$DATASHELL" -c init
	setup sql "CREATE SCHEMA wh;
	           CREATE TABLE wh.sw (day date PRIMARY KEY, n integer NOT NULL)"
	cat >"$WORK/sw.json" <<-END
	{"graphs": {"core": {}},
	 "tasks": [
	   {"name": "sw_task", "graph": "core", "key": "daily", "target": "wh.sw",
	    "sql": "DELETE FROM :\"target\" WHERE day = :'key'; INSERT INTO :\"target\" VALUES (:'key', 2)"},
	   {"name": "down", "graph": "core", "key": "daily", "depends_on": ["sw_task"],
	    "sql": "SELECT 1"}]}
	END
	setup "$DATASHELL" -c "pipeline load $WORK/sw.json"
}

# built: production has 01-01 and 01-02; then the swap of wh.sw started, and 01-02 and
# 01-03 were built into wh.sw_backfill alone.
stage_built() {
	use_stage fixture
	setup "$DATASHELL" -c 'backfill sw_task 2024-01-01..2024-01-02' -c 'worker --drain' \
		-c 'swap-table start wh.sw' \
		-c 'backfill sw_task 2024-01-02..2024-01-03 --into backfill' -c 'worker --drain'
}

strip() {	# ARGS... (of status)
	"$DATASHELL" -c "status sw_task 2024-01-01..2024-01-04 $* --json" | json_get '{tasks}[0]{strip}'
}

# Every record, as task:key:table:state:built, the table production (p), incoming or old.
RECORDS="SELECT string_agg(x, ' ' ORDER BY x) FROM (
	SELECT t.name || ':' || p.key || ':p:' || p.state || ':' || (p.built_by IS NOT NULL) AS x
	FROM datashell.partitions p JOIN datashell.tasks t ON t.id = p.task_id
	UNION ALL
	SELECT t.name || ':' || s.key || ':' || s.side || s.swap_id || ':' || s.state || ':'
	       || (s.built_by IS NOT NULL)
	FROM datashell.swap_partitions s JOIN datashell.tasks t ON t.id = s.task_id) r"

begin "a key built with --into backfill is the shadow's: status, the plan and status --into say so"
use_stage built
expect_eq "the tables" "$(rows_of wh.sw):$(rows_of wh.sw_backfill)" \
	"2024-01-01=2,2024-01-02=2:2024-01-02=2,2024-01-03=2"
expect_eq "production's strip" "$(strip)" "##.."
expect_eq "the shadow's strip" "$(strip --into backfill)" ".##."
ds -c 'backfill sw_task 2024-01-01..2024-01-04 --dry-run --json'
expect_exit 0
expect_eq "the plan for production enqueues 01-03" "$(json_get '{plan}[0]{enqueue}' <"$OUT"):$(json_get '{plan}[0]{complete}' <"$OUT")" "2:2"
ds -c 'backfill sw_task 2024-01-01..2024-01-04 --into backfill --dry-run --json'
expect_exit 0
expect_eq "the plan into the shadow counts the shadow's" "$(json_get '{plan}[0]{enqueue}' <"$OUT"):$(json_get '{plan}[0]{complete}' <"$OUT")" "4:2"
ds -c 'status sw_task 2024-01-01..2024-01-04 --into backfill'
expect_exit 0
expect_stdout_matches '^  sw_task +\.##\.$'
expect_sql "the records" "$RECORDS" \
	"sw_task:2024-01-01:p:success:true sw_task:2024-01-02:incoming1:success:true sw_task:2024-01-02:p:success:true sw_task:2024-01-03:incoming1:success:true"
# A plain run during the swap writes both tables, and counts for both.
ds -c 'backfill sw_task 2024-01-04' -c 'worker --drain'
expect_exit 0
expect_eq "both tables" "$(strip):$(strip --into backfill)" "##.#:.###"
end_case

begin "a run waiting for a key, into either table, keeps both plans from counting it"
use_stage built
# A run into the shadow waits for 01-04: neither plan counts that key.
setup "$DATASHELL" -c 'backfill sw_task 2024-01-04 --into backfill'
ds -c 'backfill sw_task 2024-01-01..2024-01-04 --dry-run --json' \
	-c 'backfill sw_task 2024-01-01..2024-01-04 --into backfill --dry-run --json'
expect_exit 0
expect_eq "both plans" "$(perl -MJSON::PP -e 'local $/; my $t = <STDIN>; $t =~ s/\}\s*\{/},{/g;
	print join " ", map { "$_->{plan}[0]{enqueue}/$_->{plan}[0]{active}" } @{ decode_json("[$t]") }' <"$OUT")" "1/1 3/1"
end_case

begin "status --into backfill without a swap under way says so"
use_stage fixture
ds -c 'status sw_task 2024-01-01..2024-01-04 --into backfill'
expect_exit 3
expect_stderr_matches "--into backfill: no swap of their target has a T_backfill to write: 'sw_task' \(wh.sw\)"
ds -c 'status sw_task --into v2'
expect_exit 3
expect_stderr_matches "--into: unknown table 'v2'"
ds -c 'status --into backfill'
expect_exit 3
expect_stderr_matches "--into shows the keys of tasks, not the overview"
end_case

begin "a downstream task waits for its upstream's production key, not the shadow's"
use_stage built
ds -c 'backfill down 2024-01-03' -c 'worker --drain'
expect_exit 3
expect_stderr_matches '^  down 2024-01-03: queued: upstream sw_task 2024-01-03 has no run: nobody asked for it$'
expect_outcome "down waits: 01-03 is only in wh.sw_backfill" down 2024-01-03 "queued|0|"
ds -c 'backfill sw_task 2024-01-03' -c 'worker --drain'
expect_exit 0
expect_outcome "down ran once production had it" down 2024-01-03 "success|1|"
# A run into the shadow still waiting (held here) does not hold the downstream back.
setup "$DATASHELL" -c 'backfill sw_task 2024-01-01 --into backfill'
setup sql "UPDATE datashell.runs SET state = 'held' WHERE swap_id IS NOT NULL AND state = 'queued'"
ds -c 'backfill down 2024-01-01' -c 'worker --drain'
# The held run into the shadow is left behind, and named.
expect_exit 3
expect_stderr_matches '^  sw_task 2024-01-01: held: '
expect_outcome "down ran on production's 01-01" down 2024-01-01 "success|1|"
end_case

begin "swap makes the shadow's keys production's, rollback restores the old record exactly"
use_stage built
before=$(sql "SELECT string_agg(task_id || ':' || key || ':' || run_id || ':' || state || ':' || built_by, ' ' ORDER BY task_id, key) FROM datashell.partitions")
setup_failing "$DATASHELL" -c 'swap-table check wh.sw --key day'
ds -c 'swap-table check wh.sw --accept row_counts --reason "01-01 is rebuilt later"' \
	-c 'swap-table swap wh.sw --yes'
expect_exit 0
expect_eq "production's strip is the rebuilt table's" "$(strip)" ".##."
expect_sql "the old records are kept aside" "$RECORDS" \
	"sw_task:2024-01-01:old1:success:true sw_task:2024-01-02:old1:success:true sw_task:2024-01-02:p:success:true sw_task:2024-01-03:p:success:true"
ds -c 'backfill sw_task 2024-01-01..2024-01-04 --dry-run --json'
expect_eq "the plan enqueues what the rebuilt table lacks" "$(json_get '{plan}[0]{enqueue}' <"$OUT")" 2
ds -c 'swap-table rollback wh.sw --yes'
expect_exit 0
expect_eq "production's strip again" "$(strip):$(strip --into backfill)" "##..:.##."
expect_sql "the old record exactly" "SELECT string_agg(task_id || ':' || key || ':' || run_id || ':' || state || ':' || built_by, ' ' ORDER BY task_id, key) FROM datashell.partitions" "$before"
end_case

begin "finish and abandon leave no record of a table that is gone"
use_stage built
setup_failing "$DATASHELL" -c 'swap-table check wh.sw --key day'
setup "$DATASHELL" -c 'swap-table check wh.sw --accept row_counts --reason "later"' \
	-c 'swap-table swap wh.sw --yes'
ds -c 'swap-table finish wh.sw --yes'
expect_exit 0
expect_sql "only production's records" "$RECORDS" \
	"sw_task:2024-01-02:p:success:true sw_task:2024-01-03:p:success:true"
# Rolled back, then finished: wh.sw_backfill is dropped, and its records with it.
use_stage built
setup_failing "$DATASHELL" -c 'swap-table check wh.sw --key day'
setup "$DATASHELL" -c 'swap-table check wh.sw --accept row_counts --reason "later"' \
	-c 'swap-table swap wh.sw --yes' -c 'swap-table rollback wh.sw --yes' \
	-c 'swap-table finish wh.sw --yes'
expect_sql "production's as before the swap" "$RECORDS" \
	"sw_task:2024-01-01:p:success:true sw_task:2024-01-02:p:success:true"
use_stage built
ds -c 'swap-table abandon wh.sw --yes'
expect_exit 0
expect_sql "abandoned: production's alone" "$RECORDS" \
	"sw_task:2024-01-01:p:success:true sw_task:2024-01-02:p:success:true"
expect_eq "and the strip" "$(strip)" "##.."
end_case

begin "mode v2: a run writes both tables and counts for both; abandon drops T_v2's record"
use_stage fixture
setup "$DATASHELL" -c 'swap-table start wh.sw --mode v2' -c 'backfill sw_task 2024-01-01' \
	-c 'worker --drain'
expect_eq "the tables" "$(rows_of wh.sw):$(rows_of wh.sw_v2)" "2024-01-01=2:2024-01-01=2"
expect_sql "the records" "$RECORDS" \
	"sw_task:2024-01-01:incoming1:success:true sw_task:2024-01-01:p:success:true"
ds -c 'swap-table abandon wh.sw --yes'
expect_exit 0
expect_sql "production's alone" "$RECORDS" "sw_task:2024-01-01:p:success:true"
end_case

begin "SLAs and handoff read production: a key built into the shadow alone is late"
use_fresh_database t_swap_truth
away_from_boundary
d2=$(date -u -d '-2 days' +%Y-%m-%d)
d1=$(date -u -d '-1 days' +%Y-%m-%d)
setup "$DATASHELL" -c init
setup sql "CREATE SCHEMA wh; CREATE TABLE wh.kp (day date PRIMARY KEY, n integer NOT NULL)"
# A scheduled task, late a second after its key is due; its schedule enqueues only the
# latest key, so that the one before it is built into the shadow alone.
cat >"$WORK/kp.json" <<-END
{"graphs": {"core": {}},
 "tasks": [
   {"name": "kp", "graph": "core", "key": "daily", "target": "wh.kp", "sla": {"within": "1s"},
    "schedule": {"start": "$d2", "catchup": "latest"},
    "sql": "DELETE FROM :\"target\" WHERE day = :'key'; INSERT INTO :\"target\" VALUES (:'key', 1)"}]}
END
setup "$DATASHELL" -c "pipeline load $WORK/kp.json" -c 'swap-table start wh.kp' \
	-c "backfill kp $d2 --into backfill" -c 'worker --drain'
expect_eq "the tables" "$(rows_of wh.kp):$(rows_of wh.kp_backfill)" "$d1=1:$d2=1,$d1=1"
ds -c "status kp $d2..$d1 --json"
expect_exit 0
expect_eq "production's strip: late, then built" "$(json_get '{tasks}[0]{strip}' <"$OUT")" "!#"
ds -c "status kp $d2..$d1 --into backfill --json"
expect_eq "the shadow's" "$(json_get '{tasks}[0]{strip}' <"$OUT"):$(json_get '{into}' <"$OUT")" "##:backfill"
ds -c 'handoff --since 10d --json'
expect_exit 0
expect_eq "handoff's late keys" "$(perl -MJSON::PP -e 'local $/; print join ",", map { "$_->{task} $_->{key}" }
	@{ decode_json(<STDIN>)->{late_keys} }' <"$OUT")" "kp $d2"
end_case

begin "init upgrades the records of version 10: they count for production"
use_stage built
# Version 10's records: one per (task, key), the latest run whatever it wrote.
undo_migrations 12
sql "DROP TABLE datashell.swap_partitions;
     DROP FUNCTION datashell.swap_move_records(bigint, integer[], text);
     ALTER TABLE datashell.partitions DROP COLUMN built_by;
     INSERT INTO datashell.partitions (task_id, key, run_id, state)
     SELECT DISTINCT ON (task_id, key) task_id, key, id, state FROM datashell.runs
     ORDER BY task_id, key, id DESC
     ON CONFLICT (task_id, key) DO UPDATE SET run_id = excluded.run_id, state = excluded.state;
     DELETE FROM datashell.schema_migrations WHERE version = 11" >/dev/null
ds -c init
expect_exit 0
expect_stdout_matches "^upgraded schema 'datashell' from version 10 to $SCHEMA_VERSION\$"
expect_sql "the records" "$RECORDS" \
	"sw_task:2024-01-01:p:success:true sw_task:2024-01-02:p:success:true sw_task:2024-01-03:p:success:true"
expect_sql "built by their latest success" "SELECT bool_and(p.built_by = p.run_id) FROM datashell.partitions p" t
expect_eq "status" "$(strip)" "###."
end_case

done_testing
