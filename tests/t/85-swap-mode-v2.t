#!/bin/sh
# swap-table --mode v2 with SQL tasks: kpis keeps its readers while kpis_v2 is built
# beside it by the same task, then finish retires kpis, or abandon drops kpis_v2; and
# start --create-sql. 89-swap-v2.t has mode v2 with command tasks.
. "$DS_TOP/tests/lib.sh"
use_fresh_database t_swap_mode_v2
# A reader's role, which belongs to the whole server: made by whichever script needs it
# first (85-swap-mode-v2.t needs it too), never dropped under another's feet.
sql "DO \$\$BEGIN CREATE ROLE swap_reader;
     EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END\$\$" >/dev/null

stage_fixture() {
	use_fresh_database t_swap_mode_v2
	setup "$DATASHELL" -c init
}

# Mode v2: kpis keeps its readers while kpis_v2 is built beside it by the same task.
kpi_pipeline() {	# TARGET: the pipeline with task kpi writing TARGET
	cat >"$WORK/kpi.json" <<-END
	{"graphs": {"core": {}},
	 "tasks": [
	   {"name": "kpi", "graph": "core", "key": "daily", "target": "$1",
	    "sql": "DELETE FROM :\"target\" WHERE day = :'key'; INSERT INTO :\"target\" (id, day, n) VALUES (extract(day FROM :'key'::date), :'key', 3)",
	    "checks": [{"name": "positive", "sql":
	      "SELECT NOT EXISTS (SELECT 1 FROM :\"target\" WHERE day = :'key' AND n <= 0)"}]}]}
	END
	"$DATASHELL" -c "pipeline load $WORK/kpi.json" >/dev/null 2>&1 || fail "pipeline load $1"
}

# kpis_v2: kpis, a reader's grant, a view and task kpi writing it, its swap started in
# mode v2. kpis_run: then three keys run into both tables and checked, and a failed run.
# gauges: a swap of gauges in mode v2 abandoned, two keys run, then a swap started.
stage_kpis_v2() {
	use_stage fixture
	setup sql "CREATE TABLE kpis (id serial PRIMARY KEY, day date NOT NULL UNIQUE, n integer NOT NULL);
	           INSERT INTO kpis (id, day, n) VALUES (1, '2024-02-01', 1), (2, '2024-02-02', 1);
	           GRANT SELECT ON kpis TO swap_reader;
	           CREATE VIEW kpis_report AS SELECT day, n FROM kpis"
	kpi_pipeline public.kpis
	setup "$DATASHELL" -c 'swap-table start kpis --mode v2'
}

stage_kpis_run() {
	use_stage kpis_v2
	setup "$DATASHELL" -c 'backfill kpi 2024-02-01..2024-02-03' -c 'worker --drain' \
		-c 'swap-table check kpis --key day'
	setup sql "ALTER TABLE kpis_v2 ADD CONSTRAINT not_4th CHECK (day <> '2024-02-04')"
	setup_failing "$DATASHELL" -c 'force-run kpi 2024-02-04' -c 'worker --drain'
	setup sql "ALTER TABLE kpis_v2 DROP CONSTRAINT not_4th"
}

stage_gauges() {
	use_stage fixture
	setup sql "CREATE TABLE gauges (id serial PRIMARY KEY, day date NOT NULL UNIQUE, n integer NOT NULL)"
	kpi_pipeline public.gauges
	setup "$DATASHELL" -c 'swap-table start gauges --mode v2' -c 'force-run kpi 2024-03-01' \
		-c 'worker --drain' -c 'swap-table abandon gauges --yes' \
		-c 'force-run kpi 2024-03-02' -c 'worker --drain' -c 'swap-table start gauges'
}

begin "start --mode v2 creates T_v2 with what readers need; swap and rollback do not apply"
use_stage fixture
sql "CREATE TABLE kpis (id serial PRIMARY KEY, day date NOT NULL UNIQUE, n integer NOT NULL);
     INSERT INTO kpis (id, day, n) VALUES (1, '2024-02-01', 1), (2, '2024-02-02', 1);
     GRANT SELECT ON kpis TO swap_reader;
     CREATE VIEW kpis_report AS SELECT day, n FROM kpis" >/dev/null
kpi_pipeline public.kpis
ds -c 'swap-table start kpis --mode v3'
expect_exit 3
expect_stderr_matches "--mode: unknown mode 'v3'"
ds -c 'swap-table start kpis --mode v2'
expect_exit 0
expect_stdout_matches "^started swap [0-9]+ of kpis in mode v2: its tasks now write kpis_v2 too; "
expect_sql "the reader's grant" "SELECT has_table_privilege('swap_reader', 'kpis_v2', 'SELECT')" t
expect_sql "mode" "SELECT timings->>'mode' FROM datashell.swaps WHERE table_name = 'kpis'" v2
ds -c 'swap-table swap kpis --yes'
expect_exit 3
expect_stderr_matches 'swap [0-9]+ of "public"."kpis" is in mode v2: there is nothing to swap'
ds -c 'swap-table rollback kpis --yes'
expect_exit 3
expect_stderr_matches 'is in mode v2: there is nothing to roll back'
ds -c 'swap-table finish kpis --yes'
expect_exit 3
expect_stderr_matches '"public"."kpis_v2" has not been checked'
expect_sql "kpis kept" "SELECT to_regclass('kpis') IS NOT NULL" t
end_case

begin "in mode v2 the task's runs write T and T_v2 in one transaction; check compares them"
use_stage kpis_v2
ds -c 'backfill kpi 2024-02-01..2024-02-03'
expect_exit 0
ds -c 'worker --drain'
expect_exit 0
expect_sql "kpis" "$(rows_of_sql kpis)" "2024-02-01=3,2024-02-02=3,2024-02-03=3"
expect_sql "kpis_v2" "$(rows_of_sql kpis_v2)" "2024-02-01=3,2024-02-02=3,2024-02-03=3"
ds -c 'swap-table check kpis --key day --json'
expect_exit 0
expect_eq "row counts" "$(json_get '{checks}[0]{detail}' <"$OUT")" \
	"3 rows in the table and in the new one, the same rows: the same count for every key"
expect_eq "the task's checks on kpis_v2" "$(json_get '{checks}[4]{detail}' <"$OUT")" \
	"3 passed (the checks of the tasks that write the table, for the keys they wrote into the new one)"
ds -c 'swap-table status kpis --json'
expect_eq "next" "$(json_get '{swaps}[0]{next}' <"$OUT")" \
	"move the readers to kpis_v2, then finish (retires kpis), or abandon"
# A failure in the second half undoes the first: both tables or neither.
sql "ALTER TABLE kpis_v2 ADD CONSTRAINT not_4th CHECK (day <> '2024-02-04')" >/dev/null
ds -c 'force-run kpi 2024-02-04' -c 'worker --drain'
expect_eq "neither table" "$(sql "SELECT count(*) FROM kpis WHERE day = '2024-02-04'"):$(sql "SELECT count(*) FROM kpis_v2 WHERE day = '2024-02-04'")" "0:0"
expect_sql "the run failed" "SELECT state FROM datashell.runs WHERE key = '2024-02-04'" failed
sql "ALTER TABLE kpis_v2 DROP CONSTRAINT not_4th" >/dev/null
end_case

begin "finish in mode v2 retires T only once no view reads it and no task writes it"
use_stage kpis_run
ds -c 'swap-table finish kpis --yes'
expect_exit 3
expect_stderr_matches '"public"."kpis" is still used, nothing was dropped:'
expect_stderr_matches '^view kpis_report$'
expect_stderr_matches '^task kpi \(graph core\) writes it$'
expect_sql "kpis kept" "SELECT to_regclass('kpis') IS NOT NULL" t
sql "CREATE OR REPLACE VIEW kpis_report AS SELECT day, n FROM kpis_v2" >/dev/null
kpi_pipeline public.kpis_v2
ds -c 'swap-table finish kpis --keep 1d'
expect_exit 3
expect_stderr_matches "--keep keeps the old table after a swap"
ds -c 'swap-table finish kpis --yes'
expect_exit 0
expect_sql "kpis retired" "SELECT to_regclass('kpis') IS NULL" t
expect_sql "state" "$(swap_state_sql kpis)" finished
expect_sql "the view" 'SELECT count(*) FROM kpis_report' 3
# kpis_v2 drew its ids from kpis's sequence; it owns it now.
expect_sql "the sequence" "SELECT pg_get_serial_sequence('kpis_v2', 'id')" public.kpis_id_seq
ds -c 'force-run kpi 2024-02-05' -c 'worker --drain'
expect_exit 0
expect_sql "the task writes kpis_v2 alone" "SELECT n FROM kpis_v2 WHERE day = '2024-02-05'" 3
end_case

begin "finish in mode v2 never drops T when T_v2 is gone"
use_stage fixture
sql "CREATE TABLE lone (id integer PRIMARY KEY)" >/dev/null
"$DATASHELL" -c 'swap-table start lone --mode v2' -c 'swap-table check lone' >/dev/null 2>&1
sql "DROP TABLE lone_v2" >/dev/null
ds -c 'swap-table finish lone --yes'
expect_exit 3
expect_stderr_matches '"public"."lone_v2" does not exist: retiring "public"."lone" would leave no table'
expect_sql "lone kept" "SELECT to_regclass('lone') IS NOT NULL" t
end_case

begin "abandon in mode v2 drops T_v2 once nothing reads it; the task writes T alone again"
use_stage fixture
sql "CREATE TABLE gauges (id serial PRIMARY KEY, day date NOT NULL UNIQUE, n integer NOT NULL)" >/dev/null
kpi_pipeline public.gauges
"$DATASHELL" -c 'swap-table start gauges --mode v2' -c 'force-run kpi 2024-03-01' \
	-c 'worker --drain' >/dev/null 2>&1
expect_eq "both written" "$(rows_of gauges):$(rows_of gauges_v2)" "2024-03-01=3:2024-03-01=3"
sql "CREATE VIEW gauges_moved AS SELECT * FROM gauges_v2" >/dev/null
ds -c 'swap-table abandon gauges --yes'
expect_exit 3
expect_stderr_matches '"public"."gauges_v2" is still used, nothing was dropped:'
expect_stderr_matches '^view gauges_moved$'
expect_stderr_matches 'point these back at "public"."gauges"'
sql "DROP VIEW gauges_moved" >/dev/null
ds -c 'swap-table abandon gauges'
expect_exit 3
expect_stderr_matches "would drop \"public\".\"gauges_v2\" and end swap [0-9]+ \(\"public\".\"gauges\" stays as it is\); in a script it needs --yes$"
ds -c 'swap-table abandon gauges --dry-run --json'
expect_exit 0
expect_sql "dry run" "SELECT to_regclass('gauges_v2') IS NOT NULL" t
ds -c 'swap-table abandon gauges --yes --json'
expect_exit 0
expect_eq "dropped" "$(json_get '{dropped}' <"$OUT")" '"public"."gauges_v2"'
expect_eq "reported" "$(json_get '{state}' <"$OUT")" abandoned
expect_sql "gauges_v2" "SELECT to_regclass('gauges_v2') IS NULL" t
expect_sql "gauges as it was" "$(rows_of_sql gauges)" "2024-03-01=3"
ds -c 'swap-table status gauges --json'
expect_eq "status" "$(json_get '{swaps}[0]{state}' <"$OUT")" abandoned
expect_sql "audited" "SELECT detail->>'dropped' FROM datashell.audit_log WHERE command = 'swap-table abandon gauges --yes --json' AND outcome = 'ok'" '"public"."gauges_v2"'
ds -c 'force-run kpi 2024-03-02' -c 'worker --drain'
expect_exit 0
expect_sql "the task writes gauges alone" "$(rows_of_sql gauges)" "2024-03-01=3,2024-03-02=3"
ds -c 'swap-table start gauges'
expect_exit 0
end_case

begin "before a swap finish refuses and abandon drops T_backfill; after a swap abandon waits for rollback"
use_stage gauges
ds -c 'swap-table finish gauges --yes'
expect_exit 3
expect_stderr_matches 'swap [0-9]+ of "public"."gauges" is started, not swapped: there is nothing to finish'
expect_stderr_matches "'swap-table abandon \"public\".\"gauges\"' drops \"public\".\"gauges_backfill\""
expect_sql "gauges_backfill kept" "SELECT to_regclass('gauges_backfill') IS NOT NULL" t
sql "INSERT INTO gauges_backfill SELECT * FROM gauges" >/dev/null
ds -c 'swap-table check gauges' -c 'swap-table swap gauges --yes'
expect_exit 0
ds -c 'swap-table abandon gauges --yes'
expect_exit 3
expect_stderr_matches 'swap [0-9]+ of "public"."gauges" is swapped: the rebuilt table is "public"."gauges" now'
expect_sql "still swapped" "$(swap_state_sql gauges)" swapped
ds -c 'swap-table rollback gauges --yes' -c 'swap-table abandon gauges --yes'
expect_exit 0
expect_sql "gauges_backfill" "SELECT to_regclass('gauges_backfill') IS NULL" t
expect_sql "gauges" "$(rows_of_sql gauges)" "2024-03-01=3,2024-03-02=3"
expect_sql "journal" "SELECT state || ' ' || (timings->>'abandoned') FROM datashell.swaps
	WHERE table_name = 'gauges' ORDER BY id DESC LIMIT 1" "finished true"
end_case

begin "start --create-sql takes a new definition with at least the table's columns"
use_stage fixture
sql "CREATE TABLE wide (id integer PRIMARY KEY, v text)" >/dev/null
echo 'CREATE TABLE wide_backfill (id integer PRIMARY KEY)' >"$WORK/narrow.sql"
ds -c "swap-table start wide --create-sql $WORK/narrow.sql"
expect_exit 3
expect_stderr_matches '"public"."wide_backfill" lacks columns of "public"."wide": v text'
expect_sql "nothing left behind" "SELECT to_regclass('wide_backfill') IS NULL" t
expect_sql "no swap" "SELECT count(*) FROM datashell.swaps WHERE table_name = 'wide'" 0
echo 'CREATE TABLE wide_backfill (id integer PRIMARY KEY, v text, added date)' >"$WORK/wide.sql"
ds -c "swap-table start wide --create-sql $WORK/wide.sql"
expect_exit 0
expect_sql "the new column" "SELECT count(*) FROM pg_attribute WHERE attrelid = 'wide_backfill'::regclass AND attname = 'added'" 1
ds -c "swap-table start wide --like --create-sql $WORK/wide.sql"
expect_exit 3
expect_stderr_matches "--like and --create-sql exclude each other"
end_case

done_testing
