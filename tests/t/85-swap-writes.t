#!/bin/sh
# swap-table tells the truth and loses nothing: check fails (exit status 3) when the
# table has keys the new one lacks, naming them; a write to the table by anyone but the
# tasks' runs (which write both tables) after the last check makes swap refuse under its
# lock, naming it, and rollback likewise after the swap; the write log is datashell's own
# trigger, which the plan does not copy and finish and abandon remove.
. "$DS_TOP/tests/lib.sh"
use_fresh_database t_swap_writes
# An application's role, which belongs to the whole server: it writes sales and has no
# privilege on the state schema.
sql "DO \$\$BEGIN CREATE ROLE swap_writes_app LOGIN;
     EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END\$\$" >/dev/null

# sales: ten days of ten rows, written by swap_writes_app too.
stage_fixture() {
	use_fresh_database t_swap_writes
	setup "$DATASHELL" -c init
	setup sql "CREATE TABLE sales (id serial PRIMARY KEY, day date NOT NULL, n integer);
	           INSERT INTO sales (day, n)
	             SELECT date '2024-01-01' + i % 10, i FROM generate_series(1, 100) i;
	           GRANT SELECT, INSERT, UPDATE, DELETE ON sales TO swap_writes_app;
	           GRANT USAGE ON SEQUENCE sales_id_seq TO swap_writes_app"
}

# started: the swap started and sales_backfill filled with the same rows; checked: checked
# (every check passed).
stage_started() {
	use_stage fixture
	setup "$DATASHELL" -c 'swap-table start sales'
	setup sql "INSERT INTO sales_backfill SELECT * FROM sales"
}

stage_checked() {
	use_stage started
	setup "$DATASHELL" -c 'swap-table check sales --key day'
}

# SQL run by the application's role, as application "billing", in one transaction.
app_sql() {	# SQL
	flush_sql
	PGUSER=swap_writes_app PGAPPNAME=billing psql -X -q -A -t -v ON_ERROR_STOP=1 \
		-c "$1" >/dev/null 2>"$WORK/app.err" || fail "app_sql: $(cat "$WORK/app.err")"
}

# The journal row of the swap of sales, whole, to compare before and after.
journal_sql="SELECT s::text FROM datashell.swaps s WHERE table_name = 'sales'"

# The tables that carry a write log trigger, by name.
logged_sql="SELECT coalesce(string_agg(tgrelid::regclass::text, ',' ORDER BY tgrelid::regclass::text), '')
	FROM pg_trigger WHERE tgname LIKE 'datashell\_swap\_%\_writes'"

begin "check fails the row counts when the table has keys the new one lacks, naming them"
use_stage started
sql "DELETE FROM sales_backfill WHERE day < '2024-01-08';
     INSERT INTO sales_backfill (id, day, n)
       SELECT 1000 + i, date '2024-01-11' + i % 2, i FROM generate_series(1, 20) i" >/dev/null
ds -c 'swap-table check sales --key day --json'
expect_exit 3
expect_stderr_matches '^datashell: error: checks of swap 1 failed: row_counts$'
expect_stderr_matches "^hint: they block the swap: fix \"public\".\"sales_backfill\" and check again"
expect_eq "row counts" "$(json_get '{checks}[0]{status}' <"$OUT")" failed
expect_eq "row counts detail" "$(json_get '{checks}[0]{detail}' <"$OUT")" \
	"100 rows in 10 keys of the table, 50 in 5 of the new one; 3 in both, 0 with different counts; 7 keys only in the table, whose rows the swap would lose: 2024-01-01, 2024-01-02, 2024-01-03, 2024-01-04, 2024-01-05 (the first 5); 2 keys only in the new one: 2024-01-11, 2024-01-12"
expect_eq "checksums of the keys in both" "$(json_get '{checks}[1]{status}' <"$OUT")" passed
ds -c 'swap-table swap sales --yes'
expect_exit 3
expect_stderr_matches "failed checks block the swap: row_counts"
expect_sql "state" "$(swap_state_sql sales)" checked
ds -c "swap-table check sales --accept row_counts --reason 'January 1-7 move elsewhere'" \
	-c 'swap-table swap sales --yes'
expect_exit 0
expect_sql "swapped" "$(swap_state_sql sales)" swapped
end_case

begin "check exits 0 when every check passed, and names no key when both have the same"
use_stage started
ds -c 'swap-table check sales --key day --json'
expect_exit 0
expect_eq "row counts" "$(json_get '{checks}[0]{detail}' <"$OUT")" \
	"100 rows in the table and in the new one, the same rows: the same count for every key"
sql "INSERT INTO sales_backfill VALUES (1000, '2024-01-11', 1)" >/dev/null
ds -c 'swap-table check sales --key day --json'
expect_exit 0
expect_eq "a key only in the new one" "$(json_get '{checks}[0]{detail}' <"$OUT")" \
	"100 rows in 10 keys of the table, 101 in 11 of the new one; 10 in both, 0 with different counts; 1 key only in the new one: 2024-01-11"
end_case

begin "a write to the table after check makes swap refuse, naming it; nothing changes"
use_stage checked
journal_before=$(sql "$journal_sql")
app_sql "INSERT INTO sales (day, n) VALUES ('2024-01-05', 1)"
app_sql "BEGIN; UPDATE sales SET n = 0 WHERE id = 1; UPDATE sales SET n = 0 WHERE id = 2; COMMIT"
ds -c 'swap-table swap sales --yes'
expect_exit 3
expect_stderr_matches '^datashell: error: 2 transactions wrote "public"."sales" after the last check and not "public"."sales_backfill" \(3 statements: INSERT, UPDATE; from [0-9T:Z-]+ to [0-9T:Z-]+; by role swap_writes_app; application billing\): swapping would lose them; nothing was changed$'
expect_stderr_matches "^hint: stop the writer, bring \"public\".\"sales_backfill\" up to date \(copy the rows, or re-run their keys with 'backfill TASK RANGE --into backfill'\), then 'swap-table check \"public\".\"sales\"' and swap again$"
expect_sql "the table" "SELECT count(*) || ' ' || sum(n) FROM sales" "101 5048"
expect_sql "no old table" "SELECT to_regclass('sales_old') IS NULL" t
expect_eq "the journal" "$(sql "$journal_sql")" "$journal_before"
ds -c 'swap-table swap sales --lose-writes --yes'
expect_exit 3
expect_stderr_matches "^datashell: error: --lose-writes applies to rollback only$"
expect_sql "still checked" "$(swap_state_sql sales)" checked
end_case

begin "a transaction that writes the table and the new one together does not stop the swap"
use_stage checked
sql "BEGIN;
     INSERT INTO sales VALUES (500, '2024-01-05', 1);
     INSERT INTO sales_backfill VALUES (500, '2024-01-05', 1);
     COMMIT" >/dev/null
ds -c 'swap-table swap sales --yes'
expect_exit 0
expect_sql "swapped" "$(swap_state_sql sales)" swapped
expect_sql "the row" "SELECT n FROM sales WHERE id = 500" 1
end_case

begin "after bringing the new table up to date and checking again, the swap goes ahead"
use_stage checked
app_sql "INSERT INTO sales (day, n) VALUES ('2024-01-05', 7)"
ds -c 'swap-table swap sales --yes'
expect_exit 3
expect_stderr_matches '1 transaction wrote "public"."sales" after the last check'
sql "INSERT INTO sales_backfill SELECT * FROM sales WHERE id NOT IN (SELECT id FROM sales_backfill)" >/dev/null
ds -c 'swap-table check sales --key day' -c 'swap-table swap sales --yes'
expect_exit 0
expect_sql "swapped" "$(swap_state_sql sales)" swapped
expect_sql "the row" "SELECT n FROM sales WHERE id = 101" 7
end_case

begin "a write still open while check reads the tables, committed after, counts as after the check"
use_stage started
hold_session "INSERT INTO sales (day, n) VALUES ('2024-01-03', 9)"
ds -c 'swap-table check sales --key day'
expect_exit 0
commit_session
expect_sql "committed" "SELECT count(*) FROM sales" 101
ds -c 'swap-table swap sales --yes'
expect_exit 3
expect_stderr_matches '1 transaction wrote "public"."sales" after the last check and not "public"."sales_backfill" \(1 statement: INSERT;'
expect_sql "state" "$(swap_state_sql sales)" checked
end_case

begin "swap --dry-run reports the writes that would stop the swap"
use_stage checked
ds -c 'swap-table swap sales --dry-run --json'
expect_exit 0
expect_eq "none yet" "$(json_get '{foreign_writes}{transactions}' <"$OUT")" 0
app_sql "DELETE FROM sales WHERE id = 3"
ds -c 'swap-table swap sales --dry-run --json'
expect_exit 0
expect_eq "one" "$(json_get '{foreign_writes}{transactions}' <"$OUT")" 1
expect_eq "role" "$(json_get '{foreign_writes}{roles}' <"$OUT")" swap_writes_app
expect_eq "application" "$(json_get '{foreign_writes}{applications}' <"$OUT")" billing
expect_eq "operations" "$(json_get '{foreign_writes}{ops}' <"$OUT")" DELETE
expect_eq "logged" "$(json_get '{foreign_writes}{logged}' <"$OUT")" true
expect_sql "state" "$(swap_state_sql sales)" checked
end_case

begin "rollback refuses to lose what was written since the swap, unless --lose-writes"
use_stage checked
setup "$DATASHELL" -c 'swap-table swap sales --yes'
app_sql "INSERT INTO sales VALUES (900, '2024-01-06', 1)"
ds -c 'swap-table rollback sales --yes'
expect_exit 3
expect_stderr_matches '^datashell: error: 1 transaction wrote "public"."sales" since the swap and not "public"."sales_old" \(1 statement: INSERT; .*\): rolling back would lose it; nothing was changed$'
expect_stderr_matches '^hint: stop the writer and copy what it wrote into "public"."sales_old"; or roll back with --lose-writes to lose it$'
expect_sql "state" "$(swap_state_sql sales)" swapped
ds -c 'swap-table rollback sales --lose-writes --yes'
expect_exit 0
expect_sql "rolled back" "$(swap_state_sql sales)" "rolled back"
expect_sql "the old rows" "SELECT count(*) FROM sales" 100
end_case

begin "the write log is datashell's own: not in the plan, back on the table after a rollback, gone at the end"
use_stage checked
expect_sql "on both tables" "$logged_sql" "sales,sales_backfill"
# Without its own, the new table would be given the table's by the plan if it copied it.
sql "DROP TRIGGER datashell_swap_1_writes ON sales_backfill" >/dev/null
ds -c 'swap-table swap sales --dry-run --json'
expect_exit 0
grep -q 'datashell_swap' "$OUT" && fail "the plan copies the write log: $(cat "$OUT")"
ds -c 'swap-table check sales --json'
expect_exit 0
grep -q 'datashell_swap' "$OUT" && fail "the inventory lists the write log: $(cat "$OUT")"
expect_sql "check puts it back" "$logged_sql" "sales,sales_backfill"
# init applies the definitions again: the triggers keep working.
setup "$DATASHELL" -c init
app_sql "INSERT INTO sales (day, n) VALUES ('2024-01-06', 1)"
expect_sql "noted after init" "SELECT count(*) FROM datashell.swap_writes WHERE wrote_table" 1
sql "INSERT INTO sales_backfill SELECT * FROM sales WHERE id = 101" >/dev/null
ds -c 'swap-table check sales' -c 'swap-table swap sales --yes'
expect_exit 0
expect_sql "on both after the swap" "$logged_sql" "sales,sales_old"
ds -c 'swap-table rollback sales --yes'
expect_exit 0
expect_sql "on both after the rollback" "$logged_sql" "sales,sales_backfill"
app_sql "INSERT INTO sales (day, n) VALUES ('2024-01-07', 1)"
ds -c 'swap-table swap sales --dry-run --json'
expect_eq "the production table logs again" "$(json_get '{foreign_writes}{transactions}' <"$OUT")" 1
ds -c 'swap-table finish sales --yes'
expect_exit 0
expect_sql "none after finish" "$logged_sql" ""
ds -c 'swap-table start sales' -c 'swap-table abandon sales --yes'
expect_exit 0
expect_sql "none after abandon" "$logged_sql" ""
end_case

begin "a table without its write log is refused until check puts it back"
use_stage checked
sql "DROP TRIGGER datashell_swap_1_writes ON sales" >/dev/null
ds -c 'swap-table swap sales --yes'
expect_exit 3
expect_stderr_matches '"public"."sales" has no write log .*; nothing was changed$'
expect_stderr_matches "^hint: 'swap-table check \"public\".\"sales\"' puts it back; then swap$"
ds -c 'swap-table check sales' -c 'swap-table swap sales --yes'
expect_exit 0
expect_sql "swapped" "$(swap_state_sql sales)" swapped
end_case

begin "after the swap the application still inserts: the new table's sequence has the old one's grants"
use_stage checked
ds -c 'swap-table swap sales --yes'
expect_exit 0
app_sql "INSERT INTO sales (day, n) VALUES ('2024-01-05', 1)"
expect_sql "the sequence's grants" "SELECT has_sequence_privilege('swap_writes_app', 'sales_id_seq', 'USAGE')" t
end_case

done_testing
