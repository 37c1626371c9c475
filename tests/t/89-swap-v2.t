#!/bin/sh
# swap-table --mode v2 with command tasks: while the swap is under way a command whose
# target is T runs for T, then again for T_v2 (DS_TARGET, DS_TARGET_PASS), and the run
# succeeds only when both passes do; the task's checks and complete_when run for T_v2
# too, for SQL and command tasks alike; once finish retires T, runs write T_v2 alone.
. "$DS_TOP/tests/lib.sh"
use_fresh_database t_swap_v2

# The command of task ckpi: writes its key into DS_TARGET, says which pass it was.
cat >"$WORK/write.sh" <<-'END'
	psql -X -q -v ON_ERROR_STOP=1 >/dev/null 2>&1 <<SQL || { echo "cannot write $DS_TARGET"; exit 4; }
	DELETE FROM $DS_TARGET WHERE day = '$DS_KEY';
	INSERT INTO $DS_TARGET (day, n) VALUES ('$DS_KEY', 3);
	SQL
	echo "pass $DS_TARGET_PASS wrote $DS_TARGET"
END
# The command of tasks cslow and cstop (sh slow.sh DIR): on the pass for T_v2, it
# leaves its pid in DIR/TASK.v2 and hangs.
cat >"$WORK/slow.sh" <<-'END'
	echo "pass $DS_TARGET_PASS"
	[ "$DS_TARGET_PASS" = v2 ] && echo $$ >"$1/$DS_TASK.v2" && exec sleep 30
	exit 0
END

# The pipeline: ckpi and cslow (commands) write CTARGET, skpi (SQL) writes skpis.
ckpi_pipeline() {	# CTARGET
	cat >"$WORK/p.json" <<-END
	{"graphs": {"core": {}},
	 "tasks": [
	   {"name": "ckpi", "graph": "core", "key": "daily", "target": "$1",
	    "command": "sh $WORK/write.sh",
	    "checks": [{"name": "positive", "sql":
	      "SELECT NOT EXISTS (SELECT 1 FROM :\"target\" WHERE n <= 0)"}],
	    "complete_when": "SELECT EXISTS (SELECT 1 FROM :\"target\" WHERE day = :'key')"},
	   {"name": "cslow", "graph": "core", "key": "daily", "target": "$1",
	    "command": "sh $WORK/slow.sh $WORK", "timeout": "1s"},
	   {"name": "cstop", "graph": "core", "key": "daily", "target": "$1",
	    "command": "sh $WORK/slow.sh $WORK"},
	   {"name": "skpi", "graph": "core", "key": "daily", "target": "public.skpis",
	    "sql": "DELETE FROM :\"target\" WHERE day = :'key'; INSERT INTO :\"target\" VALUES (:'key', 3)",
	    "checks": [{"name": "positive", "sql":
	      "SELECT NOT EXISTS (SELECT 1 FROM :\"target\" WHERE n <= 0)"}]},
	   {"name": "slog", "graph": "core", "key": "daily", "target": "public.skpis",
	    "sql": "INSERT INTO skpi_log VALUES (:'key')"}]}
	END
	"$DATASHELL" -c "pipeline load $WORK/p.json" >/dev/null 2>"$ERR" ||
		fail "pipeline load $1: $(cat "$ERR")"
}

# state and error of the latest run of TASK for KEY, as "state|error".
run_result() {	# TASK KEY
	run_field "$1" "$2" "r.state || '|' || coalesce(r.error, '')"
}

has_day() {	# TABLE DAY: 1 or 0
	sql "SELECT count(*) FROM $1 WHERE day = '$2'"
}

# The states the cases start from. fixture: the tables and the state store. v2: the
# swaps of ckpis and skpis started in mode v2, and the first keys run into both. failed:
# then the runs of 2024-03-03 that failed on the pass for T_v2, and the one that did not.
# checked: then the runs that a check or complete_when failed for T_v2, and 2024-03-06.
stage_fixture() {
	use_fresh_database t_swap_v2
	setup "$DATASHELL" -c init
	setup sql "CREATE TABLE ckpis (day date PRIMARY KEY, n integer NOT NULL);
	           CREATE TABLE skpis (day date PRIMARY KEY, n integer NOT NULL);
	           CREATE TABLE skpi_log (day date NOT NULL)"
}

stage_v2() {
	use_stage fixture
	ckpi_pipeline public.ckpis
	setup "$DATASHELL" -c 'swap-table start ckpis --mode v2' -c 'swap-table start skpis --mode v2' \
		-c 'backfill ckpi 2024-03-01..2024-03-02' -c 'backfill skpi 2024-03-01' \
		-c 'backfill slog 2024-03-01' -c 'worker --drain'
}

stage_failed() {
	use_stage v2
	setup sql "ALTER TABLE ckpis_v2 ADD CONSTRAINT not_3rd CHECK (day <> '2024-03-03')"
	setup_failing "$DATASHELL" -c 'force-run ckpi 2024-03-03' -c 'force-run cslow 2024-03-03' \
		-c 'worker --drain --concurrency 2'
	setup sql "ALTER TABLE ckpis_v2 DROP CONSTRAINT not_3rd"
	setup "$DATASHELL" -c 'force-run ckpi 2024-03-03' -c 'worker --drain'
}

stage_checked() {
	use_stage failed
	setup sql "INSERT INTO ckpis_v2 VALUES ('2024-01-01', -1); INSERT INTO skpis_v2 VALUES ('2024-01-01', -1)"
	setup_failing "$DATASHELL" -c 'force-run ckpi 2024-03-04' -c 'force-run skpi 2024-03-04' \
		-c 'worker --drain'
	setup sql "DELETE FROM ckpis_v2 WHERE n < 0; DELETE FROM skpis_v2 WHERE n < 0"
	setup sql "CREATE FUNCTION drop_6th() RETURNS trigger LANGUAGE plpgsql AS
	             \$\$BEGIN IF NEW.day = '2024-03-06' THEN RETURN NULL; END IF; RETURN NEW; END\$\$;
	           CREATE TRIGGER drop_6th BEFORE INSERT ON ckpis_v2 FOR EACH ROW EXECUTE FUNCTION drop_6th()"
	setup_failing "$DATASHELL" -c 'force-run ckpi 2024-03-06' -c 'worker --drain'
	setup sql "DROP TRIGGER drop_6th ON ckpis_v2"
	setup "$DATASHELL" -c 'force-run ckpi 2024-03-06' -c 'worker --drain'
}

begin "in mode v2 a command task runs for T, then for T_v2, told which pass it is"
use_stage fixture
ckpi_pipeline public.ckpis
ds -c 'swap-table start ckpis --mode v2' -c 'swap-table start skpis --mode v2'
expect_exit 0
ds -c 'backfill ckpi 2024-03-01..2024-03-02' -c 'backfill skpi 2024-03-01' \
	-c 'backfill slog 2024-03-01'
expect_exit 0
ds -c 'worker --drain'
expect_exit 0
expect_sql "a body without :\"target\" runs once" 'SELECT count(*) FROM skpi_log' 1
expect_eq "ckpis" "$(rows_of ckpis)" "2024-03-01=3,2024-03-02=3"
expect_eq "ckpis_v2" "$(rows_of ckpis_v2)" "2024-03-01=3,2024-03-02=3"
expect_eq "skpis_v2" "$(rows_of skpis_v2)" "2024-03-01=3"
expect_eq "ckpi" "$(run_result ckpi 2024-03-02)" "success|"
run_field ckpi 2024-03-01 r.output >"$WORK/output"
expect_same "the output of both passes" "$WORK/output" <<-'END'
	pass main wrote public.ckpis
	--- DS_TARGET_PASS=v2 DS_TARGET=public.ckpis_v2 ---
	pass v2 wrote public.ckpis_v2

END
end_case

begin "a command that fails or times out on the pass for T_v2 fails the run and says so"
use_stage v2
sql "ALTER TABLE ckpis_v2 ADD CONSTRAINT not_3rd CHECK (day <> '2024-03-03')" >/dev/null
ds -c 'force-run ckpi 2024-03-03' -c 'force-run cslow 2024-03-03' -c 'worker --drain --concurrency 2'
expect_exit 3
expect_stderr_matches '^  cslow 2024-03-03: failed: timed out after 1s on the pass for public.ckpis_v2$'
expect_eq "ckpi" "$(run_result ckpi 2024-03-03)" \
	"failed|exited with status 4 on the pass for public.ckpis_v2: cannot write public.ckpis_v2"
expect_eq "cslow" "$(run_result cslow 2024-03-03)" \
	"failed|timed out after 1s on the pass for public.ckpis_v2"
expect_eq "cslow's output" "$(run_field cslow 2024-03-03 "replace(r.output, chr(10), '/')")" \
	"pass main/--- DS_TARGET_PASS=v2 DS_TARGET=public.ckpis_v2 ---/pass v2/"
# The first pass did its work: a command is idempotent per key, the retry re-runs it.
expect_eq "ckpis:ckpis_v2" "$(has_day ckpis 2024-03-03):$(has_day ckpis_v2 2024-03-03)" "1:0"
# Cancelled on its second pass, the command's process group is stopped.
"$DATASHELL" -c 'force-run cstop 2024-03-03' -c 'worker --drain --lease 1' >/dev/null 2>&1 &
worker=$!
T_AT_EXIT="kill $worker 2>/dev/null"
wait_for_file . "$WORK/cstop.v2"
sleeper=$(cat "$WORK/cstop.v2" 2>/dev/null)
[ -n "$sleeper" ] || fail "cstop never reached its second pass"
sql "UPDATE datashell.runs SET cancel_requested = true WHERE state = 'running'" >/dev/null
wait $worker
T_AT_EXIT=""
expect_eq "cstop" "$(run_result cstop 2024-03-03)" "cancelled|cancelled on request"
# Killed, it may linger as a zombie until init reaps it.
[ -n "$sleeper" ] && ps -o stat= -p "$sleeper" | grep -qv '^Z' &&
	fail "the second pass ($sleeper) still runs"
sql "ALTER TABLE ckpis_v2 DROP CONSTRAINT not_3rd" >/dev/null
ds -c 'force-run ckpi 2024-03-03' -c 'worker --drain'
expect_exit 0
expect_eq "ckpi again" "$(run_result ckpi 2024-03-03)" "success|"
expect_eq "both now" "$(has_day ckpis 2024-03-03):$(has_day ckpis_v2 2024-03-03)" "1:1"
end_case

begin "a check or complete_when that fails only for T_v2 fails the run, SQL or command"
use_stage failed
sql "INSERT INTO ckpis_v2 VALUES ('2024-01-01', -1); INSERT INTO skpis_v2 VALUES ('2024-01-01', -1)" >/dev/null
ds -c 'force-run ckpi 2024-03-04' -c 'force-run skpi 2024-03-04' -c 'worker --drain'
expect_exit 3
expect_eq "ckpi" "$(run_result ckpi 2024-03-04)" \
	"blocked|check 'positive' failed for public.ckpis_v2: returned false"
expect_eq "skpi" "$(run_result skpi 2024-03-04)" \
	"blocked|check 'positive' failed for public.skpis_v2: returned false"
# The checks come before any pass: nothing was written.
expect_eq "ckpis:ckpis_v2" "$(has_day ckpis 2024-03-04):$(has_day ckpis_v2 2024-03-04)" "0:0"
expect_eq "skpis:skpis_v2" "$(has_day skpis 2024-03-04):$(has_day skpis_v2 2024-03-04)" "0:0"
sql "DELETE FROM ckpis_v2 WHERE n < 0; DELETE FROM skpis_v2 WHERE n < 0" >/dev/null
# ckpis_v2 drops the rows of 2024-03-06: complete_when finds the key in ckpis only.
sql "CREATE FUNCTION drop_6th() RETURNS trigger LANGUAGE plpgsql AS
       \$\$BEGIN IF NEW.day = '2024-03-06' THEN RETURN NULL; END IF; RETURN NEW; END\$\$;
     CREATE TRIGGER drop_6th BEFORE INSERT ON ckpis_v2 FOR EACH ROW EXECUTE FUNCTION drop_6th()" >/dev/null
ds -c 'force-run ckpi 2024-03-06' -c 'worker --drain'
expect_exit 3
expect_eq "ckpi" "$(run_result ckpi 2024-03-06)" \
	"failed|complete_when returned false for public.ckpis_v2"
sql "DROP TRIGGER drop_6th ON ckpis_v2" >/dev/null
ds -c 'force-run ckpi 2024-03-06' -c 'worker --drain'
expect_eq "ckpi again" "$(run_result ckpi 2024-03-06)" "success|"
expect_eq "ckpis_v2" "$(rows_of ckpis_v2)" "2024-03-01=3,2024-03-02=3,2024-03-03=3,2024-03-06=3"
end_case

begin "once finish retired T, a command task's runs write the new table alone, once"
use_stage checked
ckpi_pipeline public.ckpis_v2
ds -c 'swap-table check ckpis --key day'
expect_exit 0
ds -c 'swap-table finish ckpis --yes'
expect_exit 0
expect_sql "ckpis retired" "SELECT to_regclass('ckpis') IS NULL" t
ds -c 'force-run ckpi 2024-03-07' -c 'worker --drain'
expect_exit 0
expect_eq "ckpi" "$(run_result ckpi 2024-03-07)" "success|"
expect_eq "its output" "$(run_field ckpi 2024-03-07 "replace(r.output, chr(10), '/')")" \
	"pass main wrote public.ckpis_v2/"
expect_eq "ckpis_v2" "$(rows_of ckpis_v2)" \
	"2024-03-01=3,2024-03-02=3,2024-03-03=3,2024-03-06=3,2024-03-07=3"
end_case

done_testing
