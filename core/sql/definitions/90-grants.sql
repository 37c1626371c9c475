-- What each role may do to the state schema, the whole truth: everything is revoked
-- from the three roles, then granted again as listed. Each role adds to the one before
-- it (an operator is also a viewer, an admin also an operator; store/create_roles.sql).
-- A new table or function adds its lines here.

REVOKE ALL ON ALL TABLES IN SCHEMA @schema@ FROM datashell_viewer, datashell_operator, datashell_admin;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA @schema@ FROM datashell_viewer, datashell_operator, datashell_admin;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA @schema@ FROM datashell_viewer, datashell_operator, datashell_admin;
REVOKE ALL ON SCHEMA @schema@ FROM datashell_viewer, datashell_operator, datashell_admin;
-- PostgreSQL lets PUBLIC execute every new function: here nobody but the owner and the
-- roles below may, so that a function is callable by whom this file says.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA @schema@ FROM PUBLIC;

GRANT USAGE ON SCHEMA @schema@ TO datashell_viewer;
GRANT SELECT ON TABLE @schema@.schema_migrations TO datashell_viewer;
GRANT SELECT ON TABLE @schema@.schema_definitions TO datashell_viewer;

-- Nobody writes the log but audit_write() and audit_conclude(), which run as the owner.
GRANT SELECT ON TABLE @schema@.audit_log TO datashell_viewer;
GRANT EXECUTE ON FUNCTION @schema@.audit_write(text, text, text, jsonb) TO datashell_viewer;
GRANT EXECUTE ON FUNCTION @schema@.audit_conclude(bigint, text, text, jsonb) TO datashell_viewer;

-- Workers lock the rows of open graphs to count their slots, which PostgreSQL allows
-- only to a role that may update some column: paused_at is the one whose change does
-- least harm.
GRANT SELECT ON TABLE @schema@.graphs TO datashell_viewer;
GRANT UPDATE (paused_at) ON TABLE @schema@.graphs TO datashell_operator;
GRANT INSERT, UPDATE ON TABLE @schema@.graphs TO datashell_admin;

-- The named connections are definitions too; they hold no passwords (the load refuses
-- them), so whoever may read the tasks may read where they run.
GRANT SELECT ON TABLE @schema@.connections TO datashell_viewer;
GRANT INSERT, UPDATE, DELETE ON TABLE @schema@.connections TO datashell_admin;

GRANT SELECT ON TABLE @schema@.tasks TO datashell_viewer;
GRANT INSERT, UPDATE ON TABLE @schema@.tasks TO datashell_admin;
GRANT USAGE ON SEQUENCE @schema@.tasks_id_seq TO datashell_admin;
GRANT SELECT ON TABLE @schema@.task_deps TO datashell_viewer;
GRANT INSERT, DELETE ON TABLE @schema@.task_deps TO datashell_admin;

GRANT SELECT ON TABLE @schema@.batches TO datashell_viewer;
-- What a batch is and who made it is written once; backfill counts its runs, cancel
-- stamps it, and a backfill that enqueued nothing drops its batch (runs/*.sql).
GRANT INSERT, DELETE ON TABLE @schema@.batches TO datashell_operator;
GRANT UPDATE (runs, cancelled_at, cancelled_by) ON TABLE @schema@.batches TO datashell_operator;
GRANT USAGE ON SEQUENCE @schema@.batches_id_seq TO datashell_operator;
GRANT SELECT ON TABLE @schema@.runs TO datashell_viewer;
-- Backfill and force-run insert runs (their task, key and swap checked by
-- definitions/25-runs.sql); workers, cancel and the breakers move them along. What a
-- run is for, its task, key and swap, nobody changes: a run names what it writes only
-- through them, so an operator cannot point a worker at another table.
GRANT INSERT ON TABLE @schema@.runs TO datashell_operator;
GRANT UPDATE (state, not_before, worker, attempt, lease_until, started_at, finished_at,
              cancel_requested, error, output, error_class, priority, version, connection)
    ON TABLE @schema@.runs TO datashell_operator;
GRANT USAGE ON SEQUENCE @schema@.runs_id_seq TO datashell_operator;
-- A retried attempt is kept once, by end_run, and never changed.
GRANT SELECT ON TABLE @schema@.run_attempts TO datashell_viewer;
GRANT INSERT ON TABLE @schema@.run_attempts TO datashell_operator;
-- The counts of ended runs, which metrics reads, are written by run_counts_follow(), a
-- trigger run as the owner, and by nobody else.
GRANT SELECT ON TABLE @schema@.run_counts TO datashell_viewer;
-- The partitions triggers (and the claim, for a swap's incoming table) run as whoever
-- writes runs: they move a (task, key) of a table to its latest run, never to another
-- (task, key) or table. Only swap_move_records(), run as the owner, moves a record from
-- one table to another, when swap-table moves or drops the table.
GRANT SELECT ON TABLE @schema@.partitions TO datashell_viewer;
GRANT SELECT ON TABLE @schema@.done_keys TO datashell_viewer;
GRANT SELECT ON TABLE @schema@.capped_batches TO datashell_viewer;
GRANT INSERT ON TABLE @schema@.partitions TO datashell_operator;
GRANT UPDATE (run_id, state, built_by, built_version) ON TABLE @schema@.partitions
    TO datashell_operator;
GRANT SELECT ON TABLE @schema@.swap_partitions TO datashell_viewer;
GRANT INSERT ON TABLE @schema@.swap_partitions TO datashell_operator;
GRANT UPDATE (run_id, state, built_by, built_version) ON TABLE @schema@.swap_partitions
    TO datashell_operator;
-- A worker registers itself once, then only beats and stops (queue/*.sql).
GRANT SELECT ON TABLE @schema@.workers TO datashell_viewer;
GRANT INSERT ON TABLE @schema@.workers TO datashell_operator;
GRANT UPDATE (heartbeat_at, stopped_at, abandoned, session_pid, session_start)
  ON TABLE @schema@.workers TO datashell_operator;

-- Workers open and close breakers and raise alerts; operators answer them.
-- A breaker stays its task's; an alert keeps what it is about (kind, incident, task,
-- worker) and when it was first seen: raise_alert counts it again, alerts/answer.sql
-- acks or resolves it, settle_incidents and note_success resolve it, alerts/take.sql
-- and delivered.sql keep what the hook was told of it.
GRANT SELECT ON TABLE @schema@.breakers TO datashell_viewer;
GRANT SELECT ON TABLE @schema@.held_tasks TO datashell_viewer;
GRANT SELECT ON TABLE @schema@.probe_runs TO datashell_viewer;
GRANT INSERT ON TABLE @schema@.breakers TO datashell_operator;
GRANT UPDATE (state, consecutive, recent, opened_at, opened_by, reason, manual, retry_at,
              probe_run_id) ON TABLE @schema@.breakers TO datashell_operator;
GRANT SELECT ON TABLE @schema@.alerts TO datashell_viewer;
GRANT INSERT ON TABLE @schema@.alerts TO datashell_operator;
GRANT UPDATE (count, last_seen, key, summary, detail, severity, keys, runs, state, acked_at,
              acked_by, resolved_at, resolved_by, told, told_severity, hook_attempts,
              hook_next_at, hook_lease_until, hook_error, hook_at) ON TABLE @schema@.alerts
  TO datashell_operator;
GRANT USAGE ON SEQUENCE @schema@.alerts_id_seq TO datashell_operator;

-- What the schedule covered: a worker's pass moves it (definitions/72-schedule.sql).
GRANT SELECT ON TABLE @schema@.schedule_state TO datashell_viewer;
GRANT INSERT, UPDATE ON TABLE @schema@.schedule_state TO datashell_operator;
GRANT SELECT ON TABLE @schema@.schedule_left TO datashell_viewer;
GRANT INSERT, DELETE ON TABLE @schema@.schedule_left TO datashell_operator;

-- The swap journal: the admin's, who rebuilds tables.
GRANT SELECT ON TABLE @schema@.swaps TO datashell_viewer;
GRANT INSERT, UPDATE ON TABLE @schema@.swaps TO datashell_admin;
GRANT USAGE ON SEQUENCE @schema@.swaps_id_seq TO datashell_admin;

-- Functions. What a viewer's statements call: pure helpers (status, calendar, handoff).
GRANT EXECUTE ON FUNCTION @schema@.iso_utc(timestamptz), @schema@.key_shift(text, text, integer),
  @schema@.key_series(text, text, text), @schema@.sla_deadline(jsonb, text, text),
  @schema@.task_schedule(jsonb, jsonb), @schema@.task_breaker(jsonb, jsonb),
  @schema@.key_due_at(text, text, jsonb),
  @schema@.last_due_key(text, jsonb, timestamptz), @schema@.key_valid(text, text),
  @schema@.key_ord(text),
  @schema@.severity_rank(text), @schema@.hook_action(@schema@.alerts),
  @schema@.run_root_reason(@schema@.runs), @schema@.cause_line(integer, text, text, text, text),
  @schema@.key_why_walk(integer, text, integer[], text[]),
  @schema@.key_why(integer, text), @schema@.worker_live(@schema@.workers), @schema@.key_root_cause(integer, text),
  @schema@.stuck_runs(text, bigint),
  @schema@.backfill_swap_of(text, jsonb),
  @schema@.writes_swap_database(jsonb, text),
  @schema@.swap_names_target(text, text, regclass, text, text, jsonb),
  @schema@.key_late(text, text, jsonb, jsonb, text, timestamptz),
  @schema@.key_stale(text, text, text),
  @schema@.schedule_tasks(timestamptz), @schema@.schedule_keys(timestamptz),
  @schema@.schedule_due(timestamptz),
  @schema@.swap_shown_state(text, jsonb) TO datashell_viewer;
-- What workers and operators call, and what those functions call in turn (they run as
-- their caller). Trigger functions are granted to nobody: a trigger runs without it.
GRANT EXECUTE ON FUNCTION @schema@.alert_json(@schema@.alerts),
  @schema@.raise_alert(text, text, text, text, text, text, jsonb, text, text[], bigint[]),
  @schema@.resolve_alerts(text, text),
  @schema@.hook_backoff(integer), @schema@.settle_incidents(), @schema@.breaker_setting(integer, text),
  @schema@.hold_task(integer), @schema@.release_task(integer), @schema@.note_success(integer),
  @schema@.open_breaker(integer, text, boolean), @schema@.reset_breaker(integer),
  @schema@.note_failure(integer, text, text, boolean, text, boolean),
  @schema@.connection_refused(text, text, bigint, text),
  @schema@.connection_reached(text, timestamptz),
  @schema@.release_probes(), @schema@.check_slas(), @schema@.worker_running_runs(text),
  @schema@.end_run(bigint, text, integer, text, integer, text, text, text, boolean),
  @schema@.key_refusal(text, text, text), @schema@.due_refusal(text, text, jsonb),
  @schema@.schedule_pass(boolean),
  @schema@.swap_refusal(text, text, bigint), @schema@.refuse_run(text, text, text),
  @schema@.mark_check(text, text[], text, text), @schema@.mark_keys(text, text[], text, text, text)
  TO datashell_operator;

-- Writes to the tables of a swap are noted by swap_log_write(), run as the owner; the
-- admin puts it on the tables (which needs EXECUTE) and clears what a check covered.
GRANT SELECT ON TABLE @schema@.swap_writes TO datashell_viewer;
GRANT DELETE ON TABLE @schema@.swap_writes TO datashell_admin;
GRANT EXECUTE ON FUNCTION @schema@.swap_log_write() TO datashell_admin;
GRANT EXECUTE ON FUNCTION @schema@.swap_move_records(bigint, integer[], text)
    TO datashell_admin;

-- Nobody deletes runs but prune_runs(), run as the owner, which keeps every run a key's
-- truth needs (definitions/85-prune.sql); an operator prunes, as a worker's cron may.
GRANT EXECUTE ON FUNCTION @schema@.prune_runs(timestamptz, timestamptz, bigint, integer)
    TO datashell_operator;
