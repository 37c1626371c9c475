#!/bin/sh
# swap-table and materialized views: the copy of a materialized view reading T is built
# on T_backfill before the lock, so T is read while its query runs, and the lock only
# renames; views reading it follow it; rollback restores the schema exactly; a shell
# killed while the copy is built, or after, leaves nothing the next step trips on.
. "$DS_TOP/tests/lib.sh"
use_fresh_database t_swap_mv
sql "DO \$\$BEGIN CREATE ROLE swap_mv_reader;
     EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END\$\$" >/dev/null

# sales, a materialized view of it whose query passes a gate (it waits while the gate is
# closed, so a case holds its build open), with options, an index, grants and comments;
# one not populated; a view reading the materialized view and one reading both; the state
# store.
make_fixture() {
	"$DATASHELL" -c init >/dev/null || return 1
	sql "
CREATE TABLE sales (id serial PRIMARY KEY, day date NOT NULL, amount numeric NOT NULL);
INSERT INTO sales (day, amount) SELECT date '2024-01-01' + i % 5, i FROM generate_series(1, 500) i;
CREATE TABLE gate (open boolean NOT NULL);
INSERT INTO gate VALUES (true);
CREATE FUNCTION pass_gate() RETURNS boolean LANGUAGE plpgsql VOLATILE AS
  \$\$BEGIN WHILE NOT (SELECT open FROM public.gate) LOOP PERFORM pg_sleep(0.02); END LOOP;
  RETURN true; END\$\$;
CREATE MATERIALIZED VIEW sales_daily WITH (autovacuum_enabled = false) AS
  SELECT s.day, sum(s.amount) AS total, count(*) AS n FROM sales s WHERE pass_gate() GROUP BY s.day;
CREATE UNIQUE INDEX sales_daily_day ON sales_daily (day);
COMMENT ON INDEX sales_daily_day IS 'one row per day';
COMMENT ON MATERIALIZED VIEW sales_daily IS 'totals per day';
COMMENT ON COLUMN sales_daily.total IS 'sum of amounts';
GRANT SELECT ON sales_daily TO swap_mv_reader;
CREATE MATERIALIZED VIEW sales_later AS SELECT count(*) AS n FROM sales WITH NO DATA;
CREATE VIEW sales_daily_v AS SELECT day, total FROM sales_daily WHERE n > 0;
CREATE VIEW sales_share AS
  SELECT sales.id, sales.amount / sales_daily.total AS share
  FROM sales JOIN sales_daily USING (day);
"
}

# The schema of everything but the swap's own tables.
sales_schema() {
	schema_dump -T 'sales_backfill*' -T 'sales_old*'
}

# fixture: the tables. checked: the swap started, sales_backfill filled with every
# amount doubled, checked, the checksums failure accepted ($WORK/sales.before: the schema
# then). swapped: swapped.
stage_fixture() {
	use_fresh_database t_swap_mv
	setup make_fixture
}

stage_checked() {
	use_stage fixture
	setup "$DATASHELL" -c 'swap-table start sales'
	setup sql "INSERT INTO sales_backfill SELECT id, day, amount * 2 FROM sales"
	setup_failing "$DATASHELL" -c 'swap-table check sales'
	setup "$DATASHELL" -c "swap-table check sales --accept checksums --reason 'amounts doubled'"
	sales_schema >"$WORK/sales.before"
}

stage_swapped() {
	use_stage checked
	setup "$DATASHELL" -c 'swap-table swap sales --yes'
}

# How many relations of the swap's own exist: the copies of materialized views, their indexes.
copies_sql="SELECT count(*) FROM pg_class WHERE relname LIKE 'ds\\_swap\\_%'"

# The build of the copy, as the swap's session runs it.
building_sql="(SELECT count(*) FROM pg_stat_activity WHERE application_name = 'datashell'
               AND datname = current_database() AND state = 'active'
               AND query LIKE '%CREATE MATERIALIZED VIEW%ds\\_swap\\_mv\\_%') = 1"

begin "the copy of a materialized view is built before the lock: T is read while its query runs"
use_stage checked
sql "UPDATE gate SET open = false" >/dev/null
"$DATASHELL" -c 'swap-table swap sales --lock-timeout 100ms --yes' >"$WORK/swap.out" 2>&1 &
shell=$!
wait_until "$building_sql"
expect_sql "T, the view and the materialized view are read meanwhile" \
	"SET lock_timeout = '100ms'; SELECT count(*) FROM sales, sales_share, sales_daily_v
	 WHERE sales_share.id = sales.id AND sales_daily_v.day = sales.day" 500
expect_sql "the swap has not happened" "$(swap_state_sql sales)" checked
sql "UPDATE gate SET open = true" >/dev/null
wait $shell
expect_eq "swap" "$?" 0
grep -q 'swapped "public"."sales"' "$WORK/swap.out" || fail "swap: $(cat "$WORK/swap.out")"
expect_sql "state" "$(swap_state_sql sales)" swapped
expect_sql "the lock time is journaled" \
	"SELECT timings ? 'lock_ms' FROM datashell.swaps WHERE table_name = 'sales'" t
expect_sql "the materialized view reads the new table" 'SELECT sum(total) FROM sales_daily' 250500
expect_sql "it reads T, not T_old" \
	"SELECT string_agg(DISTINCT d.refobjid::regclass::text, ',') FROM pg_depend d
	 JOIN pg_rewrite r ON r.oid = d.objid
	 WHERE r.ev_class = 'sales_daily'::regclass AND d.refobjid IN ('sales'::regclass, 'sales_old'::regclass)" sales
expect_sql "the views read it" 'SELECT sum(total) FROM sales_daily_v' 250500
expect_sql "and the new table" 'SELECT round(sum(share)) FROM sales_share' 5
expect_sql "its index, grant and comments" \
	"SELECT (SELECT string_agg(indexname, ',') FROM pg_indexes WHERE tablename = 'sales_daily') || ' ' ||
	        has_table_privilege('swap_mv_reader', 'sales_daily', 'SELECT') || ' ' ||
	        obj_description('sales_daily'::regclass, 'pg_class') || ' ' ||
	        obj_description('sales_daily_day'::regclass, 'pg_class') || ' ' ||
	        col_description('sales_daily'::regclass, 2)" \
	"sales_daily_day true totals per day one row per day sum of amounts"
expect_sql "the one not populated is not" \
	"SELECT relispopulated FROM pg_class WHERE oid = 'sales_later'::regclass" f
expect_sql "no copy is left" "$copies_sql" 0
end_case

begin "check shows when the copy is built and when it takes the place of the view"
use_stage checked
# The checksums fail again (amounts doubled): a new check clears what was accepted.
ds -c 'swap-table check sales --json'
expect_exit 3
expect_eq "materialized view rows" "$(perl -MJSON::PP -e 'local $/; print join "\n", map {
	"$_->{when} $_->{name}" } grep { $_->{kind} eq "materialized view" }
	@{ decode_json(<STDIN>)->{inventory} }' <"$OUT")" "build public.sales_daily
build public.sales_later
swap public.sales_daily
swap public.sales_later"
end_case

begin "rollback restores the schema exactly, views on the materialized view included"
use_stage swapped
ds -c 'swap-table rollback sales --yes'
expect_exit 0
expect_sql "state" "$(swap_state_sql sales)" "rolled back"
expect_sql "the materialized view" 'SELECT sum(total) FROM sales_daily' 125250
expect_sql "the view on it" 'SELECT sum(total) FROM sales_daily_v' 125250
before=$(cat "$WORK/sales.before")
after=$(sales_schema)
[ "$before" = "$after" ] || fail "the schema differs after rollback:
$(printf '%s\n' "$before" >"$WORK/before"; printf '%s\n' "$after" | diff -u "$WORK/before" -)"
expect_sql "no copy is left" "$copies_sql" 0
end_case

begin "a swap killed while the copy is built leaves no copy; the next swap builds it again"
use_stage checked
sql "UPDATE gate SET open = false" >/dev/null
kill_when "$building_sql" -c 'swap-table swap sales --yes'
sql "UPDATE gate SET open = true" >/dev/null
wait_until "$DS_GONE_SQL"
expect_sql "state" "$(swap_state_sql sales)" checked
expect_sql "no copy" "$copies_sql" 0
ds -c 'swap-table swap sales --yes'
expect_exit 0
expect_sql "state" "$(swap_state_sql sales)" swapped
expect_sql "the materialized view" 'SELECT sum(total) FROM sales_daily' 250500
expect_sql "no copy is left" "$copies_sql" 0
end_case

# A swap (or rollback) whose copy is built and which then waits for the lock on sales,
# killed there: the copy stays, reading the incoming table.
begin "a swap killed after building the copy: the next swap replaces the copy"
use_stage checked
hold_lock 'SELECT count(*) FROM sales'
kill_when "$DS_LOCK_WAIT_SQL" -c 'swap-table swap sales --lock-timeout 1s --deadline 60s --yes'
release_lock
wait_until "$DS_GONE_SQL"
expect_sql "state" "$(swap_state_sql sales)" checked
expect_sql "the copies and the index of one are left" "$copies_sql" 3
ds -c 'swap-table status sales --json'
expect_eq "status" "$(json_get '{swaps}[0]{state}' <"$OUT")" checked
ds -c 'swap-table swap sales --yes'
expect_exit 0
expect_sql "state" "$(swap_state_sql sales)" swapped
expect_sql "the materialized view" 'SELECT sum(total) FROM sales_daily' 250500
expect_sql "no copy is left" "$copies_sql" 0
end_case

begin "a swap killed after building the copy: abandon drops the copy with T_backfill"
use_stage checked
hold_lock 'SELECT count(*) FROM sales'
kill_when "$DS_LOCK_WAIT_SQL" -c 'swap-table swap sales --lock-timeout 1s --deadline 60s --yes'
release_lock
wait_until "$DS_GONE_SQL"
expect_sql "the copies and the index of one are left" "$copies_sql" 3
ds -c 'swap-table abandon sales --yes'
expect_exit 0
ds -c 'swap-table status sales --json'
expect_eq "state" "$(json_get '{swaps}[0]{state}' <"$OUT")" abandoned
expect_sql "no copy, no T_backfill" \
	"SELECT ($copies_sql) || ' ' || (to_regclass('sales_backfill') IS NULL)" "0 true"
expect_sql "T as it was" 'SELECT sum(total) FROM sales_daily' 125250
end_case

begin "a rollback killed after building the copy: finish drops the copy with T_old"
use_stage swapped
hold_lock 'SELECT count(*) FROM sales'
kill_when "$DS_LOCK_WAIT_SQL" -c 'swap-table rollback sales --lock-timeout 1s --deadline 60s --yes'
release_lock
wait_until "$DS_GONE_SQL"
expect_sql "state" "$(swap_state_sql sales)" swapped
expect_sql "the copies and the index of one are left" "$copies_sql" 3
ds -c 'swap-table finish sales --yes'
expect_exit 0
expect_sql "state" "$(swap_state_sql sales)" finished
expect_sql "no copy, no T_old" \
	"SELECT ($copies_sql) || ' ' || (to_regclass('sales_old') IS NULL)" "0 true"
expect_sql "the materialized view" 'SELECT sum(total) FROM sales_daily' 250500
end_case

begin "names that need quoting, the table read twice, with and without an alias"
use_stage fixture
sql 'CREATE SCHEMA "Mv Odd";
     CREATE TABLE "Mv Odd"."Day ""Sales""" ("Day" date PRIMARY KEY, amount numeric);
     INSERT INTO "Mv Odd"."Day ""Sales""" SELECT date '"'2024-01-01'"' + i, i FROM generate_series(1, 10) i;
     CREATE MATERIALIZED VIEW "Mv Odd"."Pairs ""Mv""" AS
       SELECT "Day ""Sales"""."Day", "Day ""Sales""".amount + coalesce(prev.amount, 0) AS two
       FROM "Mv Odd"."Day ""Sales"""
       LEFT JOIN "Mv Odd"."Day ""Sales""" prev ON prev."Day" = "Day ""Sales"""."Day" - 1
       WHERE "Day ""Sales""".amount > (SELECT min(amount) FROM "Mv Odd"."Day ""Sales""")' >/dev/null
odd='"Mv Odd"."Day ""Sales"""'
# Taken once started: the swap's write log is on the table until the swap ends.
"$DATASHELL" -c "swap-table start '$odd'" >/dev/null 2>&1
schema_dump -n '"Mv Odd"' -T '"Mv Odd".*_backfill' -T '"Mv Odd".*_old' >"$WORK/odd.before"
sql "INSERT INTO \"Mv Odd\".\"Day \"\"Sales\"\"_backfill\" SELECT \"Day\", amount * 10 FROM $odd" >/dev/null
"$DATASHELL" -c "swap-table check '$odd'" >/dev/null 2>&1
"$DATASHELL" -c "swap-table check '$odd' --accept checksums --reason 'amounts times ten'" >/dev/null 2>&1
ds -c "swap-table swap '$odd' --yes"
expect_exit 0
expect_sql "the materialized view reads the new table" \
	'SELECT sum(two) FROM "Mv Odd"."Pairs ""Mv"""' 990
ds -c "swap-table rollback '$odd' --yes"
expect_exit 0
expect_sql "and the old one again" 'SELECT sum(two) FROM "Mv Odd"."Pairs ""Mv"""' 99
schema_dump -n '"Mv Odd"' -T '"Mv Odd".*_backfill' -T '"Mv Odd".*_old' >"$WORK/odd.after"
grep -q 'CREATE MATERIALIZED VIEW "Mv Odd"."Pairs ""Mv"""' "$WORK/odd.before" ||
	fail "no materialized view in the dump: $(cat "$WORK/odd.before")"
diff -u "$WORK/odd.before" "$WORK/odd.after" >"$WORK/odd.diff" ||
	fail "the schema differs after rollback: $(cat "$WORK/odd.diff")"
end_case

done_testing
