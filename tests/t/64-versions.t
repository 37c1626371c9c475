#!/bin/sh
# Versions: every task has a fingerprint of what changes its output, and its version adds
# its upstreams'; a run records the version it executed. status marks the keys built by
# an older version (~, a stale count, stale in --json), backfill --stale re-runs exactly
# those, pipeline load says how many keys a change makes stale, --keep-current accepts a
# new version for the keys there are, and the upgrade to versions gives the runs already
# recorded the version of their task.
. "$DS_TOP/tests/lib.sh"
use_fresh_database t_versions
export TZ=UTC

# A pipeline file: raw, clean (reads raw) and other, daily SQL tasks on the state
# database. RAW is raw's SQL; EXTRA more fields for raw (JSON, with a leading comma).
pipeline() {	# FILE RAW [EXTRA]
	cat >"$1" <<-END
	{"graphs": {"core": {}},
	 "tasks": [
	  {"name": "raw", "graph": "core", "key": "daily", "sql": "$2"${3:-}},
	  {"name": "clean", "graph": "core", "key": "daily", "depends_on": ["raw"],
	   "sql": "SELECT 2"},
	  {"name": "other", "graph": "core", "key": "daily", "sql": "SELECT 3"}]}
	END
}

V1=$WORK/v1.json
pipeline "$V1" "SELECT 1 AS n"
# The same output: other layout, a comment, a timeout.
pipeline "$WORK/layout.json" "  SELECT 1  AS\\n\\t n -- the first\\n" ', "timeout": "5m"'
pipeline "$WORK/v2.json" "SELECT 10 AS n"
pipeline "$WORK/string.json" "SELECT 'SELECT 1  AS n' AS n"

strips() {	# the strips of raw, clean and other over the three keys, with --json
	ds -c 'status raw+,other 2024-01-01..2024-01-03 --json'
	perl -MJSON::PP -e 'local $/; print join " ", map { "$_->{task}:$_->{strip}:$_->{stale}" }
		@{ decode_json(<STDIN>)->{tasks} }' <"$OUT"
}

runs_of() {	# the runs of a batch as task:key, sorted
	sql "SELECT string_agg(t.name || ':' || r.key, ' ' ORDER BY t.name, r.key)
	     FROM datashell.runs r JOIN datashell.tasks t ON t.id = r.task_id
	     WHERE r.batch_id = $1"
}

# built: v1 loaded, its three tasks built for three days by a worker.
stage_built() {
	use_fresh_database t_versions
	setup "$DATASHELL" -c init -c "pipeline load $V1" \
		-c 'backfill raw+,other 2024-01-01..2024-01-03' -c 'worker --drain'
}

begin "a run records the version it executed; pipeline show gives the version"
use_stage built
expect_sql "every run has its task's version" "SELECT count(*) FILTER (WHERE r.version = t.version)
	|| ' of ' || count(*) FROM datashell.runs r JOIN datashell.tasks t ON t.id = r.task_id" "9 of 9"
expect_eq "nothing is stale" "$(strips)" "clean:###:0 other:###:0 raw:###:0"
ds -c 'pipeline show raw'
expect_exit 0
expect_stdout_matches "^Version +$(sql "SELECT left(version, 12) FROM datashell.tasks WHERE name = 'raw'")\$"
ds -c 'pipeline show raw --json'
expect_eq "json" "$(json_get '{version}' <"$OUT" | grep -cE '^[0-9a-f]{12}$')" 1
end_case

begin "an SQL change makes the task's keys and its downstream's stale, not the others'"
use_stage built
ds -c "pipeline load $WORK/v2.json"
expect_exit 0
expect_stdout <<-'END'
	changed task 'raw' (graph 'core')
	changed task 'raw': 6 complete keys become stale (clean 3, raw 3)
	loaded 1 file: 1 task changed, 2 tasks unchanged
END
expect_eq "status" "$(strips)" "clean:~~~:3 other:###:0 raw:~~~:3"
expect_eq "stale keys" "$(json_get '{tasks}[2]{stale_keys}' <"$OUT")" '["2024-01-01","2024-01-02","2024-01-03"]'
expect_eq "still complete" "$(json_get '{tasks}[2]{success}' <"$OUT")" 3
ds -c 'status raw 2024-01-01..2024-01-03'
expect_stdout_matches '^Legend .* ~ stale \(built by an older version\)$'
expect_stdout_matches '^  raw +~~~$'
expect_sql "other's version is the same, raw's and clean's moved" "SELECT string_agg(name, ',' ORDER BY name)
	FROM datashell.tasks t WHERE version <> (SELECT r.version FROM datashell.runs r
	WHERE r.task_id = t.id LIMIT 1)" "clean,raw"
expect_sql "audited" "SELECT detail->>'stale_keys' FROM datashell.audit_log ORDER BY id DESC LIMIT 1" 6
end_case

begin "a change upstream makes the keys of a downstream task of another graph stale"
use_stage built
cat >"$WORK/mkt.json" <<-'END'
	{"graphs": {"mkt": {}},
	 "tasks": [{"name": "report", "graph": "mkt", "key": "daily", "depends_on": ["clean"],
	            "sql": "SELECT 4"}]}
END
ds -c "pipeline load $WORK/mkt.json" -c 'backfill report 2024-01-01..2024-01-03' -c 'worker --drain'
expect_exit 0
ds -c "pipeline load $WORK/v2.json"
expect_stdout_matches "^changed task 'raw': 9 complete keys become stale \\(clean 3, raw 3, report 3\\)$"
ds -c 'status report 2024-01-01..2024-01-03 --json'
expect_eq "report" "$(json_get '{tasks}[0]{strip}' <"$OUT")" "~~~"
end_case

begin "a change of layout, comments or timeout, or inside a string, is told apart"
use_stage built
ds -c "pipeline load $WORK/layout.json"
expect_exit 0
expect_stdout <<-'END'
	changed task 'raw' (graph 'core')
	changed task 'raw': same version, no key becomes stale
	loaded 1 file: 1 task changed, 2 tasks unchanged
END
expect_eq "status" "$(strips)" "clean:###:0 other:###:0 raw:###:0"
ds -c "pipeline load $WORK/string.json"
expect_stdout_matches "^changed task 'raw': 6 complete keys become stale \(clean 3, raw 3\)$"
expect_eq "a string is output" "$(strips)" "clean:~~~:3 other:###:0 raw:~~~:3"
end_case

begin "the load's dry run counts what would become stale and changes nothing"
use_stage built
ds -c "pipeline load --dry-run $WORK/v2.json"
expect_exit 0
expect_stdout <<-END
	would change task 'raw' (graph 'core')
	--- stored
	+++ $WORK/v2.json
	@@ -13,4 +13,4 @@
	   "sla": null
	 }
	 sql:
	-    SELECT 1 AS n
	+    SELECT 10 AS n
	changed task 'raw': 6 complete keys would become stale (clean 3, raw 3)
	would load 1 file: 1 task changed, 2 tasks unchanged; nothing was changed
END
ds -c "pipeline load --dry-run --json $WORK/v2.json"
expect_eq "json" "$(json_get '{stale}' <"$OUT")" \
	'{"keys":6,"tasks":[{"stale":6,"task":"raw","tasks":{"clean":3,"raw":3},"version_changed":true}]}'
expect_eq "status" "$(strips)" "clean:###:0 other:###:0 raw:###:0"
end_case

begin "backfill --stale enqueues exactly the stale keys; once they ran none is stale"
use_stage built
ds -c "pipeline load $WORK/v2.json"
ds -c 'backfill raw+,other 2024-01-01..2024-01-05 --stale --dry-run --json'
expect_exit 0
expect_eq "plan" "$(perl -MJSON::PP -e 'local $/; print join " ", map { "$_->{task}:$_->{enqueue}:$_->{stale}:$_->{complete}" }
	@{ decode_json(<STDIN>)->{plan} }' <"$OUT")" "clean:3:3:3 other:0:0:3 raw:3:3:3"
ds -c 'backfill raw 2024-01-01..2024-01-05 --stale'
expect_exit 0
expect_eq "without +, raw alone" "$(runs_of 2)" "raw:2024-01-01 raw:2024-01-02 raw:2024-01-03"
ds -c 'backfill raw+,other 2024-01-01..2024-01-05 --stale'
expect_exit 0
expect_eq "raw+ takes clean's too (raw's are queued)" "$(runs_of 3)" \
	"clean:2024-01-01 clean:2024-01-02 clean:2024-01-03"
ds -c 'worker --drain'
expect_exit 0
expect_eq "none stale" "$(strips)" "clean:###:0 other:###:0 raw:###:0"
ds -c 'backfill raw+,other 2024-01-01..2024-01-03 --stale --json'
expect_exit 0
expect_eq "nothing left to enqueue" "$(json_get '{enqueued}' <"$OUT") $(json_get '{batch}' <"$OUT")" "0 null"
expect_sql "no new batch" "SELECT count(*) FROM datashell.batches" 3
ds -c 'backfill raw 2024-01-01 --stale --rerun'
expect_exit 3
expect_stderr_matches "^datashell: error: --stale chooses the keys itself"
end_case

begin "pipeline load --keep-current accepts the new version for the keys there are, audited"
use_stage built
ds -c "pipeline load --keep-current raw,nope $WORK/v2.json"
expect_exit 3
expect_stderr_matches "^datashell: error: --keep-current: unknown task 'nope'"
expect_sql "nothing changed" "SELECT count(*) FROM datashell.tasks WHERE sql = 'SELECT 10 AS n'" 0
ds -c "pipeline load --keep-current raw $WORK/v2.json"
expect_exit 0
expect_stdout <<-'END'
	changed task 'raw' (graph 'core')
	changed task 'raw': 3 complete keys become stale (clean 3)
	kept 3 keys of task 'raw' current
	loaded 1 file: 1 task changed, 2 tasks unchanged
END
expect_eq "status" "$(strips)" "clean:~~~:3 other:###:0 raw:###:0"
expect_sql "the runs still say what they executed, the ledger the version kept" "SELECT count(*)
	FROM datashell.partitions p JOIN datashell.runs r ON r.id = p.run_id
	JOIN datashell.tasks t ON t.id = p.task_id WHERE t.name = 'raw'
	AND r.version <> t.version AND p.built_version = t.version" 3
expect_sql "audited" "SELECT detail->'kept_current'->>'raw' FROM datashell.audit_log
	ORDER BY id DESC LIMIT 1" 3
# Only keys current before the load are kept: clean's were stale already.
ds -c "pipeline load --keep-current clean,raw $WORK/string.json"
expect_stdout_matches "^kept 0 keys of task 'clean' current$"
expect_stdout_matches "^kept 3 keys of task 'raw' current$"
expect_eq "raw's again" "$(strips)" "clean:~~~:3 other:###:0 raw:###:0"
end_case

begin "a run records the version it executed, not the one current when it ends"
use_fresh_database t_versions
# slow says it started, then waits (polling, at most a minute) until the case lets it go.
slow_file() {	# FILE WORD
	cat >"$1" <<-END
	{"graphs": {"core": {}},
	 "tasks": [{"name": "slow", "graph": "core", "key": "daily",
	            "command": "echo started >$WORK/slow.started; i=0; until [ -e $WORK/slow.go ] || [ \$i -ge 1200 ]; do sleep 0.05; i=\$((i + 1)); done; echo $2"}]}
	END
}
slow_file "$WORK/slow1.json" one
slow_file "$WORK/slow2.json" two
ds -c init -c "pipeline load $WORK/slow1.json" -c 'backfill slow 2024-01-01'
expect_exit 0
"$DATASHELL" -c 'worker --drain' >"$WORK/slow.out" 2>&1 </dev/null &
pid=$!
wait_for_file started "$WORK/slow.started"
ds -c "pipeline load $WORK/slow2.json"
expect_stdout_matches "^changed task 'slow': new version, no complete key becomes stale$"
touch "$WORK/slow.go"
wait "$pid" || fail "the worker failed: $(cat "$WORK/slow.out")"
expect_sql "it ran the first command" "SELECT output FROM datashell.runs" one
ds -c 'status slow 2024-01-01 --json'
expect_eq "so its key is stale" "$(json_get '{tasks}[0]{strip}' <"$OUT")" "~"
end_case

begin "the upgrade to versions gives the runs recorded before it the version of their task"
use_stage built
before=$(sql "SELECT string_agg(name || '=' || version, ' ' ORDER BY name) FROM datashell.tasks")
undo_migrations 12
ds -c init
expect_exit 0
expect_stdout_matches "^upgraded schema 'datashell' from version 11 to $SCHEMA_VERSION\$"
expect_sql "the versions a load gives" "SELECT string_agg(name || '=' || version, ' ' ORDER BY name)
	FROM datashell.tasks" "$before"
expect_sql "every run has its task's version" "SELECT count(*) FILTER (WHERE r.version = t.version)
	|| ' of ' || count(*) FROM datashell.runs r JOIN datashell.tasks t ON t.id = r.task_id" "9 of 9"
expect_eq "nothing is stale" "$(strips)" "clean:###:0 other:###:0 raw:###:0"
ds -c "pipeline load $V1"
expect_stdout_matches "no changes"
ds -c "pipeline load $WORK/v2.json"
expect_eq "a change after it counts" "$(strips)" "clean:~~~:3 other:###:0 raw:~~~:3"
end_case

done_testing
