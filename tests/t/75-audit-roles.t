#!/bin/sh
# The audit log and the roles: every command that changes state leaves exactly one row,
# failed and refused ones included; each role is refused every command it must not run,
# with a message naming the role it needs, and the state unchanged; passwords are masked
# in the log, the output and the echo; log reads the rows back.
. "$DS_TOP/tests/lib.sh"
# Roles and their memberships belong to the whole server, and a case here takes one of
# datashell's memberships away: that must not happen under the other scripts' feet, so
# this script has a server of its own, and its roles go with it.
use_private_server
use_fresh_database t_audit
export TZ=UTC
SHOP=$DS_TOP/tests/fixtures/shop.json

RUNS="backfill orders_raw 2024-03-01" FORCE="force-run orders_raw 2024-03-02"
ADMIN_ONLY="pipeline load $SHOP|pipeline pause core|pipeline resume core"

# A user with each of datashell's roles, and one with none. Their roles exist once init
# has run somewhere on the server.
VIEWER=t_audit_viewer OPERATOR=t_audit_operator ADMIN=t_audit_admin NOBODY=t_audit_nobody
"$DATASHELL" -c init >/dev/null 2>&1 || { echo "Bail out! init failed"; exit 1; }
sql "CREATE ROLE $VIEWER LOGIN IN ROLE datashell_viewer;
     CREATE ROLE $OPERATOR LOGIN IN ROLE datashell_operator;
     CREATE ROLE $ADMIN LOGIN IN ROLE datashell_admin;
     CREATE ROLE $NOBODY LOGIN" >/dev/null || { echo "Bail out! could not create the users"; exit 1; }

# The states the cases start from. shop: the fixture pipeline loaded. audited: then a
# command of each kind that changes state, batch 1 among them, a worker's run among
# them. operated: then the operator's backfill (its batch in $OPERATOR_BATCH), force-run,
# cancel and worker.
stage_empty() {
	use_fresh_database t_audit
}

stage_shop() {
	use_stage empty
	setup "$DATASHELL" -c init -c "pipeline load $SHOP"
}

stage_audited() {
	use_stage shop
	# The drain leaves orders_clean 2024-01-01 and revenue 2024-01-05 stuck: exit 3.
	setup_failing "$DATASHELL" --keep-going -c "pipeline pause core" -c "pipeline resume core" \
		-c "backfill orders_raw 2024-01-01..2024-01-03" -c "force-run orders_clean 2024-01-01" \
		-c "cancel orders_raw 2024-01-02..2024-01-03 --yes" -c "backfill revenue 2024-01-05" \
		-c "cancel 1 --yes" -c "worker --drain" -c "pipeline load $SHOP"
}

stage_operated() {
	use_stage audited
	OPERATOR_BATCH=$(PGUSER=$OPERATOR "$DATASHELL" -c "$RUNS --json" | json_get '{batch}')
	setup_failing env PGUSER=$OPERATOR "$DATASHELL" -c "$FORCE" -c "cancel $OPERATOR_BATCH --yes" \
		-c "worker --drain"
}

# The rows whose command is exactly LINE, as "outcome" lines.
audited() {	# LINE
	sql "SELECT count(*) FROM datashell.audit_log WHERE command = \$\$$1\$\$"
}

# Everything the commands under test may change, audit log aside.
state_md5_sql() {
	echo "SELECT md5(concat_ws('|',
	       (SELECT string_agg(concat_ws(',', id, state, batch_id, cancel_requested), ';'
	                          ORDER BY id) FROM datashell.runs),
	       (SELECT string_agg(concat_ws(',', id, runs, cancelled_at), ';' ORDER BY id)
	        FROM datashell.batches),
	       (SELECT string_agg(concat_ws(',', name, paused, max_active), ';' ORDER BY name)
	        FROM datashell.graphs),
	       (SELECT string_agg(concat_ws(',', name, loaded_at, removed_at), ';' ORDER BY name)
	        FROM datashell.tasks),
	       (SELECT count(*) FROM datashell.workers)))"
}

state_md5() {
	sql "$(state_md5_sql)"
}

begin "init creates three NOLOGIN roles, each a member of the one before"
use_stage empty
ds -c init -c "pipeline load $SHOP"
expect_exit 0
expect_sql "roles" "SELECT string_agg(r.rolname || ':' || r.rolcanlogin || ':' ||
	coalesce((SELECT string_agg(m.roleid::regrole::text, ',') FROM pg_auth_members m
	          WHERE m.member = r.oid), ''), ' ' ORDER BY r.rolname)
	FROM pg_roles r WHERE r.rolname LIKE 'datashell\_%'" \
	"datashell_admin:false:datashell_operator datashell_operator:false:datashell_viewer datashell_viewer:false:"
end_case

begin "every command that changes state is in the audit log exactly once"
use_stage shop
for line in "pipeline pause core" "pipeline resume core" \
	"backfill orders_raw 2024-01-01..2024-01-03" "force-run orders_clean 2024-01-01" \
	"cancel orders_raw 2024-01-02..2024-01-03 --yes" "backfill revenue 2024-01-05" "cancel 1 --yes" \
	"worker --drain" "pipeline load $SHOP"; do
	before=$(audited "$line")
	ds -c "$line"
	# The drain leaves the runs behind the cancelled ones stuck, and says so.
	if [ "$line" = "worker --drain" ]; then expect_exit 3; else expect_exit 0; fi
	expect_eq "rows for '$line'" "$(audited "$line")" $((before + 1))
done
expect_sql "outcomes" "SELECT string_agg(DISTINCT o, ',' ORDER BY o)
	FROM (SELECT outcome || ' ' || (command = 'worker --drain') AS o FROM datashell.audit_log) a" \
	"failed true,ok false"
end_case

begin "what a command touched is in its row"
use_stage audited
ds -c "backfill orders_report 2024-01-01 --json"
expect_exit 0
batch=$(json_get '{batch}' <"$OUT")
expect_sql "backfill's batch" "SELECT detail->>'batch' || ' ' || (detail->>'runs')
	FROM datashell.audit_log WHERE command = 'backfill orders_report 2024-01-01 --json'" \
	"$batch 1"
ds -c "cancel $batch --yes"
expect_sql "cancel's batch" "SELECT detail->>'batch' || ' ' || (detail->>'dequeued')
	FROM datashell.audit_log WHERE command = 'cancel $batch --yes'" "$batch 1"
expect_sql "the worker's session" "SELECT detail ? 'runs' AND detail->>'worker' LIKE '%:%'
	FROM datashell.audit_log WHERE command = 'worker --drain'" t
expect_sql "user and client" "SELECT db_user || ':' || coalesce(host(client_addr), 'socket')
	FROM datashell.audit_log WHERE command = 'cancel $batch --yes'" "postgres:socket"
end_case

begin "commands that change nothing leave no row"
use_stage shop
before=$(sql "SELECT count(*) FROM datashell.audit_log")
ds -c status -c log -c "pipeline list" -c "pipeline show orders_raw" -c init -c schedule \
	-c "backfill orders_raw 2024-02 --dry-run" -c "pipeline load --dry-run $SHOP" \
	-c "init --dry-run" -c "backfill ordres_raw 2024-01-01"
expect_exit 3
expect_stderr_matches "unknown task 'ordres_raw'"
expect_sql "rows" "SELECT count(*) FROM datashell.audit_log" "$before"
end_case

begin "a failed command leaves one row, failed, with its error, and changes nothing"
use_stage shop
state_md5 >"$WORK/before"
ds -c "cancel 999"
expect_exit 3
expect_stderr_matches "no batch 999"
ds -c "pipeline load missing.json"
expect_exit 3
expect_sql "cancel's row" "SELECT outcome || ': ' || error FROM datashell.audit_log
	WHERE command = 'cancel 999'" "failed: no batch 999"
expect_sql "load's row" "SELECT count(*) || ' ' || min(outcome) FROM datashell.audit_log
	WHERE command = 'pipeline load missing.json'" "1 failed"
expect_sql "state" "$(state_md5_sql)" "$(cat "$WORK/before")"
end_case

# Refuse every LINE for USER: exit 3, the role named, nothing changed, the refusal logged.
expect_refused() {	# USER ROLE LINE...
	user=$1 role=$2
	shift 2
	for line in "$@"; do
		state_md5 >"$WORK/before"
		what=$(echo "$line" | sed -E 's/^((pipeline|breaker|alerts) [a-z]+|[a-z-]+).*/\1/')
		ds_as "$user" -c "$line"
		expect_exit 3
		expect_stderr_matches "^datashell: error: $what needs the $role role \\(you are $user\\)$"
		expect_stderr_matches "^hint: a database administrator can run: GRANT $role TO $user; "
		expect_sql "state after '$line' as $user" "$(state_md5_sql)" "$(cat "$WORK/before")"
		expect_sql "refusal of '$line' logged" "SELECT count(*) FROM datashell.audit_log
			WHERE command = \$\$$line\$\$ AND db_user = '$user' AND outcome = 'failed'
			AND error LIKE '%needs the $role role%'" 1
	done
}

begin "a viewer reads, and is refused everything that changes state"
use_stage audited
ds_as $VIEWER -c status -c log -c "pipeline list" -c "pipeline show orders_raw" \
	-c "status orders_raw 2024-01-01" -c "status 1" -c "alerts" -c "breaker list" \
	-c schedule -c "schedule orders_raw" -c "why orders_clean 2024-01-01" -c handoff -c metrics
expect_exit 0
expect_stdout_matches '^stuck: only a person can move it$'
IFS='|'
set -- $ADMIN_ONLY
unset IFS
expect_refused $VIEWER datashell_operator "$RUNS" "$FORCE" "cancel 1" \
	"cancel orders_raw 2024-01-01" "worker --drain" "breaker trip orders_raw --reason x" \
	"breaker reset orders_raw --yes" "alerts ack 1" "alerts resolve 1"
expect_refused $VIEWER datashell_admin "$@"
end_case

begin "an operator runs and stops work, and is refused the definitions"
use_stage audited
ds_as $OPERATOR -c "$RUNS --json"
expect_exit 0
batch=$(json_get '{batch}' <"$OUT")
ds_as $OPERATOR -c "$FORCE" -c "cancel $batch --yes" -c "worker --drain"
# It ran the operator's run; the runs the audited stage left stuck are still there.
expect_exit 3
expect_stderr_matches '^datashell: error: the worker drained the queue, but 2 runs were left waiting:$'
expect_sql "the operator's worker ran" "SELECT count(*) FROM datashell.runs
	WHERE key = '2024-03-02' AND state = 'success'" 1
IFS='|'
set -- $ADMIN_ONLY
unset IFS
expect_refused $OPERATOR datashell_admin "$@"
end_case

begin "an operator cannot point a run elsewhere, nor give one a key its task does not have"
use_stage audited
state_md5 >"$WORK/before"
for change in "key = '2024-09-09'" "task_id = task_id" "swap_id = NULL" \
	"target = 'public.elsewhere'"; do
	out=$(PGUSER=$OPERATOR sql "UPDATE datashell.runs SET $change" 2>&1)
	expect_eq "UPDATE runs SET $change" \
		"$(echo "$out" | grep -cE 'permission denied for table runs|column "target" of relation "runs" does not exist')" 1
done
out=$(PGUSER=$OPERATOR sql "INSERT INTO datashell.runs (task_id, key)
	SELECT id, 'not-a-date' FROM datashell.tasks WHERE name = 'orders_raw'" 2>&1)
expect_eq "a malformed key" "$(echo "$out" | head -1)" \
	"ERROR:  run of task orders_raw for key 'not-a-date' refused: 'not-a-date' is not a key of task orders_raw, whose keys are dates (2024-01-05)"
expect_sql "state" "$(state_md5_sql)" "$(cat "$WORK/before")"
ds_as $OPERATOR -c "$FORCE" -c "worker --drain"
expect_exit 3
expect_sql "the queue works" "SELECT state FROM datashell.runs WHERE key = '2024-03-02'" success
end_case

begin "an admin changes definitions; only the schema's owner runs init"
use_stage shop
ds_as $ADMIN -c "pipeline pause core" -c "pipeline resume core" -c "pipeline load $SHOP"
expect_exit 0
state_md5 >"$WORK/before"
ds_as $ADMIN -c init
expect_exit 3
expect_stderr_matches "^datashell: error: init needs the owner of schema 'datashell' in database 't_audit' \\(you are $ADMIN\\)"
expect_sql "state" "$(state_md5_sql)" "$(cat "$WORK/before")"
end_case

begin "a user with none of the roles is told the least one"
use_stage shop
ds_as $NOBODY -c status
expect_exit 3
expect_stderr_matches "^datashell: error: status needs the datashell_viewer role \\(you are $NOBODY\\)$"
ds_as $NOBODY -c log
expect_exit 3
expect_stderr_matches "^datashell: error: log needs the datashell_viewer role"
end_case

begin "nobody but the owner writes the log directly"
use_stage shop
out=$(PGUSER=$ADMIN sql "INSERT INTO datashell.audit_log (command, outcome) VALUES ('x', 'ok')" 2>&1)
expect_eq "insert refused" "$(echo "$out" | grep -c 'permission denied')" 1
out=$(PGUSER=$ADMIN sql "DELETE FROM datashell.audit_log" 2>&1)
expect_eq "delete refused" "$(echo "$out" | grep -c 'permission denied')" 1
out=$(PGUSER=$NOBODY sql "SELECT datashell.audit_write('x', 'ok', NULL, NULL)" 2>&1)
expect_eq "no role, no writing" "$(echo "$out" | grep -c 'permission denied')" 1
PGUSER=$VIEWER sql "SELECT datashell.audit_write('by hand', 'ok', NULL, NULL)" >/dev/null
expect_sql "a row names who wrote it" "SELECT db_user FROM datashell.audit_log
	WHERE command = 'by hand'" $VIEWER
end_case

begin "init restores grants changed by hand, and says it in the log"
use_stage shop
sql "GRANT DELETE ON datashell.runs TO datashell_viewer; REVOKE datashell_viewer FROM datashell_operator" >/dev/null
ds -c init
expect_exit 0
expect_sql "grant undone" "SELECT has_table_privilege('datashell_viewer', 'datashell.runs', 'DELETE')" f
expect_sql "membership back" "SELECT pg_has_role('datashell_operator', 'datashell_viewer', 'MEMBER')" t
expect_sql "logged" "SELECT detail->>'grants_changed' FROM datashell.audit_log
	WHERE command = 'init' ORDER BY id DESC LIMIT 1" true
end_case

begin "passwords are masked in the log, the output and the echo"
use_stage shop
ds -e -c "pipeline load 'host=db password=hunter2'" \
	-c "cancel postgresql://bob:s3cret@db/x?password=pw2 2024-01-01"
expect_exit 3
expect_stdout <<-'END'
	pipeline load 'host=db password=***'
END
for secret in hunter2 s3cret pw2; do
	expect_eq "$secret in stdout and stderr" "$(cat "$OUT" "$ERR" | grep -c "$secret")" 0
	expect_sql "$secret in the log" "SELECT count(*) FROM datashell.audit_log
		WHERE command || coalesce(error, '') LIKE '%$secret%'" 0
done
expect_sql "logged masked" "SELECT command || ' | ' || error FROM datashell.audit_log
	WHERE command LIKE 'pipeline load ''host=db%'" \
	"pipeline load 'host=db password=***' | host=db password=*** cannot open the file: No such file or directory"
ds --keep-going -c "cancel postgresql://bob:s3cret@db/x?password=pw2 2024-01-01"
expect_eq "in an error" "$(grep -c 's3cret\|pw2' "$ERR")" 0
end_case

begin "log shows the rows of a user, a command and a period, oldest first"
use_stage operated
batch=$OPERATOR_BATCH
ds -c "log --user $OPERATOR --command cancel --json"
expect_exit 0
expect_eq "rows" "$(json_get '' <"$OUT" | perl -MJSON::PP -e '
	local $/; my $d = JSON::PP->new->decode(<STDIN>);
	print join ",", map { "$_->{user}:$_->{command}:$_->{outcome}:" . ($_->{client} // "null") } @$d')" \
	"$OPERATOR:cancel $batch --yes:ok:null"
expect_eq "fields" "$(json_get '[0]' <"$OUT" | perl -MJSON::PP -e '
	local $/; print join ",", sort keys %{ JSON::PP->new->decode(<STDIN>) }')" \
	"at,client,command,detail,error,outcome,touched,user"
ds -c "log --user $OPERATOR --command backfill"
expect_stdout_matches "^ [0-9T:Z-]{20}( \\([^)]*\\))? +\\| $OPERATOR \\|  *\\| $RUNS --json +\\| ok +\\| batch $batch, runs 1 +\\| *$"
# Once every row is more than a second old, pause and ask for the last second in one
# shell, so that however slow the machine the pause is in it.
wait_until "(SELECT max(at) FROM datashell.audit_log) < now() - interval '1 second'"
ds -c "pipeline pause core" -c "log --since 1s --json"
sed 1d "$OUT" >"$WORK/log.json"
expect_eq "the last second" "$(json_get '[0]{command}' <"$WORK/log.json")" "pipeline pause core"
expect_eq "only it" "$(json_get '[1]' <"$WORK/log.json")" null
end_case

begin "log refuses a bad duration or command, and names the fix"
use_stage shop
ds -c "log --since 3x"
expect_exit 3
expect_stderr <<-'END'
	datashell: error: '--since 3x' is not a duration
	hint: write a number and a unit: 90m, 24h, 7d, 2w
END
ds -c "log --command bakfill"
expect_exit 3
expect_stderr_matches "unknown command 'bakfill' \\(did you mean 'backfill'\\?\\)"
end_case

done_testing
