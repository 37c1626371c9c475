-- Not a schema definition: each worker slot creates this function on its own
-- connection, for the session, when it connects.
--
-- Marking a SQL run succeeded happens in the run's own transaction on the slot's
-- connection, and must fail (rolling the work back) if the run is no longer this
-- worker's: SQLSTATE DSL01 (DS_LEASE_LOST in claim.h). A function does it in one
-- call; a temporary one needs no change to the schema and is compiled once per
-- connection, where a DO block would be compiled for every run. The call rides in the
-- same message as the task's SQL (see claim.c, ds_queue_success_sql). Its body names
-- the state's tables through its own search_path, never by pasting the schema's name
-- into it: a name may hold any text, $ds$ among it.
CREATE FUNCTION pg_temp.ds_worker_succeed(run bigint, me text, try integer)
RETURNS void LANGUAGE plpgsql
SET search_path = @schema@, pg_temp AS $ds$
DECLARE
  task_of_run integer;
BEGIN
  UPDATE runs
  SET state = 'success', finished_at = clock_timestamp(), lease_until = NULL, error = NULL,
      output = NULL, error_class = NULL
  WHERE id = run
    AND CASE state WHEN 'running' THEN worker = me AND attempt = try ELSE false END
  RETURNING task_id INTO task_of_run;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'DSL01', MESSAGE = 'the lease on the run was lost';
  END IF;
  -- Most tasks have no failures to forget and no incident to resolve: look before
  -- calling.
  IF EXISTS (SELECT 1
             FROM breakers b
             WHERE b.task_id = task_of_run AND (b.consecutive > 0 OR b.state <> 'closed'))
     OR EXISTS (SELECT 1
                FROM tasks t
                JOIN alerts a ON a.incident = 'task:' || t.name AND a.state <> 'resolved'
                WHERE t.id = task_of_run) THEN
    PERFORM note_success(task_of_run);
  END IF;
END
$ds$
