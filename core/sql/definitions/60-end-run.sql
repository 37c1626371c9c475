-- How a run ends: its next state (retry with exponential backoff, or its final
-- state), and the breaker and alerts that follow, in the run's own transaction.
--
-- A run that could not connect to its named connection (p_state 'unreachable') is
-- queued again whatever its attempts, after the wait connection_refused gives
-- (52-connections.sql), with error class unreachable: its attempt is kept but does not
-- count against its retries, its task's breaker or incident. Any other end of a run on
-- a named connection shows that the connection took it (connection_reached).

CREATE OR REPLACE FUNCTION end_run(p_run bigint, p_worker text, p_attempt integer, p_state text,
                        p_retries integer, p_error text, p_output text, p_class text,
                        p_fatal boolean)
RETURNS TABLE (state text, retry_in double precision) LANGUAGE plpgsql
SET search_path = @schema@, pg_temp AS $$
DECLARE
  r runs;
  t tasks;
  next text;
  refused boolean := p_state = 'unreachable';
  class text := CASE WHEN p_state = 'unreachable' THEN 'unreachable' ELSE p_class END;
  tries integer; -- the attempts that reached their connection: those that count
  wait interval;
BEGIN
  SELECT * INTO r FROM runs WHERE id = p_run FOR UPDATE;
  IF NOT FOUND OR r.state <> 'running' OR r.worker IS DISTINCT FROM p_worker
     OR r.attempt <> p_attempt THEN
    RETURN;
  END IF;
  SELECT * INTO t FROM tasks WHERE id = r.task_id;
  -- Counted for a failure only: a success, the most common end, reads no attempts.
  IF p_state = 'failed' THEN
    tries := r.attempt - (SELECT count(*) FROM run_attempts a
                          WHERE a.run_id = p_run AND a.error_class = 'unreachable');
  END IF;
  next := CASE WHEN p_state IN ('failed', 'blocked', 'unreachable') AND r.cancel_requested
                 THEN 'cancelled'
               WHEN refused THEN 'queued'
               WHEN p_state = 'failed' AND tries <= greatest(t.retries, p_retries)
                 AND NOT p_fatal THEN 'queued'
               ELSE p_state END;
  IF refused AND next = 'queued' THEN
    wait := connection_refused(r.connection, r.key, p_run, p_error);
  END IF;
  -- A retry: the attempt that failed is kept before the run's row takes the next one's.
  IF next = 'queued' AND p_state <> 'queued' THEN
    INSERT INTO run_attempts (run_id, attempt, worker, started_at, finished_at, error_class,
                              error, output, connection)
    VALUES (p_run, r.attempt, r.worker, r.started_at, clock_timestamp(), class, p_error,
            p_output, r.connection)
    ON CONFLICT (run_id, attempt) DO NOTHING;
  END IF;
  UPDATE runs
  SET state = next,
      not_before = CASE WHEN p_state = 'queued' THEN now()
                        WHEN refused THEN now() + wait
                        WHEN next = 'queued' THEN now() + make_interval(secs =>
                          t.retry_delay_s * power(2, least(tries - 1, 20)))
                        ELSE r.not_before END,
      worker = CASE WHEN next = 'queued' THEN NULL ELSE r.worker END,
      lease_until = NULL, finished_at = clock_timestamp(),
      error = p_error, output = p_output, error_class = class
  WHERE id = p_run;
  IF r.connection IS NOT NULL AND p_state IN ('success', 'failed', 'blocked')
     AND next <> 'cancelled' THEN
    PERFORM connection_reached(r.connection, r.started_at);
  END IF;
  IF refused THEN
    NULL; -- the connection's incident, raised above, is the only one
  ELSIF next = 'success' THEN
    PERFORM note_success(r.task_id);
  ELSIF p_state = 'failed' AND next <> 'cancelled' THEN
    PERFORM note_failure(r.task_id, r.key, p_class, p_fatal, p_error,
                                  next = 'failed');
  ELSIF next = 'blocked' THEN
    PERFORM raise_alert('task_failing', 'task:' || t.name, t.name, r.key,
      NULL, format('a pre-check blocked %s for %s: %s', t.name,
                   coalesce(nullif(r.key, ''), 'its key'), left(p_error, 500)),
      jsonb_build_object('error', p_error), 'warning',
      CASE WHEN r.key <> '' THEN ARRAY[r.key] END, NULL);
  END IF;
  RETURN QUERY SELECT x.state, extract(epoch FROM x.not_before - now())::double precision
  FROM runs x WHERE x.id = p_run;
END
$$;
