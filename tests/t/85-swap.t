#!/bin/sh
# swap-table: a table with everything PostgreSQL binds by OID (a view, a materialized
# view, a function with a SQL body, a foreign key from another table, grants to a reader
# role, RLS and a policy, a trigger, a comment, a serial id, a publication) is rebuilt
# through T_backfill, swapped, rolled back exactly and finished; lock waits are bounded
# and retried; a failed check blocks the swap; odd names work.
. "$DS_TOP/tests/lib.sh"
use_fresh_database t_swap
sql "DROP ROLE IF EXISTS swap_reader; CREATE ROLE swap_reader" >/dev/null 2>&1

# orders, with everything PostgreSQL binds by OID to it, and the state store.
make_fixture() {
	"$DATASHELL" -c init >/dev/null || return 1
	sql "
CREATE TABLE orders (id serial PRIMARY KEY, day date NOT NULL, amount numeric, note text);
CREATE INDEX orders_day ON orders (day);
INSERT INTO orders (day, amount)
  SELECT date '2024-01-01' + i % 10, i FROM generate_series(1, 1000) i;
CREATE TABLE items (id serial PRIMARY KEY, order_id integer REFERENCES orders (id));
INSERT INTO items (order_id) SELECT i FROM generate_series(1, 10) i;
CREATE VIEW orders_v AS SELECT id, day, amount FROM orders;
CREATE MATERIALIZED VIEW orders_mv AS SELECT day, sum(amount) AS total FROM orders GROUP BY day;
CREATE UNIQUE INDEX orders_mv_day ON orders_mv (day);
GRANT SELECT ON orders, orders_v, orders_mv TO swap_reader;
ALTER TABLE orders ENABLE ROW LEVEL SECURITY;
CREATE POLICY reader_sees ON orders FOR SELECT TO swap_reader USING (amount > 0);
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS
  \$\$BEGIN NEW.note := coalesce(NEW.note, 'touched'); RETURN NEW; END\$\$;
CREATE TRIGGER orders_touch BEFORE INSERT ON orders FOR EACH ROW EXECUTE FUNCTION touch();
COMMENT ON TABLE orders IS 'one row per order';
CREATE FUNCTION order_total() RETURNS numeric LANGUAGE sql
  BEGIN ATOMIC SELECT sum(amount) FROM orders; END;
CREATE PUBLICATION orders_pub FOR TABLE orders;
"
}

# The schema of everything but the swap's own tables, to compare before and after.
schema_dump() {
	pg_dump -s -T 'orders_backfill*' -T 'orders_old*' t_swap | grep -v -e '^--' -e '^\\'
}

# Start a session that holds a lock: LOCKSQL is its statement, run in a transaction
# that then sleeps (swap reports that statement as the blocker's).
hold_lock() {	# LOCKSQL
	flush_sql
	PGAPPNAME=swap_holder psql -X -q -c 'BEGIN' -c "$1" -c 'SELECT pg_sleep(60)' \
		>/dev/null 2>&1 &
	holder=$!
	T_AT_EXIT="kill $holder 2>/dev/null"
	wait_until "(SELECT count(*) FROM pg_stat_activity WHERE application_name = 'swap_holder'
	             AND datname = current_database() AND query LIKE '%pg_sleep%') = 1"
}

release_lock() {
	sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
	     WHERE application_name = 'swap_holder' AND datname = current_database()" >/dev/null
	wait $holder
	T_AT_EXIT=""
}

# The states the cases start from.
# fixture: orders and what is bound to it. started: its swap started. filled: orders_backfill
# filled, every amount of 2024-01-03 doubled ($WORK/orders.before: the schema then).
# checked: checked, the checksums failed. accepted: the failure accepted. swapped: the
# swap done, and a row inserted through the trigger (id 1001). rolled_back: that row
# deleted, rolled back, a row inserted. reswapped: swapped again. kept: finish --keep 7d.
stage_fixture() {
	use_fresh_database t_swap
	setup make_fixture
}

stage_started() {
	use_stage fixture
	setup "$DATASHELL" -c 'swap-table start orders'
}

stage_filled() {
	use_stage started
	setup sql "INSERT INTO orders_backfill SELECT * FROM orders;
	           UPDATE orders_backfill SET amount = amount * 2 WHERE day = '2024-01-03'"
	schema_dump >"$WORK/orders.before"
}

stage_checked() {
	use_stage filled
	setup "$DATASHELL" -c 'swap-table check orders --key day'
}

stage_accepted() {
	use_stage checked
	setup "$DATASHELL" -c "swap-table check orders --accept checksums --reason 'amounts of Jan 3 were half'"
}

stage_swapped() {
	use_stage accepted
	setup "$DATASHELL" -c 'swap-table swap orders --yes'
	setup sql "INSERT INTO orders (day, amount) VALUES ('2024-02-01', 1)"
}

stage_rolled_back() {
	use_stage swapped
	setup sql "DELETE FROM orders WHERE id = 1001"
	setup "$DATASHELL" -c 'swap-table rollback orders --yes'
	setup sql "INSERT INTO orders (day) VALUES ('2024-02-02')"
}

stage_reswapped() {
	use_stage rolled_back
	setup "$DATASHELL" -c 'swap-table swap orders --yes'
}

stage_kept() {
	use_stage reswapped
	setup "$DATASHELL" -c 'swap-table finish orders --keep 7d'
}

begin "start creates orders_backfill like orders and journals the swap"
use_stage fixture
ds -c 'swap-table start orders'
expect_exit 0
expect_stdout <<-'END'
	started swap 1 of orders: fill orders_backfill, then 'swap-table check'
END
expect_sql "columns" "SELECT count(*) FROM pg_attribute WHERE attrelid = 'orders_backfill'::regclass AND attnum > 0" 4
expect_sql "state" "$(swap_state_sql orders)" started
expect_sql "audit" "SELECT detail->>'swap' FROM datashell.audit_log WHERE command LIKE 'swap-table start%'" 1
end_case

begin "a second start on the same table is refused, naming the first"
use_stage started
ds -c 'swap-table start orders'
expect_exit 3
expect_stderr_matches "table 'orders' already has swap 1, started by [a-z_]+ at .* \(started\)"
expect_sql "swaps" 'SELECT count(*) FROM datashell.swaps' 1
end_case

begin "an unknown table, action or option is a usage error that changes nothing"
use_stage started
ds -c 'swap-table start nosuch'
expect_exit 3
expect_stderr_matches "no table 'nosuch'"
ds -c 'swap-table swpa orders'
expect_exit 3
expect_stderr_matches "unknown action 'swap-table swpa' \(did you mean 'swap-table swap'\?\)"
ds -c 'swap-table check orders --deadline 5s'
expect_exit 3
expect_stderr_matches "'swap-table check' takes no option '--deadline'"
ds -c 'swap-table swap orders --lock-timeout soon'
expect_exit 3
expect_stderr_matches "--lock-timeout: 'soon' is not a duration"
end_case

begin "swap before check is refused"
use_stage filled
ds -c 'swap-table swap orders --yes'
expect_exit 3
expect_stderr_matches "has not been checked"
end_case

begin "check lists what is bound to orders and what happens to each"
use_stage filled
ds -c 'swap-table check orders --key day --json'
expect_exit 0
kinds=$(perl -MJSON::PP -e 'local $/; my %k; $k{$_->{kind}}++ for
	@{ JSON::PP->new->decode(<STDIN>)->{inventory} }; print join ",", sort keys %k' <"$OUT")
expect_eq "kinds" "$kinds" \
	"comment,foreign key,function,grant,index,materialized view,policy,publication,row level security,sequence,trigger,view"
expect_eq "row counts" "$(json_get '{checks}[0]{status}' <"$OUT")" passed
expect_eq "checksums" "$(json_get '{checks}[1]{status}' <"$OUT")" failed
expect_eq "checksum detail" "$(json_get '{checks}[1]{detail}' <"$OUT")" \
	"1 of 10 keys in both differ in their rows: 2024-01-03"
expect_eq "not null" "$(json_get '{checks}[2]{status}' <"$OUT")" passed
expect_eq "unique keys" "$(json_get '{checks}[3]{status}' <"$OUT")" passed
expect_sql "state" "$(swap_state_sql orders)" checked
end_case

begin "a failed check blocks the swap; orders is unchanged"
use_stage checked
ds -c 'swap-table swap orders --yes'
expect_exit 3
expect_stderr_matches "failed checks block the swap: checksums"
expect_sql "orders_old" "SELECT to_regclass('orders_old') IS NULL" t
expect_sql "amounts" 'SELECT sum(amount) FROM orders' 500500
end_case

begin "--accept needs a reason; with one it is journaled and audited"
use_stage checked
ds -c 'swap-table check orders --accept checksums'
expect_exit 3
expect_stderr_matches "--accept checksums needs --reason TEXT"
ds -c "swap-table check orders --accept checksums --reason 'amounts of Jan 3 were half'"
expect_exit 0
expect_sql "accepted" "SELECT accepted->0->>'reason' FROM datashell.swaps" \
	"amounts of Jan 3 were half"
expect_sql "audit" "SELECT detail->>'accepted' FROM datashell.audit_log WHERE command LIKE '%--accept%'" checksums
# A new check is new results: what was accepted of the old ones no longer counts.
ds -c 'swap-table check orders' -c 'swap-table swap orders --yes'
expect_exit 3
expect_stderr_matches "failed checks block the swap: checksums"
expect_sql "acceptances cleared" "SELECT accepted FROM datashell.swaps WHERE table_name = 'orders'" "[]"
ds -c "swap-table check orders --accept checksums --reason 'amounts of Jan 3 were half'"
expect_exit 0
end_case

begin "swap --dry-run shows the plan and changes nothing"
use_stage accepted
ds -c 'swap-table swap orders --dry-run --json'
expect_exit 0
expect_eq "dry run" "$(json_get '{dry_run}' <"$OUT")" true
expect_sql "orders_old" "SELECT to_regclass('orders_old') IS NULL" t
expect_sql "state" "$(swap_state_sql orders)" checked
end_case

begin "swap moves every dependant to the new table"
use_stage accepted
ds -c 'swap-table swap orders --yes'
expect_exit 0
expect_stdout_matches '^swapped "public"."orders" in 1 attempt; the lock was held [0-9.]+ ms$'
expect_sql "state" "$(swap_state_sql orders)" swapped
expect_sql "the table" 'SELECT sum(amount) FROM orders' 550200
expect_sql "the old table" 'SELECT sum(amount) FROM orders_old' 500500
expect_sql "the view" 'SELECT sum(amount) FROM orders_v' 550200
expect_sql "the materialized view" 'SELECT sum(total) FROM orders_mv' 550200
expect_sql "matview index" "SELECT count(*) FROM pg_indexes WHERE indexname = 'orders_mv_day'" 1
expect_sql "the function" 'SELECT order_total()' 550200
expect_sql "the foreign key" "SELECT confrelid::regclass || ' ' || convalidated FROM pg_constraint WHERE conname = 'items_order_id_fkey'" "orders true"
expect_sql "the reader role, through the policy" \
	'SET ROLE swap_reader; SELECT count(*) FROM orders; RESET ROLE' 1000
expect_sql "the reader reads the view and matview" \
	'SET ROLE swap_reader; SELECT count(*) FROM orders_v, orders_mv LIMIT 1; RESET ROLE' 10000
expect_sql "RLS" "SELECT relrowsecurity FROM pg_class WHERE oid = 'orders'::regclass" t
expect_sql "the comment" "SELECT obj_description('orders'::regclass, 'pg_class')" "one row per order"
expect_sql "the publication" "SELECT string_agg(tablename, ',') FROM pg_publication_tables WHERE pubname = 'orders_pub'" orders
expect_sql "index names" "SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes WHERE tablename = 'orders'" "orders_day,orders_pkey"
expect_sql "an insert without an id, through the trigger" \
	"INSERT INTO orders (day, amount) VALUES ('2024-02-01', 1) RETURNING id, note" "1001|touched"
expect_sql "the new table owns its sequence" \
	"SELECT pg_get_serial_sequence('orders', 'id') <> pg_get_serial_sequence('orders_old', 'id')" t
expect_sql "audit" "SELECT detail->>'state' FROM datashell.audit_log WHERE command = 'swap-table swap orders --yes' AND outcome = 'ok'" swapped
end_case

begin "swap again says it is done and changes nothing"
use_stage swapped
ds -c 'swap-table swap orders --yes'
expect_exit 0
expect_stdout <<-'END'
	swap 1 of "public"."orders" is already swapped
END
end_case

begin "rollback restores the old state exactly"
use_stage swapped
sql "DELETE FROM orders WHERE id = 1001" >/dev/null
ds -c 'swap-table rollback orders --yes'
expect_exit 0
expect_sql "state" "$(swap_state_sql orders)" "rolled back"
expect_sql "the table" 'SELECT sum(amount) FROM orders' 500500
expect_sql "the view" 'SELECT sum(amount) FROM orders_v' 500500
expect_sql "the materialized view" 'SELECT sum(total) FROM orders_mv' 500500
expect_sql "the function" 'SELECT order_total()' 500500
before=$(cat "$WORK/orders.before")
after=$(schema_dump)
[ "$before" = "$after" ] || fail "the schema differs after rollback:
$(printf '%s\n' "$before" >"$WORK/before"; printf '%s\n' "$after" | diff -u "$WORK/before" -)"
expect_sql "ids go on past the new table's" \
	"INSERT INTO orders (day) VALUES ('2024-02-02') RETURNING id > 1001" t
end_case

begin "a session holding a lock makes swap retry, report it and give up at the deadline"
use_stage rolled_back
hold_lock 'SELECT count(*) FROM orders'
ds -c 'swap-table swap orders --lock-timeout 100ms --deadline 1s --yes'
expect_exit 3
expect_stderr_matches "lock on \"public\".\"orders\" not granted within 100ms \(attempt 1\), blocked by pid [0-9]+ \([a-z_]+, active, [0-9.]+s\): SELECT pg_sleep\(60\)"
expect_stderr_matches "error: could not lock \"public\".\"orders\" within [0-9.]+s \([0-9]+ attempts, 100ms each\); \"public\".\"orders\" is unchanged"
expect_sql "state" "$(swap_state_sql orders)" "rolled back"
expect_sql "orders_old" "SELECT to_regclass('orders_old') IS NULL" t
expect_sql "the table" 'SELECT sum(amount) FROM orders' 500500
release_lock
end_case

begin "a session queued ahead of the swap for the lock is reported as well"
use_stage rolled_back
hold_lock 'SELECT count(*) FROM orders'
# It holds nothing yet (it waits behind the holder), so only pg_blocking_pids() names it.
PGAPPNAME=swap_queued psql -X -q -c 'BEGIN' -c 'LOCK TABLE orders IN ACCESS EXCLUSIVE MODE' \
	>/dev/null 2>&1 &
queued=$!
wait_until "(SELECT count(*) FROM pg_stat_activity WHERE application_name = 'swap_queued'
             AND datname = current_database() AND wait_event_type = 'Lock') = 1"
ds -c 'swap-table swap orders --lock-timeout 100ms --deadline 1s --yes'
expect_exit 3
expect_stderr_matches "blocked by: .*pid [0-9]+ \([a-z_]+, active, [0-9.]+s, waiting for pid [0-9]+\): LOCK TABLE orders IN ACCESS EXCLUSIVE MODE"
expect_stderr_matches "blocked by: .*pid [0-9]+ \([a-z_]+, active, [0-9.]+s\): SELECT pg_sleep\(60\)"
expect_sql "state" "$(swap_state_sql orders)" "rolled back"
sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
     WHERE application_name = 'swap_queued' AND datname = current_database()" >/dev/null
wait $queued
release_lock
end_case

begin "--cancel-blockers cancels the session and the swap goes through"
use_stage rolled_back
hold_lock 'SELECT count(*) FROM orders'
ds -c 'swap-table swap orders --lock-timeout 100ms --deadline 10s --cancel-blockers --yes'
expect_exit 0
expect_stderr_matches "cancelled them; retrying"
expect_sql "state" "$(swap_state_sql orders)" swapped
wait $holder
T_AT_EXIT=""
end_case

begin "finish refuses while something still uses orders_old, and lists it"
use_stage reswapped
sql "CREATE VIEW old_report AS SELECT count(*) FROM orders_old" >/dev/null
ds -c 'swap-table finish orders --yes'
expect_exit 3
expect_stderr_matches '"public"."orders_old" is still used, nothing was dropped:'
expect_stderr_matches '^view (public\.)?old_report$'
expect_sql "orders_old" "SELECT to_regclass('orders_old') IS NOT NULL" t
sql "DROP VIEW old_report" >/dev/null
end_case

begin "finish --keep keeps orders_old until the retention has passed, asking nothing"
use_stage reswapped
ds -c 'swap-table finish orders --keep 500ms'
expect_exit 3
expect_stderr_matches "--keep: '500ms' is less than a second"
ds -c 'swap-table finish orders --keep 7d --dry-run --json'
expect_exit 0
expect_sql "dry run" "SELECT keep_until IS NULL FROM datashell.swaps WHERE table_name = 'orders' AND state = 'swapped'" t
ds -c 'swap-table finish orders --keep 7d --json'
expect_exit 0
expect_eq "kept" "$(json_get '{kept}' <"$OUT")" '"public"."orders_old"'
expect_sql "orders_old" "SELECT to_regclass('orders_old') IS NOT NULL" t
ds -c 'swap-table finish orders --yes'
expect_exit 3
expect_stderr_matches '"public"."orders_old" is kept until [0-9T:Z-]+ \(finish --keep\); nothing was dropped'
expect_sql "orders_old still kept" "SELECT to_regclass('orders_old') IS NOT NULL" t
end_case

begin "finish drops orders_old, RESTRICT, once the retention has passed; the journal keeps the history"
use_stage kept
ds -c 'swap-table finish orders --keep 1s'
expect_exit 0
wait_until "(SELECT keep_until < now() FROM datashell.swaps WHERE table_name = 'orders'
             AND state = 'swapped')"
ds -c 'swap-table finish orders --yes'
expect_exit 0
expect_sql "orders_old" "SELECT to_regclass('orders_old') IS NULL" t
expect_sql "state" "$(swap_state_sql orders)" finished
expect_sql "the view still works" 'SELECT count(*) > 0 FROM orders_v' t
ds -c 'swap-table status orders --json'
expect_exit 0
expect_eq "status" "$(json_get '{swaps}[0]{state}' <"$OUT")" finished
end_case

begin "names with quotes, spaces and capitals work through the whole workflow"
use_stage fixture
sql 'CREATE TABLE "Big ""Q"" Table" ("Id" serial PRIMARY KEY, "Value" text);
     INSERT INTO "Big ""Q"" Table" ("Value") VALUES ($$a$$), ($$b$$);
     CREATE VIEW "Big View" AS SELECT "Id", "Value" FROM "Big ""Q"" Table"' >/dev/null
t="'\"Big \"\"Q\"\" Table\"'"
ds -c "swap-table start $t"
expect_exit 0
sql 'INSERT INTO "Big ""Q"" Table_backfill" SELECT "Id", upper("Value") FROM "Big ""Q"" Table"' >/dev/null
ds -c "swap-table check $t --accept checksums --reason x"
expect_exit 3
expect_stderr_matches "check 'checksums' of swap [0-9]+ has no failed result"
ds -c "swap-table check $t" -c "swap-table check $t --accept checksums --reason 'upper case now'" \
	-c "swap-table swap $t --yes"
expect_exit 0
expect_sql "the view" 'SELECT string_agg("Value", $$,$$ ORDER BY "Id") FROM "Big View"' "A,B"
ds -c "swap-table rollback $t --yes"
expect_exit 0
expect_sql "rolled back" 'SELECT string_agg("Value", $$,$$ ORDER BY "Id") FROM "Big View"' "a,b"
ds -c "swap-table finish $t --yes"
expect_exit 0
expect_sql "the shadow is gone" "SELECT to_regclass('\"Big \"\"Q\"\" Table_backfill\"') IS NULL" t
end_case

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
expect_sql "the runs remember it" "SELECT string_agg(DISTINCT target, ',') FROM datashell.runs" \
	"public.daily_totals_backfill"
ds -c 'worker --drain'
expect_exit 0
expect_sql "the shadow" 'SELECT string_agg(day || $$=$$ || n, $$,$$ ORDER BY day) FROM daily_totals_backfill' \
	"2024-01-01=2,2024-01-02=2,2024-01-03=2"
expect_sql "production untouched" 'SELECT string_agg(day || $$=$$ || n, $$,$$ ORDER BY day) FROM daily_totals' \
	"2024-01-01=1,2024-01-02=1"
ds -c 'swap-table check daily_totals --key day --json'
expect_exit 0
expect_eq "counts over the keys both have" "$(json_get '{checks}[0]{detail}' <"$OUT")" \
	"2 rows in 2 keys of the table, 3 in 3 of the new one; 2 in both, 0 with different counts"
expect_eq "the task's checks" "$(json_get '{checks}[4]{status}' <"$OUT")" passed
sql "UPDATE daily_totals_backfill SET n = 0 WHERE day = '2024-01-02'" >/dev/null
ds -c 'swap-table check daily_totals --json'
expect_exit 0
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
cat >"$WORK/load.sql" <<-'END'
	\set id random(1, 1000)
	SELECT n FROM hot WHERE id = :id;
	UPDATE hot SET n = n + 1 WHERE id = :id;
	INSERT INTO hot (n) VALUES (1);
END
(cd "$WORK" && pgbench -n -c 4 -T 6 -f load.sql -l --log-prefix=load t_swap \
	>"$WORK/pgbench.out" 2>&1; echo $? >"$WORK/pgbench.code") &
load=$!
wait_until "(SELECT count(*) >= 4 FROM pg_stat_activity
             WHERE application_name = 'pgbench' AND datname = 't_swap')"
sleep 1
ds -c 'swap-table swap hot --lock-timeout 100ms --deadline 30s --yes'
expect_exit 0
wait $load
expect_eq "pgbench" "$(cat "$WORK/pgbench.code")" 0
grep -q '^number of failed transactions: 0 ' "$WORK/pgbench.out" ||
	fail "pgbench: $(cat "$WORK/pgbench.out")"
# The third field of pgbench's log is each transaction's latency in microseconds.
longest=$(cat "$WORK"/load.* | awk '$3 > max { max = $3 } END { print int(max / 1000) }')
[ "$longest" -lt 600 ] || fail "a transaction took ${longest} ms (lock timeout 100 ms)"
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
# The rows of TABLE as day=n,...: the query, and its value.
rows_of_sql() {	# TABLE
	echo "SELECT string_agg(day || '=' || n, ',' ORDER BY day) FROM $1"
}

rows_of() {	# TABLE
	sql "$(rows_of_sql "$1")"
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
	setup "$DATASHELL" -c 'force-run kpi 2024-02-04' -c 'worker --drain'
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
