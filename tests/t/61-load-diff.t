#!/bin/sh
# What a load changes, line by line: pipeline load --dry-run, and the confirmation a load
# asks at a terminal, show each changed task and graph as a unified diff of the stored
# definition against the file's (fields as JSON in a fixed order, the SQL or command as
# its own lines); a load in a script prints none, and --json has them as "diff".
. "$DS_TOP/tests/lib.sh"
use_fresh_database t_load_diff
cd "$WORK" || exit 1

# A key some days before today (UTC): the schedule's start, so that a pass has little to do.
days_ago() {	# N
	date -u -d "-$1 days" +%Y-%m-%d
}
START=$(days_ago 2)

# FILE: graph core with three tasks, an SQL one over several lines, a scheduled one and a
# command; each SED-EXPRESSION then changes the file.
write_pipeline() {	# FILE [SED-EXPRESSION...]
	t_file=$1
	shift
	cat >"$t_file" <<-END
	{"graphs": {"core": {"max_active": 4}},
	 "tasks": [
	  {"name": "orders", "graph": "core", "key": "daily", "target": "orders",
	   "sql": "DELETE FROM orders WHERE day = {{key}};\\nINSERT INTO orders\\nSELECT day, sum(amount)\\nFROM raw_orders\\nWHERE day = {{key}}\\nGROUP BY day"},
	  {"name": "clicks", "graph": "core", "key": "daily", "retries": 1, "sql": "SELECT 1",
	   "schedule": {"start": "$START", "delay": "2h"}},
	  {"name": "report", "graph": "core", "key": "daily", "command": "echo report",
	   "depends_on": ["orders"]}
	 ]}
	END
	for t_e in "$@"; do
		sed "$t_e" "$t_file" >"$t_file.tmp" && mv "$t_file.tmp" "$t_file"
	done
}

# The edit most cases make: a changed line in the middle of orders' SQL.
SQL_EDIT='s/sum(amount)/sum(amount) AS amount/'

stage_loaded() {
	use_fresh_database t_load_diff
	write_pipeline p.json
	setup "$DATASHELL" -c init -c "pipeline load p.json"
}

# orders' SQL as stored.
stored_sql() {
	sql "SELECT definition->>'sql' FROM datashell.tasks WHERE name = 'orders'"
}

begin "a dry run shows the old and new lines of a changed SQL task, and nothing of the others"
use_stage loaded
write_pipeline new.json "$SQL_EDIT"
ds -c 'pipeline load --dry-run new.json'
expect_exit 0
expect_stdout <<-'END'
	would change task 'orders' (graph 'core')
	--- stored
	+++ new.json
	@@ -15,7 +15,7 @@
	 sql:
	     DELETE FROM orders WHERE day = {{key}};
	     INSERT INTO orders
	-    SELECT day, sum(amount)
	+    SELECT day, sum(amount) AS amount
	     FROM raw_orders
	     WHERE day = {{key}}
	     GROUP BY day
	changed task 'orders': new version, no complete key would become stale
	would load 1 file: 1 task changed, 2 tasks unchanged; nothing was changed
END
expect_eq "stderr" "$(cat "$ERR")" ""
end_case

begin "a change to retries, a schedule's delay or a graph shows that field's lines"
use_stage loaded
write_pipeline new.json 's/"retries": 1/"retries": 3/' 's/"delay": "2h"/"delay": "3h"/' \
	's/"max_active": 4/"max_active": 2/'
ds -c 'pipeline load --dry-run new.json'
expect_exit 0
expect_stdout <<-END
	would change graph 'core'
	--- stored
	+++ new.json
	@@ -1,6 +1,6 @@
	 {
	   "name": "core",
	-  "max_active": 4,
	+  "max_active": 2,
	   "paused": false,
	   "breaker": {},
	   "schedule": {}
	would change task 'clicks' (graph 'core')
	--- stored
	+++ new.json
	@@ -4,7 +4,7 @@
	   "key": "daily",
	   "target": null,
	   "depends_on": [],
	-  "retries": 1,
	+  "retries": 3,
	   "retry_delay": 60,
	   "timeout": null,
	   "checks": [],
	@@ -12,7 +12,7 @@
	   "breaker": {},
	   "sla": null,
	   "schedule": {
	-    "delay": 7200,
	+    "delay": 10800,
	     "start": "$START"
	   }
	 }
	changed task 'clicks': same version, no key would become stale
	would load 1 file: 1 graph changed, 1 task changed, 2 tasks unchanged; nothing was changed
END
end_case

begin "the same files again, or only added and removed tasks, show no diff"
use_stage loaded
ds -c 'pipeline load --dry-run p.json'
expect_exit 0
expect_stdout <<-'END'
	would load 1 file: no changes (3 tasks unchanged); nothing was changed
END
write_pipeline new.json 's/"name": "clicks"/"name": "views"/'
ds -c 'pipeline load --dry-run new.json'
expect_exit 0
expect_stdout <<-'END'
	would add task 'views' (graph 'core')
	would remove task 'clicks' (graph 'core')
	the next schedule pass would enqueue 2 runs: views 2
	would load 1 file: 1 task added, 1 task removed, 2 tasks unchanged; nothing was changed
END
end_case

begin "a load in a script says what changed, without the diff, and loads it"
use_stage loaded
write_pipeline new.json "$SQL_EDIT"
ds -c 'pipeline load new.json'
expect_exit 0
expect_stdout <<-'END'
	changed task 'orders' (graph 'core')
	changed task 'orders': new version, no complete key becomes stale
	loaded 1 file: 1 task changed, 2 tasks unchanged
END
expect_eq "the SQL loaded" "$(stored_sql | sed -n 3p)" "SELECT day, sum(amount) AS amount"
end_case

begin "--json gives each changed task and graph its diff, and nothing to the others"
use_stage loaded
write_pipeline new.json "$SQL_EDIT" 's/"name": "clicks"/"name": "views"/'
ds -c 'pipeline load --dry-run new.json --json'
expect_exit 0
json_get '{changes}' <"$OUT" >changes.json
expect_eq "the changes" "$(perl -MJSON::PP -e '
	local $/; my $c = JSON::PP->new->decode(<STDIN>);
	print join ",", map { "$_->{name}:$_->{change}:" . (exists $_->{diff} ? "diff" : "none") } @$c;
' <changes.json)" "orders:changed:diff,views:added:none,clicks:removed:none"
expect_eq "orders' diff" "$(json_get '{changes}[0]{diff}' <"$OUT" | grep '^[-+]')" "--- stored
+++ new.json
-    SELECT day, sum(amount)
+    SELECT day, sum(amount) AS amount"
ds -c 'pipeline load new.json --json'
expect_exit 0
expect_stdout_matches '"diff": "--- stored\\n\+\+\+ new.json\\n@@ -15,7 \+15,7 @@\\n sql:'
end_case

begin "no colour in a pipe; on a terminal, removed lines red and added lines green"
use_stage loaded
write_pipeline new.json "$SQL_EDIT"
ds -c 'pipeline load --dry-run new.json'
expect_exit 0
if grep -q "$(printf '\033')" "$OUT"; then fail "escape sequences in a pipe: $(cat -v "$OUT")"; fi
# The suite sets NO_COLOR (lib.sh); a terminal without it has colour.
env -u NO_COLOR TERM=xterm DATASHELL_PAGER= \
	script -qec "$DATASHELL -c 'pipeline load --dry-run new.json'" /dev/null </dev/null \
	>tty.out 2>&1
tr -d '\r' <tty.out | cat -v >tty.txt
grep -qxF '^[[31m-    SELECT day, sum(amount)^[[0m' tty.txt ||
	fail "no red removed line on a terminal: $(cat tty.txt)"
grep -qxF '^[[32m+    SELECT day, sum(amount) AS amount^[[0m' tty.txt ||
	fail "no green added line on a terminal: $(cat tty.txt)"
grep -qxF '^[[36m@@ -15,7 +15,7 @@^[[0m' tty.txt || fail "no hunk header in colour: $(cat tty.txt)"
grep -qxF "would change task 'orders' (graph 'core')" tty.txt ||
	fail "the change's line is coloured: $(cat tty.txt)"
NO_COLOR=1 TERM=xterm DATASHELL_PAGER= \
	script -qec "$DATASHELL -c 'pipeline load --dry-run new.json'" /dev/null </dev/null \
	>tty.out 2>&1
if grep -q "$(printf '\033')" tty.out; then fail "colour with NO_COLOR: $(cat -v tty.out)"; fi
end_case

begin "a long SQL body with one line changed shows that line with its context only"
use_stage loaded
perl -e 'print "{\"graphs\": {\"core\": {\"max_active\": 4}}, \"tasks\": [",
	"{\"name\": \"big\", \"graph\": \"core\", \"key\": \"daily\", \"sql\": \"",
	join("\\n", map { "SELECT $_ AS n" } 1 .. 5000), "\"}]}\n"' >big.json
setup "$DATASHELL" -c 'pipeline load big.json'
sed 's/SELECT 2500 AS n/SELECT 2500 AS m/' big.json >big2.json
ds -c 'pipeline load --dry-run big2.json'
expect_exit 0
expect_stdout <<-'END'
	would change task 'big' (graph 'core')
	--- stored
	+++ big2.json
	@@ -2512,7 +2512,7 @@
	     SELECT 2497 AS n
	     SELECT 2498 AS n
	     SELECT 2499 AS n
	-    SELECT 2500 AS n
	+    SELECT 2500 AS m
	     SELECT 2501 AS n
	     SELECT 2502 AS n
	     SELECT 2503 AS n
	changed task 'big': new version, no complete key would become stale
	would load 1 file: 1 task changed; nothing was changed
END
end_case

begin "at a terminal, a load that changes a task shows the diff before asking; no changes nothing"
use_stage loaded
write_pipeline new.json "$SQL_EDIT"
TERM=xterm DATASHELL_PAGER= "$DS_PTYRUN" -t 15 -- "$DATASHELL" >"$OUT" 2>"$ERR" <<-'END'
	expect datashell> $
	sendline pipeline load new.json
	expect would change task 'orders' \(graph 'core'\)
	expect --- stored
	expect \+\+\+ new.json
	expect @@ -15,7 \+15,7 @@
	expect -    SELECT day, sum\(amount\)
	expect \+    SELECT day, sum\(amount\) AS amount
	expect load the files\? \[y/N\] $
	sendline n
	expect nothing changed: did not load the files
	expect datashell> $
	sendline quit
	wait 0
END
CODE=$?
expect_exit 0
expect_eq "the SQL stored" "$(stored_sql | sed -n 3p)" "SELECT day, sum(amount)"
expect_sql "no load audited" "
	SELECT count(*) FROM datashell.audit_log
	WHERE command = 'pipeline load new.json' AND outcome = 'ok'" 0
end_case

begin "at a terminal, yes loads the change and says it without the diff again"
use_stage loaded
write_pipeline new.json "$SQL_EDIT"
TERM=xterm DATASHELL_PAGER= "$DS_PTYRUN" -t 15 -- "$DATASHELL" >"$OUT" 2>"$ERR" <<-'END'
	expect datashell> $
	sendline pipeline load new.json
	expect load the files\? \[y/N\] $
	sendline y
	expect changed task 'orders' \(graph 'core'\)
	expect-not ^--- stored
	expect loaded 1 file: 1 task changed, 2 tasks unchanged
	expect datashell> $
	sendline pipeline load new.json --yes
	expect loaded 1 file: no changes
	expect datashell> $
	sendline quit
	wait 0
END
CODE=$?
expect_exit 0
expect_eq "the SQL stored" "$(stored_sql | sed -n 3p)" "SELECT day, sum(amount) AS amount"
end_case

done_testing
