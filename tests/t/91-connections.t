#!/bin/sh
# Named connections: a pipeline file declares them ("connections"), a graph or a task
# says which its SQL runs on. Here the warehouse is a cluster of its own, apart from
# the state store's server: the tasks write there and the state database gets no such
# table; checks and complete_when read there; a bad definition is refused with the
# file and the place, and nothing changes. On the warehouse a run's work commits, then
# its success is recorded: a warehouse restarted mid-drain is a transient failure of
# the runs it cut, which run again, and the idempotent pattern (delete the key's rows,
# then insert) leaves every key once.
. "$DS_TOP/tests/lib.sh"
use_fresh_database t_connections
use_warehouse
cd "$WORK" || exit 1

# pipeline.json: graph core on the warehouse with tasks a (which the graph's connection
# gives) and b (which names it itself), the idempotent pattern, and c, on the state
# database (it names none, and its graph none); both a and b check and complete there.
write_pipeline() {	# [GRAPH-CONNECTION]
	cat >pipeline.json <<-END
		{"connections": {"warehouse": "$WAREHOUSE"},
		 "graphs": {"core": {"connection": "${1:-warehouse}"}, "local": {}},
		 "tasks": [
		  {"name": "a", "graph": "core", "key": "daily",
		   "checks": [{"name": "source_there", "sql": "SELECT count(*) = 1 FROM public.source"}],
		   "sql": "DELETE FROM public.a_out WHERE k = :'key'; INSERT INTO public.a_out VALUES (:'key')",
		   "complete_when": "SELECT count(*) = 1 FROM public.a_out WHERE k = :'key'"},
		  {"name": "b", "graph": "core", "key": "daily", "connection": "warehouse",
		   "sql": "DELETE FROM public.b_out WHERE k = :'key'; INSERT INTO public.b_out VALUES (:'key')"},
		  {"name": "c", "graph": "local", "key": "daily",
		   "sql": "INSERT INTO public.c_out VALUES (:'key')"}]}
	END
}

stage_loaded() {
	write_pipeline
	setup "$DATASHELL" -c init -c 'pipeline load pipeline.json'
}

# The pipeline loaded, and the warehouse's tables afresh (the stage keeps the state
# database only).
use_loaded() {
	use_stage loaded
	write_pipeline
	wh_sql "DROP TABLE IF EXISTS public.source, public.a_out, public.b_out;
		CREATE TABLE public.source (x int);
		INSERT INTO public.source VALUES (1);
		CREATE TABLE public.a_out (k text);
		CREATE TABLE public.b_out (k text)" >/dev/null
	# Made here, not by c's runs: CREATE TABLE IF NOT EXISTS in concurrent runs races
	# (a unique violation in pg_type).
	sql "DROP TABLE IF EXISTS public.c_out; CREATE TABLE public.c_out (k text)" >/dev/null
}

begin "pipeline load stores the connections; a graph's is its SQL tasks', a task's own wins"
use_fresh_database t_connections
setup "$DATASHELL" -c init
write_pipeline
ds -c 'pipeline load pipeline.json'
expect_exit 0
expect_stdout_matches "^added connection 'warehouse'$"
expect_stdout_matches "^loaded 1 file: 1 connection added, 2 graphs added, 3 tasks added$"
expect_sql "the connection stored" \
	"SELECT name || ' ' || conninfo || ' ' || source FROM datashell.connections" \
	"warehouse $WAREHOUSE pipeline.json"
expect_sql "each task's connection" \
	"SELECT string_agg(name || ':' || coalesce(definition ->> 'connection', '-'), ',' ORDER BY name)
	 FROM datashell.tasks" "a:warehouse,b:warehouse,c:-"
ds -c 'pipeline show a'
expect_exit 0
expect_stdout_matches "^Connection +warehouse \($WAREHOUSE\)$"
ds -c 'pipeline show c'
grep -q Connection "$OUT" && fail "a task on the state database shows a connection"
ds -c 'pipeline load pipeline.json'
expect_exit 0
expect_stdout_matches "^loaded 1 file: no changes \(3 tasks unchanged\)$"
# The connection moves to a file of its own, which owns it from then on: a load of the
# file it left does not remove it.
printf '{"connections": {"warehouse": "%s"}}\n' "$WAREHOUSE" >conns.json
sed -i 's/^{"connections".*/{/' pipeline.json
ds -c 'pipeline load conns.json pipeline.json'
expect_exit 0
expect_stdout_matches "^loaded 2 files: no changes \(3 tasks unchanged\)$"
ds -c 'pipeline load pipeline.json'
expect_exit 0
expect_sql "the connection, now of conns.json" "SELECT source FROM datashell.connections" conns.json
end_case

# A definition that cannot be loaded, its message, and nothing stored.
refused() {	# WHAT MESSAGE-REGEX
	ds -c 'pipeline load bad.json'
	expect_exit 3
	expect_stderr_matches "$2"
	expect_sql "$1: nothing stored" \
		"SELECT (SELECT count(*) FROM datashell.connections) || ' ' || (SELECT count(*) FROM datashell.tasks)" "0 0"
}

begin "bad connections are refused at load, naming the file and the place; nothing changes"
use_fresh_database t_connections
setup "$DATASHELL" -c init
write_pipeline
sed 's/"connection": "warehouse"/"connection": "warehous"/' pipeline.json >bad.json
refused "a task's unknown name" \
	"^bad.json: tasks\[1\] \(b\)\.connection: unknown connection 'warehous' \(did you mean 'warehouse'\?\): declare it in \"connections\"$"
write_pipeline nowhere
cp pipeline.json bad.json
refused "a graph's unknown name" \
	"bad.json: graphs\.core\.connection: unknown connection 'nowhere'"
write_pipeline
sed "s|\"warehouse\": \"$WAREHOUSE\"|\"warehouse\": \"host=/tmp dbname\"|" pipeline.json >bad.json
refused "a string libpq cannot parse" \
	"bad.json: connections\.warehouse: invalid connection string: missing \"=\" after \"dbname\""
sed "s|\"warehouse\": \"$WAREHOUSE\"|\"warehouse\": \"$WAREHOUSE password=secret\"|" pipeline.json >bad.json
refused "a password" "bad.json: connections\.warehouse: has a password: put it in ~/\.pgpass"
sed "s|\"warehouse\": \"$WAREHOUSE\"|\"warehouse\": \"postgresql://me:secret@localhost/wh\"|" pipeline.json >bad.json
refused "a password in a URI" "bad.json: connections\.warehouse: has a password"
grep -q secret "$ERR" && fail "the message repeats the password"
sed 's/"sql": "INSERT INTO public.c_out.*"}]}/"connection": "warehouse", "command": "true"}]}/' pipeline.json >bad.json
refused "a command task's connection" "connection: a command task runs its own programs"
end_case

begin "pipeline load --check-connections: each connection tried from here; one unreachable loads nothing"
use_fresh_database t_connections
setup "$DATASHELL" -c init
write_pipeline
ds -c 'pipeline load --check-connections pipeline.json'
expect_exit 0
expect_stdout_matches "^connection 'warehouse' is reachable$"
expect_stdout_matches "^loaded 1 file: 1 connection added"
sed "s|\"warehouse\": \"$WAREHOUSE\"|\"warehouse\": \"host=$WORK/nowhere dbname=wh\"|" pipeline.json >moved.json
ds -c 'pipeline load --check-connections moved.json'
expect_exit 3
expect_stderr_matches "^datashell: error: moved.json: connections\.warehouse: cannot open connection 'warehouse': connection to server on socket \"$WORK/nowhere/\.s\.PGSQL\.[0-9]+\" failed: No such file or directory$"
expect_stderr_matches "^hint: nothing was loaded"
expect_sql "nothing loaded" "SELECT conninfo FROM datashell.connections" "$WAREHOUSE"
ds -c 'pipeline load moved.json'
expect_exit 0
expect_stdout_matches "^changed connection 'warehouse'$"
grep -q reachable "$OUT" && fail "a load without --check-connections connected"
# A server that takes the connection and never answers: libpq would wait forever; a
# named connection waits 10 seconds when nothing says otherwise.
silent_server "$WORK/silent" 5432
sed "s|host=$WORK/nowhere|host=$WORK/silent port=5432|" moved.json >silent.json
ds_bg check -c 'pipeline load --check-connections silent.json'
bg_wait $BG check 60
stop_silent
expect_exit 3
expect_stderr_matches "^datashell: error: silent.json: connections\.warehouse: cannot open connection 'warehouse': .*timeout expired$"
# A file whose tasks run on a connection that another file, loaded before, declares:
# that one is tried too, and named with its file.
use_fresh_database t_connections
setup "$DATASHELL" -c init
printf '{"connections": {"warehouse": "%s"}}\n' "$WAREHOUSE" >conns.json
write_pipeline
sed -i 's/^{"connections".*/{/' pipeline.json
ds -c 'pipeline load conns.json'
expect_exit 0
ds -c 'pipeline load --check-connections pipeline.json --json'
expect_exit 0
expect_eq "the stored connection tried" "$(json_get '{connections_checked}' <"$OUT")" \
	'[{"connection":"warehouse","error":null,"file":"conns.json","reachable":true,"stored":true}]'
ds -c 'pipeline load --check-connections pipeline.json'
expect_exit 0
expect_stdout_matches "^connection 'warehouse' \(declared in conns\.json\) is reachable$"
printf '{"connections": {"warehouse": "host=%s dbname=wh"}}\n' "$WORK/nowhere" >conns.json
ds -c 'pipeline load conns.json'
expect_exit 0
before=$(sql "SELECT md5(string_agg(definition::text, ',' ORDER BY name)) FROM datashell.tasks")
sed -i 's/"sql": "SELECT count(\*) = 1 FROM public.source"/"sql": "SELECT true"/' pipeline.json
ds -c 'pipeline load --check-connections pipeline.json'
expect_exit 3
expect_stderr_matches "^datashell: error: conns.json: connections\.warehouse: cannot open connection 'warehouse': "
expect_sql "nothing loaded" \
	"SELECT md5(string_agg(definition::text, ',' ORDER BY name)) FROM datashell.tasks" "$before"
end_case

begin "a load shows connections changed and removed; one that a remaining task runs on stays"
use_loaded
sed "s|\"warehouse\": \"$WAREHOUSE\"|\"warehouse\": \"$WAREHOUSE application_name=etl\"|" pipeline.json >changed.json
ds -c 'pipeline load --dry-run changed.json'
expect_exit 0
expect_stdout_matches "^would change connection 'warehouse'$"
expect_stdout_matches "^\+$WAREHOUSE application_name=etl$"
expect_stdout_matches "^would load 1 file: 1 connection changed, 3 tasks unchanged; nothing was changed$"
# Another file's task runs on the connection pipeline.json declares.
cat >other.json <<-'END'
	{"graphs": {"other": {}},
	 "tasks": [{"name": "z", "graph": "other", "key": "none", "connection": "warehouse",
	            "sql": "SELECT 1"}]}
END
setup "$DATASHELL" -c 'pipeline load other.json'
# pipeline.json as it was, without the connection.
sed -i -e 's/^{"connections".*/{/' -e 's/"connection": "warehouse"/"connection": null/' pipeline.json
ds -c 'pipeline load pipeline.json'
expect_exit 3
expect_stderr_matches "^datashell: error: pipeline.json: connections: removes connection 'warehouse', which task 'z' of graph 'other' runs on$"
expect_sql "still there" "SELECT count(*) FROM datashell.connections" 1
sed -i 's/"connection": "warehouse"/"connection": null/' other.json
setup "$DATASHELL" -c 'pipeline load other.json'
ds -c 'pipeline load pipeline.json'
expect_exit 0
expect_stdout_matches "^removed connection 'warehouse'$"
expect_stdout_matches "^changed task 'a' \(graph 'core'\)$"
expect_sql "removed" "SELECT count(*) FROM datashell.connections" 0
expect_sql "no task runs on it" \
	"SELECT count(*) FROM datashell.tasks WHERE definition ? 'connection'" 0
end_case

begin "a worker runs SQL tasks on the warehouse: work, checks and complete_when there, success here"
use_loaded
ds -c 'backfill a,b,c 2024-01-01..2024-01-10 --yes' -c 'worker --drain --concurrency 3'
expect_exit 0
expect_eq "a's keys in the warehouse" "$(wh_sql 'SELECT count(DISTINCT k) || $$ $$ || count(*) FROM public.a_out')" "10 10"
expect_eq "b's keys in the warehouse" "$(wh_sql 'SELECT count(DISTINCT k) || $$ $$ || count(*) FROM public.b_out')" "10 10"
expect_sql "no such tables in the state database" \
	"SELECT count(*) FROM pg_tables WHERE tablename IN ('a_out', 'b_out', 'source')" 0
expect_sql "c ran on the state database" "SELECT count(*) FROM public.c_out" 10
expect_sql "runs succeeded once, each with its connection" \
	"SELECT string_agg(DISTINCT t.name || ':' || r.state || ':' || r.attempt || ':' || coalesce(r.connection, '-'), ',')
	 FROM datashell.runs r JOIN datashell.tasks t ON t.id = r.task_id" \
	"a:success:1:warehouse,b:success:1:warehouse,c:success:1:-"
ds -c 'status 1 --json'
expect_exit 0
expect_eq "status of the batch: runs per connection" "$(json_get '{connections}' <"$OUT")" \
	"warehouse 20"
ds -c 'status 1'
expect_stdout_matches '^Connections +warehouse 20$'
ds -c 'logs a 2024-01-01'
expect_exit 0
expect_stdout_matches '  table production  connection warehouse$'
ds -c 'logs c 2024-01-01'
grep -q connection "$OUT" && fail "logs names a connection for a run on the state database"
end_case

begin "a check reads the warehouse: with no source row there the run is blocked"
use_loaded
wh_sql "DELETE FROM public.source" >/dev/null
ds -c 'backfill a 2024-01-01 --yes' -c 'worker --drain'
expect_exit 3
expect_outcome "a's run" a 2024-01-01 "blocked|1|check 'source_there' failed: returned false"
end_case

begin "a swap of the state database's table is not a warehouse task's, whose target has its name"
# wh.sw is a table of the state database under a swap (wh.sw_backfill there) and a
# table of the warehouse, which task wt writes: its runs write the warehouse's wh.sw
# alone, are not recorded for the swap, and --into backfill refuses it.
use_loaded
sql "CREATE SCHEMA wh; CREATE TABLE wh.sw (day date PRIMARY KEY, n integer NOT NULL)"
setup "$DATASHELL" -c 'swap-table start wh.sw'
wh_sql "CREATE SCHEMA wh; CREATE TABLE wh.sw (day date PRIMARY KEY, n integer NOT NULL)" >/dev/null
cat >wt.json <<-'END'
	{"tasks": [{"name": "wt", "graph": "local", "key": "daily", "connection": "warehouse",
	            "target": "wh.sw",
	            "sql": "DELETE FROM :\"target\" WHERE day = :'key'; INSERT INTO :\"target\" VALUES (:'key', 2)"}]}
END
setup "$DATASHELL" -c 'pipeline load pipeline.json wt.json'
ds -c 'backfill wt 2024-01-01..2024-01-03 --yes' -c 'worker --drain'
expect_exit 0
expect_eq "the warehouse's wh.sw" "$(wh_sql 'SELECT count(*) FROM wh.sw')" 3
expect_sql "wt's runs" "SELECT string_agg(DISTINCT state, ',') FROM datashell.runs r
	JOIN datashell.tasks t ON t.id = r.task_id WHERE t.name = 'wt'" success
expect_sql "no record for the swap" "SELECT count(*) FROM datashell.swap_partitions" 0
expect_sql "the state database's tables untouched" \
	"SELECT (SELECT count(*) FROM wh.sw) + (SELECT count(*) FROM wh.sw_backfill)" 0
ds -c 'backfill wt 2024-01-04 --into backfill --yes'
expect_exit 3
expect_stderr_matches "^datashell: error: --into backfill: the swap of their target is in another database than theirs: 'wt' \(connection warehouse; swap 1 of sw is on the state database\)$"
expect_sql "nothing enqueued" "SELECT count(*) FROM datashell.runs WHERE key = '2024-01-04'" 0
end_case

# The worker sessions the warehouse has.
WH_WORKERS="SELECT count(*) FROM pg_stat_activity WHERE application_name = 'datashell worker'"

begin "a worker closes its idle connections to the warehouse, and opens them again for the next run"
use_loaded
ds_bg w -c 'worker --concurrency 2'
w=$BG
setup "$DATASHELL" -c 'backfill b 2024-01-01..2024-01-04 --yes'
wait_until "(SELECT count(*) FROM datashell.runs WHERE state = 'success') = 4" 60
[ "$(wh_sql "$WH_WORKERS")" -ge 1 ] || fail "no worker session in the warehouse after the runs"
# Within the idle time (10 s) and a claim's polling, with margin for a loaded machine.
t_end=$(($(date +%s) + 60))
until [ "$(wh_sql "$WH_WORKERS")" = 0 ] || [ "$(date +%s)" -ge $t_end ]; do sleep 0.2; done
expect_eq "worker sessions in the warehouse once idle" "$(wh_sql "$WH_WORKERS")" 0
kill -0 $w 2>/dev/null || fail "the worker exited"
setup "$DATASHELL" -c 'backfill b 2024-01-05 --yes'
wait_until "(SELECT count(*) FROM datashell.runs WHERE state = 'success') = 5" 60
expect_eq "b's keys in the warehouse" "$(wh_sql 'SELECT count(*) FROM public.b_out')" 5
kill -TERM $w
bg_wait $w w 60
expect_exit 0
end_case

# The warehouse's sessions that sleep in a run.
WH_SLEEPING="SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(3600)%' AND pid <> pg_backend_pid()"

begin "a worker that loses the state store cancels its statements on the warehouse, not leaving them to commit"
use_loaded
sed 's/"sql": "DELETE FROM public.b_out.*"}/"sql": "SELECT pg_sleep(3600)"}/' pipeline.json >slow.json
setup "$DATASHELL" -c 'pipeline load slow.json' -c 'backfill b 2024-01-01 --yes'
ds_bg w -c 'worker --concurrency 1'
w=$BG
t_end=$(($(date +%s) + 60))
until [ "$(wh_sql "$WH_SLEEPING")" = 1 ] || [ "$(date +%s)" -ge $t_end ]; do sleep 0.1; done
expect_eq "the run sleeps in the warehouse" "$(wh_sql "$WH_SLEEPING")" 1
# Only the worker's own sessions in the state database go: it abandons its runs.
sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
     WHERE datname = current_database() AND application_name LIKE 'datashell%'" >/dev/null
wait_for_file 'abandoned' "$WORK/w.err"
t_end=$(($(date +%s) + 30))
until [ "$(wh_sql "$WH_SLEEPING")" = 0 ] || [ "$(date +%s)" -ge $t_end ]; do sleep 0.1; done
expect_eq "statements left running in the warehouse" "$(wh_sql "$WH_SLEEPING")" 0
kill -TERM $w
bg_wait $w w 60
end_case

begin "the warehouse restarted mid-drain: the drain ends, each of 300 keys once there, cut runs retried as transient, refused ones waited"
use_fresh_database t_connections
wh_sql "DROP TABLE IF EXISTS public.drained; CREATE TABLE public.drained (k text, at timestamptz)" >/dev/null
# Each run takes a fifth of a second, so that runs are in flight when the server goes.
schema_with_pipeline t_drain <<-END
	{"connections": {"warehouse": "$WAREHOUSE"},
	 "graphs": {"core": {"connection": "warehouse", "max_active": 4}},
	 "tasks": [{"name": "d", "graph": "core", "key": "daily", "retries": 20, "retry_delay": 1,
	            "sql": "DELETE FROM public.drained WHERE k = :'key'; INSERT INTO public.drained SELECT :'key', now() FROM pg_sleep(0.2)"}]}
END
setup "$DATASHELL" -c 'backfill d 2024-01-01..2024-10-26 --yes'
ds_bg w -c 'worker --drain --concurrency 4'
w=$BG
wait_until "(SELECT count(*) FROM runs WHERE state = 'success') >= 60" 120
restart_warehouse
bg_wait $w w 240
expect_exit 0
grep -q 'reconnect' "$ERR" && fail "the worker lost the state store: $(grep reconnect "$ERR" | head -3)"
expect_eq "keys in the warehouse: rows, distinct" \
	"$(wh_sql 'SELECT count(*) || $$ $$ || count(DISTINCT k) FROM public.drained')" "300 300"
expect_sql "runs succeeded" "SELECT count(*) FROM runs WHERE state = 'success'" 300
expect_sql "attempts cut by the restart transient, refused while it was down unreachable" \
	"SELECT count(*) > 0 AND bool_and(error_class IN ('transient', 'unreachable')) FROM run_attempts" t
expect_sql "no breaker counted the restart; the connection's incident, if any, resolved" \
	"SELECT (SELECT count(*) FROM breakers WHERE state <> 'closed')
	      + (SELECT count(*) FROM alerts WHERE state <> 'resolved')" 0
expect_sql "each run and each attempt with its connection" \
	"SELECT (SELECT count(*) FROM runs WHERE connection IS DISTINCT FROM 'warehouse')
	      + (SELECT count(*) FROM run_attempts WHERE connection IS DISTINCT FROM 'warehouse')" 0
# logs says of each attempt what became of it: one the restart cut failed and was
# retried; one refused while the server was down waited for its connection. Which of
# the two the restart made depends on its timing, but it made one.
[ "$(sql "SELECT count(*) FROM run_attempts WHERE error_class IN ('transient', 'unreachable')")" -gt 0 ] ||
	fail "the restart left no attempt that failed or waited: $(sql "SELECT string_agg(DISTINCT coalesce(error_class, '-'), ' ') FROM run_attempts")"
for class in transient unreachable; do
	key=$(sql "SELECT r.key FROM runs r JOIN run_attempts a ON a.run_id = r.id
	           WHERE a.error_class = '$class' ORDER BY r.id, a.attempt LIMIT 1")
	[ -n "$key" ] || continue
	ds -c "logs d $key"
	expect_exit 0
	case $class in
	transient) expect_stdout_matches '^  attempt [0-9]+  failed, retried  .*  connection warehouse$' ;;
	unreachable) expect_stdout_matches '^  attempt [0-9]+  waited for connection warehouse  started .*  worker [^ ]+$' ;;
	esac
	expect_stdout_matches "^    error \\[$class\\]:$"
done
end_case

done_testing
