#!/bin/sh
# swap-table --connection: a table of a warehouse (a cluster of its own, apart from the
# state store's server) is rebuilt through T_backfill there, with its journal in the
# state store: the whole cycle, a table of the same name in the state database left
# alone, rollback and abandon, an unknown connection refused, and a shell killed between
# the warehouse's commit and the journal's, which status and the next step bring forward.
. "$DS_TOP/tests/lib.sh"
use_fresh_database t_swap_wh
use_warehouse
cd "$WORK" || exit 1

# The state store, knowing the warehouse as connection wh; the warehouse has orders.
stage_loaded() {
	printf '{"connections": {"wh": "%s"}}\n' "$WAREHOUSE" >conns.json
	setup "$DATASHELL" -c init -c 'pipeline load conns.json'
}

# A fresh warehouse (without the schema swap-table makes there) for each case.
use_loaded() {
	use_stage loaded
	wh_sql "DROP SCHEMA IF EXISTS datashell CASCADE; DROP TABLE IF EXISTS public.orders,
	        public.orders_backfill, public.orders_old CASCADE;
	        CREATE TABLE public.orders (id integer PRIMARY KEY, day date NOT NULL, amount numeric);
	        INSERT INTO public.orders SELECT i, date '2024-01-01' + i % 5, i
	          FROM generate_series(1, 100) i" >/dev/null
}

begin "the whole cycle on a warehouse's table; the state database has no such table"
use_loaded
ds -c 'swap-table start orders --connection wh'
expect_exit 0
expect_stdout_matches "^started swap 1 of orders: its tasks now write orders_backfill too; fill it, then 'swap-table check --connection wh'$"
expect_eq "the warehouse's tables" "$(wh_tables)" "orders orders_backfill"
expect_sql "none in the state database" \
	"SELECT count(*) FROM pg_tables WHERE tablename LIKE 'orders%'" 0
expect_eq "the journal" "$(journal_of orders)" "1 started wh"
expect_eq "the warehouse's copy" "$(copy_of orders)" "1 started"
wh_sql "INSERT INTO orders_backfill SELECT * FROM orders" >/dev/null
ds -c 'swap-table check orders --connection wh'
expect_exit 0
expect_stdout_matches "^ +checksums +\\| passed "
expect_eq "checked" "$(journal_of orders)" "1 checked wh"
ds -c 'swap-table swap orders --connection wh --yes'
expect_exit 0
expect_stdout_matches "^swapped \"public\".\"orders\" in 1 attempt; the lock was held"
expect_eq "swapped" "$(journal_of orders)" "1 swapped wh"
expect_eq "the warehouse's tables" "$(wh_tables)" "orders orders_old"
ds -c 'swap-table status'
expect_exit 0
expect_stdout_matches "^ +1 \\| public.orders \\| wh +\\| swap \\| swapped "
ds -c 'handoff --since 1h --json'
expect_exit 0
expect_eq "handoff names the warehouse's table" "$(json_get '{swaps}[0]{table}' <"$OUT")" "wh: public.orders"
ds -c 'swap-table finish orders --connection wh --yes'
expect_exit 0
expect_eq "finished" "$(journal_of orders)" "1 finished wh"
expect_eq "the warehouse's copy" "$(copy_of orders)" "1 finished"
expect_eq "the warehouse's tables" "$(wh_tables)" "orders"
expect_eq "the rows" "$(wh_sql 'SELECT count(*) FROM orders')" 100
expect_eq "no trigger left" "$(wh_sql "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'datashell%'")" 0
expect_sql "audited" "SELECT string_agg(outcome, ',' ORDER BY id) FROM datashell.audit_log
	WHERE command LIKE 'swap-table%'" "ok,ok,ok,ok"
end_case

# Task wt on the warehouse and st on the state database, both with target orders; each
# run writes the key's row (id 1000 + the day of the month).
write_tasks() {
	cat >tasks.json <<-'END'
		{"graphs": {"core": {"connection": "wh"}, "local": {}},
		 "tasks": [
		  {"name": "wt", "graph": "core", "key": "daily", "target": "orders",
		   "checks": [{"name": "amounts", "sql": "SELECT count(*) = 0 FROM :\"target\" WHERE amount IS NULL"}],
		   "sql": "DELETE FROM :\"target\" WHERE id = 1000 + extract(day FROM :'key'::date); INSERT INTO :\"target\" VALUES (1000 + extract(day FROM :'key'::date), :'key', 1)"},
		  {"name": "st", "graph": "local", "key": "daily", "target": "orders",
		   "sql": "INSERT INTO :\"target\" VALUES (1000 + extract(day FROM :'key'::date), :'key', 1)"}]}
	END
	setup "$DATASHELL" -c 'pipeline load conns.json tasks.json'
}

begin "a warehouse task writes the incoming table too, in its transaction there; its records move with the swap"
use_loaded
sql "CREATE TABLE public.orders (id integer PRIMARY KEY, day date NOT NULL, amount numeric)" >/dev/null
write_tasks
setup "$DATASHELL" -c 'swap-table start orders --connection wh'
ds -c 'backfill wt,st 2024-01-01..2024-01-03 --yes' -c 'worker --drain'
expect_exit 0
expect_eq "wt wrote both of the warehouse's tables" \
	"$(wh_sql 'SELECT (SELECT string_agg(id::text, $$,$$ ORDER BY id) FROM orders WHERE id > 1000) || $$ $$ ||
	           (SELECT string_agg(id::text, $$,$$ ORDER BY id) FROM orders_backfill)')" \
	"1001,1002,1003 1001,1002,1003"
expect_sql "st wrote the state database's orders alone" \
	"SELECT (SELECT count(*) FROM public.orders) || ' ' || count(*) FROM pg_tables WHERE tablename = 'orders_backfill'" "3 0"
expect_eq "wt's records: production's, and the incoming table's" "$(records_of wt)" "3 incoming=3"
expect_eq "st's: production's alone" "$(records_of st)" "3 -"
wh_sql "INSERT INTO orders_backfill SELECT * FROM orders WHERE id <= 100;
        UPDATE orders_backfill SET amount = NULL WHERE id = 1002" >/dev/null
ds -c 'swap-table check orders --connection wh'
expect_exit 3
expect_stdout_matches "^ +task_checks +\\| failed +\\| 3 of 3 failed: wt.amounts for 2024-01-01, "
wh_sql "UPDATE orders_backfill SET amount = 1 WHERE id = 1002" >/dev/null
ds -c 'swap-table check orders --connection wh' -c 'swap-table swap orders --connection wh --yes'
expect_exit 0
expect_stdout_matches "^ +task_checks +\\| passed +\\| 3 passed "
expect_eq "wt's records moved with the swap" "$(records_of wt)" "3 old=3"
expect_eq "st's did not" "$(records_of st)" "3 -"
ds -c 'backfill wt 2024-01-04 --yes' -c 'worker --drain'
expect_exit 0
expect_eq "once swapped, the new orders alone" \
	"$(wh_sql 'SELECT (SELECT count(*) FROM orders WHERE id = 1004) || $$ $$ || (SELECT count(*) FROM orders_old WHERE id = 1004)')" "1 0"
ds -c 'swap-table finish orders --connection wh --yes'
expect_exit 0
expect_eq "the records of orders_old dropped" "$(records_of wt)" "4 -"
end_case

begin "backfill --into backfill writes a warehouse's shadow alone, through the task's connection; a swap of another database is not its"
use_loaded
sql "CREATE TABLE public.orders (id integer PRIMARY KEY, day date NOT NULL, amount numeric)" >/dev/null
write_tasks
ds -c 'backfill st 2024-01-01 --into backfill --yes'
expect_exit 3
expect_stderr_matches "^datashell: error: --into backfill: no swap of their target has a T_backfill to write: 'st' \(orders\)$"
setup "$DATASHELL" -c 'swap-table start orders --connection wh'
ds -c 'backfill wt 2024-01-01..2024-01-02 --into backfill --yes' -c 'worker --drain'
expect_exit 0
expect_eq "the shadow alone" \
	"$(wh_sql 'SELECT (SELECT count(*) FROM orders WHERE id > 1000) || $$ $$ ||
	           (SELECT string_agg(id::text, $$,$$ ORDER BY id) FROM orders_backfill)')" \
	"0 1001,1002"
expect_eq "the shadow's records" "$(records_of wt)" "0 incoming=2"
expect_sql "the runs, on the warehouse, for the swap" \
	"SELECT string_agg(DISTINCT r.state || ' ' || r.connection || ' ' || r.swap_id, ',')
	 FROM datashell.runs r JOIN datashell.tasks t ON t.id = r.task_id WHERE t.name = 'wt'" \
	"success wh 1"
ds -c 'status wt 2024-01-01..2024-01-02 --into backfill'
expect_exit 0
expect_stdout_matches "^ +wt +##$"
ds -c 'backfill st 2024-01-01 --into backfill --yes'
expect_exit 3
expect_stderr_matches "^datashell: error: --into backfill: the swap of their target is in another database than theirs: 'st' \(the state database; swap 1 of orders is on connection wh\)$"
expect_sql "nothing enqueued for st" "SELECT count(*) FROM datashell.runs r
	JOIN datashell.tasks t ON t.id = r.task_id WHERE t.name = 'st'" 0
setup "$DATASHELL" -c 'backfill wt 2024-01-03 --into backfill --yes'
ds -c 'swap-table abandon orders --connection wh --yes --json'
expect_exit 0
expect_eq "the run waiting cancelled with the swap" "$(json_get '{runs}' <"$OUT")" \
	'{"cancelled":1,"stopping":0}'
expect_outcome "its run" wt 2024-01-03 "cancelled|0|cancelled by postgres: swap 1 was abandoned"
expect_eq "the records of the shadow dropped" "$(records_of wt)" "0 -"
expect_sql "the audit row says so" "SELECT detail->'runs'->>'cancelled' FROM datashell.audit_log
	WHERE command LIKE 'swap-table abandon%'" 1
end_case

begin "a table of the state database of the same name is another table, with a swap of its own"
use_loaded
sql "CREATE TABLE public.orders (id integer PRIMARY KEY, day date NOT NULL, amount numeric)" >/dev/null
ds -c 'swap-table start orders --connection wh' -c 'swap-table start orders'
expect_exit 0
expect_eq "two swaps" "$(journal_of orders)" "1 started wh,2 started -"
expect_sql "the state database's incoming table" \
	"SELECT string_agg(tablename, ' ' ORDER BY tablename) FROM pg_tables WHERE tablename LIKE 'orders%'" \
	"orders orders_backfill"
ds -c 'swap-table start orders --connection wh'
expect_exit 3
expect_stderr_matches "^datashell: error: table 'orders' already has swap 1, started by "
ds -c 'swap-table abandon orders --yes'
expect_exit 0
expect_eq "the state database's swap abandoned, the warehouse's not" "$(journal_of orders)" \
	"1 started wh,2 abandoned -"
expect_eq "the warehouse's tables" "$(wh_tables)" "orders orders_backfill"
ds -c 'swap-table status orders --connection wh --json'
expect_exit 0
expect_eq "status of the warehouse's table" "$(json_get '{swaps}[0]{swap}' <"$OUT") $(json_get '{swaps}[1]' <"$OUT")" "1 null"
ds -c 'swap-table check orders'
expect_exit 3
expect_stderr_matches "^datashell: error: no swap of table 'orders' is under way$"
end_case

begin "rollback and abandon on the warehouse; a write to T alone after the check stops the swap"
use_loaded
wh_sql "CREATE VIEW public.orders_v AS SELECT id, amount FROM public.orders" >/dev/null
setup "$DATASHELL" -c 'swap-table start orders --connection wh'
wh_sql "INSERT INTO orders_backfill SELECT * FROM orders;
        UPDATE orders_backfill SET amount = amount * 2 WHERE id = 1" >/dev/null
ds -c 'swap-table check orders --connection wh'
expect_exit 3
expect_stderr_matches "^datashell: error: checks of swap 1 failed: checksums$"
ds -c "swap-table check orders --connection wh --accept checksums --reason 'id 1 doubled'"
expect_exit 0
expect_sql "accepted in the journal" "SELECT accepted->0->>'check' FROM datashell.swaps" checksums
wh_sql "INSERT INTO orders VALUES (101, '2024-01-01', 1)" >/dev/null
ds -c 'swap-table swap orders --connection wh --yes'
expect_exit 3
expect_stderr_matches "^datashell: error: 1 transaction wrote \"public\".\"orders\" after the last check and not \"public\".\"orders_backfill\""
expect_stderr_matches "then 'swap-table check \"public\"\.\"orders\" --connection wh' and swap again\$"
expect_eq "still checked" "$(journal_of orders)" "1 checked wh"
wh_sql "INSERT INTO orders_backfill VALUES (101, '2024-01-01', 1);
        UPDATE orders_backfill SET amount = 1 WHERE id = 1" >/dev/null
setup "$DATASHELL" -c 'swap-table check orders --connection wh' -c 'swap-table swap orders --connection wh --yes'
expect_eq "the view reads the new table" \
	"$(wh_sql "SELECT DISTINCT d.refobjid::regclass FROM pg_depend d
	           JOIN pg_rewrite r ON r.oid = d.objid
	           WHERE r.ev_class = 'orders_v'::regclass AND d.refobjid <> r.ev_class")" orders
ds -c 'swap-table rollback orders --connection wh --yes'
expect_exit 0
expect_stdout_matches "^rolled back \"public\".\"orders\" in 1 attempt"
expect_eq "rolled back" "$(journal_of orders)" "1 rolled back wh"
expect_eq "the warehouse's copy" "$(copy_of orders)" "1 rolled back"
expect_eq "the warehouse's tables" "$(wh_tables)" "orders orders_backfill"
ds -c 'swap-table abandon orders --connection wh --yes'
expect_exit 0
expect_eq "abandoned" "$(journal_of orders)" "1 abandoned wh"
expect_eq "the warehouse's tables" "$(wh_tables)" "orders"
expect_eq "the rows" "$(wh_sql 'SELECT count(*) FROM orders')" 101
ds -c 'swap-table start orders --connection wh'
expect_exit 0
expect_stdout_matches "^started swap 2 of orders"
end_case

begin "an unknown connection is refused, and nothing changes"
use_loaded
ds -c 'swap-table start orders --connection nowhere'
expect_exit 3
expect_stderr_matches "^datashell: error: unknown connection 'nowhere'$"
expect_stderr_matches "^hint: the pipeline files declare connections"
ds -c 'swap-table status --connection nowhere'
expect_exit 3
ds -c 'swap-table start orders --connection wh --dry-run'
expect_exit 0
expect_stdout_matches "^would create orders_backfill; nothing was changed$"
expect_sql "no swap" "SELECT count(*) FROM datashell.swaps" 0
expect_eq "nothing in the warehouse but what a swap needs there" \
	"$(wh_sql "SELECT count(*) FROM datashell.swaps") $(wh_tables)" "0 orders"
ds -c 'swap-table start orders'
expect_exit 3
expect_stderr_matches "^datashell: error: no table 'orders'$"
end_case

begin "a shell killed between the warehouse's commit and the journal's: status and the next step bring the journal forward"
use_loaded
# The journal cannot be written while the lock is held: each step waits there, after
# the warehouse has committed, and is killed.
hold_session "LOCK TABLE datashell.swaps IN SHARE MODE"
kill_when "$DS_LOCK_WAIT_SQL" -c 'swap-table start orders --connection wh'
release_session
wait_until "$DS_GONE_SQL"
expect_eq "the warehouse started it" "$(copy_of orders); $(wh_tables)" "1 started; orders orders_backfill"
expect_eq "the journal has no row" "$(journal_of orders)" ""
ds -c 'swap-table status orders --connection wh'
expect_exit 0
expect_stdout_matches "^ +1 \\| public.orders \\| wh +\\| swap \\| started "
expect_eq "brought forward" "$(journal_of orders)" "1 started wh"
wh_sql "INSERT INTO orders_backfill SELECT * FROM orders" >/dev/null
setup "$DATASHELL" -c 'swap-table check orders --connection wh'
hold_session "LOCK TABLE datashell.swaps IN SHARE MODE"
kill_when "$DS_LOCK_WAIT_SQL" -c 'swap-table swap orders --connection wh --yes'
release_session
wait_until "$DS_GONE_SQL"
expect_eq "the warehouse swapped" "$(copy_of orders); $(wh_tables)" "1 swapped; orders orders_old"
expect_eq "the journal a step behind" "$(journal_of orders)" "1 checked wh"
ds -c 'swap-table status'
expect_exit 0
expect_stdout_matches "^ +1 \\| public.orders \\| wh +\\| swap \\| swapped "
expect_eq "brought forward by status" "$(journal_of orders)" "1 swapped wh"
ds -c 'swap-table swap orders --connection wh --yes'
expect_exit 0
expect_stdout_matches "^swap 1 of \"public\".\"orders\" is already swapped$"
# A warehouse that does not answer: status shows the journal as it is, and says so.
pg_cluster_stop "$WORK/wh"
ds -c 'swap-table status'
expect_exit 0
expect_stdout_matches "^ +1 \\| public.orders \\| wh +\\| swap \\| swapped "
expect_stderr_matches "the swaps on connection 'wh' are shown as the journal has them \\(its last step may be missing\\): cannot open connection 'wh'"
restart_warehouse
hold_session "LOCK TABLE datashell.swaps IN SHARE MODE"
kill_when "$DS_LOCK_WAIT_SQL" -c 'swap-table finish orders --connection wh --yes'
release_session
wait_until "$DS_GONE_SQL"
expect_eq "the warehouse finished it" "$(copy_of orders); $(wh_tables)" "1 finished; orders"
ds -c 'swap-table finish orders --connection wh --yes'
expect_exit 3
expect_stderr_matches "^datashell: error: no swap of table 'orders' \\(connection 'wh'\\) is under way$"
expect_eq "finished in the journal too" "$(journal_of orders)" "1 finished wh"
end_case

begin "names with quotes: the state schema's (and so the warehouse's), the table's"
use_loaded
new_schema "ds'q"
setup "$DATASHELL" -c 'pipeline load conns.json'
wh_sql "CREATE SCHEMA IF NOT EXISTS \"we'ird\";
        DROP TABLE IF EXISTS \"we'ird\".\"Or\"\"ders\", \"we'ird\".\"Or\"\"ders_backfill\",
          \"we'ird\".\"Or\"\"ders_old\";
        CREATE TABLE \"we'ird\".\"Or\"\"ders\" (\"Id\" integer PRIMARY KEY);
        INSERT INTO \"we'ird\".\"Or\"\"ders\" VALUES (1), (2)" >/dev/null
t="'\"we'\\''ird\".\"Or\"\"ders\"'"
ds -c "swap-table start $t --connection wh"
expect_exit 0
wh_sql "INSERT INTO \"we'ird\".\"Or\"\"ders_backfill\" VALUES (1), (2)" >/dev/null
ds -c "swap-table check $t --connection wh" -c "swap-table swap $t --connection wh --yes" \
	-c "swap-table finish $t --connection wh --yes"
expect_exit 0
expect_sql "the journal" "SELECT table_schema || ' ' || table_name || ' ' || state || ' ' || connection
	FROM swaps" "we'ird Or\"ders finished wh"
expect_eq "the warehouse's schema of the state schema's name" \
	"$(wh_sql "SELECT string_agg(tablename, ' ' ORDER BY tablename) FROM pg_tables
	           WHERE schemaname = 'ds''q'")" "swap_writes swaps"
expect_eq "the warehouse's tables" "$(wh_sql "SELECT string_agg(tablename, ' ') FROM pg_tables
	WHERE schemaname = 'we''ird'")" 'Or"ders'
end_case

done_testing
