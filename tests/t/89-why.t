#!/bin/sh
# Why: why TASK KEY explains a key that is not done down to its root causes, each with
# the command that acts on it: done or marked, not due, nobody asked, waiting for
# upstream keys (recursively), a failed or blocked or cancelled run, a breaker, a paused
# graph, a graph or a batch at its cap, backing off, running, ready with or without a
# live worker.
# A key is stuck when only a person can move it; status and handoff list the stuck keys
# with their root causes, and metrics counts the stuck runs apart from the ready ones.
. "$DS_TOP/tests/lib.sh"
use_fresh_database t_why
export TZ=UTC

# a fails until $WORK/ok exists; b reads a, c reads b of the day and of the day before.
# chk's check fails; flaky retries after an hour; brk is for its breaker; icy is in a
# graph of its own; slow is in a graph that runs one run at a time; once has no keys.
PIPE=$WORK/pipe.json
cat >"$PIPE" <<END
{"graphs": {"core": {}, "side": {"max_active": 1}, "frozen": {}},
 "tasks": [
  {"name": "a", "graph": "core", "key": "daily",
   "command": "test -e $WORK/ok || { echo no-data >&2; exit 1; }"},
  {"name": "b", "graph": "core", "key": "daily", "depends_on": ["a"], "command": "true"},
  {"name": "c", "graph": "core", "key": "daily",
   "depends_on": ["b", {"task": "b", "offset": -1}], "command": "true"},
  {"name": "chk", "graph": "side", "key": "daily", "sql": "SELECT 1",
   "checks": [{"name": "has_rows", "sql": "SELECT false"}]},
  {"name": "slow", "graph": "side", "key": "daily", "command": "true"},
  {"name": "flaky", "graph": "core", "key": "daily", "retries": 2, "retry_delay": "1h",
   "command": "exit 1"},
  {"name": "brk", "graph": "core", "key": "daily", "command": "true"},
  {"name": "icy", "graph": "frozen", "key": "daily", "command": "true"},
  {"name": "once", "graph": "core", "key": "none", "command": "true"}]}
END

ME=$(sql 'SELECT current_user')

# loaded: the pipeline, nothing run. chain: a failed for 2024-01-01 and 2024-01-02, b
# and c wait for those keys.
stage_loaded() {
	use_fresh_database t_why
	setup "$DATASHELL" -c init -c "pipeline load $PIPE"
}
stage_chain() {
	use_stage loaded
	rm -f "$WORK/ok"
	setup_failing "$DATASHELL" -c 'backfill a+ 2024-01-01..2024-01-02 --yes' -c 'worker --drain'
}

# why's text without the times it shows (" (since T)").
why_text() {	# TASK KEY
	ds -c "why $1 $2"
	sed -i 's/ (since [0-9T:Z-]*)$//' "$OUT"
}

# The root causes of why --json: "task key cause stuck action", one per line.
root_causes() {
	perl -MJSON::PP -e 'local $/; my $d = decode_json(<STDIN>);
		print join "\n", map { join " ", $_->{task}, $_->{key}, $_->{cause},
			($_->{stuck} ? "stuck" : "moves"), $_->{action} // "-" } @{ $d->{root_causes} }' <"$OUT"
}

begin "a key two levels below a failed one: why walks up to it and says what to do"
use_stage chain
why_text c 2024-01-02
expect_exit 0
expect_stdout <<-'END'
	c 2024-01-02: waits for upstream b 2024-01-01, b 2024-01-02
	  b 2024-01-01: waits for upstream a 2024-01-01
	    a 2024-01-01: failed
	      attempt 1 of 1 [error]: exited with status 1: no-data
	      to act: force-run a 2024-01-01
	  b 2024-01-02: waits for upstream a 2024-01-02
	    a 2024-01-02: failed
	      attempt 1 of 1 [error]: exited with status 1: no-data
	      to act: force-run a 2024-01-02
	stuck: only a person can move it
END
ds -c 'why c 2024-01-02 --json'
expect_exit 0
expect_eq "the key" "$(json_get '{state}' <"$OUT") $(json_get '{cause}' <"$OUT") $(json_get '{stuck}' <"$OUT") $(json_get '{done}' <"$OUT")" \
	"queued upstream true false"
expect_eq "root causes" "$(root_causes)" "a 2024-01-01 failed stuck force-run a 2024-01-01
a 2024-01-02 failed stuck force-run a 2024-01-02"
expect_eq "depths" "$(perl -MJSON::PP -e 'local $/; print join ",", map { $_->{depth} } @{ decode_json(<STDIN>)->{tree} }' <"$OUT")" \
	"0,1,2,1,2"
expect_eq "fields" "$(perl -MJSON::PP -e 'local $/; print join ",", sort keys %{ decode_json(<STDIN>)->{tree}[0] }' <"$OUT")" \
	"action,cause,depth,detail,key,leaf,reason,run,since,state,stuck,task"
end_case

begin "an upstream key at an offset that nobody asked for: why names the backfill that runs it"
use_stage chain
why_text c 2024-01-01
expect_exit 0
expect_stdout <<-'END'
	c 2024-01-01: waits for upstream b 2023-12-31, b 2024-01-01
	  b 2023-12-31: has no run: nobody asked for it
	    to act: backfill b 2023-12-31
	  b 2024-01-01: waits for upstream a 2024-01-01
	    a 2024-01-01: failed
	      attempt 1 of 1 [error]: exited with status 1: no-data
	      to act: force-run a 2024-01-01
	stuck: only a person can move it
END
end_case

begin "worker --drain and --wait name the root cause two levels up, as why does"
use_stage chain
ds -c 'worker --drain'
expect_exit 3
expect_stderr_matches '^  c 2024-01-02: queued: upstream a 2024-01-01 failed$'
expect_stderr_matches '^  c 2024-01-01: queued: upstream b 2023-12-31 has no run: nobody asked for it$'
expect_stderr_matches '^  b 2024-01-02: queued: upstream a 2024-01-02 failed$'
ds -c 'status 1 --json'
expect_eq "status BATCH says why each waiting run waits" \
	"$(perl -MJSON::PP -e 'local $/; print join "\n", map { "$_->{task} $_->{key} " . ($_->{why} // "-") } @{ decode_json(<STDIN>)->{not_succeeded} }' <"$OUT")" \
	"a 2024-01-01 -
b 2024-01-01 upstream a 2024-01-01 failed
c 2024-01-01 upstream b 2023-12-31 has no run: nobody asked for it
a 2024-01-02 -
b 2024-01-02 upstream a 2024-01-02 failed
c 2024-01-02 upstream a 2024-01-01 failed"
DATASHELL_WAIT_GRACE=1 ds -c 'backfill c 2024-01-03 --wait --yes'
expect_exit 3
expect_stderr <<-END
	datashell: error: nothing can progress: the 1 run of batch $(sql "SELECT max(id) FROM datashell.batches") left is stuck
	  c 2024-01-03: queued: upstream a 2024-01-02 failed
	hint: only a person can move them; 'status $(sql "SELECT max(id) FROM datashell.batches")' shows them
END
end_case

begin "not due, nobody asked, done and marked"
use_stage loaded
why_text a 2999-01-01
expect_exit 0
expect_stdout <<-'END'
	a 2999-01-01: is not due until 2999-01-02T00:00:00Z
	not stuck: it moves without anyone
END
why_text a 2024-01-03
expect_stdout <<-'END'
	a 2024-01-03: has no run: nobody asked for it
	  to act: backfill a 2024-01-03
	stuck: only a person can move it
END
why_text once ''
expect_stdout <<-'END'
	once '': has no run: nobody asked for it
	  to act: backfill once today
	stuck: only a person can move it
END
touch "$WORK/ok"
setup "$DATASHELL" -c 'force-run a 2024-01-05' -c 'worker --drain'
rm -f "$WORK/ok"
why_text a 2024-01-05
expect_stdout <<-END
	a 2024-01-05: is done: run $(sql "SELECT max(id) FROM datashell.runs") succeeded
	done
END
ds -c 'why a 2024-01-05 --json'
expect_eq "done" "$(json_get '{done}' <"$OUT") $(json_get '{cause}' <"$OUT") $(json_get '{tree}[0]{since}' <"$OUT")" \
	"true done $(sql "SELECT datashell.iso_utc(finished_at) FROM datashell.runs ORDER BY id DESC LIMIT 1")"
setup "$DATASHELL" -c 'mark a 2024-01-06 --skipped --reason "shop closed"'
why_text a 2024-01-06
expect_stdout <<-END
	a 2024-01-06: is marked skipped by $ME
	  shop closed
	done
END
ds -c 'why a 2024-01-06 --json'
expect_eq "marked" "$(json_get '{state}' <"$OUT") $(json_get '{cause}' <"$OUT") $(json_get '{done}' <"$OUT")" \
	"skipped marked true"
end_case

begin "a breaker tripped by hand holds the key until a reset; one that opened by itself probes again"
use_stage loaded
setup "$DATASHELL" -c 'breaker trip brk --reason "bad source"' -c 'backfill brk 2024-01-01 --yes'
why_text brk 2024-01-01
expect_exit 0
expect_stdout <<-END
	brk 2024-01-01: the breaker of brk is open
	  tripped by $ME: bad source; only a reset closes it
	  to act: breaker reset brk
	stuck: only a person can move it
END
ds -c 'why brk 2024-01-01 --json'
expect_eq "held" "$(json_get '{state}' <"$OUT") $(json_get '{cause}' <"$OUT") $(json_get '{tree}[0]{since}' <"$OUT")" \
	"held breaker $(sql "SELECT datashell.iso_utc(opened_at) FROM datashell.breakers")"
sql "UPDATE datashell.breakers SET manual = false, opened_by = 'datashell',
     reason = '5 failures in a row: boom', retry_at = '2999-01-01'" >/dev/null
why_text brk 2024-01-01
expect_stdout <<-'END'
	brk 2024-01-01: the breaker of brk is open
	  5 failures in a row: boom; a probe run is let through at 2999-01-01T00:00:00Z
	  to act: breaker reset brk
	not stuck: it moves without anyone
END
sql "UPDATE datashell.breakers SET reason = 'the probe run failed (error): boom'" >/dev/null
ds -c 'why brk 2024-01-01 --json'
expect_eq "a failed probe: stuck" "$(root_causes)" "brk 2024-01-01 breaker stuck breaker reset brk"
end_case

begin "a paused graph"
use_stage loaded
setup "$DATASHELL" -c 'pipeline pause frozen' -c 'backfill icy 2024-01-01 --yes'
why_text icy 2024-01-01
expect_exit 0
expect_stdout <<-END
	icy 2024-01-01: graph frozen is paused
	  paused by $ME
	  to act: pipeline resume frozen
	stuck: only a person can move it
END
end_case

begin "running, a graph at its cap, ready with no live worker, ready"
use_stage loaded
setup "$DATASHELL" -c 'backfill slow 2024-01-01..2024-01-02 --yes'
sql "UPDATE datashell.runs SET state = 'running', worker = 'w1', attempt = 1,
       started_at = '2024-02-01 10:00+00', lease_until = '2999-01-01'
     WHERE key = '2024-01-01'" >/dev/null
why_text slow 2024-01-01
expect_exit 0
expect_stdout <<-'END'
	slow 2024-01-01: is running on worker w1 since 2024-02-01T10:00:00Z
	  attempt 1 of 1, lease until 2999-01-01T00:00:00Z
	not stuck: it moves without anyone
END
why_text slow 2024-01-02
expect_stdout <<-'END'
	slow 2024-01-02: graph side is at its cap (1 of 1 running)
	not stuck: it moves without anyone
END
sql "UPDATE datashell.runs SET state = 'success', finished_at = now() WHERE key = '2024-01-01'" >/dev/null
why_text slow 2024-01-02
expect_stdout <<-'END'
	slow 2024-01-02: is ready, but no live worker can run it
	  no worker of graph side has beaten in the last 20s
	  to act: worker
	not stuck: it moves without anyone
END
sql "INSERT INTO datashell.workers (name, host, pid, concurrency) VALUES ('w2', 'h', 1, 1)" >/dev/null
why_text slow 2024-01-02
expect_stdout <<-'END'
	slow 2024-01-02: is ready: the next worker with a free slot claims it
	not stuck: it moves without anyone
END
end_case

begin "a batch at its own cap (backfill --max-active)"
use_stage loaded
setup "$DATASHELL" -c 'backfill brk 2024-01-01..2024-01-03 --max-active 2 --yes'
sql "UPDATE datashell.runs SET state = 'running', worker = 'w1', attempt = 1,
       started_at = now(), lease_until = '2999-01-01'
     WHERE key < '2024-01-03'" >/dev/null
why_text brk 2024-01-03
expect_exit 0
expect_stdout <<-'END'
	brk 2024-01-03: batch 1 is at its cap (2 running)
	not stuck: it moves without anyone
END
end_case

begin "a check that failed, with its message"
use_stage loaded
setup_failing "$DATASHELL" -c 'backfill chk 2024-01-01 --yes' -c 'worker --drain'
why_text chk 2024-01-01
expect_exit 0
expect_stdout <<-END
	chk 2024-01-01: blocked
	  a check failed: $(sql "SELECT error FROM datashell.runs")
	  to act: force-run chk 2024-01-01
	stuck: only a person can move it
END
expect_stdout_matches 'has_rows'
end_case

begin "backing off before a retry"
use_stage loaded
setup "$DATASHELL" -c 'backfill flaky 2024-01-01 --yes'
sql "UPDATE datashell.runs SET attempt = 1, not_before = '2999-01-01', error = 'exited with status 1',
       finished_at = now()" >/dev/null
why_text flaky 2024-01-01
expect_exit 0
expect_stdout <<-'END'
	flaky 2024-01-01: is backing off until 2999-01-01T00:00:00Z
	  retry 1 of 2 after: exited with status 1
	not stuck: it moves without anyone
END
end_case

begin "cancelled, by whom; a key waiting on it is stuck"
use_stage loaded
setup "$DATASHELL" -c 'backfill a+ 2024-01-01 --yes' -c 'cancel a 2024-01-01 --yes'
why_text a 2024-01-01
expect_exit 0
expect_stdout <<-END
	a 2024-01-01: cancelled
	  cancelled by $ME
	  to act: force-run a 2024-01-01
	stuck: only a person can move it
END
ds -c 'why b 2024-01-01 --json'
expect_eq "root cause" "$(root_causes)" "a 2024-01-01 cancelled stuck force-run a 2024-01-01"
setup "$DATASHELL" -c 'backfill a 2024-01-02 --yes'
setup "$DATASHELL" -c "cancel $(sql "SELECT max(id) FROM datashell.batches") --yes"
why_text a 2024-01-02
expect_stdout <<-END
	a 2024-01-02: cancelled
	  cancelled by $ME; batch $(sql "SELECT max(id) FROM datashell.batches") was cancelled by $ME
	  to act: force-run a 2024-01-02
	stuck: only a person can move it
END
end_case

begin "a key with no run that its task's schedule enqueues at its next pass is not stuck"
use_stage loaded
sql "UPDATE datashell.tasks SET definition = definition || '{\"schedule\": {\"start\": \"2024-01-01\"}}'
     WHERE name = 'brk'" >/dev/null
why_text brk 2024-01-02
expect_exit 0
expect_stdout <<-'END'
	brk 2024-01-02: has no run yet: its schedule enqueues it at its next pass
	not stuck: it moves without anyone
END
why_text brk 2023-12-31
expect_stdout <<-'END'
	brk 2023-12-31: has no run: nobody asked for it
	  to act: backfill brk 2023-12-31
	stuck: only a person can move it
END
end_case

begin "bad input: an unknown task, a malformed key, a key of another kind, a range"
use_stage loaded
ds -c 'why aa 2024-01-01'
expect_exit 3
expect_stderr_matches "unknown task 'aa' \(did you mean 'a'\?\)"
ds -c 'why a 2024-13-01'
expect_exit 3
expect_stderr_matches "'2024-13-01' is not a key of task a, whose keys are dates"
ds -c 'why a 2024-01-01T07'
expect_exit 3
expect_stderr_matches "'2024-01-01T07' is not a key of task a, whose keys are dates"
ds -c 'why a 2024-01-01..2024-01-02'
expect_exit 3
expect_stderr_matches "is not a key of task a"
ds -c 'why'
expect_exit 3
expect_stderr_matches "why"
end_case

# mixed: the chain, brk held behind a breaker tripped by hand, icy in a paused graph,
# slow queued and ready, flaky backing off: stuck are b, c, brk and icy.
stage_mixed() {
	use_stage chain
	setup "$DATASHELL" -c 'breaker trip brk --reason "bad source"' -c 'pipeline pause frozen' \
		-c 'backfill brk,icy,slow,flaky 2024-01-01 --yes'
	sql "UPDATE datashell.runs SET attempt = 1, not_before = '2999-01-01', error = 'exited with status 1'
	     WHERE task_id = (SELECT id FROM datashell.tasks WHERE name = 'flaky')" >/dev/null
}

# The stuck keys of a --json document at PATH: "task key state cause root_cause|action".
stuck_of() {	# PATH
	perl -MJSON::PP -e 'local $/; my $d = decode_json(<STDIN>);
		for my $step ($ARGV[0] =~ /\{([^}]*)\}/g) { $d = $d->{$step} }
		print join "\n", map { "$_->{task} $_->{key} $_->{state} $_->{cause} $_->{root_cause}|$_->{action}" } @$d' "$1" <"$OUT"
}

STUCK_ALL="b 2024-01-01 queued failed upstream a 2024-01-01 failed|force-run a 2024-01-01
b 2024-01-02 queued failed upstream a 2024-01-02 failed|force-run a 2024-01-02
brk 2024-01-01 held breaker the breaker of brk is open|breaker reset brk
c 2024-01-01 queued not_asked upstream b 2023-12-31 has no run: nobody asked for it|backfill b 2023-12-31
c 2024-01-02 queued failed upstream a 2024-01-01 failed|force-run a 2024-01-01
icy 2024-01-01 queued paused graph frozen is paused|pipeline resume frozen"

begin "status lists exactly the stuck keys with their root causes and what to do"
use_stage mixed
ds -c 'status --json'
expect_exit 0
expect_eq "stuck keys" "$(stuck_of '{stuck}{keys}')" "$STUCK_ALL"
expect_eq "total" "$(json_get '{stuck}{total}' <"$OUT")" 6
ds -c 'status'
expect_exit 0
expect_stdout_matches '^Stuck$'
# The table counts them: the total is not a line of its own.
expect_stdout_matches '^    \(6 rows\)$'
expect_stdout_matches '^ +icy +\| 2024-01-01 \| queued +\| paused +\| graph frozen is paused +\| pipeline resume frozen *$'
ds -c 'status c 2024-01-01..2024-01-02 --json'
expect_exit 0
expect_eq "stuck keys of c" "$(stuck_of '{stuck}{keys}')" \
	"c 2024-01-01 queued not_asked upstream b 2023-12-31 has no run: nobody asked for it|backfill b 2023-12-31
c 2024-01-02 queued failed upstream a 2024-01-01 failed|force-run a 2024-01-01"
ds -c 'status c 2024-01-02 --json'
expect_eq "in the range" "$(json_get '{stuck}{total}' <"$OUT")" 1
ds -c 'status slow 2024-01-01 --json'
expect_eq "none for slow" "$(json_get '{stuck}' <"$OUT")" '{"keys":[],"total":0}'
end_case

begin "status shows the first 20 stuck keys and counts them all"
use_stage loaded
setup "$DATASHELL" -c 'pipeline pause frozen' -c 'backfill icy 2024-01-01..2024-01-25 --yes'
ds -c 'status --json'
expect_exit 0
expect_eq "shown and total" "$(json_get '{stuck}{keys}' <"$OUT" | perl -MJSON::PP -e 'local $/; print scalar @{ decode_json(<STDIN>) }') $(json_get '{stuck}{total}' <"$OUT")" \
	"20 25"
ds -c 'status'
expect_stdout_matches '^    \(20 of 25 rows shown; --all shows every row\)$'
ds -c 'status --all --json'
expect_eq "every one with --all" "$(json_get '{stuck}{keys}' <"$OUT" | perl -MJSON::PP -e 'local $/; print scalar @{ decode_json(<STDIN>) }') $(json_get '{stuck}{total}' <"$OUT")" \
	"25 25"
end_case

begin "handoff lists the stuck keys, and counts a batch's stuck runs apart from those in flight"
use_stage mixed
ds -c 'handoff --json'
expect_exit 0
expect_eq "stuck keys" "$(stuck_of '{stuck_keys}')" "$STUCK_ALL"
expect_eq "the chain's batch" "$(json_get '{batches}[0]{in_flight}' <"$OUT") $(json_get '{batches}[0]{stuck}' <"$OUT")" \
	"0 4"
expect_eq "the other batch" "$(json_get '{batches}[1]{in_flight}' <"$OUT") $(json_get '{batches}[1]{stuck}' <"$OUT")" \
	"2 2"
ds -c 'handoff'
expect_exit 0
expect_stdout_matches '^Stuck keys$'
expect_stdout_matches '^ +brk +\| 2024-01-01 \| held +\| breaker +\| the breaker of brk is open +\| breaker reset brk *$'
end_case

begin "metrics counts the runs waiting on a person apart from the ready ones"
use_stage mixed
ds -c metrics
expect_exit 0
for g in core frozen side; do
	echo "$g $(sed -n "s/^datashell_queue_ready_runs{graph=\"$g\"} //p" "$OUT") $(sed -n "s/^datashell_queue_stuck_runs{graph=\"$g\"} //p" "$OUT")"
done >"$WORK/queue"
expect_same "ready and stuck per graph" "$WORK/queue" <<-'END'
	core 0 5
	frozen 0 1
	side 1 0
END
ds -c 'metrics --json'
expect_eq "the queue of core" "$(json_get '{queue}[0]' <"$OUT" | perl -pe 's/"oldest_ready_age_seconds":[0-9.]+,//')" \
	'{"graph":"core","queued":5,"ready":0,"stuck":5}'
end_case

done_testing
