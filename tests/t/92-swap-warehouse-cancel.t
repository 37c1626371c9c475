#!/bin/sh
# Ctrl-C during swap-table --connection cancels the statement it runs on the warehouse,
# driven through a real pseudo-terminal by tests/ptyrun: a check held up there by a lock
# (at the prompt, which goes on) and the swap's wait for its lock (in a script, which
# stops). The command fails at once, the journal and the warehouse's copy of it are as
# they were, and none of its statements is left running in the warehouse.
. "$DS_TOP/tests/lib.sh"
use_fresh_database t_swap_wh_cancel
use_warehouse
cd "$WORK" || exit 1
export TERM=xterm

# How many of datashell's sessions in the warehouse run a statement.
WH_ACTIVE="SELECT count(*) FROM pg_stat_activity
	WHERE application_name = 'datashell' AND state = 'active'"

# Swap 1 of the warehouse's orders, checked.
printf '{"connections": {"wh": "%s"}}\n' "$WAREHOUSE" >conns.json
setup "$DATASHELL" -c init -c 'pipeline load conns.json'
wh_sql "CREATE TABLE public.orders (id integer PRIMARY KEY, day date NOT NULL, amount numeric);
        INSERT INTO public.orders SELECT i, date '2024-01-01' + i % 5, i
          FROM generate_series(1, 100) i" >/dev/null
setup "$DATASHELL" -c 'swap-table start orders --connection wh'
wh_sql "INSERT INTO orders_backfill SELECT * FROM orders" >/dev/null
setup "$DATASHELL" -c 'swap-table check orders --connection wh'

# The journal's row of the swap and the warehouse's copy of it, as JSON.
rows() {
	printf '%s\n%s\n' "$(sql 'SELECT to_jsonb(s) FROM datashell.swaps s')" \
		"$(wh_sql 'SELECT to_jsonb(s) FROM datashell.swaps s')"
}
rows >before

begin "Ctrl-C at the prompt cancels a check waiting in the warehouse; the shell goes on"
hold_session "LOCK TABLE orders IN ACCESS EXCLUSIVE MODE" -d "$WAREHOUSE"
ctrl_c_lock_wait "$WAREHOUSE" 'datashell>' 'swap-table check orders --connection wh'
expect_exit 0
expect_eq "nothing of it still runs in the warehouse" "$(wh_sql "$WH_ACTIVE")" 0
release_session
rows >after
expect_same "the journal and its copy as they were" before <after
end_case

begin "Ctrl-C in a script cancels the swap's wait for its lock in the warehouse and stops the script"
hold_session "LOCK TABLE orders IN ACCESS EXCLUSIVE MODE" -d "$WAREHOUSE"
ctrl_c_lock_wait "$WAREHOUSE" - \
	'swap-table swap orders --connection wh --yes --lock-timeout 30s --deadline 60s'
expect_exit 0
expect_eq "nothing of it still runs in the warehouse" "$(wh_sql "$WH_ACTIVE")" 0
release_session
rows >after
expect_same "the journal and its copy as they were" before <after
expect_eq "the warehouse's tables" "$(wh_sql "SELECT string_agg(tablename, ' ' ORDER BY tablename)
	FROM pg_tables WHERE schemaname = 'public'")" "orders orders_backfill"
end_case

done_testing
