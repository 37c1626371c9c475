-- The schedule: which keys of scheduled tasks the next pass of a worker enqueues.
-- The policy has this one home; the pass, `schedule` and the plan of a pipeline load
-- all read schedule_keys() or schedule_due().

-- The scheduled tasks (those not removed whose schedule has a start; keys of kind none
-- are never scheduled) as of the moment at: the schedule in force, its first key, the
-- last key due at that moment, what the schedule has covered (schedule_state) and
-- whether the task's graph is paused, which pauses its schedule.
CREATE OR REPLACE FUNCTION schedule_tasks(at timestamptz)
RETURNS TABLE (task_id integer, kind text, s jsonb, start text, last_due text,
               first_key text, last_key text, paused boolean)
LANGUAGE plpgsql STABLE SET search_path = @schema@, pg_temp AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  SELECT t.id, t.key_kind, x.s, x.start, last_due_key(t.key_kind, x.s, at),
         st.first_key, st.last_key, g.paused
  FROM tasks t
  JOIN graphs g ON g.name = t.graph
  -- OFFSET 0 keeps the schedule one value per task: inlined, it would be merged again
  -- at each of the places last_due_key reads it.
  CROSS JOIN LATERAL (SELECT task_schedule(t.definition -> 'schedule', g.schedule) AS s
                      OFFSET 0) y
  CROSS JOIN LATERAL (SELECT y.s,
                             CASE WHEN t.key_kind = 'hourly' AND length(y.s ->> 'start') = 10
                                  THEN (y.s ->> 'start') || 'T00'
                                  ELSE y.s ->> 'start' END AS start) x
  -- A state left by a task that had keys of another kind covers none of these.
  LEFT JOIN schedule_state st
         ON st.task_id = t.id
        AND length(st.last_key) = CASE t.key_kind WHEN 'hourly' THEN 13 ELSE 10 END
  WHERE t.removed_at IS NULL
    AND t.key_kind <> 'none'
    AND x.s ? 'start';
END
$$;

-- The keys that a pass at the moment at finds, with what it does with each (reason):
-- per scheduled task whose graph is not paused, the due keys from its start that its
-- schedule has never covered (schedule_state), as far back as the catch-up policy goes
-- ("all"; "latest": the last due key alone; a number of seconds: the keys that became
-- due within it), less those done: 'new', to enqueue (a key someone ran by hand is not
-- run again; one that failed or was cancelled is), or 'waiting' when a run someone else
-- enqueued has it (the pass leaves it to that run, in schedule_left); for each stretch
-- of new keys, the lookback keys before it that are done, to be run again (late data):
-- 'lookback'; and the keys left to runs that have ended since without the key done:
-- 'taken back', to enqueue. Each with the priority its runs take.
CREATE OR REPLACE FUNCTION schedule_keys(at timestamptz)
RETURNS TABLE (task_id integer, key text, reason text, priority integer)
LANGUAGE plpgsql STABLE SET search_path = @schema@, pg_temp AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  WITH scheduled AS (
    SELECT st.task_id AS id, st.kind, st.s, st.start, st.last_due, st.first_key, st.last_key
    FROM schedule_tasks(at) st
    WHERE NOT st.paused
  ), bounds AS (
    SELECT sc.*,
           greatest(sc.start,
                    CASE WHEN sc.s ->> 'catchup' = 'latest' THEN sc.last_due
                         WHEN jsonb_typeof(sc.s -> 'catchup') = 'number'
                         THEN key_shift(sc.kind,
                                        last_due_key(sc.kind, sc.s,
                                          at - make_interval(secs => (sc.s ->> 'catchup')::integer)),
                                        1)
                    END) AS floor
    FROM scheduled sc
    WHERE sc.last_due >= sc.start
  ), segments AS (
    SELECT b.id, b.kind, b.s, b.start, b.floor AS first,
           CASE WHEN b.first_key IS NULL THEN b.last_due
                ELSE least(b.last_due, key_shift(b.kind, b.first_key, -1)) END AS last
    FROM bounds b
    UNION ALL
    SELECT b.id, b.kind, b.s, b.start, greatest(b.floor, key_shift(b.kind, b.last_key, 1)),
           b.last_due
    FROM bounds b
    WHERE b.last_key IS NOT NULL
  ), new_keys AS (
    SELECT sg.id, sg.s, k.key
    FROM segments sg
    CROSS JOIN LATERAL key_series(sg.kind, sg.first, sg.last) AS k(key)
    WHERE sg.first <= sg.last
  ), lookback_keys AS (
    SELECT DISTINCT sg.id, sg.s, k.key
    FROM segments sg
    CROSS JOIN LATERAL key_series(sg.kind,
                                  greatest(sg.start, key_shift(sg.kind, sg.first,
                                                               -(sg.s ->> 'lookback')::integer)),
                                  key_shift(sg.kind, sg.first, -1)) AS k(key)
    WHERE sg.first <= sg.last
      AND (sg.s ->> 'lookback')::integer > 0
      AND NOT EXISTS (SELECT 1 FROM new_keys n WHERE n.id = sg.id AND n.key = k.key)
  )
  SELECT n.id, n.key,
         CASE WHEN p.state IN ('queued', 'running', 'held') THEN 'waiting' ELSE 'new' END,
         (n.s ->> 'priority')::integer
  FROM new_keys n
  LEFT JOIN partitions p ON p.task_id = n.id AND p.key = n.key
  WHERE p.state IS DISTINCT FROM 'success'
  UNION ALL
  SELECT l.id, l.key, 'lookback', (l.s ->> 'priority')::integer
  FROM lookback_keys l
  JOIN partitions p ON p.task_id = l.id AND p.key = l.key
  WHERE p.state = 'success'
  UNION ALL
  SELECT sc.id, sl.key, 'taken back', (sc.s ->> 'priority')::integer
  FROM schedule_left sl
  JOIN scheduled sc ON sc.id = sl.task_id
  JOIN partitions p ON p.task_id = sl.task_id AND p.key = sl.key
  WHERE p.state NOT IN ('success', 'queued', 'running', 'held')
    AND length(sl.key) = length(sc.start)
    AND sl.key >= sc.start;
END
$$;

-- The keys that a pass at the moment at would enqueue (schedule_keys without those it
-- leaves to waiting runs), lookback=true for the done keys run again.
CREATE OR REPLACE FUNCTION schedule_due(at timestamptz)
RETURNS TABLE (task_id integer, key text, lookback boolean, priority integer)
LANGUAGE sql STABLE SET search_path = @schema@, pg_temp AS $$
  SELECT k.task_id, k.key, k.reason = 'lookback', k.priority
  FROM schedule_keys(at) k
  WHERE k.reason <> 'waiting'
$$;

-- One pass of the schedule, as every worker makes them: enqueue what schedule_keys()
-- finds to enqueue as one batch of kind schedule, audited, note the keys it leaves to
-- waiting runs (schedule_left), and move each task's schedule_state on to its last due
-- key. Once, however many workers pass at the same moment on however
-- many machines: the first takes the lock and the others leave the keys to it (with
-- wait, as `worker --drain` passes before it drains, they wait for it and then find
-- what is left); a pass that comes after reads what the one before committed, since
-- each statement here takes a new snapshot, after the lock. The keys enqueued and the
-- move of the state are one statement, on one snapshot of the tasks, the graphs and
-- the runs: a pipeline load, a resume or a manual run that commits meanwhile is seen by
-- both or by neither, so no state moves over keys that were not enqueued; a run
-- enqueued by hand meanwhile meets this one at the unique index of waiting runs, and
-- the key keeps one. The clock is the server's (now()), and so is next_due_in: a
-- worker waits for the next key without reading its own clock against the server's.
--
-- Returns {"batch": id or null, "runs": n, "tasks": {name: runs}, "next_due": when the
-- next key of an unpaused scheduled task becomes due, or null, "next_due_in": seconds
-- until then, or null}, or {"skipped": true} when another pass holds the lock.
-- The version without wait is dropped so that a schema it was made in has one pass, and
-- `SELECT schedule_pass()` calls this one.
DROP FUNCTION IF EXISTS schedule_pass();
CREATE OR REPLACE FUNCTION schedule_pass(wait boolean DEFAULT false) RETURNS jsonb
LANGUAGE plpgsql SET search_path = @schema@, pg_temp AS $$
DECLARE
  v_lock bigint := hashtextextended('datashell.schedule.' || current_schema(), 0);
  v_ended integer[];
  v_work boolean;
  v_next timestamptz;
  v_batch bigint;
  v_runs integer := 0;
  v_tasks jsonb := '{}';
BEGIN
  IF wait THEN
    PERFORM pg_advisory_xact_lock(v_lock);
  ELSIF NOT pg_try_advisory_xact_lock(v_lock) THEN
    RETURN jsonb_build_object('skipped', true);
  END IF;
  -- Most passes find nothing due: one look at the tasks says so. What this look misses
  -- (a resume committed since) waits for the next pass: it moves no state.
  -- The tasks with keys left to runs that have ended since (done or not: the pass
  -- takes back those not done, and forgets the others).
  SELECT coalesce(array_agg(DISTINCT sl.task_id), '{}')
  INTO v_ended
  FROM schedule_left sl
  JOIN partitions p ON p.task_id = sl.task_id AND p.key = sl.key
  WHERE p.state NOT IN ('queued', 'running', 'held');
  SELECT coalesce(bool_or(st.last_due >= st.start
                          AND (st.last_key IS NULL OR st.last_due > st.last_key
                               OR st.start < st.first_key)
                          OR st.task_id = ANY (v_ended)), false),
         min(key_due_at(st.kind, CASE WHEN st.last_due >= st.start
                                      THEN key_shift(st.kind, st.last_due, 1)
                                      ELSE st.start END, st.s))
  INTO v_work, v_next
  FROM schedule_tasks(now()) st
  WHERE NOT st.paused;
  IF v_work THEN
    -- A task's state moves when its schedule covers more keys: at the end, its last
    -- due key; at the start, its start when that moved earlier. A state of keys of
    -- another kind (the task's key changed) starts again. The batch is named in the
    -- state only when it holds runs (and dropped after when it holds none). Each set
    -- is read once, so that a catch-up of many keys streams into runs.
    WITH found AS (
      SELECT k.task_id, k.key, k.reason, k.priority
      FROM schedule_keys(now()) k
    ), due AS (
      SELECT f.task_id, f.key, f.priority
      FROM found f
      WHERE f.reason <> 'waiting'
    ), left_to_others AS (
      INSERT INTO schedule_left (task_id, key)
      SELECT f.task_id, f.key
      FROM found f
      WHERE f.reason = 'waiting'
      ON CONFLICT DO NOTHING
    ), raised AS (
      -- A waiting run the key is left to takes the schedule's priority, if it had less:
      -- a long backfill that has reached the key does not keep it behind its own runs.
      UPDATE runs r
      SET priority = f.priority
      FROM found f
      WHERE f.reason = 'waiting'
        AND r.task_id = f.task_id AND r.key = f.key
        AND r.state IN ('queued', 'held')
        AND r.priority < f.priority
    ), forgotten AS (
      -- The keys left to runs that ended: done, or taken back (enqueued) here.
      DELETE FROM schedule_left sl
      USING partitions p
      WHERE p.task_id = sl.task_id AND p.key = sl.key
        AND (p.state = 'success'
             OR EXISTS (SELECT 1 FROM found f
                        WHERE f.reason = 'taken back'
                          AND f.task_id = sl.task_id AND f.key = sl.key))
    ), covered AS (
      SELECT st.task_id, st.start, st.last_due
      FROM schedule_tasks(now()) st
      WHERE NOT st.paused
        AND st.last_due >= st.start
        AND (st.last_key IS NULL OR st.last_due > st.last_key OR st.start < st.first_key)
    ), batch AS (
      INSERT INTO batches (kind, command)
      VALUES ('schedule', 'schedule pass')
      RETURNING id
    ), enqueued AS (
      INSERT INTO runs (task_id, key, batch_id, priority, ord, state)
      SELECT d.task_id, d.key, b.id, d.priority, key_ord(d.key),
             CASE WHEN h.task_id IS NULL THEN 'queued' ELSE 'held' END
      FROM due d
      CROSS JOIN batch b
      LEFT JOIN held_tasks h ON h.task_id = d.task_id
      ORDER BY d.key, d.task_id
      ON CONFLICT (task_id, key) WHERE state IN ('queued', 'running', 'held') DO NOTHING
      RETURNING task_id
    ), moved AS (
      INSERT INTO schedule_state AS ss (task_id, first_key, last_key, batch_id)
      SELECT c.task_id, c.start, c.last_due,
             (SELECT b.id FROM batch b WHERE EXISTS (SELECT 1 FROM enqueued))
      FROM covered c
      ON CONFLICT (task_id) DO UPDATE
      SET first_key = CASE WHEN length(ss.first_key) = length(excluded.first_key)
                           THEN least(ss.first_key, excluded.first_key)
                           ELSE excluded.first_key END,
          last_key = CASE WHEN length(ss.last_key) = length(excluded.last_key)
                          THEN greatest(ss.last_key, excluded.last_key)
                          ELSE excluded.last_key END,
          passed_at = now(),
          batch_id = coalesce(excluded.batch_id, ss.batch_id)
    ), per_task AS (
      SELECT t.name, count(*) AS n
      FROM enqueued e
      JOIN tasks t ON t.id = e.task_id
      GROUP BY t.name
    )
    SELECT (SELECT b.id FROM batch b), coalesce(sum(n), 0)::integer,
           coalesce(jsonb_object_agg(name, n), '{}')
    INTO v_batch, v_runs, v_tasks
    FROM per_task;
    IF v_runs = 0 THEN
      -- Nothing due (the keys the state moves over are done, waiting or left out by
      -- the catch-up policy), or every key was enqueued by someone else meanwhile.
      DELETE FROM batches WHERE id = v_batch;
      v_batch := NULL;
    ELSE
      UPDATE batches SET runs = v_runs WHERE id = v_batch;
      PERFORM audit_write('schedule pass', 'ok', NULL,
                          jsonb_build_object('batch', v_batch, 'runs', v_runs, 'tasks', v_tasks));
    END IF;
  END IF;
  RETURN jsonb_build_object('batch', v_batch, 'runs', v_runs, 'tasks', v_tasks,
                            'next_due', iso_utc(v_next),
                            'next_due_in', extract(epoch FROM v_next - now())::float8);
END
$$;
