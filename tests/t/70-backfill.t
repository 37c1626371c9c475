#!/bin/sh
# backfill, force-run, cancel and status over selectors and ranges: plans, batches,
# idempotence, no duplicates under concurrency, and bad input that changes nothing.
. "$DS_TOP/tests/lib.sh"
use_fresh_database t_backfill
export TZ=UTC

runs() {	# the runs as task:key:state lines, sorted
	sql "SELECT t.name || ':' || r.key || ':' || r.state FROM datashell.runs r
	     JOIN datashell.tasks t ON t.id = r.task_id ORDER BY 1"
}

# Pretend a worker finished some runs: set the latest run of TASK for KEY to STATE.
finish() {	# TASK KEY STATE [ERROR]
	sql "UPDATE datashell.runs SET state = '$3', finished_at = now(), error = NULLIF('${4:-}', '')
	     WHERE id = (SELECT max(r.id) FROM datashell.runs r JOIN datashell.tasks t
	                 ON t.id = r.task_id WHERE t.name = '$1' AND r.key = '$2')" >/dev/null
}

# The states the cases start from. shop: the fixture pipeline, no runs. batch1: batch 1,
# orders_raw+ for January (124 runs). running4: its runs for 2024-01-31 running (four of
# them, one per task). cancelled: batch 1 cancelled. batches: then a force-run and a
# backfill, the latest batches. hourly: batch 1 and 24 hours of clicks_hourly. y2019: batch
# 1 and a year of orders_raw. waiting: schema 'waiting' with tests/fixtures/waiting.json.
stage_shop() {
	use_fresh_database t_backfill
	setup "$DATASHELL" -c init -c "pipeline load $DS_TOP/tests/fixtures/shop.json"
}

stage_batch1() {
	use_stage shop
	setup "$DATASHELL" -c 'backfill orders_raw+ 2024-01'
}

stage_running4() {
	use_stage batch1
	setup sql "UPDATE datashell.runs SET state = 'running', worker = 'w1'
	           WHERE batch_id = 1 AND key = '2024-01-31'"
}

stage_cancelled() {
	use_stage running4
	setup "$DATASHELL" -c 'cancel 1 --yes'
}

stage_batches() {
	use_stage cancelled
	finish orders_report 2024-01-15 success
	setup "$DATASHELL" -c 'force-run orders_report 2024-01-15'
	setup "$DATASHELL" -c 'backfill revenue 2024-03-02..2024-03-04'
}

stage_hourly() {
	use_stage batch1
	setup "$DATASHELL" -c 'backfill clicks_hourly 2024-01-05T00..2024-01-05T23'
}

stage_y2019() {
	use_stage batch1
	setup "$DATASHELL" -c 'backfill orders_raw 2019-01-01..2019-12-31'
}

stage_waiting() {
	use_stage shop
	setup "$DATASHELL" --schema waiting -c init \
		-c "pipeline load $DS_TOP/tests/fixtures/waiting.json"
}

begin "selectors: name, name+, +name, graph:, /regex/ and a union"
use_stage shop
expect_backfill_plan orders_clean "" orders_clean
expect_backfill_plan orders_clean+ "" orders_clean,orders_report,revenue
expect_backfill_plan +orders_clean "" orders_clean,orders_raw
expect_backfill_plan graph:finance "" refresh_dims,revenue
expect_backfill_plan '/^orders_(raw|report)$/' "" orders_raw,orders_report
expect_backfill_plan revenue,+orders_raw,/report/ "" orders_raw,orders_report,revenue
end_case

begin "backfill --dry-run prints the plan and changes nothing"
use_stage shop
ds -c 'backfill orders_raw+ 2024-01 --dry-run'
expect_exit 0
expect_stdout <<-'END'
	First key  2024-01-01
	Last key   2024-01-31
	Dry run    yes
	Enqueue    124
	Plan
	       task      | keys | enqueue | complete | stale | active | failed | not_due 
	  ---------------+------+---------+----------+-------+--------+--------+---------
	   orders_clean  |   31 |      31 |        0 |     0 |      0 |      0 |       0
	   orders_raw    |   31 |      31 |        0 |     0 |      0 |      0 |       0
	   orders_report |   31 |      31 |        0 |     0 |      0 |      0 |       0
	   revenue       |   31 |      31 |        0 |     0 |      0 |      0 |       0
	  (4 rows)
END
expect_sql "runs" 'SELECT count(*) FROM datashell.runs' 0
end_case

begin "a year is a range of its days, and may end a range"
use_stage shop
ds -c 'backfill orders_raw 2023 --dry-run --json'
expect_exit 0
expect_eq "2023's keys" "$(json_get '{first_key}' <"$OUT") $(json_get '{last_key}' <"$OUT") $(json_get '{enqueue}' <"$OUT")" \
	"2023-01-01 2023-12-31 365"
ds -c 'backfill orders_raw 2023-11..2024 --dry-run --json'
expect_exit 0
expect_eq "2023-11..2024's keys" "$(json_get '{first_key}' <"$OUT") $(json_get '{last_key}' <"$OUT") $(json_get '{enqueue}' <"$OUT")" \
	"2023-11-01 2024-12-31 427"
expect_sql "runs" 'SELECT count(*) FROM datashell.runs' 0
end_case

begin "backfill enqueues the plan as one batch, in key order"
use_stage shop
ds -c 'backfill orders_raw+ 2024-01 --json'
expect_exit 0
expect_eq "batch" "$(json_get '{batch}' <"$OUT")" 1
expect_eq "enqueued" "$(json_get '{enqueued}' <"$OUT")" 124
expect_sql "runs in the batch" 'SELECT count(*) FROM datashell.runs WHERE batch_id = 1 AND state = $$queued$$' 124
expect_sql "batch row" 'SELECT kind || $$ $$ || runs || $$ $$ || command FROM datashell.batches' \
	"backfill 124 backfill orders_raw+ 2024-01 --json"
expect_sql "the earliest key comes first" \
	'SELECT key FROM datashell.runs ORDER BY priority DESC, ord, id LIMIT 1' 2024-01-01
expect_sql "audit" 'SELECT detail->>$$runs$$ FROM datashell.audit_log WHERE command LIKE $$backfill%$$' 124
end_case

begin "the same backfill again enqueues nothing: runs in flight are not duplicated"
use_stage batch1
ds -c 'backfill orders_raw+ 2024-01 --json'
expect_exit 0
expect_eq "enqueued" "$(json_get '{enqueued}' <"$OUT")" 0
expect_eq "active in the plan" "$(json_get '{plan}[0]{active}' <"$OUT")" 31
expect_sql "runs" 'SELECT count(*) FROM datashell.runs' 124
end_case

begin "complete keys are skipped, unless --rerun"
use_stage batch1
finish orders_raw 2024-01-01 success
finish orders_raw 2024-01-02 success
ds -c 'backfill orders_raw 2024-01-01..2024-01-02 --json'
expect_eq "enqueued without --rerun" "$(json_get '{enqueued}' <"$OUT")" 0
expect_eq "complete" "$(json_get '{plan}[0]{complete}' <"$OUT")" 2
ds -c 'backfill orders_raw 2024-01-01..2024-01-03 --rerun --json'
expect_eq "enqueued with --rerun" "$(json_get '{enqueued}' <"$OUT")" 2
expect_sql "queued runs of the day" "SELECT count(*) FROM datashell.runs r JOIN datashell.tasks t ON t.id = r.task_id WHERE t.name = 'orders_raw' AND key = '2024-01-01' AND state = 'queued'" 1
end_case

begin "--only-failed enqueues only failed and blocked keys"
use_stage batch1
finish revenue 2024-01-10 failed "boom"
finish revenue 2024-01-11 blocked "check rows failed"
finish revenue 2024-01-12 success
ds -c 'backfill revenue 2024-01-09..2024-01-12 --only-failed --json'
expect_eq "enqueued" "$(json_get '{enqueued}' <"$OUT")" 2
expect_eq "failed in the plan" "$(json_get '{plan}[0]{failed}' <"$OUT")" 2
end_case

begin "--reverse puts the newest keys first; --priority is kept"
use_stage batch1
ds -c 'backfill orders_report 2024-02-01..2024-02-03 --reverse --priority 7 --json'
batch=$(json_get '{batch}' <"$OUT")
expect_sql "order" "SELECT string_agg(key, ',' ORDER BY priority DESC, ord, id) FROM datashell.runs WHERE batch_id = $batch" \
	"2024-02-03,2024-02-02,2024-02-01"
expect_sql "priority" "SELECT DISTINCT priority FROM datashell.runs WHERE batch_id = $batch" 7
end_case

begin "hourly and none keys"
use_stage batch1
ds -c 'backfill clicks_hourly 2024-01-05T00..2024-01-05T23 --json'
expect_exit 0
expect_eq "hours" "$(json_get '{enqueued}' <"$OUT")" 24
ds -c 'backfill refresh_dims 2024-01 --json'
expect_eq "one key for a task of kind none" "$(json_get '{enqueued}' <"$OUT")" 1
expect_sql "its key" "SELECT key FROM datashell.runs r JOIN datashell.tasks t ON t.id = r.task_id WHERE t.name = 'refresh_dims'" ""
end_case

begin "bad input is a clear error and changes nothing"
use_stage batch1
before=$(runs | md5sum)
for case in \
	"backfill ordres_raw 2024-01|unknown task 'ordres_raw' (did you mean 'orders_raw'?)" \
	"backfill graph:financ 2024-01|unknown graph 'financ' (did you mean 'finance'?)" \
	"backfill '/orders_(/' 2024-01|invalid pattern '/orders_(/': missing closing parenthesis at offset 8" \
	"backfill /nothing/ 2024-01|no task matches '/nothing/'" \
	"backfill orders_raw 2024-02-30|invalid date '2024-02-30': February 2024 has 29 days" \
	"backfill orders_raw 2024-03-01..2024-02-01|invalid range '2024-03-01..2024-02-01': it ends before it starts" \
	"backfill clicks_hourly 2024-01-05|task 'clicks_hourly' is hourly but 2024-01-05..2024-01-05 is a range of days" \
	"backfill orders_raw 2024-01-05T03|task 'orders_raw' is daily but 2024-01-05T03..2024-01-05T03 is a range of hours" \
	"backfill orders_raw,clicks_hourly 2024-01|the selected tasks have daily and hourly keys" \
	"backfill orders_raw 2024-01 --priority high|option '--priority' of 'backfill' needs a whole number, not 'high'" \
	"backfill orders_raw|'backfill' needs 2 arguments" \
	"force-run orders_raw 2024-01|force-run takes one key, not 31" \
	"cancel 999|no batch 999" \
	"cancel orders_raw|cancel SELECTOR needs a RANGE" \
	"status 999|no batch 999"; do
	cmd=${case%%|*}
	msg=${case#*|}
	ds -c "$cmd"
	[ "$CODE" = 3 ] || fail "'$cmd' exited $CODE"
	grep -qF "error: $msg" "$ERR" || fail "'$cmd' said: $(cat "$ERR")"
done
expect_eq "runs unchanged" "$(runs | md5sum)" "$before"
end_case

begin "two shells backfilling overlapping ranges at once make no duplicate run"
use_stage batch1
"$DATASHELL" -c 'backfill orders_raw+ 2023-01-01..2023-12-31 --yes' >"$WORK/a" 2>&1 &
a=$!
"$DATASHELL" -c 'backfill orders_raw+ 2023-06-01..2024-01-31 --yes' >"$WORK/b" 2>&1 &
b=$!
wait $a; ca=$?
wait $b; cb=$?
expect_eq "first exit" "$ca" 0
expect_eq "second exit" "$cb" 0
expect_sql "duplicates" "SELECT count(*) FROM (SELECT task_id, key FROM datashell.runs WHERE state = 'queued' GROUP BY 1, 2 HAVING count(*) > 1) d" 0
expect_sql "queued keys of orders_raw in 2023" "SELECT count(*) FROM datashell.runs r JOIN datashell.tasks t ON t.id = r.task_id WHERE t.name = 'orders_raw' AND key LIKE '2023-%'" 365
end_case

begin "cancel in a script without --yes fails with exit 3 and changes nothing"
use_stage batch1
sql "UPDATE datashell.runs SET state = 'running', worker = 'w1' WHERE batch_id = 1 AND key = '2024-01-31'" >/dev/null
before=$(runs | md5sum)
audits=$(sql "SELECT count(*) FROM datashell.audit_log")
ds -c 'cancel 1'
expect_exit 3
expect_stderr_matches "^datashell: error: 'cancel' would cancel [0-9]+ queued runs and stop 4 running runs of batch 1; in a script it needs --yes$"
expect_stderr_matches '^hint: add --yes to go ahead, or --dry-run to see what it would do$'
expect_eq "runs unchanged" "$(runs | md5sum)" "$before"
expect_sql "batch not marked" "SELECT cancelled_at IS NULL FROM datashell.batches WHERE id = 1" t
expect_sql "none asked to stop" "SELECT count(*) FROM datashell.runs WHERE cancel_requested" 0
expect_sql "audit rows" "SELECT count(*) FROM datashell.audit_log" "$audits"
end_case

begin "cancel --dry-run counts what it would cancel and changes nothing"
use_stage running4
before=$(runs | md5sum)
ds -c 'cancel 1 --dry-run --json'
expect_exit 0
expect_eq "dry run" "$(json_get '{dry_run}' <"$OUT")" true
expect_eq "would stop" "$(json_get '{stopping}' <"$OUT")" 4
expect_eq "runs unchanged" "$(runs | md5sum)" "$before"
ds -c 'cancel 1 --dry-run'
expect_stdout_matches '^would cancel [0-9]+ queued runs and stop 4 running runs of batch 1; nothing was changed$'
expect_eq "runs unchanged" "$(runs | md5sum)" "$before"
end_case

begin "cancel BATCH --yes dequeues its waiting runs and asks running ones to stop"
use_stage running4
ds -c 'cancel 1 --yes'
expect_exit 0
expect_stdout_matches '^cancelled [0-9]+ queued runs; asked 4 running runs to stop$'
expect_sql "queued left in batch 1" "SELECT count(*) FROM datashell.runs WHERE batch_id = 1 AND state = 'queued'" 0
expect_sql "asked to stop" "SELECT count(*) FROM datashell.runs WHERE batch_id = 1 AND cancel_requested" 4
expect_sql "batch marked" "SELECT cancelled_by FROM datashell.batches WHERE id = 1" postgres
end_case

begin "cancel SELECTOR RANGE"
use_stage hourly
ds -c 'cancel clicks_hourly 2024-01-05T00..2024-01-05T11 --yes --json'
expect_exit 0
expect_eq "dequeued" "$(json_get '{dequeued}' <"$OUT")" 12
expect_sql "left queued" "SELECT count(*) FROM datashell.runs r JOIN datashell.tasks t ON t.id = r.task_id WHERE t.name = 'clicks_hourly' AND state = 'queued'" 12
end_case

begin "force-run re-runs a complete key at a high priority, once"
use_stage cancelled
finish orders_report 2024-01-15 success
before=$(runs | md5sum)
ds -c 'force-run orders_report 2024-01-15 --dry-run --json'
expect_exit 0
expect_eq "plan" "$(json_get '{plan}[0]{enqueue}' <"$OUT")" 1
expect_eq "runs unchanged by --dry-run" "$(runs | md5sum)" "$before"
ds -c 'force-run orders_report 2024-01-15 --json'
expect_exit 0
expect_eq "enqueued" "$(json_get '{enqueued}' <"$OUT")" 1
expect_sql "priority" "SELECT priority FROM datashell.runs r JOIN datashell.tasks t ON t.id = r.task_id WHERE t.name = 'orders_report' AND key = '2024-01-15' AND state = 'queued'" 100
ds -c 'force-run orders_report 2024-01-15 --ignore-deps --json'
expect_eq "not duplicated" "$(json_get '{enqueued}' <"$OUT")" 0
expect_eq "no empty batch" "$(json_get '{batch}' <"$OUT")" null
end_case

begin "nothing to enqueue: no batch, no batch id taken, and Batch says none"
use_stage batch1
ds -c 'backfill orders_raw 2024-01'
expect_exit 0
expect_stdout_matches '^Batch +none$'
expect_stdout_matches '^Enqueued +0$'
ds -c 'backfill orders_raw 2024-01-02..2024-01-03 --json'
expect_exit 0
expect_eq "no batch in --json" "$(json_get '{batch}' <"$OUT")" null
ds -c 'force-run orders_raw 2024-01-15'
expect_exit 0
expect_stdout_matches '^Batch +none$'
expect_sql "no batch id taken" "SELECT last_value FROM datashell.batches_id_seq" 1
expect_sql "audited as no batch" "SELECT string_agg(coalesce(detail ->> 'batch', 'null'), ',' ORDER BY id)
	FROM datashell.audit_log WHERE command LIKE 'backfill orders_raw 2024-01%'" "null,null"
ds -c 'backfill revenue 2024-03-02 --json'
expect_exit 0
expect_eq "the next batch is the next id" "$(json_get '{batch}' <"$OUT")" 2
end_case

begin "status shows a calendar strip per task and the errors of failed keys"
use_stage cancelled
ds -c 'backfill revenue 2024-03-02..2024-03-04'
finish revenue 2024-03-03 success
finish revenue 2024-03-04 failed "division by zero"
ds -c 'status revenue 2024-03-01..2024-03-06 --json'
expect_exit 0
expect_eq "strip" "$(json_get '{tasks}[0]{strip}' <"$OUT")" ".q#F.."
expect_eq "state of a key" "$(json_get '{tasks}[0]{states}{2024-03-03}' <"$OUT")" success
expect_eq "counts" "$(json_get '{tasks}[0]{missing}' <"$OUT")" 3
ds -c 'status revenue,orders_report 2024-03-01..2024-03-06'
expect_exit 0
expect_stdout_matches '^  revenue        \.q#F\.\.$'
expect_stdout_matches '^  orders_report  \.\.\.\.\.\.$'
expect_stdout_matches '^   revenue \| 2024-03-04 \| failed \|'
ds -c 'status revenue,orders_report 2024-03-01..2024-03-06 --failed --json'
expect_eq "only the failing task" "$(json_get '{tasks}' <"$OUT" | perl -MJSON::PP -e 'print scalar @{decode_json(<STDIN>)}')" 1
expect_eq "its error" "$(json_get '{failures}[0]{error}' <"$OUT")" "division by zero"
end_case

begin "status BATCH shows a batch's progress"
use_stage cancelled
ds -c 'status 1 --json'
expect_exit 0
expect_eq "kind" "$(json_get '{kind}' <"$OUT")" backfill
expect_eq "running" "$(json_get '{states}{running}' <"$OUT")" 4
end_case

begin "status with no argument shows the graphs and the latest batches"
use_stage batches
ds -c 'status --json'
expect_exit 0
expect_eq "graphs" "$(json_get '{graphs}[0]{graph}' <"$OUT"),$(json_get '{graphs}[1]{graph}' <"$OUT")" core,finance
expect_eq "running in core" "$(json_get '{graphs}[0]{running}' <"$OUT")" 3
expect_eq "latest batches" "$(json_get '{recent_batches}[0]{kind}' <"$OUT") $(json_get '{recent_batches}[1]{kind}' <"$OUT")" "backfill force-run"
end_case

begin "at a terminal, a plan of more than 1000 runs asks first; no enqueues nothing, and says so as cancel does"
use_stage batch1
before_big=$(sql 'SELECT count(*) FROM datashell.runs')
# No pager: the declined plan as JSON is longer than the terminal.
TERM=xterm DATASHELL_PAGER= "$DS_PTYRUN" -t 15 -- "$DATASHELL" >"$OUT" 2>"$ERR" <<-'END'
	expect datashell> $
	sendline backfill orders_raw+ 2019-01-01..2019-12-31
	expect orders_raw +\| +365 \| +365
	expect enqueue 1460 runs\? \[y/N\] $
	sendline n
	expect nothing changed: did not enqueue 1460 runs
	expect datashell> $
	sendline backfill orders_raw+ 2019-01-01..2019-12-31 --json
	expect enqueue 1460 runs\? \[y/N\] $
	sendline n
	expect "confirmed": false,
	expect "would": \[
	expect datashell> $
	sendline backfill orders_raw 2019-01-01..2019-12-31
	expect Enqueued +365
	expect datashell> $
	sendline quit
	wait 0
END
CODE=$?
expect_exit 0
expect_sql "runs enqueued" 'SELECT count(*) FROM datashell.runs' "$((before_big + 365))"
end_case

begin "at a terminal, cancel shows what it will do; n or Ctrl-C changes nothing, y cancels"
use_stage y2019
before=$(runs | md5sum)
queued=$(sql "SELECT count(*) FROM datashell.runs r JOIN datashell.tasks t ON t.id = r.task_id
	WHERE t.name = 'orders_raw' AND key LIKE '2019-%' AND state = 'queued'")
TERM=xterm "$DS_PTYRUN" -t 15 -- "$DATASHELL" >"$OUT" 2>"$ERR" <<-END
	expect datashell> \$
	sendline cancel orders_raw 2019-01-01..2019-12-31
	expect Dequeued +$queued
	expect cancel $queued queued runs and stop 0 running runs from 2019-01-01 to 2019-12-31\\? \\[y/N\\] \$
	sendline n
	expect nothing changed: did not cancel $queued queued runs
	expect datashell> \$
	sendline cancel orders_raw 2019-01-01..2019-12-31
	expect \\[y/N\\] \$
	send \\x03
	expect nothing changed
	expect datashell> \$
	sendline quit
	wait 0
END
CODE=$?
expect_exit 0
expect_eq "runs unchanged" "$(runs | md5sum)" "$before"
TERM=xterm "$DS_PTYRUN" -t 15 -- "$DATASHELL" >"$OUT" 2>"$ERR" <<-END
	expect datashell> \$
	sendline cancel orders_raw 2019-01-01..2019-12-31
	expect \\[y/N\\] \$
	sendline y
	expect cancelled $queued queued runs
	expect datashell> \$
	sendline quit
	wait 0
END
CODE=$?
expect_exit 0
expect_sql "left queued" "SELECT count(*) FROM datashell.runs r JOIN datashell.tasks t ON t.id = r.task_id
	WHERE t.name = 'orders_raw' AND key LIKE '2019-%' AND state = 'queued'" 0
end_case

# In the background ($worker): once schema waiting has a queued run, a worker drains it.
drain_waiting() {
	(
		DATASHELL_SCHEMA=waiting
		wait_until "EXISTS (SELECT 1 FROM runs WHERE state = 'queued')" &&
			"$DATASHELL" --schema waiting -c 'worker --drain' >"$WORK/worker.out" 2>&1
	) &
	worker=$!
}

begin "force-run --wait waits for a worker and fails when a run fails"
use_stage waiting
drain_waiting
ds --schema waiting -c 'force-run good 2024-05-01 --wait --json'
wait $worker
expect_exit 0
expect_eq "result" "$(json_get '{result}{states}{success}' <"$OUT")" 1
drain_waiting
ds --schema waiting -c 'force-run bad 2024-05-01 --wait'
wait $worker
expect_exit 3
expect_stderr_matches "error: 1 run of batch [0-9]+ did not succeed"
end_case

begin "backfill --wait waits for the whole batch, and fails when one of its runs fails"
use_stage waiting
drain_waiting
ds --schema waiting -c 'backfill good 2024-06-01..2024-06-03 --wait --json'
wait $worker
expect_exit 0
expect_eq "result" "$(json_get '{result}{states}{success}' <"$OUT")" 3
drain_waiting
ds --schema waiting -c 'backfill good,bad 2024-06-04 --wait'
wait $worker
expect_exit 3
expect_stderr_matches "error: 1 run of batch [0-9]+ did not succeed"
end_case

begin "force-run --wait shows progress at a terminal, and none in a script"
use_stage waiting
drain_waiting
ds --schema waiting -c 'force-run good 2024-05-02 --wait'
wait $worker
grep -q 'runs done' "$ERR" && fail "a script showed progress: $(cat "$ERR")"
# The worker starts once the shell has shown that nothing is done yet.
DATASHELL_PAGER= TERM=xterm "$DS_PTYRUN" -t 20 -- "$DATASHELL" --schema waiting >"$OUT" 2>"$ERR" <<-'END'
	expect waiting> $
	sendline force-run good 2024-05-03 --wait
	expect datashell: batch [0-9]+: 0/1 runs done, 0 failed, 0.0 runs/s, [0-9]s elapsed
	run "$DATASHELL" --schema waiting -c 'worker --drain'
	expect datashell: batch [0-9]+: 1/1 runs done, 0 failed, [0-9.]+ runs/s, [0-9]s elapsed
	expect Batch +[0-9]+
	expect waiting> $
	sendline quit
	wait 0
END
CODE=$?
expect_exit 0
end_case

done_testing
