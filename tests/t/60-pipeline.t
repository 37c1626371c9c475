#!/bin/sh
# Pipeline definitions: loading JSON files (all checked before anything changes, all
# problems reported at once), what a load adds, changes, removes and revives, listing
# and showing tasks, pausing and resuming graphs.
. "$DS_TOP/tests/lib.sh"
use_fresh_database t_pipeline
EXAMPLE=$DS_TOP/examples/pipeline.json
cd "$WORK" || exit 1

# changed.json: the example without revenue_growth, and orders_daily with 5 retries.
write_changed_json() {
	perl -MJSON::PP -e '
		local $/; my $d = JSON::PP->new->decode(<STDIN>);
		$d->{tasks} = [grep { $_->{name} ne "revenue_growth" } @{ $d->{tasks} }];
		$_->{retries} = 5 for grep { $_->{name} eq "orders_daily" } @{ $d->{tasks} };
		print JSON::PP->new->canonical->pretty->encode($d);
	' <"$EXAMPLE" >changed.json
}

# Runs of revenue_growth for four keys, one in each state a removal treats differently.
add_revenue_growth_runs() {
	sql "INSERT INTO datashell.runs (task_id, key, state)
	     SELECT id, '2024-01-0' || n, (ARRAY['queued', 'running', 'held', 'success'])[n]
	     FROM datashell.tasks, generate_series(1, 4) n WHERE name = 'revenue_growth'" >/dev/null
}

# The states the cases start from: no state store; the state store; the example loaded;
# then changed.json loaded over it, with runs of the task it removes; then the example
# loaded again, which revives that task.
stage_empty() {
	use_fresh_database t_pipeline
}

stage_initialized() {
	use_stage empty
	setup "$DATASHELL" -c init
}

stage_loaded() {
	use_stage initialized
	setup "$DATASHELL" -c "pipeline load $EXAMPLE"
}

stage_changed() {
	use_stage loaded
	write_changed_json
	add_revenue_growth_runs
	setup "$DATASHELL" -c 'pipeline load changed.json'
}

stage_revived() {
	use_stage changed
	setup "$DATASHELL" -c "pipeline load $EXAMPLE"
}

begin "init creates the schema the pipelines live in"
use_stage empty
ds -c init
expect_exit 0
end_case

# Everything a load may touch, to compare before and after one that must change nothing.
load_state() {
	sql "SELECT id, name, graph, definition, source, removed_at, loaded_at
	     FROM datashell.tasks ORDER BY id" \
		"SELECT * FROM datashell.task_deps ORDER BY 1, 2, 3" \
		"SELECT * FROM datashell.graphs ORDER BY name" \
		"SELECT state, cancel_requested FROM datashell.runs ORDER BY id" \
		"SELECT count(*) FROM datashell.audit_log WHERE outcome = 'ok'"
}

failed_loads() {
	sql "SELECT count(*) FROM datashell.audit_log WHERE outcome = 'failed'
	     AND command LIKE 'pipeline load %'"
}

# Load FILES and expect it to fail with exit 3, the stderr given on stdin, no change
# but the failure's row in the audit log.
expect_load_fails() {	# FILE...
	load_state >"$WORK/before"
	failed_before=$(failed_loads)
	ds -c "pipeline load $*"
	expect_exit 3
	expect_stderr
	load_state >"$WORK/after"
	cmp -s "$WORK/before" "$WORK/after" ||
		fail "the database changed: $(diff "$WORK/before" "$WORK/after")"
	expect_eq "failed loads audited" "$(failed_loads)" $((failed_before + 1))
}

# A pipeline file of graph scratch holding the tasks given as JSON objects.
scratch_file() {	# FILE TASK-JSON...
	file=$1
	shift
	printf '{"graphs": {"scratch": {}}, "tasks": [\n' >"$file"
	sep=""
	for task in "$@"; do
		printf '%s  %s\n' "$sep" "$task" >>"$file"
		sep=","
	done
	printf ']}\n' >>"$file"
}

begin "load --dry-run shows what the example would add and changes nothing"
use_stage initialized
load_state >"$WORK/before"
ds -c "pipeline load --dry-run $EXAMPLE"
expect_exit 0
expect_stdout <<-'END'
	would add graph 'core'
	would add graph 'marketing'
	would add task 'raw_orders' (graph 'core')
	would add task 'orders_daily' (graph 'core')
	would add task 'revenue_growth' (graph 'core')
	would add task 'campaign_report' (graph 'marketing')
	would add task 'publish_campaign_report' (graph 'marketing')
	would load 1 file: 2 graphs added, 5 tasks added; nothing was changed
END
load_state >"$WORK/after"
cmp -s "$WORK/before" "$WORK/after" || fail "the database changed"
end_case

begin "loading the example adds its graphs, tasks and dependencies, audited"
use_stage initialized
ds -c "pipeline load $EXAMPLE"
expect_exit 0
expect_stdout <<-'END'
	added graph 'core'
	added graph 'marketing'
	added task 'raw_orders' (graph 'core')
	added task 'orders_daily' (graph 'core')
	added task 'revenue_growth' (graph 'core')
	added task 'campaign_report' (graph 'marketing')
	added task 'publish_campaign_report' (graph 'marketing')
	loaded 1 file: 2 graphs added, 5 tasks added
END
expect_sql "tasks" "SELECT string_agg(name || ':' || graph || ':' || key_kind || ':' ||
	coalesce(target, '-') || ':' || retries || ':' || retry_delay_s || ':' ||
	coalesce(timeout_s::text, '-'), ' ' ORDER BY id) FROM datashell.tasks" \
	"raw_orders:core:daily:demo.raw_orders:2:60:600 orders_daily:core:daily:demo.orders_daily:2:300:600 revenue_growth:core:daily:demo.revenue_growth:0:60:- campaign_report:marketing:daily:demo.campaign_report:0:60:300 publish_campaign_report:marketing:daily:-:3:30:60"
expect_sql "dependencies" "SELECT string_agg(u.name || '->' || t.name || ':' || d.key_offset,
	' ' ORDER BY t.name, u.name, d.key_offset) FROM datashell.task_deps d
	JOIN datashell.tasks t ON t.id = d.task_id JOIN datashell.tasks u ON u.id = d.upstream_id" \
	"orders_daily->campaign_report:0 raw_orders->orders_daily:0 campaign_report->publish_campaign_report:0 orders_daily->revenue_growth:-1 orders_daily->revenue_growth:0"
expect_sql "graphs" "SELECT string_agg(name || ':' || max_active || ':' || paused, ' '
	ORDER BY name) FROM datashell.graphs" "core:4:false marketing:2:false"
expect_sql "audit" "SELECT outcome || ' ' || (detail->'tasks'->>'added') || ' ' ||
	(detail->'graphs'->>'added') FROM datashell.audit_log WHERE command LIKE 'pipeline load%'" \
	"ok 5 2"
end_case

begin "loading the same file again reports no changes and changes nothing"
use_stage loaded
load_state >"$WORK/before"
ds -c "pipeline load $EXAMPLE"
expect_exit 0
expect_stdout <<-'END'
	loaded 1 file: no changes (5 tasks unchanged)
END
load_state | sed '$d' >"$WORK/after"
sed '$d' "$WORK/before" | cmp -s - "$WORK/after" || fail "the definitions changed"
end_case

begin "a change and a removal are reported, and the removed task's runs stopped"
use_stage loaded
write_changed_json
add_revenue_growth_runs
ds -c 'pipeline load changed.json'
expect_exit 0
expect_stdout <<-'END'
	changed task 'orders_daily' (graph 'core')
	removed task 'revenue_growth' (graph 'core')
	changed task 'orders_daily': same version, no key becomes stale
	cancelled 2 waiting runs of removed tasks
	asked 1 running run of removed tasks to stop
	loaded 1 file: 1 task changed, 1 task removed, 3 tasks unchanged
END
expect_sql "retries" "SELECT retries FROM datashell.tasks WHERE name = 'orders_daily'" 5
expect_sql "removed, not deleted" "SELECT removed_at IS NOT NULL FROM datashell.tasks
	WHERE name = 'revenue_growth'" t
expect_sql "its dependencies" "SELECT count(*) FROM datashell.task_deps d
	JOIN datashell.tasks t ON t.id = d.task_id WHERE t.name = 'revenue_growth'" 0
expect_sql "its runs" "SELECT string_agg(state || ':' || cancel_requested, ' ' ORDER BY key)
	FROM datashell.runs" "cancelled:false running:true cancelled:false success:false"
expect_sql "the source" "SELECT DISTINCT source FROM datashell.tasks
	WHERE removed_at IS NULL" changed.json
end_case

begin "a removed task that comes back is revived with its id and history"
use_stage changed
id=$(sql "SELECT id FROM datashell.tasks WHERE name = 'revenue_growth'")
ds -c "pipeline load --json $EXAMPLE"
expect_exit 0
expect_eq "revived" "$(json_get '{tasks}{revived}' <"$OUT")" 1
expect_eq "changed" "$(json_get '{tasks}{changed}' <"$OUT")" 1
expect_eq "unchanged" "$(json_get '{tasks}{unchanged}' <"$OUT")" 3
expect_eq "first change" "$(json_get '{changes}[0]' <"$OUT" | perl -MJSON::PP -e '
	local $/; my $c = JSON::PP->new->decode(<STDIN>); delete $c->{diff};
	print JSON::PP->new->canonical->encode($c)')" \
	'{"change":"changed","graph":"core","name":"orders_daily","object":"task"}'
expect_eq "what changed in it" "$(json_get '{changes}[0]{diff}' <"$OUT" | grep '^[-+] ')" \
	'-  "retries": 5,
+  "retries": 2,'
expect_eq "second change" "$(json_get '{changes}[1]{change}' <"$OUT")" revived
expect_eq "dry run" "$(json_get '{dry_run}' <"$OUT")" false
expect_sql "same id" "SELECT id FROM datashell.tasks WHERE name = 'revenue_growth'
	AND removed_at IS NULL" "$id"
expect_sql "runs kept" "SELECT count(*) FROM datashell.runs" 4
expect_sql "dependencies back" "SELECT count(*) FROM datashell.task_deps" 5
end_case

begin "a syntax error is reported with its line and column"
use_stage loaded
printf '{"graphs": {"scratch": {}},\n "tasks": [\n  {"name": "a",}\n]}\n' >syntax.json
expect_load_fails syntax.json <<-'END'
	datashell: error: syntax.json:3:16: invalid JSON: string or '}' expected near '}'
	hint: nothing was changed; fix the problem and load again
END
end_case

begin "an unknown field is reported with the closest known one"
use_stage loaded
scratch_file field.json '{"name": "a", "graph": "scratch", "key": "daily", "sql": "SELECT 1",
  "depnds_on": ["raw_orders"]}'
expect_load_fails field.json <<-'END'
	datashell: error: field.json: tasks[0] (a): unknown field 'depnds_on' (did you mean 'depends_on'?)
	hint: nothing was changed; fix the problem and load again
END
end_case

begin "a value of the wrong type is reported with its path"
use_stage loaded
scratch_file type.json '{"name": "a", "graph": "scratch", "key": "daily", "sql": "SELECT 1"}' \
	'{"name": "orders_copy", "graph": "scratch", "key": "daily", "sql": "SELECT 1",
	  "retries": "3"}'
expect_load_fails type.json <<-'END'
	datashell: error: type.json: tasks[1] (orders_copy).retries: expected a whole number, got a string
	hint: nothing was changed; fix the problem and load again
END
end_case

begin "an unknown upstream is reported with the closest task"
use_stage loaded
scratch_file upstream.json '{"name": "a", "graph": "scratch", "key": "daily", "sql": "SELECT 1",
  "depends_on": ["raw_orders", "orders_dialy"]}'
expect_load_fails upstream.json <<-'END'
	datashell: error: upstream.json: tasks[0] (a).depends_on[1]: unknown task 'orders_dialy' (did you mean 'orders_daily'?)
	hint: nothing was changed; fix the problem and load again
END
end_case

begin "a dependency cycle is named, the way data flows"
use_stage loaded
scratch_file cycle.json \
	'{"name": "a", "graph": "scratch", "key": "daily", "sql": "SELECT 1", "depends_on": ["c"]}' \
	'{"name": "b", "graph": "scratch", "key": "daily", "sql": "SELECT 1", "depends_on": ["a"]}' \
	'{"name": "c", "graph": "scratch", "key": "daily", "sql": "SELECT 1", "depends_on": ["b"]}'
expect_load_fails cycle.json <<-'END'
	datashell: error: cycle.json: tasks[0] (a).depends_on: dependency cycle: a -> b -> c -> a
	hint: nothing was changed; fix the problem and load again
END
end_case

begin "a task defined in two files is reported where it comes again"
use_stage loaded
scratch_file one.json '{"name": "a", "graph": "scratch", "key": "daily", "sql": "SELECT 1"}'
printf '{"tasks": [{"name": "a", "graph": "scratch", "key": "daily", "command": "true"}]}\n' \
	>two.json
expect_load_fails one.json two.json <<-'END'
	datashell: error: two.json: tasks[0] (a): task 'a' is already defined in one.json at tasks[0]
	hint: nothing was changed; fix the problem and load again
END
end_case

begin "a task's graph must be declared in the files loaded"
use_stage loaded
scratch_file graph.json '{"name": "a", "graph": "scrach", "key": "daily", "sql": "SELECT 1"}'
expect_load_fails graph.json <<-'END'
	datashell: error: graph.json: tasks[0] (a).graph: graph 'scrach' is not declared in the files loaded (did you mean 'scratch'?)
	hint: nothing was changed; fix the problem and load again
END
end_case

begin "an unknown variable in task SQL is reported with its offset"
use_stage loaded
scratch_file vars.json '{"name": "a", "graph": "scratch", "key": "daily",
  "sql": "DELETE FROM t WHERE day = :'"'"'kye'"'"'"}'
expect_load_fails vars.json <<-'END'
	datashell: error: vars.json: tasks[0] (a).sql: unknown variable 'kye' at character 27 (did you mean 'key'?)
	hint: nothing was changed; fix the problem and load again
END
end_case

begin "transaction control in task SQL, checks or complete_when is refused with its position"
use_stage loaded
scratch_file tx.json '{"name": "a", "graph": "scratch", "key": "daily",
  "sql": "DELETE FROM t WHERE day = :'"'"'key'"'"';\n  COMMIT;\nINSERT INTO t SELECT 1"}' \
  '{"name": "b", "graph": "scratch", "key": "daily", "command": "true",
  "checks": [{"name": "c", "sql": "SELECT '"'"'; COMMIT'"'"'; start transaction"}],
  "complete_when": "SELECT a$b$; ROLLBACK; SELECT $b$"}' \
  '{"name": "c", "graph": "scratch", "key": "daily",
  "sql": "SAVEPOINT s; SELECT 1; ROLLBACK TO s; RELEASE s; CALL p(); SELECT $$ COMMIT $$"}'
expect_load_fails tx.json <<-'END'
	datashell: error: tx.json: tasks[0] (a).sql: COMMIT at line 2, column 3: the worker runs the SQL in the transaction that records the run, so that each key is done exactly once; remove it
	tx.json: tasks[1] (b).checks[0].sql: start transaction at line 1, column 20: the worker runs the SQL in the transaction that records the run, so that each key is done exactly once; remove it
	tx.json: tasks[1] (b).complete_when: ROLLBACK at line 1, column 14: the worker runs the SQL in the transaction that records the run, so that each key is done exactly once; remove it
	hint: nothing was changed; fix these problems and load again
END
end_case

begin "an SLA time zone the server does not know is refused at load"
use_stage loaded
scratch_file tz.json \
  '{"name": "a", "graph": "scratch", "key": "daily", "sql": "SELECT 1", "sla": {"time": "06:00", "timezone": "Europe"}}' \
  '{"name": "b", "graph": "scratch", "key": "daily", "sql": "SELECT 1", "sla": {"within": "1h", "timezone": "zone.tab"}}' \
  '{"name": "c", "graph": "scratch", "key": "daily", "sql": "SELECT 1", "sla": {"within": "1h", "timezone": "Mars/Olympus"}}' \
  '{"name": "d", "graph": "scratch", "key": "daily", "sql": "SELECT 1", "sla": {"within": "1h", "timezone": "europe/paris"}}' \
  '{"name": "e", "graph": "scratch", "key": "daily", "sql": "SELECT 1", "sla": {"within": "1h", "timezone": "America/Argentina/Buenos_Aires"}}'
expect_load_fails tz.json <<-'END'
	datashell: error: tz.json: tasks[0] (a).sla.timezone: unknown time zone 'Europe': the server has no such zone (see pg_timezone_names), such as 'Europe/Paris' or 'UTC'
	tz.json: tasks[1] (b).sla.timezone: unknown time zone 'zone.tab': the server has no such zone (see pg_timezone_names), such as 'Europe/Paris' or 'UTC'
	tz.json: tasks[2] (c).sla.timezone: unknown time zone 'Mars/Olympus': the server has no such zone (see pg_timezone_names), such as 'Europe/Paris' or 'UTC'
	hint: nothing was changed; fix these problems and load again
END
end_case

begin "SLA time zones the server knows load, and status reads them"
use_stage loaded
scratch_file tzok.json \
  '{"name": "d", "graph": "scratch", "key": "daily", "sql": "SELECT 1", "sla": {"within": "1h", "timezone": "europe/paris"}}' \
  '{"name": "e", "graph": "scratch", "key": "daily", "sql": "SELECT 1", "sla": {"time": "06:00", "timezone": "America/Argentina/Buenos_Aires"}}'
ds -c "pipeline load tzok.json" -c status
expect_exit 0
expect_sql "time zones stored" "SELECT string_agg(definition->'sla'->>'timezone', ',' ORDER BY name)
	FROM datashell.tasks WHERE name IN ('d', 'e')" "europe/paris,America/Argentina/Buenos_Aires"
end_case

begin "a task has either SQL or a command"
use_stage loaded
scratch_file both.json '{"name": "a", "graph": "scratch", "key": "daily", "sql": "SELECT 1",
  "command": "true"}'
expect_load_fails both.json <<-'END'
	datashell: error: both.json: tasks[0] (a): has both 'sql' and 'command'; give one
	hint: nothing was changed; fix the problem and load again
END
end_case

begin "every problem is reported at once, one per line"
use_stage loaded
scratch_file many.json \
	'{"name": "a", "graph": "scratch", "key": "dayly", "sql": "SELECT :'"'"'key'"'"'"}' \
	'{"name": "b", "graph": "scratch", "key": "daily", "command": "true",
	  "retry_delay": "5 minutes", "timeout": 0, "depends_on": [{"task": "a", "offset": -1}]}' \
	'{"name": "c d", "graph": "scratch", "key": "daily", "sql": "SELECT 1", "target": "a.b.c"}' \
	'{"name": "e", "graph": "scratch", "key": "hourly", "depends_on": ["raw_orders"],
	  "sql": "INSERT INTO :\"target\" SELECT 1"}'
expect_load_fails many.json <<-'END'
	datashell: error: many.json: tasks[0] (a).key: unknown key kind 'dayly' (did you mean 'daily'?)
	many.json: tasks[1] (b).retry_delay: invalid duration '5 minutes': give seconds or a duration such as "30s", "5m", "1h" or "7d"
	many.json: tasks[1] (b).timeout: must be at least 1, got 0
	many.json: tasks[2].name: invalid name 'c d': use letters, digits, '_', '.' and '-', starting with a letter or '_'
	many.json: tasks[2].target: invalid table name 'a.b.c': expected "table" or "schema.table"
	many.json: tasks[3] (e).sql: uses the variable 'target' at character 13, but the task has no 'target'
	many.json: tasks[3] (e).depends_on[0]: depends on 'raw_orders', whose key is daily, but this task's key is hourly: a dependency needs the same key kind
	hint: nothing was changed; fix these problems and load again
END
end_case

begin "removing a task that another graph depends on is refused"
use_stage loaded
perl -MJSON::PP -e '
	local $/; my $d = JSON::PP->new->decode(<STDIN>);
	delete $d->{graphs}{marketing};
	$d->{tasks} = [grep { $_->{graph} eq "core" && $_->{name} ne "orders_daily" &&
			      $_->{name} ne "revenue_growth" } @{ $d->{tasks} }];
	print JSON::PP->new->canonical->pretty->encode($d);
' <"$EXAMPLE" >core.json
expect_load_fails core.json <<-'END'
	datashell: error: core.json: graphs.core: removes task 'orders_daily', which task 'campaign_report' of graph 'marketing' depends on
	hint: nothing was changed; fix the problem and load again
END
end_case

begin "a file that cannot be read is named"
use_stage loaded
expect_load_fails missing.json <<-'END'
	datashell: error: missing.json: cannot open the file: No such file or directory
	hint: nothing was changed; fix the problem and load again
END
end_case

# A pipeline file of graph GRAPH with one task, GRAPH_t.
graph_file() {	# FILE GRAPH
	printf '{"graphs": {"%s": {}}, "tasks": [{"name": "%s_t", "graph": "%s", "key": "daily", "sql": "SELECT 1"}]}\n' \
		"$2" "$2" "$2" >"$1"
}

# pipes/: b.json and a.json, and what a directory's *.json leaves out: another
# extension, a hidden file, a subdirectory's files, a directory named like a file.
make_pipes() {
	mkdir -p pipes/sub pipes/dir.json
	graph_file pipes/b.json gb
	graph_file pipes/a.json ga
	graph_file pipes/notes.txt gn
	graph_file pipes/.hidden.json gh
	graph_file pipes/sub/c.json gc
}

begin "load takes a directory's *.json files and glob patterns, in name order"
use_stage loaded
make_pipes
ds -c 'pipeline load pipes --dry-run --json'
expect_exit 0
expect_eq "a directory: its *.json files" "$(json_get '{files}' <"$OUT")" \
	'["pipes/a.json","pipes/b.json"]'
ds -c 'pipeline load pipes/*.json --dry-run --json'
expect_exit 0
expect_eq "a pattern, sorted" "$(json_get '{files}' <"$OUT")" '["pipes/a.json","pipes/b.json"]'
ds -c 'pipeline load pipes/b.json pipes/ --dry-run --json'
expect_exit 0
expect_eq "a file named twice is read once" "$(json_get '{files}' <"$OUT")" \
	'["pipes/b.json","pipes/a.json"]'
ds -c "pipeline load pipes/s*/*.json"
expect_exit 0
expect_stdout <<-'END'
	added graph 'gc'
	added task 'gc_t' (graph 'gc')
	loaded 1 file: 1 graph added, 1 task added
END
ds -c 'pipeline load pipes/'
expect_exit 0
expect_stdout <<-'END'
	added graph 'ga'
	added graph 'gb'
	added task 'ga_t' (graph 'ga')
	added task 'gb_t' (graph 'gb')
	loaded 2 files: 2 graphs added, 2 tasks added
END
expect_sql "loaded from the directory" "SELECT string_agg(name || ' ' || source, ', ' ORDER BY name)
	FROM datashell.tasks WHERE graph IN ('ga', 'gb')" \
	"ga_t pipes/a.json, gb_t pipes/b.json"
end_case

begin "a pattern that matches no file, or a directory with no *.json file, changes nothing"
use_stage loaded
make_pipes
expect_load_fails "'pipes/*.jsn'" <<-'END'
	datashell: error: no file matches 'pipes/*.jsn'
	hint: a name with *, ? or [ is a pattern, unless a file of that very name exists
END
expect_load_fails "'pipes/dir.*'" <<-'END'
	datashell: error: no file matches 'pipes/dir.*'
	hint: a name with *, ? or [ is a pattern, unless a file of that very name exists
END
mkdir empty
expect_load_fails "pipes/a.json empty" <<-'END'
	datashell: error: directory 'empty' has no *.json file
	hint: load reads the *.json files of a directory, not those of its subdirectories
END
end_case

begin "a file whose name has glob characters loads as named, quoted or not"
use_stage loaded
graph_file 'odd[1].json' godd
graph_file 'odd1.json' gone
ds -c "pipeline load 'odd[1].json' --dry-run --json"
expect_exit 0
expect_eq "quoted" "$(json_get '{files}' <"$OUT")" '["odd[1].json"]'
ds -c "pipeline load odd[1].json --dry-run --json"
expect_exit 0
expect_eq "not quoted" "$(json_get '{files}' <"$OUT")" '["odd[1].json"]'
rm 'odd[1].json'
ds -c "pipeline load odd[1].json --dry-run --json"
expect_exit 0
expect_eq "a pattern once no file has that name" "$(json_get '{files}' <"$OUT")" '["odd1.json"]'
end_case

begin "the files of a directory load all or nothing"
use_stage loaded
make_pipes
printf '{"graphs": {"gb": {}}, "tasks": [{"name": "gb_t", "graph": "gb", "key": "dayly", "sql": "SELECT 1"}]}\n' \
	>pipes/b.json
expect_load_fails pipes <<-'END'
	datashell: error: pipes/b.json: tasks[0] (gb_t).key: unknown key kind 'dayly' (did you mean 'daily'?)
	hint: nothing was changed; fix the problem and load again
END
end_case

begin "list shows the tasks as a table, by graph"
use_stage loaded
ds -c 'pipeline list'
expect_exit 0
expect_stdout <<-'END'
	          task           |   graph   |  key  |  kind   |            upstream            |        target        
	-------------------------+-----------+-------+---------+--------------------------------+----------------------
	 orders_daily            | core      | daily | sql     | raw_orders                     | demo.orders_daily
	 raw_orders              | core      | daily | sql     |                                | demo.raw_orders
	 revenue_growth          | core      | daily | sql     | orders_daily, orders_daily[-1] | demo.revenue_growth
	 campaign_report         | marketing | daily | sql     | orders_daily                   | demo.campaign_report
	 publish_campaign_report | marketing | daily | command | campaign_report                | 
	(5 rows)
END
end_case

begin "list --graph shows one graph; --json has stable fields"
use_stage loaded
ds -c 'pipeline list --graph marketing --json'
expect_exit 0
expect_eq "no third row" "$(json_get '[2]' <"$OUT")" null
expect_eq "second row" "$(json_get '[1]' <"$OUT")" \
	'{"graph":"marketing","key":"daily","kind":"command","target":null,"task":"publish_campaign_report","upstream":"campaign_report"}'
ds -c 'pipeline list --graph marketting'
expect_exit 3
expect_stderr <<-'END'
	datashell: error: unknown graph 'marketting' (did you mean 'marketing'?)
	hint: 'pipeline list' shows the tasks and their graphs
END
end_case

begin "show gives one task in full, with its upstream and downstream tasks"
use_stage revived
ds -c 'pipeline show orders_daily'
expect_exit 0
sed -e 's/^Loaded at .*/Loaded at     (time)/' -e 's/^Version  *[0-9a-f]\{12\}$/Version       (12 hex digits)/' \
	-e "s|$DS_TOP/||" "$OUT" >"$WORK/shown"
expect_same stdout "$WORK/shown" <<-'END'
	Task          orders_daily
	Graph         core
	Key           daily
	Kind          sql
	Target        demo.orders_daily
	Retries       2 (retry delay 5m)
	Timeout       10m
	Source        examples/pipeline.json
	Loaded at     (time)
	Version       (12 hex digits)
	Upstream      raw_orders
	Downstream    campaign_report (graph marketing), revenue_growth, revenue_growth[-1]
	Runs          none
	Schedule      none: run by hand; keys due at the end (UTC)
	SLA           none
	Breaker       opens after 5 failed runs in a row, 10 within 1h, or a fatal failure; a probe after 10m
	SQL
	    -- One run at a time writes the table: CREATE ... IF NOT EXISTS races with itself.
	    SELECT pg_advisory_xact_lock(hashtext(:'target'));
	    CREATE TABLE IF NOT EXISTS :"target" (day date PRIMARY KEY, orders integer NOT NULL, customers integer NOT NULL, revenue numeric(12,2) NOT NULL);
	    DELETE FROM :"target" WHERE day = :'key';
	    INSERT INTO :"target" (day, orders, customers, revenue)
	    SELECT day, count(*), count(DISTINCT customer_id), sum(amount) FROM demo.raw_orders WHERE day = :'key' GROUP BY day;
	Check raw_orders_present
	    SELECT count(*) > 0 FROM demo.raw_orders WHERE day = :'key'
END
ds -c 'pipeline show revenue_growth --json'
expect_exit 0
expect_eq "upstream" "$(json_get '{upstream}' <"$OUT")" \
	'[{"graph":"core","offset":0,"task":"orders_daily"},{"graph":"core","offset":-1,"task":"orders_daily"}]'
expect_eq "runs" "$(json_get '{runs}' <"$OUT")" \
	'{"blocked":0,"cancelled":2,"failed":0,"held":0,"queued":0,"running":1,"success":1}'
expect_eq "definition" "$(json_get '{definition}{retry_delay}' <"$OUT")" 60
ds -c 'pipeline show orders_dialy'
expect_exit 3
expect_stderr <<-'END'
	datashell: error: unknown task 'orders_dialy' (did you mean 'orders_daily'?)
	hint: 'pipeline list' shows the tasks and their graphs
END
end_case

begin "show gives a task's SLA, breaker and schedule settings in force"
use_stage loaded
cat >settings.json <<-'END'
	{"graphs": {"g": {"breaker": {"failures": 3, "cooldown": "15m"},
	                  "schedule": {"delay": "2h", "timezone": "Europe/Paris"}}},
	 "tasks": [
	  {"name": "a", "graph": "g", "key": "daily", "sql": "SELECT 1",
	   "sla": {"time": "06:00", "timezone": "Europe/Paris"}, "breaker": {"window": "30m", "failures": 1}},
	  {"name": "b", "graph": "g", "key": "hourly", "sql": "SELECT 1", "sla": {"within": "2h"},
	   "schedule": {"start": "2024-01-01T00", "catchup": "latest"}},
	  {"name": "c", "graph": "g", "key": "daily", "sql": "SELECT 1",
	   "sla": {"time": "23:00", "days_after": 0}, "schedule": false},
	  {"name": "n", "graph": "g", "key": "none", "command": "true"}]}
END
setup "$DATASHELL" -c 'pipeline load settings.json'
shown() {	# TASK: the lines of its settings
	ds -c "pipeline show $1"
	expect_exit 0
	grep -E '^(Schedule|SLA|Breaker) ' "$OUT"
}
expect_eq "a: its SLA, its breaker over its graph's, its graph's delay" "$(shown a)" \
"Schedule      none: run by hand; keys due 2h after the end (Europe/Paris)
SLA           by 06:00 the day after (Europe/Paris)
Breaker       opens after 1 failed run in a row, 10 within 30m, or a fatal failure; a probe after 15m"
expect_eq "b: scheduled, an SLA within, the graph's breaker" "$(shown b)" \
"Schedule      from 2024-01-01T00, due 2h after the end (Europe/Paris), catch-up latest, lookback 0, priority 10
SLA           within 2h of the end of its hour (UTC)
Breaker       opens after 3 failed runs in a row, 10 within 1h, or a fatal failure; a probe after 15m"
expect_eq "c: no schedule from the graph either; an SLA on the key's day" "$(shown c)" \
"Schedule      none: run by hand; keys due at the end (UTC)
SLA           by 23:00 on the key's day (UTC)
Breaker       opens after 3 failed runs in a row, 10 within 1h, or a fatal failure; a probe after 15m"
expect_eq "n: a key of none is always due, and has no SLA" "$(shown n)" \
"Schedule      none: run by hand
SLA           none
Breaker       opens after 3 failed runs in a row, 10 within 1h, or a fatal failure; a probe after 15m"
ds -c 'pipeline show a --json'
expect_exit 0
expect_eq "--json: sla" "$(json_get '{sla}' <"$OUT")" '{"days_after":1,"time":"06:00","timezone":"Europe/Paris"}'
expect_eq "--json: breaker in seconds" "$(json_get '{breaker}' <"$OUT")" \
	'{"cooldown":900,"failures":1,"window":1800,"window_failures":10}'
expect_eq "--json: not scheduled" "$(json_get '{scheduled}' <"$OUT")" false
expect_eq "--json: the schedule in force" "$(json_get '{schedule}' <"$OUT")" \
	'{"catchup":"all","delay":7200,"due":"end","lookback":0,"priority":10,"timezone":"Europe/Paris"}'
ds -c 'pipeline show n --json'
expect_eq "--json: none" "$(json_get '{sla}' <"$OUT") $(json_get '{schedule}' <"$OUT") $(json_get '{scheduled}' <"$OUT")" \
	'null null false'
end_case

begin "pause and resume a graph, audited; pausing twice says so"
use_stage loaded
ds -c 'pipeline pause core'
expect_exit 0
expect_stdout <<-'END'
	paused graph 'core'
END
expect_sql "paused" "SELECT paused || ':' || paused_by || ':' || (paused_at IS NOT NULL)
	FROM datashell.graphs WHERE name = 'core'" "true:postgres:true"
ds -c 'pipeline pause core --json'
expect_exit 0
expect_eq "changed" "$(json_get '{changed}' <"$OUT")" false
expect_eq "paused" "$(json_get '{paused}' <"$OUT")" true
ds -c 'pipeline pause core'
expect_stdout_matches "^graph 'core' was already paused \(since [0-9T:-]+Z by postgres\)$"
ds -c 'pipeline resume core'
expect_exit 0
expect_stdout <<-'END'
	resumed graph 'core'
END
expect_sql "resumed" "SELECT paused || ':' || coalesce(paused_by, '-')
	FROM datashell.graphs WHERE name = 'core'" "false:-"
expect_sql "audit" "SELECT string_agg(command, ', ' ORDER BY id) FROM datashell.audit_log
	WHERE command LIKE 'pipeline p%' OR command LIKE 'pipeline r%'" \
	"pipeline pause core, pipeline pause core --json, pipeline pause core, pipeline resume core"
ds -c 'pipeline resume cor'
expect_exit 3
expect_stderr <<-'END'
	datashell: error: unknown graph 'cor' (did you mean 'core'?)
	hint: 'pipeline list' shows the tasks and their graphs
END
end_case

begin "pause and resume --dry-run say what would change and change nothing"
use_stage loaded
audits=$(sql "SELECT count(*) FROM datashell.audit_log")
ds -c 'pipeline pause core --dry-run'
expect_exit 0
expect_stdout <<-'END'
	would pause graph 'core'; nothing was changed
END
ds -c 'pipeline pause core --dry-run --json'
expect_eq "would change" "$(json_get '{changed}' <"$OUT")" true
expect_eq "dry run" "$(json_get '{dry_run}' <"$OUT")" true
expect_sql "still running" "SELECT paused FROM datashell.graphs WHERE name = 'core'" f
expect_sql "no audit row" "SELECT count(*) FROM datashell.audit_log" "$audits"
ds -c 'pipeline resume core --dry-run'
expect_stdout <<-'END'
	graph 'core' was not paused
END
ds -c 'pipeline list --dry-run'
expect_exit 3
expect_stderr_matches "^datashell: error: 'pipeline list' takes no option '--dry-run'$"
end_case

begin "a load leaves a graph paused unless its file says otherwise"
use_stage loaded
ds -c 'pipeline pause marketing' -c "pipeline load $EXAMPLE"
expect_exit 0
expect_stdout_matches '^loaded 1 file: no changes \(5 tasks unchanged\)$'
expect_sql "still paused" "SELECT paused FROM datashell.graphs WHERE name = 'marketing'" t
perl -pe 's/"max_active": 2 \}/"max_active": 2, "paused": false }/' "$EXAMPLE" >resume.json
ds -c 'pipeline load resume.json'
expect_exit 0
expect_stdout <<-'END'
	changed graph 'marketing'
	loaded 1 file: 1 graph changed, 5 tasks unchanged
END
expect_sql "resumed" "SELECT paused FROM datashell.graphs WHERE name = 'marketing'" f
end_case

begin "usage: an unknown action or an option of another action"
use_stage initialized
ds -c 'pipeline lod x.json'
expect_exit 3
expect_stderr <<-'END'
	datashell: error: unknown action 'pipeline lod' (did you mean 'pipeline load'?)
	hint: usage: pipeline load|list|show|pause|resume
END
ds -c 'pipeline list --dry-run'
expect_exit 3
expect_stderr <<-'END'
	datashell: error: 'pipeline list' takes no option '--dry-run'
	hint: usage: pipeline list [--graph GRAPH]
END
end_case

done_testing
