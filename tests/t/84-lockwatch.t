#!/bin/sh
# Who the lock watcher says blocks a session (core/sql/lockwatch/blockers.sql, which
# swap-table's report prints): every field is filled, also when pg_stat_activity has
# none, as for autovacuum and other background workers (no user). Autovacuum cannot be
# made to block on cue, so the cases use sessions with the same NULL fields: one whose
# role was dropped (no user name) and one the watcher may not see into (no state, start
# times or query).
. "$DS_TOP/tests/lib.sh"
use_fresh_database t_lockwatch
ROLE=t_lockwatch_$$
T_AT_EXIT="admin_sql -c 'DROP ROLE IF EXISTS $ROLE' >/dev/null 2>&1"

# The blockers of session PID as the watcher reads them, as ROLE if given:
# "user|state|age known|query|backend_type|waits_for" lines.
blockers_of() {	# PID [ROLE]
	{
		echo 'SELECT "user", state, age_s ~ '"'"'^[0-9.]+$'"'"', query, backend_type, waits_for FROM ('
		sed "s/\$1::integer/$1/g" "$DS_TOP/core/sql/lockwatch/blockers.sql"
		echo ') b'
	} | PGUSER=${2:-${PGUSER:-}} sql_in
}

# A session of ROLE (or the test's user) holding a lock on t, then one waiting for it;
# prints the waiting one's pid.
lock_and_wait() {	# [ROLE]
	sql "CREATE TABLE t (i int)" "GRANT ALL ON t TO PUBLIC" >/dev/null
	PGUSER=${1:-${PGUSER:-}} PGAPPNAME=lw_holder psql -X -q -c 'BEGIN' -c 'LOCK TABLE t' \
		-c 'SELECT pg_sleep(60)' >/dev/null 2>&1 &
	wait_until "(SELECT count(*) FROM pg_stat_activity WHERE application_name = 'lw_holder'
	             AND datname = current_database() AND query LIKE '%pg_sleep%') = 1"
	PGAPPNAME=lw_waiter psql -X -q -c 'BEGIN' -c 'LOCK TABLE t' >/dev/null 2>&1 &
	wait_until "(SELECT count(*) FROM pg_stat_activity WHERE application_name = 'lw_waiter'
	             AND datname = current_database() AND wait_event_type = 'Lock') = 1"
	sql "SELECT pid FROM pg_stat_activity WHERE application_name = 'lw_waiter'
	     AND datname = current_database()"
}

end_sessions() {
	sql "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
	     WHERE application_name IN ('lw_holder', 'lw_waiter') AND datname = current_database()" >/dev/null
	wait
	sql "DROP TABLE IF EXISTS t" >/dev/null
}

begin "a blocker with no user name is named by what it is"
admin_sql -c "CREATE ROLE $ROLE LOGIN" >/dev/null
waiter=$(lock_and_wait "$ROLE")
oid=$(sql "SELECT usesysid FROM pg_stat_activity WHERE application_name = 'lw_holder'")
admin_sql -c "DROP ROLE $ROLE" >/dev/null
expect_eq "its row" "$(blockers_of "$waiter")" "role $oid (dropped)|active|t|SELECT pg_sleep(60)|client backend|"
end_sessions
end_case

begin "a blocker the watcher may not see into says so in each field"
admin_sql -c "CREATE ROLE $ROLE LOGIN" >/dev/null
waiter=$(lock_and_wait)
me=$(sql "SELECT current_user")
expect_eq "its row" "$(blockers_of "$waiter" "$ROLE" | cut -d'|' -f1-4)" "$me|unknown state|f|<insufficient privilege>"
end_sessions
admin_sql -c "DROP ROLE $ROLE" >/dev/null
end_case

done_testing
