#!/bin/sh
# An idle worker wakes when runs may have become ready: the enqueueing statement
# notifies (definitions/26-wake.sql), and the worker, listening on its control
# connection, claims at once. Polling stays as the fallback; here it is set to 30s
# (DATASHELL_WORKER_IDLE_POLL, for tests), so a run that starts within 5s was started
# by the notification. The worker listens again after it reconnects.
#
# A server of its own, stopped and started again in the last case.
. "$DS_TOP/tests/lib.sh"
use_private_server
use_fresh_database t_wake

# Each case's workers poll every 30s: only a notification can start a run sooner.
export DATASHELL_WORKER_IDLE_POLL=30

# The run of TASK for KEY succeeded.
SUCCEEDED="(SELECT state = 'success' FROM runs r JOIN tasks t ON t.id = r.task_id
            WHERE t.name = '%s' AND r.key = '%s' ORDER BY r.id DESC LIMIT 1)"
succeeded() {	# TASK KEY
	printf "$SUCCEEDED" "$1" "$2"
}

# The worker has claimed, found the queue empty, and waits for its next poll.
IDLE="(SELECT count(*) FROM workers WHERE stopped_at IS NULL) = %s
      AND NOT EXISTS (SELECT 1 FROM runs WHERE state IN ('queued', 'running'))"

stop_worker() {	# PID NAME
	kill -TERM "$1"
	bg_wait "$1" "$2" 30
	expect_exit 0
}

begin "an idle worker starts a force-run, a backfill, a resumed graph's run at once, not at its next poll"
schema_with_pipeline w_enqueue <<-END
	{"graphs": {"core": {}},
	 "tasks": [{"name": "a", "graph": "core", "key": "daily", "sql": "SELECT 1"}]}
END
ds_bg w -c 'worker'
w=$BG
# Its first run shows it has started; the claim after it found nothing: it is idle.
setup "$DATASHELL" -c 'force-run a 2024-01-01'
wait_until "$(succeeded a 2024-01-01)"
wait_until "$(printf "$IDLE" 1)"
setup "$DATASHELL" -c 'force-run a 2024-01-02'
wait_until "$(succeeded a 2024-01-02)" 5
setup "$DATASHELL" -c 'backfill a 2024-01-03..2024-01-04 --yes'
wait_until "$(succeeded a 2024-01-03) AND $(succeeded a 2024-01-04)" 5
setup "$DATASHELL" -c 'pipeline pause core' -c 'force-run a 2024-01-05'
expect_eq "the run, its graph paused" "$(run_field a 2024-01-05 r.state)" queued
setup "$DATASHELL" -c 'pipeline resume core'
wait_until "$(succeeded a 2024-01-05)" 5
stop_worker $w w
expect_sql "the runs" "SELECT state || ':' || count(*) FROM runs GROUP BY state" "success:5"
end_case

begin "a downstream run starts as soon as its upstream succeeds on another worker"
schema_with_pipeline w_chain <<-END
	{"graphs": {"up": {}, "down": {}},
	 "tasks": [{"name": "u", "graph": "up", "key": "daily", "sql": "SELECT 1"},
	           {"name": "d", "graph": "down", "key": "daily", "sql": "SELECT 1",
	            "depends_on": ["u"]}]}
END
ds_bg down -c 'worker --graph down'
down=$BG
wait_until "$(printf "$IDLE" 1)"
setup "$DATASHELL" -c 'backfill u+ 2024-02-01 --yes'
# Woken by the backfill, the downstream worker finds d waiting for u: it waits again.
wait_until "(SELECT count(*) FROM runs WHERE state = 'queued') = 2"
setup "$DATASHELL" -c 'worker --graph up --drain'
wait_until "$(succeeded d 2024-02-01)" 5
stop_worker $down down
expect_sql "the runs" "SELECT state || ':' || count(*) FROM runs GROUP BY state" "success:2"
end_case

begin "after a restart of the server, the worker listens again and wakes for a force-run"
schema_with_pipeline w_restart <<-END
	{"graphs": {"core": {}},
	 "tasks": [{"name": "a", "graph": "core", "key": "daily", "sql": "SELECT 1"}]}
END
ds_bg w -c 'worker'
w=$BG
wait_until "$(printf "$IDLE" 1)"
stop_server
wait_for_file 'reconnecting in' "$WORK/w.err"
start_server
wait_for_file 'reconnected at attempt' "$WORK/w.err" 60
wait_until "$(printf "$IDLE" 1)"
setup "$DATASHELL" -c 'force-run a 2024-03-01'
wait_until "$(succeeded a 2024-03-01)" 5
stop_worker $w w
end_case

done_testing
