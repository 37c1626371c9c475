#!/bin/sh
# Durations that reach the server as milliseconds in an int (lock_timeout,
# statement_timeout) are refused above its maximum before anything is sent, naming
# the option or field and the maximum.
. "$DS_TOP/tests/lib.sh"
use_fresh_database t_durations
setup "$DATASHELL" -c init

begin "swap-table --lock-timeout and --deadline above the server's maximum are refused"
ds -c 'swap-table swap orders --lock-timeout 25d'
expect_exit 3
expect_stderr <<-'END'
	datashell: error: --lock-timeout: '25d' is more than the longest, 2147483647ms (about 24.8 days)
	hint: the server takes it in milliseconds, as an int
END
ds -c 'swap-table swap orders --deadline 2147483648ms'
expect_exit 3
expect_stderr_matches "^datashell: error: --deadline: '2147483648ms' is more than the longest, 2147483647ms"
ds -c 'swap-table rollback orders --lock-timeout 9999999999999999999999s'
expect_exit 3
expect_stderr_matches "^datashell: error: --lock-timeout: '9999999999999999999999s' is not a duration"
end_case

begin "the longest lock timeout passes the parser"
ds -c 'swap-table swap orders --lock-timeout 2147483647ms --deadline 24d'
expect_exit 3
expect_stderr_matches "orders"
grep -q "more than the longest" "$ERR" && fail "refused: $(cat "$ERR")"
end_case

begin "an SQL task's timeout above what statement_timeout takes is refused at load"
cat >"$WORK/t.json" <<-'END'
	{"graphs": {"g": {}}, "tasks": [
	  {"name": "a", "graph": "g", "key": "daily", "sql": "SELECT 1", "timeout": "25d"},
	  {"name": "b", "graph": "g", "key": "daily", "sql": "SELECT 1", "timeout": 2147483},
	  {"name": "c", "graph": "g", "key": "daily", "command": "true", "timeout": "25d"}]}
END
ds -c "pipeline load $WORK/t.json"
expect_exit 3
expect_stderr <<-END
	datashell: error: $WORK/t.json: tasks[0] (a).timeout: 2160000s is more than the longest for an SQL task, 2147483s (about 24.8 days): the worker sets statement_timeout to it, in milliseconds, which the server keeps in an int
	hint: nothing was changed; fix the problem and load again
END
expect_sql "tasks loaded" "SELECT count(*) FROM datashell.tasks" 0
end_case

done_testing
