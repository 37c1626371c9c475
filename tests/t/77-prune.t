#!/bin/sh
# prune: old finished runs go, with their retried attempts and the batches they leave
# empty, but never a run the truth of a key needs (the latest run of a key and the run
# that built it, a run not yet ended, a breaker's probe, the runs of an open incident):
# status and logs of a kept key read the same after. A dry run changes nothing, bad or
# future cutoffs are refused, the prune is audited, and a viewer cannot prune (the
# database refuses it).
. "$DS_TOP/tests/lib.sh"
# Roles belong to the whole server: this script has a server of its own.
use_private_server
use_fresh_database t_prune
export TZ=UTC

VIEWER=t_prune_viewer OPERATOR=t_prune_operator
"$DATASHELL" -c init >/dev/null 2>&1 || { echo "Bail out! init failed"; exit 1; }
sql "CREATE ROLE $VIEWER LOGIN IN ROLE datashell_viewer;
     CREATE ROLE $OPERATOR LOGIN IN ROLE datashell_operator" >/dev/null ||
	{ echo "Bail out! could not create the users"; exit 1; }

# raw fails until $WORK/ok exists, and is retried once.
PIPE=$WORK/pipe.json
cat >"$PIPE" <<END
{"graphs": {"core": {}},
 "tasks": [
  {"name": "raw", "graph": "core", "key": "daily", "retries": 1, "retry_delay": "0s",
   "command": "echo raw-\$DS_KEY; test -e $WORK/ok || { echo no-data >&2; exit 1; }"}]}
END

# The runs of raw, by key, a year old: 2024-01-01 failed (run 1, one retried attempt),
# then succeeded (run 2), then was run again (run 3, its record's run now); 2024-01-02
# succeeded (run 4). Then, recent: 2024-01-03 succeeded (run 5) and 2024-01-04 waits
# in the queue (run 6). Each run is a batch of its own.
stage_history() {
	use_fresh_database t_prune
	rm -f "$WORK/ok"
	setup "$DATASHELL" -c init -c "pipeline load $PIPE"
	setup_failing "$DATASHELL" --keep-going -c 'force-run raw 2024-01-01' \
		-c 'worker --drain' -c 'status raw 2024-01-01'
	touch "$WORK/ok"
	setup "$DATASHELL" -c 'force-run raw 2024-01-01' -c 'worker --drain' \
		-c 'force-run raw 2024-01-01' -c 'worker --drain' \
		-c 'force-run raw 2024-01-02' -c 'worker --drain'
	queue_sql "UPDATE datashell.runs
		   SET queued_at = queued_at - interval '400 days',
		       not_before = not_before - interval '400 days',
		       started_at = started_at - interval '400 days',
		       finished_at = finished_at - interval '400 days';
		   UPDATE datashell.run_attempts
		   SET started_at = started_at - interval '400 days',
		       finished_at = finished_at - interval '400 days';
		   UPDATE datashell.batches SET created_at = created_at - interval '400 days'"
	flush_sql
	setup "$DATASHELL" -c 'force-run raw 2024-01-03' -c 'worker --drain' \
		-c 'force-run raw 2024-01-04'
}

runs_left() {
	sql "SELECT string_agg(id || ':' || state, ' ' ORDER BY id) FROM datashell.runs"
}

begin "the history is as the cases expect"
use_stage history
expect_run_counts_true
expect_eq "runs" "$(runs_left)" "1:failed 2:success 3:success 4:success 5:success 6:queued"
expect_sql "attempts" "SELECT string_agg(run_id::text, ' ') FROM datashell.run_attempts" "1"
expect_sql "records" "SELECT string_agg(concat_ws(':', key, run_id, built_by), ' ' ORDER BY key)
		      FROM datashell.partitions" \
	"2024-01-01:3:3 2024-01-02:4:4 2024-01-03:5:5 2024-01-04:6"
end_case

begin "a dry run counts what would go and changes nothing"
use_stage history
ds -c 'prune --before 180d --dry-run --json'
expect_exit 0
expect_eq "counts" "$(json_get '{runs}' <"$OUT") $(json_get '{attempts}' <"$OUT") $(json_get '{batches}' <"$OUT") $(json_get '{dry_run}' <"$OUT")" \
	"2 1 2 true"
expect_eq "runs" "$(runs_left)" "1:failed 2:success 3:success 4:success 5:success 6:queued"
expect_sql "attempts" "SELECT count(*) FROM datashell.run_attempts" "1"
expect_sql "batches" "SELECT count(*) FROM datashell.batches" "6"
expect_sql "no audit row" "SELECT count(*) FROM datashell.audit_log WHERE command LIKE 'prune%'" "0"
end_case

begin "prune deletes the old runs no key needs, slice by slice; status and logs of the kept keys read the same"
use_stage history
ds -c 'status raw 2024-01-01..2024-01-04 --json' -c 'logs raw 2024-01-02 --json'
cp "$OUT" "$WORK/before"
sql "SELECT id FROM datashell.batches ORDER BY id" >"$WORK/batches"
ds -c 'prune --before 180d --batch-size 1 --yes'
expect_exit 0
expect_stdout_matches '^deleted 2 runs that ended before [0-9-]+T[0-9:]+Z, with 1 retried attempt and 2 batches left empty$'
expect_eq "runs" "$(runs_left)" "3:success 4:success 5:success 6:queued"
expect_sql "attempts" "SELECT count(*) FROM datashell.run_attempts" "0"
expect_sql "batches gone" "SELECT string_agg(b::text, ' ' ORDER BY b)
			   FROM unnest('{$(sed -n 1,2p "$WORK/batches" | paste -sd,)}'::bigint[]) b
			   WHERE b NOT IN (SELECT id FROM datashell.batches)" \
	"$(sed -n 1,2p "$WORK/batches" | paste -sd' ')"
expect_sql "batches left" "SELECT count(*) FROM datashell.batches" "4"
ds -c 'status raw 2024-01-01..2024-01-04 --json' -c 'logs raw 2024-01-02 --json'
expect_exit 0
diff -u "$WORK/before" "$OUT" >"$WORK/diff" || fail "status or logs changed: $(cat "$WORK/diff")"
ds -c 'logs raw 2024-01-01 --json'
expect_eq "the key's record's run is left" "$(json_get '[0]{run}' <"$OUT") $(json_get '[1]{run}' <"$OUT")" "3 null"
expect_sql "audited" "SELECT outcome || ' ' || (detail->>'runs') || ' ' || (detail->>'attempts')
			  || ' ' || (detail->>'batches') || ' ' || (detail ? 'before')
		      FROM datashell.audit_log WHERE command LIKE 'prune%'" "ok 2 1 2 true"
expect_run_counts_true
ds -c 'prune --before 180d --yes --json'
expect_exit 0
expect_eq "a second prune finds nothing" "$(json_get '{runs}' <"$OUT")" "0"
end_case

begin "the runs of an open incident and a breaker's probe are kept, a resolved incident's are not"
use_stage history
queue_sql "INSERT INTO datashell.alerts (kind, incident, summary, runs)
	   VALUES ('lease_lost', 'worker:a', 'lost', '{1}');
	   INSERT INTO datashell.alerts (kind, incident, summary, runs, state)
	   VALUES ('lease_lost', 'worker:b', 'lost', '{2}', 'resolved');"
ds -c 'prune --before 180d --yes --json'
expect_exit 0
expect_eq "runs" "$(runs_left)" "1:failed 3:success 4:success 5:success 6:queued"
expect_sql "its attempt too" "SELECT count(*) FROM datashell.run_attempts" "1"
use_stage history
queue_sql "UPDATE datashell.breakers SET state = 'half_open', probe_run_id = 2"
ds -c 'prune --before 180d --yes --json'
expect_exit 0
expect_eq "runs" "$(runs_left)" "2:success 3:success 4:success 5:success 6:queued"
end_case

begin "a date cutoff, and nothing ended before it"
use_stage history
ds -c 'prune --before 2020-01-01 --yes --json'
expect_exit 0
expect_eq "counts" "$(json_get '{runs}' <"$OUT") $(json_get '{before}' <"$OUT")" \
	"0 2020-01-01T00:00:00Z"
expect_eq "runs" "$(runs_left)" "1:failed 2:success 3:success 4:success 5:success 6:queued"
end_case

begin "a bad duration, an impossible date, a future date and no cutoff are refused"
use_stage history
for before in 180x 2024-02-30 yesterday 2999-01-01; do
	ds -c "prune --before $before --yes"
	expect_exit 3
	case $before in
	2999-*) expect_stderr_matches "'--before $before' is in the future" ;;
	*) expect_stderr_matches "'--before $before' is neither a duration nor a date" ;;
	esac
done
ds -c 'prune --yes'
expect_exit 3
expect_stderr_matches 'prune needs --before'
expect_eq "runs" "$(runs_left)" "1:failed 2:success 3:success 4:success 5:success 6:queued"
PGUSER=$OPERATOR psql -X -q -A -t -c "SELECT * FROM datashell.prune_runs(now() + interval '1 day',
	'-infinity', 0, 100)" >"$WORK/future.out" 2>&1 &&
	fail "prune_runs took a future cutoff: $(cat "$WORK/future.out")"
grep -q 'which is in the future' "$WORK/future.out" ||
	fail "prune_runs said: $(cat "$WORK/future.out")"
end_case

begin "a script must say --yes"
use_stage history
ds -c 'prune --before 180d'
expect_exit 3
expect_eq "runs" "$(runs_left)" "1:failed 2:success 3:success 4:success 5:success 6:queued"
end_case

begin "a viewer cannot prune, an operator can (the database decides)"
use_stage history
ds_as "$VIEWER" -c 'prune --before 180d --yes'
expect_exit 3
expect_stderr_matches 'needs the datashell_operator role'
PGUSER=$VIEWER psql -X -q -A -t -c "SELECT * FROM datashell.prune_runs(now() - interval '1 day',
	'-infinity', 0, 100)" >"$WORK/viewer.out" 2>&1 &&
	fail "a viewer called prune_runs: $(cat "$WORK/viewer.out")"
expect_eq "runs" "$(runs_left)" "1:failed 2:success 3:success 4:success 5:success 6:queued"
ds_as "$OPERATOR" -c 'prune --before 180d --yes --json'
expect_exit 0
expect_eq "runs" "$(runs_left)" "3:success 4:success 5:success 6:queued"
end_case

done_testing
