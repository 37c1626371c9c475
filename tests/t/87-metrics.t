#!/bin/sh
# metrics and worker --metrics-file: the Prometheus text exposition format, checked by
# promtool (taken out of Debian's prometheus package by tools/ensure-deps check), and
# the figures themselves against the state the test set up.
. "$DS_TOP/tests/lib.sh"
use_fresh_database t_metrics
export TZ=UTC

PROMTOOL=$DS_TOP/build/tools/promtool
[ -x "$PROMTOOL" ] || PROMTOOL=$(command -v promtool || echo "$DS_TOP/build/tools/promtool")

cat >"$WORK/pipeline.json" <<'END'
{
  "graphs": {"core": {"max_active": 4}, "ops": {"max_active": 2}},
  "tasks": [
    {"name": "good", "graph": "core", "key": "daily", "command": "true"},
    {"name": "bad", "graph": "core", "key": "daily", "command": "echo broken; exit 3"},
    {"name": "waiting", "graph": "ops", "key": "daily", "command": "true"}
  ]
}
END

# The runs the figures are checked against: good and bad ran for three keys, good took
# 2 s, bad 100 s; of four waiting runs two are due since an hour, two only tomorrow.
stage_runs() {
	use_fresh_database t_metrics
	# bad fails: the drain says so (exit 3), and the script goes on.
	setup_failing "$DATASHELL" --keep-going -c init -c "pipeline load $WORK/pipeline.json" \
		-c "backfill good,bad 2024-01-01..2024-01-03 --yes" \
		-c "worker --graph core --drain" -c "backfill waiting 2024-01-01..2024-01-04 --yes"
	setup sql "UPDATE datashell.runs r SET started_at = r.finished_at - CASE t.name
	             WHEN 'good' THEN interval '2 seconds' ELSE interval '100 seconds' END
	           FROM datashell.tasks t WHERE t.id = r.task_id AND t.graph = 'core'" \
		"UPDATE datashell.runs SET queued_at = now() - interval '1 hour',
		   not_before = CASE WHEN key < '2024-01-03' THEN now() - interval '1 hour'
		                     ELSE now() + interval '1 day' END
		 WHERE task_id = (SELECT id FROM datashell.tasks WHERE name = 'waiting')"
}

# Then an open and a closed breaker, and an alert of an odd kind.
insert_breakers_and_alert() {
	sql "INSERT INTO datashell.breakers (task_id, state, opened_at, reason)
	     SELECT id, 'open', now(), 'test' FROM datashell.tasks WHERE name = 'good';
	     INSERT INTO datashell.breakers (task_id, state) SELECT id, 'closed'
	     FROM datashell.tasks WHERE name = 'waiting';
	     INSERT INTO datashell.alerts (kind, incident, summary, state)
	     VALUES (E'odd \"kind\" \\\\ and\nline', 'odd', 'an odd alert', 'acked')" >/dev/null
}

stage_breakers() {
	use_stage runs
	insert_breakers_and_alert
}

# promtool must accept the text and have nothing to say about it.
check_format() {	# FILE
	if [ ! -x "$PROMTOOL" ]; then
		fail "promtool not found at $PROMTOOL: run tools/ensure-deps check"
		return
	fi
	"$PROMTOOL" check metrics <"$1" >"$WORK/promtool.out" 2>&1 ||
		fail "promtool check metrics failed: $(cat "$WORK/promtool.out")"
	[ -s "$WORK/promtool.out" ] && fail "promtool has remarks: $(cat "$WORK/promtool.out")"
}

# The value of the one sample whose name and labels are exactly SERIES (passed to awk
# through the environment, which keeps its backslashes).
sample() {	# SERIES [FILE]
	SERIES=$1 awk 'BEGIN { s = ENVIRON["SERIES"] }
		index($0, s " ") == 1 { print substr($0, length(s) + 2); n++ }
		END { if (n != 1) print "(" n + 0 " samples)" }' "${2:-$OUT}"
}

begin "metrics prints the exposition format, which promtool accepts without remarks"
use_stage runs
ds -c metrics
expect_exit 0
check_format "$OUT"
expect_stdout_matches '^# HELP datashell_runs '
expect_stdout_matches '^# TYPE datashell_run_duration_seconds histogram$'
expect_eq "families with a TYPE line" "$(grep -c '^# TYPE datashell_' "$OUT")" 9
end_case

begin "runs by graph, task and state"
use_stage runs
ds -c metrics
expect_exit 0
expect_eq "failed runs of bad" "$(sample 'datashell_runs{graph="core",task="bad",state="failed"}')" 3
expect_eq "succeeded runs of good" \
	"$(sample 'datashell_runs{graph="core",task="good",state="success"}')" 3
expect_eq "queued runs of waiting" \
	"$(sample 'datashell_runs{graph="ops",task="waiting",state="queued"}')" 4
expect_eq "samples of datashell_runs" "$(grep -c '^datashell_runs{' "$OUT")" 3
end_case

begin "the queue per graph: queued, due, and how long the oldest due run has waited"
use_stage runs
ds -c metrics
expect_exit 0
expect_eq "queued in ops" "$(sample 'datashell_queue_queued_runs{graph="ops"}')" 4
expect_eq "ready in ops" "$(sample 'datashell_queue_ready_runs{graph="ops"}')" 2
expect_eq "stuck in ops" "$(sample 'datashell_queue_stuck_runs{graph="ops"}')" 0
expect_eq "queued in core" "$(sample 'datashell_queue_queued_runs{graph="core"}')" 0
expect_eq "oldest ready age in core" \
	"$(sample 'datashell_queue_oldest_ready_age_seconds{graph="core"}')" 0
age=$(sample 'datashell_queue_oldest_ready_age_seconds{graph="ops"}')
expect_eq "oldest ready age in ops is about an hour" \
	"$(echo "$age" | awk '{ print ($1 >= 3600 && $1 < 3700) ? "yes" : $1 }')" yes
end_case

begin "run durations: cumulative buckets, +Inf, _sum and _count of the ended runs"
use_stage runs
ds -c metrics
expect_exit 0
ended=$(sql "SELECT count(*) FROM datashell.runs
             WHERE state IN ('success', 'failed', 'blocked', 'cancelled')
               AND started_at IS NOT NULL")
expect_eq "ended runs in the table" "$ended" 6
h='datashell_run_duration_seconds'
expect_eq "_count" "$(sample "${h}_count{graph=\"core\"}")" "$ended"
expect_eq "_sum" "$(sample "${h}_sum{graph=\"core\"}")" 306
expect_eq "le=1" "$(sample "${h}_bucket{graph=\"core\",le=\"1\"}")" 0
expect_eq "le=5" "$(sample "${h}_bucket{graph=\"core\",le=\"5\"}")" 3
expect_eq "le=60" "$(sample "${h}_bucket{graph=\"core\",le=\"60\"}")" 3
expect_eq "le=300" "$(sample "${h}_bucket{graph=\"core\",le=\"300\"}")" 6
expect_eq "le=+Inf" "$(sample "${h}_bucket{graph=\"core\",le=\"+Inf\"}")" 6
expect_eq "buckets per graph" "$(grep -c "^${h}_bucket{graph=\"ops\"," "$OUT")" 14
expect_eq "ops _count" "$(sample "${h}_count{graph=\"ops\"}")" 0
end_case

begin "the counts of ended runs kept by triggers are those a scan finds: ends, edits, cancels, marks"
use_stage runs
expect_run_counts_true
setup "$DATASHELL" -c 'cancel waiting 2024-01-01..2024-01-04 --yes' \
	-c 'mark good 2024-01-05 --skipped --reason test'
queue_sql "UPDATE datashell.runs SET finished_at = finished_at + interval '1 hour'
	   WHERE state = 'failed'"
expect_sql "cancelled and marked" "SELECT count(*) FILTER (WHERE state = 'cancelled') || ' '
	   || count(*) FILTER (WHERE marked IS NOT NULL) FROM datashell.runs" "4 1"
expect_run_counts_true
end_case

begin "stuck_runs, which status and metrics call, is never JIT compiled"
# Over 10 million runs the planner's estimates pass jit_above_cost, and compiling the
# plan took seconds of a statement that runs in milliseconds.
use_stage runs
expect_sql "its settings" "SELECT 'jit=off' = ANY (proconfig) FROM pg_proc
	WHERE oid = 'datashell.stuck_runs(text, bigint)'::regprocedure" t
end_case

begin "open breakers, and alerts by kind and state with label values escaped"
use_stage runs
insert_breakers_and_alert
ds -c metrics
expect_exit 0
check_format "$OUT"
expect_eq "breaker of good" \
	"$(sample 'datashell_breaker_open{graph="core",task="good",state="open"}')" 1
expect_eq "breaker samples" "$(grep -c '^datashell_breaker_open{' "$OUT")" 1
expect_eq "task_failing alerts open" \
	"$(sample 'datashell_alerts{kind="task_failing",state="open"}')" 1
expect_eq "task_failing alerts acked" \
	"$(sample 'datashell_alerts{kind="task_failing",state="acked"}')" 0
expect_eq "the odd alert, escaped" \
	"$(sample 'datashell_alerts{kind="odd \"kind\" \\ and\nline",state="acked"}')" 1
end_case

begin "workers that have not stopped, with their heartbeats; stopped and long-silent ones left out"
use_stage runs
sql "INSERT INTO datashell.workers (name, host, pid, concurrency, heartbeat_at, stopped_at)
     VALUES ('h1:10:aaaaaa', 'h1', 10, 2, '2030-01-01 00:00:00+00', NULL),
            ('h2:20:bbbbbb', 'h2', 20, 1, now(), now()),
            ('h3:30:cccccc', 'h3', 30, 1, now() - interval '2 days', NULL)" >/dev/null
ds -c metrics
expect_exit 0
check_format "$OUT"
expect_eq "heartbeat of h1" \
	"$(sample 'datashell_worker_heartbeat_timestamp_seconds{worker="h1:10:aaaaaa",host="h1"}')" \
	1893456000
expect_eq "heartbeat samples" \
	"$(grep -c '^datashell_worker_heartbeat_timestamp_seconds{' "$OUT")" 1
sql "DELETE FROM datashell.workers WHERE name LIKE 'h_:%'" >/dev/null
end_case

begin "metrics --json gives the same figures"
use_stage breakers
ds -c 'metrics --json'
expect_exit 0
expect_eq "queue of ops" "$(json_get '{queue}[1]' <"$OUT" | perl -pe 's/"oldest_ready_age_seconds":[0-9.]+,//')" \
	'{"graph":"ops","queued":4,"ready":2,"stuck":0}'
expect_eq "durations of core" \
	"$(json_get '{run_durations}[0]' <"$OUT" | perl -MJSON::PP -e '
		my $d = JSON::PP->new->decode(<STDIN>);
		print join " ", $d->{graph}, $d->{count}, $d->{sum_seconds},
			map { "$_->{le}:$_->{count}" } @{ $d->{buckets} }')" \
	"core 6 306 0.1:0 0.5:0 1:0 5:3 10:3 30:3 60:3 300:6 600:6 1800:6 3600:6 7200:6 21600:6"
expect_eq "first run count" "$(json_get '{runs}[0]' <"$OUT")" \
	'{"count":3,"graph":"core","state":"failed","task":"bad"}'
expect_eq "breakers" "$(json_get '{breakers}[0]{task}' <"$OUT")" good
end_case

begin "a viewer may read the metrics"
use_stage runs
sql "DROP ROLE IF EXISTS t_metrics_viewer; CREATE ROLE t_metrics_viewer LOGIN IN ROLE datashell_viewer" \
	>/dev/null
PGUSER=t_metrics_viewer ds -c metrics
expect_exit 0
expect_eq "failed runs of bad, as a viewer" \
	"$(sample 'datashell_runs{graph="core",task="bad",state="failed"}')" 3
sql "DROP ROLE t_metrics_viewer" >/dev/null
end_case

begin "metrics takes no arguments"
use_stage runs
ds -c 'metrics now'
expect_exit 3
expect_stderr_matches "'metrics' takes no arguments"
end_case

begin "worker --metrics-file writes the file at start, while it runs, and at exit"
use_stage runs
mkdir -p "$WORK/prom"
"$DATASHELL" -c 'worker --graph ops --metrics-file '"$WORK/prom/ds.prom" \
	>"$WORK/w.out" 2>"$WORK/w.err" </dev/null &
w=$!
wait_for_file '^datashell_worker_heartbeat_timestamp_seconds\{' "$WORK/prom/ds.prom"
name=$(sql "SELECT name FROM datashell.workers WHERE stopped_at IS NULL")
check_format "$WORK/prom/ds.prom"
grep -q "^datashell_worker_heartbeat_timestamp_seconds{worker=\"$name\"," "$WORK/prom/ds.prom" ||
	fail "the running worker '$name' is not in the file: $(cat "$WORK/prom/ds.prom")"
first=$(sample 'datashell_worker_heartbeat_timestamp_seconds{worker="'"$name"'",host="'"${name%%:*}"'"}' \
	"$WORK/prom/ds.prom")
# The next rewrite comes within 5 seconds and carries a later heartbeat: look for it
# for 6.5 seconds.
later=$first
deadline=$(($(date +%s%N) / 1000000 + 6500))
while [ "$later" = "$first" ] && [ $(($(date +%s%N) / 1000000)) -lt $deadline ]; do
	sleep 0.1
	later=$(sample 'datashell_worker_heartbeat_timestamp_seconds{worker="'"$name"'",host="'"${name%%:*}"'"}' \
		"$WORK/prom/ds.prom")
done
expect_eq "the file was rewritten with a later heartbeat" \
	"$(echo "$first $later" | awk '{ print ($2 > $1) ? "yes" : $0 }')" yes
kill -TERM $w
wait $w
CODE=$?
cp "$WORK/w.err" "$ERR"
expect_exit 0
check_format "$WORK/prom/ds.prom"
expect_eq "runs of waiting done by the worker" \
	"$(sample 'datashell_runs{graph="ops",task="waiting",state="success"}' "$WORK/prom/ds.prom")" 2
expect_eq "heartbeats once the worker stopped" \
	"$(grep -c '^datashell_worker_heartbeat_timestamp_seconds{' "$WORK/prom/ds.prom")" 0
expect_eq "files left in the directory" "$(ls "$WORK/prom")" ds.prom
end_case

begin "worker --drain --metrics-file leaves a file that parses"
use_stage runs
mkdir -p "$WORK/prom"
ds -c "worker --graph core --drain --metrics-file $WORK/prom/drain.prom"
expect_exit 0
[ -f "$WORK/prom/drain.prom" ] || fail "no metrics file after the worker"
check_format "$WORK/prom/drain.prom"
expect_eq "failed runs of bad in the file" \
	"$(sample 'datashell_runs{graph="core",task="bad",state="failed"}' "$WORK/prom/drain.prom")" 3
end_case

begin "a metrics file that cannot be written is reported once, and the worker goes on"
use_stage runs
sql "UPDATE datashell.breakers SET state = 'closed', opened_at = NULL" >/dev/null
"$DATASHELL" -c "force-run good 2024-01-01" >/dev/null 2>&1
ds -c "worker --graph core --drain --metrics-file $WORK/nowhere/ds.prom"
expect_exit 0
expect_eq "reports" "$(grep -cE "${WORKER_LINE}cannot write metrics to '$WORK/nowhere/ds.prom': No such file or directory\$" "$ERR")" 1
expect_stderr_matches "$WORKER_LINE"'good 2024-01-01 success'
expect_sql "state of the forced run" \
	"SELECT state FROM datashell.runs r JOIN datashell.tasks t ON t.id = r.task_id
	        WHERE t.name = 'good' AND r.key = '2024-01-01' ORDER BY r.id DESC LIMIT 1" success
end_case

# Run a draining worker whose metrics file is $PROM/ds.prom ($PROM a new directory),
# after planting what SHELL-COMMAND makes of its temporary file ($T, and $1 the file
# $WORK/victim): the worker's pid is known in advance as that of the shell that execs it.
worker_with_planted_tmp() {	# SHELL-COMMAND
	PROM=$(mktemp -d "$WORK/prom.XXXXXX")
	printf 'precious\n' >"$WORK/victim"
	/bin/sh -c 'T=$2/ds.prom.tmp.$$; '"$1"' && exec "$3" -c "worker --graph core --drain --metrics-file $2/ds.prom"' \
		sh "$WORK/victim" "$PROM" "$DATASHELL" >"$OUT" 2>"$ERR" </dev/null
	CODE=$?
}

begin "a link planted at the metrics file's temporary is not followed, and is reported"
use_stage runs
worker_with_planted_tmp 'ln -s "$1" "$T"'
expect_exit 0
expect_eq "the file the link points to" "$(cat "$WORK/victim")" precious
expect_stderr_matches "${WORKER_LINE}cannot write metrics to '$PROM/ds.prom': '$PROM/ds.prom.tmp.[0-9]*' exists and is not a file of this worker's: remove it\$"
[ -e "$PROM/ds.prom" ] && fail "a metrics file was written: $(ls -l "$PROM")"
[ -L "$PROM/"ds.prom.tmp.* ] || fail "the link was removed: $(ls -l "$PROM")"
end_case

begin "so is a hard link to another file"
use_stage runs
worker_with_planted_tmp 'ln "$1" "$T"'
expect_exit 0
expect_eq "the linked file" "$(cat "$WORK/victim")" precious
expect_stderr_matches "exists and is not a file of this worker's: remove it\$"
end_case

begin "a file left at the temporary by a process of the same user is replaced"
use_stage runs
worker_with_planted_tmp 'echo stale >"$T"'
expect_exit 0
grep -q '^datashell_runs{' "$PROM/ds.prom" ||
	fail "no metrics in the file after the worker: $(cat "$ERR")"
expect_eq "files left in the directory" "$(ls "$PROM")" ds.prom
end_case

done_testing
