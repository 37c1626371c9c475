#!/bin/sh
# What each role may do to the state schema, tried: every table (SELECT, INSERT, UPDATE
# of each column, DELETE, TRUNCATE), sequence and function of a fresh schema, as each of
# datashell's roles and as a role with none of them, each statement run as that role in a
# subtransaction that is rolled back. What to try is read from the catalog, so a new
# table, column or function is tried as well, and fails here until the matrix below says
# who may use it. Also: the functions' search_path, PUBLIC, and who owns what.
. "$DS_TOP/tests/lib.sh"
# The role with none of datashell's roles belongs to the whole server: this script has a
# server of its own, and the role goes with it.
use_private_server
use_fresh_database t_priv
NOBODY=t_priv_nobody
ROLES=$NOBODY,datashell_viewer,datashell_operator,datashell_admin
SCHEMA=priv
DATASHELL_SCHEMA=$SCHEMA "$DATASHELL" -c init >/dev/null 2>&1 || { echo "Bail out! init failed"; exit 1; }
psql -X -q -c "CREATE ROLE $NOBODY NOLOGIN" || { echo "Bail out! no role $NOBODY"; exit 1; }

# Who may do what: one line per table and privilege (per column for UPDATE), sequence
# and function, then y (allowed) or - (refused) for a role with none of datashell's
# roles, a viewer, an operator and an admin. The grants are core/sql/definitions/
# 90-grants.sql, which says why each is as it is; in short:
# - a viewer reads every table and nothing else, and writes the audit log through
#   audit_write only (and concludes its own waiting rows through audit_conclude);
# - an operator (workers, backfill, cancel, breakers, alerts) inserts runs, batches,
#   alerts, breakers, workers and the records of keys (partitions, swap_partitions), and
#   updates only the columns that claiming, renewing, finishing, reaping and cancelling
#   change: never what a row is about (a run's task_id, key, swap_id and place in the
#   queue; an alert's kind, incident, task; a worker's name; a record's task, key and
#   table) nor when it was made;
# - an admin also writes the definitions (graphs, tasks, task_deps) and the swap journal;
# - nobody but the owner deletes or truncates a table, but a batch that enqueued nothing,
#   or writes schema_migrations, schema_definitions or audit_log, or executes a trigger
#   function; swap_move_records, run as the owner, moves the records of a swap's tables
#   for the admin; prune_runs, run as the owner, deletes the old runs that no key needs
#   for the operator; PUBLIC executes nothing.
MATRIX='
#                                                              nobody viewer operator admin
alert_json(alerts)                                   EXECUTE   -      -      y        y
alerts                                               SELECT    -      y      y        y
alerts                                               INSERT    -      -      y        y
alerts.acked_at                                      UPDATE    -      -      y        y
alerts.acked_by                                      UPDATE    -      -      y        y
alerts.count                                         UPDATE    -      -      y        y
alerts.detail                                        UPDATE    -      -      y        y
alerts.first_seen                                    UPDATE    -      -      -        -
alerts.hook_at                                       UPDATE    -      -      y        y
alerts.hook_attempts                                 UPDATE    -      -      y      y
alerts.hook_error                                    UPDATE    -      -      y        y
alerts.hook_lease_until                              UPDATE    -      -      y      y
alerts.hook_next_at                                  UPDATE    -      -      y      y
alerts.id                                            UPDATE    -      -      -        -
alerts.incident                                      UPDATE    -      -      -        -
alerts.key                                           UPDATE    -      -      y        y
alerts.keys                                          UPDATE    -      -      y      y
alerts.kind                                          UPDATE    -      -      -        -
alerts.last_seen                                     UPDATE    -      -      y        y
alerts.resolved_at                                   UPDATE    -      -      y        y
alerts.resolved_by                                   UPDATE    -      -      y        y
alerts.runs                                          UPDATE    -      -      y      y
alerts.severity                                      UPDATE    -      -      y      y
alerts.state                                         UPDATE    -      -      y        y
alerts.summary                                       UPDATE    -      -      y        y
alerts.task                                          UPDATE    -      -      -        -
alerts.told                                          UPDATE    -      -      y      y
alerts.told_severity                                 UPDATE    -      -      y      y
alerts.worker                                        UPDATE    -      -      -        -
alerts                                               DELETE    -      -      -        -
alerts                                               TRUNCATE  -      -      -        -
alerts_id_seq                                        USAGE     -      -      y        y
audit_conclude(int8,text,text,jsonb)                 EXECUTE   -      y      y        y
audit_log                                            SELECT    -      y      y        y
audit_log                                            INSERT    -      -      -        -
audit_log.at                                         UPDATE    -      -      -        -
audit_log.client_addr                                UPDATE    -      -      -        -
audit_log.command                                    UPDATE    -      -      -        -
audit_log.db_user                                    UPDATE    -      -      -        -
audit_log.detail                                     UPDATE    -      -      -        -
audit_log.error                                      UPDATE    -      -      -        -
audit_log.id                                         UPDATE    -      -      -        -
audit_log.outcome                                    UPDATE    -      -      -        -
audit_log                                            DELETE    -      -      -        -
audit_log                                            TRUNCATE  -      -      -        -
audit_log_id_seq                                     USAGE     -      -      -        -
audit_write(text,text,text,jsonb)                    EXECUTE   -      y      y        y
backfill_swap_of(text,jsonb)                         EXECUTE   -      y      y        y
writes_swap_database(jsonb,text)                     EXECUTE   -      y      y        y
swap_names_target(text,text,regclass,text,text,jsonb) EXECUTE  -      y      y        y
batches                                              SELECT    -      y      y        y
batches                                              INSERT    -      -      y        y
batches.cancelled_at                                 UPDATE    -      -      y        y
batches.cancelled_by                                 UPDATE    -      -      y        y
batches.command                                      UPDATE    -      -      -        -
batches.created_at                                   UPDATE    -      -      -        -
batches.created_by                                   UPDATE    -      -      -        -
batches.id                                           UPDATE    -      -      -        -
batches.kind                                         UPDATE    -      -      -        -
batches.max_active                                   UPDATE    -      -      -        -
batches.runs                                         UPDATE    -      -      y        y
batches                                              DELETE    -      -      y        y
batches                                              TRUNCATE  -      -      -        -
batches_id_seq                                       USAGE     -      -      y        y
breaker_setting(int4,text)                           EXECUTE   -      -      y        y
breakers                                             SELECT    -      y      y        y
breakers                                             INSERT    -      -      y        y
breakers.consecutive                                 UPDATE    -      -      y        y
breakers.manual                                      UPDATE    -      -      y        y
breakers.opened_at                                   UPDATE    -      -      y        y
breakers.opened_by                                   UPDATE    -      -      y        y
breakers.probe_run_id                                UPDATE    -      -      y        y
breakers.reason                                      UPDATE    -      -      y        y
breakers.recent                                      UPDATE    -      -      y        y
breakers.retry_at                                    UPDATE    -      -      y        y
breakers.state                                       UPDATE    -      -      y        y
breakers.task_id                                     UPDATE    -      -      -        -
capped_batches                                       SELECT    -      y      y        y
capped_batches                                       INSERT    -      -      -        -
capped_batches.id                                    UPDATE    -      -      -        -
capped_batches.max_active                            UPDATE    -      -      -        -
capped_batches                                       DELETE    -      -      -        -
cause_line(int4,text,text,text,text)                 EXECUTE   -      y      y        y
breakers                                             DELETE    -      -      -        -
breakers                                             TRUNCATE  -      -      -        -
check_slas()                                         EXECUTE   -      -      y        y
connection_reached(text,timestamptz)                 EXECUTE   -      -      y        y
connection_refused(text,text,int8,text)              EXECUTE   -      -      y        y
connections                                          SELECT    -      y      y        y
connections                                          INSERT    -      -      -        y
connections.conninfo                                 UPDATE    -      -      -        y
connections.loaded_at                                UPDATE    -      -      -        y
connections.name                                     UPDATE    -      -      -        y
connections.source                                   UPDATE    -      -      -        y
connections                                          DELETE    -      -      -        y
connections                                          TRUNCATE  -      -      -        -
done_keys                                            SELECT    -      y      y        y
done_keys                                            INSERT    -      -      -        -
done_keys.key                                        UPDATE    -      -      -        -
done_keys.task_id                                    UPDATE    -      -      -        -
done_keys                                            DELETE    -      -      -        -
due_refusal(text,text,jsonb)                         EXECUTE   -      -      y        y
end_run(int8,text,int4,text,int4,text,text,text,bool) EXECUTE   -      -      y        y
graphs                                               SELECT    -      y      y        y
graphs                                               INSERT    -      -      -        y
graphs.breaker                                       UPDATE    -      -      -        y
graphs.max_active                                    UPDATE    -      -      -        y
graphs.name                                          UPDATE    -      -      -        y
graphs.paused                                        UPDATE    -      -      -        y
graphs.paused_at                                     UPDATE    -      -      y        y
graphs.paused_by                                     UPDATE    -      -      -        y
graphs.removed_at                                    UPDATE    -      -      -        y
graphs.schedule                                      UPDATE    -      -      -        y
graphs                                               DELETE    -      -      -        -
graphs                                               TRUNCATE  -      -      -        -
held_tasks                                           SELECT    -      y      y        y
held_tasks                                           INSERT    -      -      -        -
held_tasks.task_id                                   UPDATE    -      -      -        -
held_tasks                                           DELETE    -      -      -        -
hold_task(int4)                                      EXECUTE   -      -      y        y
hook_action(alerts)                                  EXECUTE   -      y      y      y
hook_backoff(int4)                                   EXECUTE   -      -      y      y
iso_utc(timestamptz)                                 EXECUTE   -      y      y        y
key_ord(text)                                        EXECUTE   -      y      y        y
key_refusal(text,text,text)                          EXECUTE   -      -      y        y
key_root_cause(int4,text)                            EXECUTE   -      y      y        y
key_due_at(text,text,jsonb)                          EXECUTE   -      y      y        y
key_late(text,text,jsonb,jsonb,text,timestamptz)    EXECUTE   -      y      y        y
key_series(text,text,text)                           EXECUTE   -      y      y        y
key_shift(text,text,int4)                            EXECUTE   -      y      y        y
key_stale(text,text,text)                            EXECUTE   -      y      y        y
key_valid(text,text)                                 EXECUTE   -      y      y        y
key_why(int4,text)                                   EXECUTE   -      y      y        y
key_why_walk(int4,text,_int4,_text)                  EXECUTE   -      y      y        y
last_due_key(text,jsonb,timestamptz)                 EXECUTE   -      y      y        y
mark_check(text,_text,text,text)                     EXECUTE   -      -      y        y
mark_keys(text,_text,text,text,text)                 EXECUTE   -      -      y        y
note_failure(int4,text,text,bool,text,bool)          EXECUTE   -      -      y        y
note_success(int4)                                   EXECUTE   -      -      y        y
open_breaker(int4,text,bool)                         EXECUTE   -      -      y        y
partitions                                           SELECT    -      y      y        y
partitions                                           INSERT    -      -      y        y
partitions.built_by                                  UPDATE    -      -      y        y
partitions.key                                       UPDATE    -      -      -        -
partitions.built_version                             UPDATE    -      -      y        y
partitions.run_id                                    UPDATE    -      -      y        y
partitions.state                                     UPDATE    -      -      y        y
partitions.task_id                                   UPDATE    -      -      -        -
partitions                                           DELETE    -      -      -        -
partitions                                           TRUNCATE  -      -      -        -
partitions_after_insert()                            EXECUTE   -      -      -        -
partitions_after_update()                            EXECUTE   -      -      -        -
prune_candidates(timestamptz,timestamptz,int8,int4)  EXECUTE   -      -      -        -
prune_runs(timestamptz,timestamptz,int8,int4)        EXECUTE   -      -      y        y
probe_runs                                           SELECT    -      y      y        y
probe_runs                                           INSERT    -      -      -        -
probe_runs.run_id                                    UPDATE    -      -      -        -
probe_runs                                           DELETE    -      -      -        -

raise_alert(text,text,text,text,text,text,jsonb,text,_text,_int EXECUTE   -      -      y        y
refuse_run(text,text,text)                           EXECUTE   -      -      y        y
release_probes()                                     EXECUTE   -      -      y        y
release_task(int4)                                   EXECUTE   -      -      y        y
reset_breaker(int4)                                  EXECUTE   -      -      y        y
resolve_alerts(text,text)                            EXECUTE   -      -      y        y
run_attempts                                         SELECT    -      y      y        y
run_attempts                                         INSERT    -      -      y        y
run_attempts.attempt                                 UPDATE    -      -      -        -
run_attempts.connection                              UPDATE    -      -      -        -
run_attempts.error                                   UPDATE    -      -      -        -
run_attempts.error_class                             UPDATE    -      -      -        -
run_attempts.finished_at                             UPDATE    -      -      -        -
run_attempts.output                                  UPDATE    -      -      -        -
run_attempts.run_id                                  UPDATE    -      -      -        -
run_attempts.started_at                              UPDATE    -      -      -        -
run_attempts.worker                                  UPDATE    -      -      -        -
run_root_reason(runs)                                EXECUTE   -      y      y        y
run_attempts                                         DELETE    -      -      -        -
run_attempts                                         TRUNCATE  -      -      -        -
run_counts                                           SELECT    -      y      y        y
run_counts                                           INSERT    -      -      -        -
run_counts.b0                                        UPDATE    -      -      -        -
run_counts.b1                                        UPDATE    -      -      -        -
run_counts.b10                                       UPDATE    -      -      -        -
run_counts.b11                                       UPDATE    -      -      -        -
run_counts.b12                                       UPDATE    -      -      -        -
run_counts.b2                                        UPDATE    -      -      -        -
run_counts.b3                                        UPDATE    -      -      -        -
run_counts.b4                                        UPDATE    -      -      -        -
run_counts.b5                                        UPDATE    -      -      -        -
run_counts.b6                                        UPDATE    -      -      -        -
run_counts.b7                                        UPDATE    -      -      -        -
run_counts.b8                                        UPDATE    -      -      -        -
run_counts.b9                                        UPDATE    -      -      -        -
run_counts.runs                                      UPDATE    -      -      -        -
run_counts.seconds                                   UPDATE    -      -      -        -
run_counts.slot                                      UPDATE    -      -      -        -
run_counts.state                                     UPDATE    -      -      -        -
run_counts.task_id                                   UPDATE    -      -      -        -
run_counts.timed                                     UPDATE    -      -      -        -
run_counts                                           DELETE    -      -      -        -
run_counts                                           TRUNCATE  -      -      -        -
run_counts_follow()                                  EXECUTE   -      -      -        -
runs                                                 SELECT    -      y      y        y
runs                                                 INSERT    -      -      y        y
runs.attempt                                         UPDATE    -      -      y        y
runs.batch_id                                        UPDATE    -      -      -        -
runs.cancel_requested                                UPDATE    -      -      y        y
runs.connection                                      UPDATE    -      -      y        y
runs.error                                           UPDATE    -      -      y        y
runs.error_class                                     UPDATE    -      -      y        y
runs.finished_at                                     UPDATE    -      -      y        y
runs.id                                              UPDATE    -      -      -        -
runs.ignore_deps                                     UPDATE    -      -      -        -
runs.key                                             UPDATE    -      -      -        -
runs.lease_until                                     UPDATE    -      -      y        y
runs.marked                                          UPDATE    -      -      -        -
runs.not_before                                      UPDATE    -      -      y        y
runs.ord                                             UPDATE    -      -      -        -
runs.output                                          UPDATE    -      -      y        y
runs.priority                                        UPDATE    -      -      y        y
runs.queued_at                                       UPDATE    -      -      -        -
runs.reason                                          UPDATE    -      -      -        -
runs.started_at                                      UPDATE    -      -      y        y
runs.state                                           UPDATE    -      -      y        y
runs.swap_id                                         UPDATE    -      -      -        -
runs.task_id                                         UPDATE    -      -      -        -
runs.version                                         UPDATE    -      -      y        y
runs.worker                                          UPDATE    -      -      y        y
runs                                                 DELETE    -      -      -        -
runs                                                 TRUNCATE  -      -      -        -
runs_check_inserted()                                EXECUTE   -      -      -        -
runs_check_updated()                                 EXECUTE   -      -      -        -
runs_wake_inserted()                                 EXECUTE   -      -      -        -
runs_wake_updated()                                  EXECUTE   -      -      -        -
runs_id_seq                                          USAGE     -      -      y        y
schedule_due(timestamptz)                            EXECUTE   -      y      y        y
schedule_keys(timestamptz)                           EXECUTE   -      y      y        y
schedule_left                                        SELECT    -      y      y        y
schedule_left                                        INSERT    -      -      y        y
schedule_left.key                                    UPDATE    -      -      -        -
schedule_left.task_id                                UPDATE    -      -      -        -
schedule_left                                        DELETE    -      -      y        y
schedule_left                                        TRUNCATE  -      -      -        -
schedule_pass(bool)                                  EXECUTE   -      -      y        y
schedule_state                                       SELECT    -      y      y        y
schedule_state                                       INSERT    -      -      y        y
schedule_state.batch_id                              UPDATE    -      -      y        y
schedule_state.first_key                             UPDATE    -      -      y        y
schedule_state.last_key                              UPDATE    -      -      y        y
schedule_state.passed_at                             UPDATE    -      -      y        y
schedule_state.task_id                               UPDATE    -      -      y        y
schedule_state                                       DELETE    -      -      -        -
schedule_state                                       TRUNCATE  -      -      -        -
schedule_tasks(timestamptz)                          EXECUTE   -      y      y        y
schema_definitions                                   SELECT    -      y      y        y
schema_definitions                                   INSERT    -      -      -        -
schema_definitions.applied_at                        UPDATE    -      -      -        -
schema_definitions.applied_by                        UPDATE    -      -      -        -
schema_definitions.fingerprint                       UPDATE    -      -      -        -
schema_definitions.one                               UPDATE    -      -      -        -
schema_definitions                                   DELETE    -      -      -        -
schema_definitions                                   TRUNCATE  -      -      -        -
schema_migrations                                    SELECT    -      y      y        y
schema_migrations                                    INSERT    -      -      -        -
schema_migrations.applied_at                         UPDATE    -      -      -        -
schema_migrations.applied_by                         UPDATE    -      -      -        -
schema_migrations.name                               UPDATE    -      -      -        -
schema_migrations.version                            UPDATE    -      -      -        -
settle_incidents()                                   EXECUTE   -      -      y      y
severity_rank(text)                                  EXECUTE   -      y      y      y
schema_migrations                                    DELETE    -      -      -        -
schema_migrations                                    TRUNCATE  -      -      -        -
sla_deadline(jsonb,text,text)                        EXECUTE   -      y      y        y
stuck_runs(text,int8)                                EXECUTE   -      y      y        y
swap_log_write()                                     EXECUTE   -      -      -        y
swap_move_records(int8,_int4,text)                   EXECUTE   -      -      -        y
swap_partitions                                      SELECT    -      y      y        y
swap_partitions                                      INSERT    -      -      y        y
swap_partitions.built_by                             UPDATE    -      -      y        y
swap_partitions.built_version                        UPDATE    -      -      y        y
swap_partitions.key                                  UPDATE    -      -      -        -
swap_partitions.run_id                               UPDATE    -      -      y        y
swap_partitions.side                                 UPDATE    -      -      -        -
swap_partitions.state                                UPDATE    -      -      y        y
swap_partitions.swap_id                              UPDATE    -      -      -        -
swap_partitions.task_id                              UPDATE    -      -      -        -
swap_partitions                                      DELETE    -      -      -        -
swap_partitions                                      TRUNCATE  -      -      -        -
swap_refusal(text,text,int8)                         EXECUTE   -      -      y        y
swap_shown_state(text,jsonb)                         EXECUTE   -      y      y        y
swap_write_trigger(int8)                             EXECUTE   -      -      -        -
swap_writes                                          DELETE    -      -      -        y
swap_writes                                          INSERT    -      -      -        -
swap_writes                                          SELECT    -      y      y        y
swap_writes                                          TRUNCATE  -      -      -        -
swap_writes.application_name                         UPDATE    -      -      -        -
swap_writes.first_at                                 UPDATE    -      -      -        -
swap_writes.last_at                                  UPDATE    -      -      -        -
swap_writes.ops                                      UPDATE    -      -      -        -
swap_writes.role                                     UPDATE    -      -      -        -
swap_writes.statements                               UPDATE    -      -      -        -
swap_writes.swap_id                                  UPDATE    -      -      -        -
swap_writes.txid                                     UPDATE    -      -      -        -
swap_writes.wrote_incoming                           UPDATE    -      -      -        -
swap_writes.wrote_table                              UPDATE    -      -      -        -
swaps                                                SELECT    -      y      y        y
swaps                                                INSERT    -      -      -        y
swaps.accepted                                       UPDATE    -      -      -        y
swaps.checked_at                                     UPDATE    -      -      -        y
swaps.checks                                         UPDATE    -      -      -        y
swaps.connection                                     UPDATE    -      -      -        y
swaps.finished_at                                    UPDATE    -      -      -        y
swaps.id                                             UPDATE    -      -      -        y
swaps.keep_until                                     UPDATE    -      -      -        y
swaps.old_name                                       UPDATE    -      -      -        y
swaps.pending                                        UPDATE    -      -      -        y
swaps.rolled_back_at                                 UPDATE    -      -      -        y
swaps.shadow_name                                    UPDATE    -      -      -        y
swaps.started_at                                     UPDATE    -      -      -        y
swaps.started_by                                     UPDATE    -      -      -        y
swaps.state                                          UPDATE    -      -      -        y
swaps.swapped_at                                     UPDATE    -      -      -        y
swaps.table_name                                     UPDATE    -      -      -        y
swaps.table_schema                                   UPDATE    -      -      -        y
swaps.timings                                        UPDATE    -      -      -        y
swaps                                                DELETE    -      -      -        -
swaps                                                TRUNCATE  -      -      -        -
swaps.writes_since                                   UPDATE    -      -      -        y
swaps_id_seq                                         USAGE     -      -      -        y
task_breaker(jsonb,jsonb)                            EXECUTE   -      y      y        y
task_schedule(jsonb,jsonb)                           EXECUTE   -      y      y        y
task_deps                                            SELECT    -      y      y        y
task_deps                                            INSERT    -      -      -        y
task_deps.key_offset                                 UPDATE    -      -      -        -
task_deps.task_id                                    UPDATE    -      -      -        -
task_deps.upstream_id                                UPDATE    -      -      -        -
task_deps                                            DELETE    -      -      -        y
task_deps                                            TRUNCATE  -      -      -        -
tasks                                                SELECT    -      y      y        y
tasks                                                INSERT    -      -      -        y
tasks.checks                                         UPDATE    -      -      -        y
tasks.command                                        UPDATE    -      -      -        y
tasks.complete_when                                  UPDATE    -      -      -        y
tasks.definition                                     UPDATE    -      -      -        y
tasks.fingerprint                                    UPDATE    -      -      -        y
tasks.graph                                          UPDATE    -      -      -        y
tasks.id                                             UPDATE    -      -      -        y
tasks.key_kind                                       UPDATE    -      -      -        y
tasks.loaded_at                                      UPDATE    -      -      -        y
tasks.name                                           UPDATE    -      -      -        y
tasks.removed_at                                     UPDATE    -      -      -        y
tasks.retries                                        UPDATE    -      -      -        y
tasks.retry_delay_s                                  UPDATE    -      -      -        y
tasks.source                                         UPDATE    -      -      -        y
tasks.sql                                            UPDATE    -      -      -        y
tasks.target                                         UPDATE    -      -      -        y
tasks.timeout_s                                      UPDATE    -      -      -        y
tasks.version                                        UPDATE    -      -      -        y
tasks                                                DELETE    -      -      -        -
tasks                                                TRUNCATE  -      -      -        -
tasks_id_seq                                         USAGE     -      -      -        y
wake_workers()                                       EXECUTE   -      -      -        -
worker_live(workers)                                 EXECUTE   -      y      y        y
worker_running_runs(text)                            EXECUTE   -      -      y        y
workers                                              SELECT    -      y      y        y
workers                                              INSERT    -      -      y        y
workers.abandoned                                    UPDATE    -      -      y        y
workers.concurrency                                  UPDATE    -      -      -        -
workers.graph                                        UPDATE    -      -      -        -
workers.heartbeat_at                                 UPDATE    -      -      y        y
workers.host                                         UPDATE    -      -      -        -
workers.name                                         UPDATE    -      -      -        -
workers.pid                                          UPDATE    -      -      -        -
workers.session_pid                                  UPDATE    -      -      y        y
workers.session_start                                UPDATE    -      -      y        y
workers.started_at                                   UPDATE    -      -      -        -
workers.stopped_at                                   UPDATE    -      -      y        y
workers                                              DELETE    -      -      -        -
workers                                              TRUNCATE  -      -      -        -
'

# Try everything in schema $SCHEMA as each of $ROLES; prints the lines of the matrix.
probe() {
	sql_in -v s="$SCHEMA" -v roles="$ROLES" <<-'SQL'
	-- Try every privilege on every relation and function of schema :s as each role of
	-- :roles (a comma-separated list), really: each statement runs as the role, in a
	-- subtransaction rolled back whatever happens. Prints one line per object and privilege:
	-- the object, the privilege, then y (allowed) or - (refused) per role, in order.
	SET ds.schema = :'s';
	SET ds.roles = :'roles';
	CREATE TEMP TABLE tried (obj text, priv text, ord integer, role_no integer, outcome text);
	DO $probe$
	DECLARE
	  nsp oid := (SELECT oid FROM pg_namespace WHERE nspname = current_setting('ds.schema'));
	  roles text[] := string_to_array(current_setting('ds.roles'), ',');
	  t record;
	BEGIN
	  -- Every name in the statements is qualified, so that the search_path plays no part.
	  PERFORM set_config('search_path', '', true);
	  FOR t IN
	    WITH rels AS (
	      SELECT c.oid, c.relname, c.relkind, format('%I.%I', n.nspname, c.relname) AS q
	      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	      WHERE c.relnamespace = nsp AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
	    ), cols AS (
	      SELECT r.relname, r.q, a.attname, a.attnum
	      FROM rels r JOIN pg_attribute a ON a.attrelid = r.oid
	      WHERE r.relkind <> 'S' AND a.attnum > 0 AND NOT a.attisdropped
	    )
	    SELECT relname AS obj, 'SELECT' AS priv, 1 AS ord,
	           format('SELECT * FROM %s WHERE false', q) AS stmt
	    FROM rels WHERE relkind <> 'S'
	    UNION ALL
	    SELECT relname, 'INSERT', 2,
	           format('INSERT INTO %s (%s) SELECT %s WHERE false', q,
	                  string_agg(quote_ident(attname), ', ' ORDER BY attnum),
	                  string_agg('NULL', ', '))
	    FROM cols GROUP BY relname, q
	    UNION ALL
	    SELECT relname || '.' || attname, 'UPDATE', 3,
	           format('UPDATE %s SET %I = NULL WHERE false', q, attname)
	    FROM cols
	    UNION ALL
	    SELECT relname, 'DELETE', 4, format('DELETE FROM %s WHERE false', q)
	    FROM rels WHERE relkind <> 'S'
	    UNION ALL
	    SELECT relname, 'TRUNCATE', 5, format('TRUNCATE %s', q)
	    FROM rels WHERE relkind IN ('r', 'p')
	    UNION ALL
	    SELECT relname, 'USAGE', 6, format('SELECT nextval(%L)', q)
	    FROM rels WHERE relkind = 'S'
	    UNION ALL
	    -- EXPLAIN: the executor checks the right to execute as it sets the plan up, and the
	    -- body (which would run with NULL arguments) is not run. The arguments are
	    -- subqueries, so that the planner cannot fold the call away unchecked.
	    SELECT p.proname || '(' || array_to_string(ARRAY(
	             SELECT y.typname FROM unnest(p.proargtypes) WITH ORDINALITY AS a(t, i)
	             JOIN pg_type y ON y.oid = a.t ORDER BY a.i), ',') || ')',
	           'EXECUTE', 7,
	           format('EXPLAIN SELECT %I.%I(%s)', current_setting('ds.schema'), p.proname,
	                  (SELECT string_agg(format('(SELECT NULL::%s)', format_type(a.t, NULL)),
	                                     ', ' ORDER BY a.i)
	                   FROM unnest(p.proargtypes) WITH ORDINALITY AS a(t, i)))
	    FROM pg_proc p WHERE p.pronamespace = nsp
	  LOOP
	    FOR i IN 1 .. cardinality(roles) LOOP
	      DECLARE
	        outcome text;
	      BEGIN
	        BEGIN
	          EXECUTE format('SET LOCAL ROLE %I', roles[i]);
	          EXECUTE t.stmt;
	          RAISE EXCEPTION USING ERRCODE = 'DSOK0';
	        EXCEPTION
	          WHEN SQLSTATE 'DSOK0' THEN
	            outcome := 'y';
	          WHEN insufficient_privilege THEN
	            outcome := '-';
	          -- TRUNCATE checks the privilege first, the foreign keys after.
	          WHEN feature_not_supported THEN
	            outcome := CASE WHEN t.priv = 'TRUNCATE' THEN 'y' ELSE 'error:' || SQLERRM END;
	          WHEN OTHERS THEN
	            outcome := 'error:' || SQLERRM;
	        END;
	        INSERT INTO tried VALUES (t.obj, t.priv, t.ord, i, outcome);
	      END;
	    END LOOP;
	  END LOOP;
	END
	$probe$;
	SELECT obj || ' ' || priv || ' ' || string_agg(outcome, ' ' ORDER BY role_no)
	FROM tried
	GROUP BY obj, priv, ord
	ORDER BY split_part(obj, '.', 1), ord, obj;
	SQL
}

# Lines without comments, blanks and the alignment, sorted: the matrix to compare.
normalized() {
	sed -e 's/#.*//' | awk 'NF { $1 = $1; print }' | sort
}

begin "each role may do exactly what the matrix says to every table, sequence and function"
probe >"$WORK/tried" 2>"$WORK/probe.err" || fail "the probe failed: $(cat "$WORK/probe.err")"
printf '%s\n' "$MATRIX" | normalized >"$WORK/expected"
normalized <"$WORK/tried" >"$WORK/actual"
diff -u "$WORK/expected" "$WORK/actual" >"$WORK/diff" ||
	fail "what the roles may do differs from the matrix (+ is what they may):
$(cat "$WORK/diff")"
end_case

begin "every function has the search_path of its schema, but the inlined helpers"
# A SET clause stops the planner from inlining a SQL function: those that must be
# inlined have none, and need none, for their bodies read only pg_catalog (next case).
# pg_temp comes last, so that nobody's temporary objects come before the schema's.
expect_sql "functions without it" "
	SELECT string_agg(p.proname, ' ' ORDER BY p.proname)
	FROM pg_proc p
	WHERE p.pronamespace = '$SCHEMA'::regnamespace
	  AND NOT coalesce(p.proconfig, '{}') @> ARRAY['search_path=$SCHEMA, pg_temp']" \
	"alert_json hook_backoff iso_utc key_due_at key_ord key_series key_shift key_stale last_due_key severity_rank sla_deadline swap_names_target swap_shown_state task_schedule worker_live writes_swap_database"
expect_sql "of them, those that are not plain SQL" "
	SELECT count(*)
	FROM pg_proc p
	WHERE p.pronamespace = '$SCHEMA'::regnamespace AND p.proconfig IS NULL
	  AND p.prolang <> (SELECT oid FROM pg_language WHERE lanname = 'sql')" 0
expect_sql "SECURITY DEFINER functions without a fixed search_path" "
	SELECT count(*)
	FROM pg_proc p
	WHERE p.pronamespace = '$SCHEMA'::regnamespace AND p.prosecdef
	  AND NOT coalesce(p.proconfig, '{}') @> ARRAY['search_path=$SCHEMA, pg_temp']" 0
end_case

begin "the helpers without a search_path need none, and are inlined for a viewer"
# As a viewer, with an empty search_path (pg_catalog alone), each is called on values the
# planner cannot fold, in a query; a function the planner inlined is never called, so
# its call count stays empty.
sql_in -v s="$SCHEMA" >"$WORK/calls" 2>&1 <<-'SQL' || fail "calls failed: $(cat "$WORK/calls")"
	BEGIN;
	SET LOCAL track_functions = 'all';
	INSERT INTO :"s".alerts (kind, incident, summary) VALUES ('test', 'test', 'test');
	SET LOCAL ROLE datashell_viewer;
	SET LOCAL search_path = '';
	SELECT count(*)
	FROM generate_series(1, 2) AS i,
	  LATERAL (SELECT :"s".iso_utc(now() + make_interval(days => i)),
	                  :"s".key_shift('daily', '2024-01-0' || i, i),
	                  :"s".sla_deadline(jsonb_build_object('within', i), 'daily', '2024-01-01'),
	                  :"s".swap_shown_state('started', jsonb_build_object('n', i)),
	                  :"s".key_due_at('daily', '2024-01-0' || i,
	                                  :"s".task_schedule(jsonb_build_object('delay', i), NULL)),
	                  :"s".last_due_key('hourly', :"s".task_schedule(jsonb_build_object('delay', i), NULL),
	                                    now() + make_interval(days => i)),
	                  :"s".key_ord('2024-01-0' || i),
	                  :"s".key_stale('success', 'v' || i, 'v2')) AS h,
	  LATERAL :"s".key_series('daily', '2024-01-01', '2024-01-0' || i) AS k,
	  LATERAL (SELECT :"s".alert_json(a) FROM :"s".alerts a) AS j;
	SELECT p.proname || '=' || coalesce(pg_stat_get_xact_function_calls(p.oid)::text, 'none')
	FROM pg_proc p
	WHERE p.pronamespace = :'s'::regnamespace
	  AND p.proname IN ('alert_json', 'iso_utc', 'key_due_at', 'key_ord', 'key_series', 'key_shift',
	                    'key_stale', 'last_due_key', 'sla_deadline', 'swap_shown_state',
	                    'task_schedule')
	ORDER BY 1;
	ROLLBACK;
SQL
expect_eq "the calls" "$(tr '\n' ' ' <"$WORK/calls")" \
	"3 alert_json=none iso_utc=none key_due_at=none key_ord=none key_series=none key_shift=none key_stale=none last_due_key=none sla_deadline=none swap_shown_state=none task_schedule=none "
end_case

begin "nothing in the schema is granted to PUBLIC"
# An ACL that was never set is PostgreSQL's default, which lets PUBLIC execute a
# function: acldefault says what it holds.
expect_sql "grants to PUBLIC" "
	SELECT coalesce(string_agg(what, ', '), 'none') FROM (
	  SELECT 'the schema' AS what
	  FROM pg_namespace n, aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) x
	  WHERE n.oid = '$SCHEMA'::regnamespace AND x.grantee = 0
	  UNION ALL
	  SELECT c.relname
	  FROM pg_class c, aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) x
	  WHERE c.relnamespace = '$SCHEMA'::regnamespace AND x.grantee = 0
	  UNION ALL
	  SELECT c.relname || '.' || a.attname
	  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid, aclexplode(a.attacl) x
	  WHERE c.relnamespace = '$SCHEMA'::regnamespace AND x.grantee = 0
	  UNION ALL
	  SELECT p.proname
	  FROM pg_proc p, aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) x
	  WHERE p.pronamespace = '$SCHEMA'::regnamespace AND x.grantee = 0) g" none
end_case

begin "the schema's tables, sequences and functions are its owner's, not datashell's roles'"
expect_sql "objects of another owner" "
	SELECT coalesce(string_agg(name, ', '), 'none') FROM (
	  SELECT c.relname AS name FROM pg_class c
	  WHERE c.relnamespace = '$SCHEMA'::regnamespace
	    AND c.relowner <> (SELECT nspowner FROM pg_namespace WHERE oid = c.relnamespace)
	  UNION ALL
	  SELECT p.proname FROM pg_proc p
	  WHERE p.pronamespace = '$SCHEMA'::regnamespace
	    AND p.proowner <> (SELECT nspowner FROM pg_namespace WHERE oid = p.pronamespace)) o" none
expect_sql "the owner is one of datashell's roles" "
	SELECT nspowner::regrole::text IN ('datashell_viewer', 'datashell_operator', 'datashell_admin')
	FROM pg_namespace WHERE oid = '$SCHEMA'::regnamespace" f
end_case

done_testing
