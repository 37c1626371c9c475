-- A task's circuit breaker: counted by end_run in the run's own transaction, opened
-- on a fatal failure or too many in a row or in a window, probed after a cool-down.

-- A task's breaker settings in force, from its own (p_task) over its graph's (p_graph)
-- over the defaults: the one home of the defaults (datashell-pipelines(5), BREAKERS),
-- which the breaker reads and pipeline show shows. Durations in seconds.
CREATE OR REPLACE FUNCTION task_breaker(p_task jsonb, p_graph jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = @schema@, pg_temp AS $$
  SELECT '{"failures": 5, "window_failures": 10, "window": 3600, "cooldown": 600}'::jsonb
         || coalesce(p_graph, '{}'::jsonb) || coalesce(p_task, '{}'::jsonb)
$$;

-- One setting of task p_task's breaker. The version with a default of its own is dropped:
-- the defaults are task_breaker's.
DROP FUNCTION IF EXISTS breaker_setting(integer, text, text);
CREATE OR REPLACE FUNCTION breaker_setting(p_task integer, p_name text) RETURNS integer
LANGUAGE sql STABLE
SET search_path = @schema@, pg_temp AS $$
  SELECT (task_breaker(t.definition -> 'breaker', g.breaker) ->> p_name)::integer
  FROM tasks t JOIN graphs g ON g.name = t.graph
  WHERE t.id = p_task
$$;

-- The tasks whose breaker is not closed: a run enqueued for one of them is held, not
-- queued (runs/enqueue.sql, schedule_pass()), as hold_task holds those already queued.
CREATE OR REPLACE VIEW held_tasks AS
  SELECT task_id
  FROM breakers
  WHERE state <> 'closed';

-- The one run a half-open breaker lets through: while a breaker is not closed the claim
-- (queue/claim.sql) takes no run of its task but this one, whatever else of the task is
-- queued (a retry scheduled while it was open, a run whose lease expired).
CREATE OR REPLACE VIEW probe_runs AS
  SELECT probe_run_id AS run_id
  FROM breakers
  WHERE state = 'half_open'
    AND probe_run_id IS NOT NULL;

CREATE OR REPLACE FUNCTION hold_task(p_task integer) RETURNS integer
LANGUAGE plpgsql
SET search_path = @schema@, pg_temp AS $$
DECLARE
  n integer;
BEGIN
  UPDATE runs SET state = 'held' WHERE task_id = p_task AND state = 'queued';
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END
$$;

CREATE OR REPLACE FUNCTION release_task(p_task integer) RETURNS integer
LANGUAGE plpgsql
SET search_path = @schema@, pg_temp AS $$
DECLARE
  n integer;
BEGIN
  UPDATE runs SET state = 'queued', not_before = now()
  WHERE task_id = p_task AND state = 'held';
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END
$$;

-- A run of the task succeeded: its failures in a row end, a half-open breaker closes
-- and lets the held runs go, and the task's incident, if any, resolves itself, unless
-- its breaker is still open (a run that began before it opened).
CREATE OR REPLACE FUNCTION note_success(p_task integer) RETURNS void
LANGUAGE plpgsql
SET search_path = @schema@, pg_temp AS $$
DECLARE
  was text;
BEGIN
  UPDATE breakers b
  SET state = 'closed', consecutive = 0, recent = '{}', opened_at = NULL, opened_by = NULL,
      reason = NULL, retry_at = NULL, probe_run_id = NULL
  FROM (SELECT state FROM breakers WHERE task_id = p_task) old
  WHERE b.task_id = p_task
    AND ((b.state = 'closed' AND b.consecutive > 0) OR b.state = 'half_open')
  RETURNING old.state INTO was;
  IF was = 'half_open' THEN
    PERFORM release_task(p_task);
  END IF;
  IF NOT EXISTS (SELECT 1 FROM held_tasks h WHERE h.task_id = p_task) THEN
    PERFORM resolve_alerts('task:' || t.name, 'datashell') FROM tasks t WHERE t.id = p_task;
  END IF;
END
$$;

CREATE OR REPLACE FUNCTION open_breaker(p_task integer, p_reason text, p_manual boolean)
RETURNS integer LANGUAGE plpgsql
SET search_path = @schema@, pg_temp AS $$
DECLARE
  t tasks;
  held integer;
  cooldown integer := breaker_setting(p_task, 'cooldown');
BEGIN
  SELECT * INTO t FROM tasks WHERE id = p_task;
  INSERT INTO breakers AS b (task_id) VALUES (p_task)
  ON CONFLICT (task_id) DO NOTHING;
  UPDATE breakers
  SET state = 'open', opened_at = now(), reason = p_reason, manual = p_manual,
      opened_by = CASE WHEN p_manual THEN current_user ELSE 'datashell' END,
      retry_at = CASE WHEN p_manual THEN NULL
                      ELSE now() + make_interval(secs => cooldown) END,
      probe_run_id = NULL
  WHERE task_id = p_task;
  held := hold_task(p_task);
  PERFORM raise_alert('task_failing', 'task:' || t.name, t.name, NULL, NULL,
    format('the breaker of %s opened: %s', t.name, p_reason),
    jsonb_build_object('reason', p_reason, 'manual', p_manual, 'held', held),
    'critical', NULL, NULL);
  RETURN held;
END
$$;

-- A person closes the breaker and lets the held runs go. The task's incident stays
-- open: a reset is a person's guess that the cause is gone, and the first run that
-- succeeds after it is the proof that resolves it (note_success).
CREATE OR REPLACE FUNCTION reset_breaker(p_task integer) RETURNS integer
LANGUAGE plpgsql
SET search_path = @schema@, pg_temp AS $$
BEGIN
  UPDATE breakers
  SET state = 'closed', consecutive = 0, recent = '{}', opened_at = NULL, opened_by = NULL,
      reason = NULL, manual = false, retry_at = NULL, probe_run_id = NULL
  WHERE task_id = p_task;
  RETURN release_task(p_task);
END
$$;

CREATE OR REPLACE FUNCTION note_failure(p_task integer, p_key text, p_class text, p_fatal boolean,
                             p_error text, p_final boolean) RETURNS void
LANGUAGE plpgsql
SET search_path = @schema@, pg_temp AS $$
DECLARE
  b breakers;
  t tasks;
  limit_n integer := breaker_setting(p_task, 'failures');
  window_n integer := breaker_setting(p_task, 'window_failures');
  window_s integer := breaker_setting(p_task, 'window');
  why text;
BEGIN
  SELECT * INTO t FROM tasks WHERE id = p_task;
  INSERT INTO breakers AS x (task_id) VALUES (p_task)
  ON CONFLICT (task_id) DO NOTHING;
  -- A run counts once, when it has failed for good (p_final: no attempt left, or a
  -- class that is not retried): the attempts before a retry are one failure of one run,
  -- not several, so a flaky task whose retries succeed never adds up to "N in a row".
  UPDATE breakers
  SET consecutive = consecutive + CASE WHEN p_final THEN 1 ELSE 0 END,
      recent = CASE WHEN p_final
                    THEN ARRAY(SELECT at FROM unnest(recent || now()) AS u(at)
                               WHERE at > now() - make_interval(secs => window_s)
                               ORDER BY at DESC LIMIT window_n)
                    ELSE recent END
  WHERE task_id = p_task
  RETURNING * INTO b;
  IF p_final THEN
    PERFORM raise_alert('task_failing', 'task:' || t.name, t.name, p_key, NULL,
      format('%s failed for %s: %s', t.name, coalesce(nullif(p_key, ''), 'its key'),
             left(p_error, 500)),
      jsonb_build_object('error', p_error, 'class', p_class), 'error',
      CASE WHEN p_key <> '' THEN ARRAY[p_key] END, NULL);
  END IF;
  IF b.state = 'half_open' THEN
    why := format('the probe run failed (%s)', p_class);
  ELSIF b.state = 'closed' AND p_fatal THEN
    why := format('a %s failure', p_class);
  ELSIF b.state = 'closed' AND p_final AND b.consecutive >= limit_n THEN
    why := format('%s failures in a row', b.consecutive);
  ELSIF b.state = 'closed' AND p_final AND cardinality(b.recent) >= window_n THEN
    why := format('%s failures within %s', cardinality(b.recent),
                  make_interval(secs => window_s));
  END IF;
  IF why IS NOT NULL THEN
    PERFORM open_breaker(p_task, why || ': ' || left(p_error, 300), false);
  END IF;
END
$$;

CREATE OR REPLACE FUNCTION release_probes() RETURNS integer
LANGUAGE plpgsql
SET search_path = @schema@, pg_temp AS $$
DECLARE
  b record;
  probe bigint;
  n integer := 0;
BEGIN
  FOR b IN SELECT x.task_id FROM breakers x
           WHERE NOT x.manual
             AND ((x.state = 'open' AND x.retry_at <= now())
                  OR (x.state = 'half_open' AND NOT EXISTS (
                        SELECT 1 FROM runs p
                        WHERE p.id = x.probe_run_id AND p.state IN ('queued', 'running'))))
           FOR UPDATE SKIP LOCKED
  LOOP
    -- The row was read in the loop's snapshot, which may predate another worker's
    -- release committed just before the lock was granted: decide again in a snapshot
    -- taken now that the row is ours, so that a second probe is never let through.
    CONTINUE WHEN NOT EXISTS (
      SELECT 1 FROM breakers x
      WHERE x.task_id = b.task_id
        AND NOT x.manual
        AND ((x.state = 'open' AND x.retry_at <= now())
             OR (x.state = 'half_open' AND NOT EXISTS (
                   SELECT 1 FROM runs p
                   WHERE p.id = x.probe_run_id AND p.state IN ('queued', 'running')))));
    probe := NULL;
    -- The probe is the first of the task's waiting runs: held, or queued (a run that
    -- came back to the queue while the breaker was open waits like a held one, since
    -- the claim takes nothing of the task but the probe).
    UPDATE runs SET state = 'queued', not_before = now()
    WHERE id = (SELECT h.id FROM runs h WHERE h.task_id = b.task_id
                  AND h.state IN ('held', 'queued')
                ORDER BY h.priority DESC, h.ord, h.id LIMIT 1)
    RETURNING id INTO probe;
    UPDATE breakers SET state = 'half_open', probe_run_id = probe
    WHERE task_id = b.task_id;
    n := n + 1;
  END LOOP;
  RETURN n;
END
$$;
