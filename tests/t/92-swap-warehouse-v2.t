#!/bin/sh
# swap-table --connection --mode v2: a warehouse's table gets T_v2 beside it, which the
# tasks on that connection write too (a task of the state database whose target has the
# same name does not); readers in the warehouse move at their own pace, and finish
# retires T there only once no view there reads it and no task of that connection
# writes it. A shell killed between the warehouse's commit and the journal's is brought
# forward as in mode swap.
. "$DS_TOP/tests/lib.sh"
use_fresh_database t_swap_wh_v2
use_warehouse
cd "$WORK" || exit 1

# Task wt on the warehouse with target $1, and st on the state database with target
# orders; each run writes the key's row (id 1000 + the day of the month).
load_tasks() {	# WT_TARGET
	cat >tasks.json <<-END
		{"graphs": {"core": {"connection": "wh"}, "local": {}},
		 "tasks": [
		  {"name": "wt", "graph": "core", "key": "daily", "target": "$1",
		   "sql": "DELETE FROM :\"target\" WHERE id = 1000 + extract(day FROM :'key'::date); INSERT INTO :\"target\" VALUES (1000 + extract(day FROM :'key'::date), :'key', 1)"},
		  {"name": "st", "graph": "local", "key": "daily", "target": "orders",
		   "sql": "INSERT INTO :\"target\" VALUES (1000 + extract(day FROM :'key'::date), :'key', 1)"}]}
	END
	setup "$DATASHELL" -c 'pipeline load conns.json tasks.json'
}

stage_loaded() {
	printf '{"connections": {"wh": "%s"}}\n' "$WAREHOUSE" >conns.json
	setup "$DATASHELL" -c init
	load_tasks orders
	setup sql "CREATE TABLE public.orders (id integer PRIMARY KEY, day date NOT NULL, amount numeric)"
}

# A fresh warehouse (without the schema swap-table makes there) for each case: orders,
# whose ids come from its own sequence, a view that reads it, and a role it is granted to.
use_loaded() {
	use_stage loaded
	wh_sql "DROP SCHEMA IF EXISTS datashell CASCADE;
	        DROP TABLE IF EXISTS public.orders, public.orders_v2 CASCADE;
	        DO \$\$BEGIN CREATE ROLE wh_reader; EXCEPTION WHEN duplicate_object THEN NULL; END\$\$;
	        CREATE TABLE public.orders (id serial PRIMARY KEY, day date NOT NULL, amount numeric);
	        GRANT SELECT ON public.orders TO wh_reader;
	        CREATE VIEW public.orders_v AS SELECT id, amount FROM public.orders;
	        INSERT INTO public.orders SELECT i, date '2024-01-01' + i % 5, i
	          FROM generate_series(1, 100) i" >/dev/null
}

# The ids above 1000 (the tasks' rows) of the warehouse's table $1.
task_rows() {	# TABLE
	wh_sql "SELECT coalesce(string_agg(id::text, ',' ORDER BY id), '') FROM $1 WHERE id > 1000"
}

begin "mode v2 on a warehouse: its tasks write both tables, readers move, finish retires T there"
use_loaded
ds -c 'swap-table start orders --connection wh --mode v2'
expect_exit 0
expect_stdout_matches "^started swap 1 of orders in mode v2: its tasks now write orders_v2 too"
expect_eq "the warehouse's tables" "$(wh_tables)" "orders orders_v2"
expect_eq "the journal" "$(journal_of orders)" "1 started wh"
expect_sql "in mode v2" "SELECT timings->>'mode' FROM datashell.swaps" v2
expect_eq "the grant copied onto orders_v2" \
	"$(wh_sql "SELECT has_table_privilege('wh_reader', 'orders_v2', 'SELECT')")" t
ds -c 'backfill wt,st 2024-01-01..2024-01-02 --yes' -c 'worker --drain'
expect_exit 0
expect_eq "wt wrote both of the warehouse's tables" \
	"$(task_rows orders) $(task_rows orders_v2)" "1001,1002 1001,1002"
expect_sql "st wrote the state database's orders alone" \
	"SELECT (SELECT count(*) FROM public.orders) || ' ' || count(*) FROM pg_tables
	 WHERE tablename = 'orders_v2'" "2 0"
expect_eq "wt's records: production's, and the incoming table's" "$(records_of wt)" "2 incoming=2"
wh_sql "INSERT INTO orders_v2 SELECT * FROM orders WHERE id <= 100" >/dev/null
ds -c 'swap-table check orders --connection wh'
expect_exit 0
expect_eq "checked" "$(journal_of orders)" "1 checked wh"
ds -c 'swap-table finish orders --connection wh --yes'
expect_exit 3
expect_stderr_matches '"public"."orders" is still used, nothing was dropped:'
expect_stderr_matches '^view orders_v$'
expect_stderr_matches '^task wt \(graph core\) writes it$'
grep -q 'task st' "$ERR" && fail "st, of the state database, does not write the warehouse's orders"
wh_sql "CREATE OR REPLACE VIEW orders_v AS SELECT id, amount FROM orders_v2" >/dev/null
ds -c 'swap-table finish orders --connection wh --yes'
expect_exit 3
expect_stderr_matches '^task wt \(graph core\) writes it$'
grep -q '^view' "$ERR" && fail "the view reads orders_v2 now: $(cat "$ERR")"
expect_eq "orders kept" "$(wh_tables)" "orders orders_v2"
load_tasks public.orders_v2
ds -c 'swap-table finish orders --connection wh --yes'
expect_exit 0
expect_eq "finished" "$(journal_of orders)" "1 finished wh"
expect_eq "the warehouse's copy" "$(copy_of orders)" "1 finished"
expect_eq "orders retired" "$(wh_tables)" "orders_v2"
expect_eq "the view" "$(wh_sql 'SELECT count(*) FROM orders_v')" 102
expect_eq "orders_v2 owns the sequence it drew from" \
	"$(wh_sql "SELECT pg_get_serial_sequence('orders_v2', 'id')")" public.orders_id_seq
expect_eq "wt's records: production's alone" "$(records_of wt)" "2 -"
ds -c 'backfill wt 2024-01-03 --yes' -c 'worker --drain'
expect_exit 0
expect_eq "wt writes orders_v2 alone" "$(task_rows orders_v2)" "1001,1002,1003"
expect_sql "the state database's orders untouched" "SELECT count(*) FROM public.orders" 2
expect_sql "audited" "SELECT string_agg(outcome, ',' ORDER BY id) FROM datashell.audit_log
	WHERE command LIKE 'swap-table%'" "ok,ok,failed,failed,ok"
end_case

begin "abandon in mode v2 on a warehouse drops T_v2; the task writes T alone again"
use_loaded
setup "$DATASHELL" -c 'swap-table start orders --connection wh --mode v2'
ds -c 'swap-table abandon orders --connection wh --yes'
expect_exit 0
expect_eq "abandoned" "$(journal_of orders)" "1 abandoned wh"
expect_eq "the warehouse's tables" "$(wh_tables)" "orders"
ds -c 'backfill wt 2024-01-01 --yes' -c 'worker --drain'
expect_exit 0
expect_eq "orders alone" "$(task_rows orders)" "1001"
end_case

begin "a shell killed between the warehouse's commit and the journal's, in mode v2: status and the next step bring the journal forward"
use_loaded
# The journal cannot be written while the lock is held: each step waits there, after
# the warehouse has committed, and is killed.
hold_session "LOCK TABLE datashell.swaps IN SHARE MODE"
kill_when "$DS_LOCK_WAIT_SQL" -c 'swap-table start orders --connection wh --mode v2'
release_session
wait_until "$DS_GONE_SQL"
expect_eq "the warehouse started it" "$(copy_of orders); $(wh_tables)" "1 started; orders orders_v2"
expect_eq "the journal has no row" "$(journal_of orders)" ""
ds -c 'swap-table status orders --connection wh'
expect_exit 0
expect_stdout_matches "^ +1 \\| public.orders \\| wh +\\| v2 +\\| started "
expect_eq "brought forward" "$(journal_of orders)" "1 started wh"
ds -c 'backfill wt 2024-01-01 --yes' -c 'worker --drain'
expect_exit 0
expect_eq "the claim reads the mode brought forward: wt wrote both" \
	"$(task_rows orders) $(task_rows orders_v2)" "1001 1001"
wh_sql "INSERT INTO orders_v2 SELECT * FROM orders WHERE id <= 100;
        CREATE OR REPLACE VIEW orders_v AS SELECT id, amount FROM orders_v2" >/dev/null
load_tasks public.orders_v2
setup "$DATASHELL" -c 'swap-table check orders --connection wh'
hold_session "LOCK TABLE datashell.swaps IN SHARE MODE"
kill_when "$DS_LOCK_WAIT_SQL" -c 'swap-table finish orders --connection wh --yes'
release_session
wait_until "$DS_GONE_SQL"
expect_eq "the warehouse retired orders" "$(copy_of orders); $(wh_tables)" "1 finished; orders_v2"
expect_eq "the journal a step behind" "$(journal_of orders)" "1 checked wh"
expect_eq "the incoming table's records still there" "$(records_of wt)" "1 incoming=1"
ds -c 'swap-table status'
expect_exit 0
expect_stdout_matches "^ +1 \\| public.orders \\| wh +\\| v2 +\\| finished "
expect_eq "brought forward by status" "$(journal_of orders)" "1 finished wh"
expect_eq "the records of orders_v2's side dropped with the swap" "$(records_of wt)" "1 -"
ds -c 'swap-table finish orders --connection wh --yes'
expect_exit 3
expect_stderr_matches "^datashell: error: no table 'orders'$"
end_case

done_testing
