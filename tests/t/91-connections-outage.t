#!/bin/sh
# A named connection's server that refuses connections or never answers. The runs on
# it wait for it without using up their retries and without counting for their tasks'
# breakers; the connection raises one incident, which resolves once a run connects
# again. A slot connecting to a server that does not answer holds up nothing else of
# its worker: the other slots, the leases, the claims go on. A graph's max_active
# holds across workers on a warehouse as on the state database.
. "$DS_TOP/tests/lib.sh"
use_fresh_database t_connections_outage
use_warehouse
cd "$WORK" || exit 1

# The warehouse's table of what the runs wrote: each run deletes its key, then inserts.
wh_sql "CREATE TABLE public.written (task text, k text)" >/dev/null

begin "a warehouse that refuses connections: one incident, no breaker, the runs wait and say why; back, the drain ends once per key and the incident resolves"
use_fresh_database t_connections_outage
# One retry each: without the wait, two refusals would fail a run for good, and five
# such runs open its task's breaker.
schema_with_pipeline t_refused <<-END
	{"connections": {"warehouse": "$WAREHOUSE"},
	 "graphs": {"core": {"connection": "warehouse"}},
	 "tasks": [
	  {"name": "x", "graph": "core", "key": "daily", "retries": 1, "retry_delay": 1,
	   "sql": "DELETE FROM public.written WHERE task = 'x' AND k = :'key'; INSERT INTO public.written VALUES ('x', :'key')"},
	  {"name": "y", "graph": "core", "key": "daily", "retries": 1, "retry_delay": 1,
	   "sql": "DELETE FROM public.written WHERE task = 'y' AND k = :'key'; INSERT INTO public.written VALUES ('y', :'key')"},
	  {"name": "z", "graph": "core", "key": "daily", "retries": 1, "retry_delay": 1,
	   "sql": "DELETE FROM public.written WHERE task = 'z' AND k = :'key'; INSERT INTO public.written VALUES ('z', :'key')"}]}
END
pg_cluster_stop "$WORK/wh"
setup "$DATASHELL" -c 'backfill x,y,z 2024-01-01..2024-01-20 --yes'
ds_bg w -c 'worker --concurrency 4'
w=$BG
# Refused a while: the waits have grown past a second or two.
wait_until "EXISTS (SELECT 1 FROM alerts WHERE incident = 'connection:warehouse'
                    AND state = 'open' AND count >= 12 AND last_seen > first_seen + interval '3 s')" 60
expect_sql "the one open incident is the connection's" \
	"SELECT string_agg(incident || ' ' || kind || ' ' || severity, ',') FROM alerts WHERE state <> 'resolved'" \
	"connection:warehouse connection_refused error"
expect_sql "no breaker counted a refusal" "SELECT count(*) FROM breakers WHERE state <> 'closed' OR consecutive > 0" 0
expect_sql "no run failed; the refused ones wait" \
	"SELECT count(*) FILTER (WHERE state = 'failed') || ' ' || (count(*) FILTER (WHERE state = 'queued' AND error_class = 'unreachable') > 0)
	 FROM runs" "0 true"
expect_sql "the refused attempts are kept as unreachable" \
	"SELECT count(*) > 0 AND bool_and(error_class = 'unreachable' AND error LIKE 'cannot open connection ''warehouse'': %') FROM run_attempts" t
wait_until "EXISTS (SELECT 1 FROM runs WHERE state = 'queued' AND error_class = 'unreachable'
                    AND not_before > now() + interval '1 s')"
waiting=$(sql "SELECT t.name || ' ' || r.key FROM runs r JOIN tasks t ON t.id = r.task_id
	      WHERE r.state = 'queued' AND r.error_class = 'unreachable'
	      ORDER BY r.not_before DESC LIMIT 1")
ds -c "why $waiting"
expect_exit 0
expect_stdout_matches "waits for connection warehouse, which refuses connections"
expect_stdout_matches "tries again at .*: cannot open connection 'warehouse'"
ds -c 'alerts'
expect_exit 0
expect_stdout_matches "connection warehouse refuses connections"
pg_cluster_again "$WORK/wh" -c fsync=off -c full_page_writes=off || fail "the warehouse did not start again"
wait_until "(SELECT count(*) FROM runs WHERE state = 'success') = 60" 120
expect_eq "keys written in the warehouse: rows, distinct" \
	"$(wh_sql "SELECT count(*) || ' ' || count(DISTINCT (task, k)) FROM public.written")" "60 60"
expect_sql "the incident resolved itself, the only one there was" \
	"SELECT string_agg(incident || ' ' || state || ' ' || resolved_by, ',') FROM alerts" \
	"connection:warehouse resolved datashell"
expect_sql "no breaker opened" "SELECT count(*) FROM breakers WHERE state <> 'closed'" 0
kill -TERM $w
bg_wait $w w 60
expect_exit 0
# A refused run neither failed nor used a retry: the worker says that it waits, for what.
expect_stderr_matches "$WORKER_LINE"'[xyz] 2024-01-[0-9]{2} waits for connection warehouse, tries again in [0-9]+s \([0-9.]+s\) \[unreachable\]: cannot open connection '"'warehouse'"': '
! grep -E 'will retry.*\[unreachable\]' "$ERR" >"$WORK/retried" ||
	fail "a refused run was told retried: $(head -n 1 "$WORK/retried")"
expect_stdout_matches '^worker [^ ]+: [0-9]+ runs, 60 succeeded, 0 failed, 0 retried, 0 blocked, 0 cancelled, [1-9][0-9]* waited for their connection$'
# logs says the same of each refused attempt: it waited for its connection, with why.
run=$(sql "SELECT min(run_id) FROM run_attempts WHERE error_class = 'unreachable'")
ds -c "logs $(sql "SELECT t.name || ' ' || r.key FROM runs r JOIN tasks t ON t.id = r.task_id
	          WHERE r.id = $run")"
expect_exit 0
expect_stdout_matches '^  attempt [0-9]+  waited for connection warehouse  started [^ ]+  ended [^ ]+  \([0-9.]+s\)  worker [^ ]+$'
expect_stdout_matches "^    error \\[unreachable\\]:$"
expect_stdout_matches "^      cannot open connection 'warehouse': "
expect_eq "attempts logs says waited, one per refusal" \
	"$(grep -cE '^  attempt [0-9]+  waited for connection warehouse  ' "$OUT")" \
	"$(sql "SELECT count(*) FROM run_attempts WHERE run_id = $run AND error_class = 'unreachable'")"
end_case

begin "a slot connecting to a warehouse that never answers holds up neither the worker's other slots nor its leases"
use_fresh_database t_connections_outage
silent_server "$WORK/silent" 5432
# Long enough that a worker waiting on it would lose the lease and stall the other run.
schema_with_pipeline t_silent <<-END
	{"connections": {"silent": "host=$WORK/silent port=5432 dbname=wh connect_timeout=30"},
	 "graphs": {"far": {"connection": "silent"}, "near": {}},
	 "tasks": [
	  {"name": "s", "graph": "far", "key": "daily", "sql": "SELECT 1"},
	  {"name": "l", "graph": "near", "key": "daily",
	   "sql": "CREATE TABLE IF NOT EXISTS public.near_out (k text); INSERT INTO public.near_out VALUES (:'key')"}]}
END
setup "$DATASHELL" -c 'backfill s 2024-01-01 --yes'
ds_bg w -c 'worker --concurrency 2 --lease 3'
w=$BG
wait_until "EXISTS (SELECT 1 FROM runs WHERE state = 'running')"
lease=$(sql "SELECT lease_until FROM runs WHERE state = 'running'")
setup "$DATASHELL" -c 'backfill l 2024-01-01 --yes'
wait_until "EXISTS (SELECT 1 FROM runs r JOIN tasks t ON t.id = r.task_id
                    WHERE t.name = 'l' AND r.state = 'success')" 10
wait_until "(SELECT lease_until FROM runs r JOIN tasks t ON t.id = r.task_id WHERE t.name = 's')
            > '$lease'::timestamptz + interval '1 s'" 10
expect_sql "the state database's run wrote its key" "SELECT string_agg(k, ',') FROM public.near_out" 2024-01-01
expect_sql "the warehouse's run still connects, its lease renewed" \
	"SELECT r.state || ' ' || (r.lease_until > now()) FROM runs r JOIN tasks t ON t.id = r.task_id WHERE t.name = 's'" \
	"running true"
flush_sql
# The server gives up: the run is refused and waits, under the connection's incident.
stop_silent
wait_until "EXISTS (SELECT 1 FROM alerts WHERE incident = 'connection:silent' AND state = 'open')"
wait_until "EXISTS (SELECT 1 FROM runs WHERE state = 'queued' AND error_class = 'unreachable')"
kill -TERM $w
bg_wait $w w 60
expect_exit 0
end_case

begin "a graph's max_active holds across two workers running warehouse tasks"
use_fresh_database t_connections_outage
wh_sql "DROP TABLE IF EXISTS public.spans; CREATE TABLE public.spans (k text, s timestamptz, e timestamptz)" >/dev/null
# Each run notes when it began and ended its work in the warehouse.
schema_with_pipeline t_capped <<-END
	{"connections": {"warehouse": "$WAREHOUSE"},
	 "graphs": {"core": {"connection": "warehouse", "max_active": 2}},
	 "tasks": [{"name": "p", "graph": "core", "key": "daily",
	            "sql": "DELETE FROM public.spans WHERE k = :'key'; INSERT INTO public.spans VALUES (:'key', clock_timestamp(), NULL); SELECT pg_sleep(0.2); UPDATE public.spans SET e = clock_timestamp() WHERE k = :'key'"}]}
END
setup "$DATASHELL" -c 'backfill p 2024-01-01..2024-01-24 --yes'
ds_bg w1 -c 'worker --drain --concurrency 4'
w1=$BG
ds_bg w2 -c 'worker --drain --concurrency 4'
w2=$BG
bg_wait $w1 w1 120
expect_exit 0
bg_wait $w2 w2 120
expect_exit 0
expect_sql "every run succeeded" "SELECT count(*) FROM runs WHERE state = 'success'" 24
expect_eq "at most two at once in the warehouse, and two at some time" \
	"$(wh_sql "SELECT count(*) || ' ' || max((SELECT count(*) FROM public.spans b WHERE b.s <= a.s AND a.s < b.e))
	           FROM public.spans a")" "24 2"
end_case

done_testing
