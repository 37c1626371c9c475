#!/bin/sh
# swap-table: a table with everything PostgreSQL binds by OID (a view, a materialized
# view, a function with a SQL body, a foreign key from another table, grants to a reader
# role, RLS and a policy, a trigger, a comment, a serial id, a publication) is rebuilt
# through T_backfill, swapped, rolled back exactly and finished; lock waits are bounded
# and retried; a failed check blocks the swap; odd names work.
. "$DS_TOP/tests/lib.sh"
use_fresh_database t_swap
# A reader's role, which belongs to the whole server: made by whichever script needs it
# first (85-swap-mode-v2.t needs it too), never dropped under another's feet.
sql "DO \$\$BEGIN CREATE ROLE swap_reader;
     EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END\$\$" >/dev/null

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
orders_schema() {
	schema_dump -T 'orders_backfill*' -T 'orders_old*'
}

# The states the cases start from.
# fixture: orders and what is bound to it. started: its swap started. filled: orders_backfill
# filled, every amount of 2024-01-03 doubled ($WORK/orders.before: the schema then).
# checked: checked, the checksums failed. accepted: the failure accepted. swapped: the
# swap done, and a row inserted through the trigger (id 1001). rolled_back: that row
# deleted, rolled back (--lose-writes: nothing written since the swap is left to lose),
# a row inserted into orders and orders_backfill in one transaction (as a task's run
# writes both). reswapped: swapped again. kept: finish --keep 7d.
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
	orders_schema >"$WORK/orders.before"
}

stage_checked() {
	use_stage filled
	setup_failing "$DATASHELL" -c 'swap-table check orders --key day'
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
	setup "$DATASHELL" -c 'swap-table rollback orders --lose-writes --yes'
	setup sql "BEGIN;
	           INSERT INTO orders (day) VALUES ('2024-02-02');
	           INSERT INTO orders_backfill SELECT * FROM orders WHERE day = '2024-02-02';
	           COMMIT"
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
	started swap 1 of orders: its tasks now write orders_backfill too; fill it, then 'swap-table check'
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
expect_exit 3
expect_stderr_matches "error: checks of swap 1 failed: checksums$"
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
ds --keep-going -c 'swap-table check orders' -c 'swap-table swap orders --yes'
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
ds -c 'swap-table rollback orders --lose-writes --yes'
expect_exit 0
expect_sql "state" "$(swap_state_sql orders)" "rolled back"
expect_sql "the table" 'SELECT sum(amount) FROM orders' 500500
expect_sql "the view" 'SELECT sum(amount) FROM orders_v' 500500
expect_sql "the materialized view" 'SELECT sum(total) FROM orders_mv' 500500
expect_sql "the function" 'SELECT order_total()' 500500
before=$(cat "$WORK/orders.before")
after=$(orders_schema)
[ "$before" = "$after" ] || fail "the schema differs after rollback:
$(printf '%s\n' "$before" >"$WORK/before"; printf '%s\n' "$after" | diff -u "$WORK/before" -)"
expect_sql "ids go on past the new table's" \
	"INSERT INTO orders (day) VALUES ('2024-02-02') RETURNING id > 1001" t
end_case

begin "a session holding a lock makes swap retry, report it and give up at the deadline"
use_stage rolled_back
hold_lock 'SELECT count(*) FROM orders'
ds -c 'swap-table swap orders --lock-timeout 100ms --deadline 3s --yes'
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
ds -c 'swap-table swap orders --lock-timeout 100ms --deadline 3s --yes'
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
ds -c "swap-table check $t"
expect_exit 3
ds -c "swap-table check $t --accept checksums --reason 'upper case now'" -c "swap-table swap $t --yes"
expect_exit 0
expect_sql "the view" 'SELECT string_agg("Value", $$,$$ ORDER BY "Id") FROM "Big View"' "A,B"
ds -c "swap-table rollback $t --yes"
expect_exit 0
expect_sql "rolled back" 'SELECT string_agg("Value", $$,$$ ORDER BY "Id") FROM "Big View"' "a,b"
ds -c "swap-table finish $t --yes"
expect_exit 0
expect_sql "the shadow is gone" "SELECT to_regclass('\"Big \"\"Q\"\" Table_backfill\"') IS NULL" t
end_case

done_testing
