#!/bin/sh
# swap-table's steps under stress: a shell killed with SIGKILL where a step waits (start,
# check, swap, finish, abandon), backfill --into backfill writing T_backfill, a swap under
# concurrent load, the questions rollback and finish ask, and check finding one changed
# value, one missing row and one NULL.
. "$DS_TOP/tests/lib.sh"
use_fresh_database t_swap_steps

stage_fixture() {
	use_fresh_database t_swap_steps
	setup "$DATASHELL" -c init
}

# A shell killed with SIGKILL at the points where a step waits: every step is one
# transaction that also writes the journal, so the next command finds a whole state.
# events: a table with a foreign key to it, its swap started and events_backfill filled;
# then checked; then swapped.
stage_events() {
	use_stage fixture
	setup sql "CREATE TABLE events (id serial PRIMARY KEY, v integer);
	           INSERT INTO events (v) SELECT generate_series(1, 100);
	           CREATE TABLE event_refs (event_id integer REFERENCES events (id));
	           INSERT INTO event_refs VALUES (1), (2)"
	setup "$DATASHELL" -c 'swap-table start events'
	setup sql "INSERT INTO events_backfill SELECT * FROM events"
}

stage_events_checked() {
	use_stage events
	setup "$DATASHELL" -c 'swap-table check events'
}

stage_events_swapped() {
	use_stage events_checked
	setup "$DATASHELL" -c 'swap-table swap events --yes'
}

begin "a check killed while it runs leaves the swap started; the next check converges"
use_stage events
hold_lock 'LOCK TABLE events_backfill'
"$DATASHELL" -c 'swap-table check events' >/dev/null 2>&1 &
shell=$!
wait_until "(SELECT count(*) FROM pg_stat_activity WHERE application_name = 'datashell'
             AND datname = current_database() AND wait_event_type = 'Lock') = 1"
kill -9 $shell
wait $shell 2>/dev/null
expect_sql "state" "$(swap_state_sql events)" started
expect_sql "checks" "SELECT checks IS NULL FROM datashell.swaps WHERE table_name = 'events'" t
release_lock
ds -c 'swap-table check events'
expect_exit 0
expect_sql "state" "$(swap_state_sql events)" checked
end_case

# A shell killed by kill_when while it waits for a lock leaves its server session waiting
# on: release_orphan releases the lock (hold_lock's) and waits until that session has seen
# the shell gone and rolled back.
release_orphan() {
	release_lock
	wait_until "$DS_GONE_SQL"
}

# The state of the newest swap of TABLE as status shows it.
status_state() {	# TABLE
	ds -c "swap-table status $1 --json"
	json_get '{swaps}[0]{state}' <"$OUT"
}

begin "a start killed while its --create-sql waits for a lock leaves no swap; the next start converges"
use_stage fixture
sql "CREATE TABLE logs (id integer PRIMARY KEY, msg text);
     INSERT INTO logs SELECT i, 'm' || i FROM generate_series(1, 50) i;
     CREATE TABLE log_gate (x integer)" >/dev/null
cat >"$WORK/logs.sql" <<-'END'
	CREATE TABLE logs_backfill (LIKE logs INCLUDING ALL, extra text);
	LOCK TABLE log_gate IN SHARE MODE;
END
hold_lock 'LOCK TABLE log_gate'
kill_when "$DS_LOCK_WAIT_SQL" -c "swap-table start logs --create-sql $WORK/logs.sql"
release_orphan
expect_sql "no swap journaled" "SELECT count(*) FROM datashell.swaps WHERE table_name = 'logs'" 0
expect_sql "no logs_backfill" "SELECT to_regclass('logs_backfill') IS NULL" t
ds -c 'swap-table status logs'
expect_exit 0
ds -c "swap-table start logs --create-sql $WORK/logs.sql"
expect_exit 0
expect_eq "status" "$(status_state logs)" started
expect_sql "logs_backfill" "SELECT count(*) FROM pg_attribute WHERE attrelid = 'logs_backfill'::regclass AND attname = 'extra'" 1
end_case

begin "a finish killed while its DROP waits for a lock leaves the swap swapped; the next finish converges"
use_stage events_swapped
hold_lock 'SELECT count(*) FROM events_old'
kill_when "$DS_LOCK_WAIT_SQL" -c 'swap-table finish events --yes'
release_orphan
expect_eq "status" "$(status_state events)" swapped
expect_sql "events_old kept" "SELECT count(*) FROM events_old" 100
ds -c 'swap-table finish events --yes'
expect_exit 0
expect_eq "status" "$(status_state events)" finished
expect_sql "events_old dropped" "SELECT to_regclass('events_old') IS NULL" t
expect_sql "rows" 'SELECT count(*) FROM events' 100
end_case

begin "an abandon killed while its DROP waits for a lock leaves the swap started; the next abandon converges"
use_stage events
hold_lock 'SELECT count(*) FROM events_backfill'
kill_when "$DS_LOCK_WAIT_SQL" -c 'swap-table abandon events --yes'
release_orphan
expect_eq "status" "$(status_state events)" started
expect_sql "events_backfill kept" "SELECT count(*) FROM events_backfill" 100
ds -c 'swap-table abandon events --yes'
expect_exit 0
expect_eq "status" "$(status_state events)" abandoned
expect_sql "events_backfill dropped" "SELECT to_regclass('events_backfill') IS NULL" t
expect_sql "rows" 'SELECT count(*) FROM events' 100
expect_sql "foreign key" "SELECT confrelid::regclass FROM pg_constraint WHERE conname = 'event_refs_event_id_fkey'" events
end_case

begin "a swap killed while it waits for the lock leaves the table as it was"
use_stage events_checked
hold_lock 'SELECT count(*) FROM events'
# A lock timeout of 1s leaves at least 1.5s between the first report and the second.
"$DATASHELL" -c 'swap-table swap events --lock-timeout 1s --deadline 60s --yes' \
	>/dev/null 2>"$WORK/killed.err" &
shell=$!
wait_for_file 'not granted' "$WORK/killed.err"
kill -9 $shell
wait $shell 2>/dev/null
expect_eq "reported the blocker first" "$(grep -c 'not granted' "$WORK/killed.err")" 1
expect_sql "state" "$(swap_state_sql events)" checked
expect_sql "events_old" "SELECT to_regclass('events_old') IS NULL" t
expect_sql "rows" 'SELECT count(*) FROM events' 100
release_lock
ds -c 'swap-table swap events --yes'
expect_exit 0
expect_sql "state" "$(swap_state_sql events)" swapped
expect_sql "rows" 'SELECT count(*) FROM events' 100
expect_sql "foreign key" "SELECT confrelid::regclass || ' ' || convalidated FROM pg_constraint WHERE conname = 'event_refs_event_id_fkey'" "events true"
end_case

begin "a swap killed after its commit, before validating: status says so, the next step validates"
use_stage events_swapped
# The state such a kill leaves: the foreign key re-pointed NOT VALID, its validation pending.
sql "ALTER TABLE event_refs DROP CONSTRAINT event_refs_event_id_fkey;
     ALTER TABLE event_refs ADD CONSTRAINT event_refs_event_id_fkey
       FOREIGN KEY (event_id) REFERENCES events (id) NOT VALID;
     UPDATE datashell.swaps SET pending =
       '[\"ALTER TABLE public.event_refs VALIDATE CONSTRAINT event_refs_event_id_fkey\"]'
     WHERE table_name = 'events'" >/dev/null
ds -c 'swap-table status events --json'
expect_exit 0
expect_eq "next" "$(json_get '{swaps}[0]{next}' <"$OUT")" \
	"foreign keys still to validate: run swap-table swap"
ds -c 'swap-table swap events --yes'
expect_exit 0
expect_stdout_matches 'is already swapped$'
expect_sql "validated" "SELECT convalidated FROM pg_constraint WHERE conname = 'event_refs_event_id_fkey'" t
expect_sql "pending" "SELECT pending FROM datashell.swaps WHERE table_name = 'events'" "[]"
end_case

begin "backfill --into backfill runs the tasks that write T with their target pointed at T_backfill"
use_stage fixture
sql "CREATE TABLE daily_totals (day date PRIMARY KEY, n integer NOT NULL);
     INSERT INTO daily_totals VALUES ('2024-01-01', 1), ('2024-01-02', 1)" >/dev/null
cat >"$WORK/totals.json" <<-'END'
	{"graphs": {"core": {}},
	 "tasks": [
	   {"name": "totals", "graph": "core", "key": "daily", "target": "public.daily_totals",
	    "sql": "DELETE FROM :\"target\" WHERE day = :'key'; INSERT INTO :\"target\" VALUES (:'key', 2)",
	    "checks": [{"name": "positive", "sql":
	      "SELECT NOT EXISTS (SELECT 1 FROM :\"target\" WHERE day = :'key' AND n <= 0)"}]},
	   {"name": "no_target", "graph": "core", "key": "daily", "sql": "SELECT 1"}]}
END
"$DATASHELL" -c "pipeline load $WORK/totals.json" >/dev/null 2>&1
ds -c 'backfill totals 2024-01-01..2024-01-03 --into backfill'
expect_exit 3
expect_stderr_matches "--into backfill: no swap of their target has a T_backfill to write: 'totals' \(public.daily_totals\)"
expect_sql "nothing enqueued" 'SELECT count(*) FROM datashell.runs' 0
flush_sql
"$DATASHELL" -c 'swap-table start daily_totals' >/dev/null 2>&1
ds -c 'backfill totals,no_target 2024-01-01..2024-01-03 --into backfill'
expect_exit 3
expect_stderr_matches "--into backfill: tasks without a target: 'no_target'"
ds -c 'backfill totals 2024-01-01..2024-01-03 --into shadow'
expect_exit 3
expect_stderr_matches "--into: unknown target 'shadow'"
ds -c 'backfill totals 2024-01-01..2024-01-03 --into backfill --json'
expect_exit 0
expect_eq "enqueued" "$(json_get '{enqueued}' <"$OUT")" 3
expect_sql "the runs name the swap" "SELECT count(*) FROM datashell.runs r
	JOIN datashell.swaps s ON s.id = r.swap_id WHERE s.table_name = 'daily_totals'" 3
ds -c 'worker --drain'
expect_exit 0
expect_sql "the shadow" 'SELECT string_agg(day || $$=$$ || n, $$,$$ ORDER BY day) FROM daily_totals_backfill' \
	"2024-01-01=2,2024-01-02=2,2024-01-03=2"
expect_sql "production untouched" 'SELECT string_agg(day || $$=$$ || n, $$,$$ ORDER BY day) FROM daily_totals' \
	"2024-01-01=1,2024-01-02=1"
ds -c 'swap-table check daily_totals --key day --json'
expect_exit 3
expect_stderr_matches "error: checks of swap 1 failed: checksums$"
expect_eq "counts over the keys both have" "$(json_get '{checks}[0]{detail}' <"$OUT")" \
	"2 rows in 2 keys of the table, 3 in 3 of the new one; 2 in both, 0 with different counts; 1 key only in the new one: 2024-01-03"
expect_eq "a key only the new table has fails nothing" "$(json_get '{checks}[0]{status}' <"$OUT")" passed
expect_eq "the task's checks" "$(json_get '{checks}[4]{status}' <"$OUT")" passed
sql "UPDATE daily_totals_backfill SET n = 0 WHERE day = '2024-01-02'" >/dev/null
ds -c 'swap-table check daily_totals --json'
expect_exit 3
expect_eq "a task check fails" "$(json_get '{checks}[4]{detail}' <"$OUT")" \
	"1 of 3 failed: totals.positive for 2024-01-02"
ds -c 'swap-table swap daily_totals --yes'
expect_exit 3
expect_stderr_matches "failed checks block the swap: row_counts, checksums, task_checks"
end_case

# hot_checked: a table hot, its swap started, hot_backfill filled and checked;
# hot_swapped: swapped.
stage_hot_checked() {
	use_stage fixture
	setup sql "CREATE TABLE hot (id serial PRIMARY KEY, n integer NOT NULL);
	           INSERT INTO hot (n) SELECT 0 FROM generate_series(1, 1000)"
	setup "$DATASHELL" -c 'swap-table start hot'
	setup sql "INSERT INTO hot_backfill SELECT * FROM hot"
	setup "$DATASHELL" -c 'swap-table check hot'
}

stage_hot_swapped() {
	use_stage hot_checked
	setup "$DATASHELL" -c 'swap-table swap hot --yes'
}

begin "under concurrent load a swap completes with no failed transaction and no long wait"
use_stage hot_checked
# Each transaction writes hot_backfill as well while it exists, as a task's run does, so
# that the swap loses nothing and goes ahead.
sql "CREATE FUNCTION hot_write(i integer) RETURNS void LANGUAGE plpgsql AS \$\$
     DECLARE new_id integer;
     BEGIN
       UPDATE hot SET n = n + 1 WHERE id = i;
       INSERT INTO hot (n) VALUES (1) RETURNING id INTO new_id;
       IF to_regclass('hot_backfill') IS NOT NULL THEN
         EXECUTE 'UPDATE hot_backfill SET n = n + 1 WHERE id = \$1' USING i;
         EXECUTE 'INSERT INTO hot_backfill VALUES (\$1, 1)' USING new_id;
       END IF;
     END\$\$" >/dev/null
cat >"$WORK/load.sql" <<-'END'
	\set id random(1, 1000)
	SELECT n FROM hot WHERE id = :id;
	SELECT hot_write(:id);
END
(cd "$WORK" && pgbench -n -c 4 -T 6 -f load.sql -l --log-prefix=load t_swap_steps \
	>"$WORK/pgbench.out" 2>&1; echo $? >"$WORK/pgbench.code") &
load=$!
# The load commits: each transaction adds a row to the 1000 of the stage.
wait_until "(SELECT count(*) >= 4 FROM pg_stat_activity
             WHERE application_name = 'pgbench' AND datname = 't_swap_steps')
            AND (SELECT count(*) >= 1200 FROM hot)"
ds -c 'swap-table swap hot --lock-timeout 100ms --deadline 30s --yes'
expect_exit 0
swapped=$(date +%s.%N)
wait $load
expect_eq "pgbench" "$(cat "$WORK/pgbench.code")" 0
grep -q '^number of failed transactions: 0 ' "$WORK/pgbench.out" ||
	fail "pgbench: $(cat "$WORK/pgbench.out")"
# The third field of pgbench's log is each transaction's latency in microseconds.
longest=$(cat "$WORK"/load.* | awk '$3 > max { max = $3 } END { print int(max / 1000) }')
[ "$longest" -lt 600 ] || fail "a transaction took ${longest} ms (lock timeout 100 ms)"
# The fifth and sixth fields say when a transaction ended: seconds since the epoch, and
# microseconds.
after=$(cat "$WORK"/load.* | awk -v t="$swapped" '$5 + $6 / 1000000 > t { n++ } END { print n + 0 }')
[ "$after" -gt 0 ] || fail "no transaction of the load ended after the swap"
expect_sql "state" "$(swap_state_sql hot)" swapped
expect_sql "the new table takes writes" "SELECT count(*) > 0 FROM hot WHERE n > 0" t
end_case

begin "in a script, rollback and finish need --yes, and change nothing without it"
use_stage hot_swapped
ds -c 'swap-table rollback hot'
expect_exit 3
expect_stderr_matches "^datashell: error: 'swap-table' would roll back \"public\".\"hot\" now; in a script it needs --yes$"
expect_sql "state" "$(swap_state_sql hot)" swapped
ds -c 'swap-table finish hot'
expect_exit 3
expect_stderr_matches "would drop \"public\".\"hot_old\"; in a script it needs --yes$"
expect_sql "hot_old kept" "SELECT to_regclass('hot_old') IS NOT NULL" t
end_case

begin "on a terminal, rollback and finish show what they will do and ask"
use_stage hot_swapped
TERM=xterm "$DS_PTYRUN" -t 30 -- "$DATASHELL" >"$OUT" 2>"$ERR" <<-'END'
	expect datashell> $
	sendline swap-table rollback hot
	expect re-pointed|index
	expect roll back "public"."hot" now\? \[y/N\] $
	sendline n
	expect nothing changed: did not roll back
	expect datashell> $
	sendline swap-table finish hot
	expect drop "public"."hot_old"\? \[y/N\] $
	sendline y
	expect Dropped +"public"."hot_old"
	expect datashell> $
	sendline quit
	wait 0
END
CODE=$?
expect_exit 0
expect_sql "state" "$(swap_state_sql hot)" finished
expect_sql "hot_old" "SELECT to_regclass('hot_old') IS NULL" t
ds -c 'handoff --since 1h --json'
expect_eq "the hand-off names the swap" "$(perl -MJSON::PP -e 'local $/;
	my ($s) = grep { $_->{table} eq "public.hot" } @{ decode_json(<STDIN>)->{swaps} };
	print $s->{state}' <"$OUT")" finished
end_case

begin "check finds one changed value, one missing row and a NULL in a NOT NULL column"
use_stage fixture
# Columns hashed each way: by their type's function, converted (date, timestamptz,
# boolean), in an array (bytea) and as text (json, point).
sql "CREATE TABLE ledger (id bigint PRIMARY KEY, day date NOT NULL, amount numeric,
       at timestamptz, ok boolean, raw bytea, doc json, pos point);
     INSERT INTO ledger SELECT i, date '2024-01-01' + i % 5, i, timestamptz '2024-01-01' + i * interval '1 min',
       i % 2 = 0, int4send(i), json_build_object('i', i), point(i, i)
     FROM generate_series(1, 500) i" >/dev/null
"$DATASHELL" -c 'swap-table start ledger' >/dev/null 2>&1
sql "ALTER TABLE ledger_backfill ALTER COLUMN day DROP NOT NULL;
     INSERT INTO ledger_backfill SELECT * FROM ledger" >/dev/null
checks() {	# the status of each check, then the detail of the check named $1
	ds -c 'swap-table check ledger --key day --json'
	perl -MJSON::PP -e 'local $/; my @c = @{ decode_json(<STDIN>)->{checks} };
		print join(" ", map { $_->{status} } @c[0 .. 3]), "\n";
		print map { $_->{name} eq $ARGV[0] ? $_->{detail} : () } @c' "$1" <"$OUT"
}
expect_eq "the same rows" "$(checks row_counts)" "passed passed passed passed
500 rows in the table and in the new one, the same rows: the same count for every key"
for change in "amount = amount + 1" "at = at + interval '1 microsecond'" "ok = NOT ok" \
	"raw = int4send(0)" "doc = '{\"i\": 0}'" "pos = point(0, 0)"; do
	sql "UPDATE ledger_backfill SET $change WHERE id = 42" >/dev/null
	expect_eq "one value changed: $change" "$(checks checksums)" "passed failed passed passed
1 of 5 keys in both differ in their rows: 2024-01-03"
	sql "DELETE FROM ledger_backfill WHERE id = 42;
	     INSERT INTO ledger_backfill SELECT * FROM ledger WHERE id = 42" >/dev/null
done
expect_eq "restored" "$(checks checksums)" "passed passed passed passed
the checksums of all 500 rows agree"
sql "DELETE FROM ledger_backfill WHERE id = 99" >/dev/null
expect_eq "a missing row" "$(checks row_counts)" "failed failed passed passed
500 rows in 5 keys of the table, 499 in 5 of the new one; 5 in both, 1 with different counts: 2024-01-05: 100/99"
sql "INSERT INTO ledger_backfill SELECT * FROM ledger WHERE id = 99;
     UPDATE ledger_backfill SET day = NULL WHERE id = 100" >/dev/null
expect_eq "a NULL" "$(checks not_null)" "failed failed failed passed
day has 1 NULL"
ds -c 'swap-table check ledger --key dya'
expect_exit 3
expect_stderr_matches "--key: no column 'dya' in \"public\".\"ledger\""
end_case

done_testing
