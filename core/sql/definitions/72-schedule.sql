-- The schedule: which keys of scheduled tasks the next pass of a worker enqueues.
-- The policy has this one home; the pass, `schedule` and the plan of a pipeline load
-- all read schedule_due().

-- The scheduled tasks (those not removed whose schedule has a start; keys of kind none
-- are never scheduled) as of the moment at: the schedule in force, its first key, the
-- last key due at that moment, what the schedule has covered (schedule_state) and
-- whether the task's graph is paused, which pauses its schedule.
CREATE OR REPLACE FUNCTION schedule_tasks(at timestamptz)
RETURNS TABLE (task_id integer, kind text, s jsonb, start text, last_due text,
               first_key text, last_key text, paused boolean)
LANGUAGE sql STABLE SET search_path = @schema@, pg_temp AS $$
  SELECT t.id, t.key_kind, x.s, x.start, last_due_key(t.key_kind, x.s, at),
         st.first_key, st.last_key, g.paused
  FROM tasks t
  JOIN graphs g ON g.name = t.graph
  CROSS JOIN LATERAL (SELECT task_schedule(t.definition -> 'schedule', g.schedule) AS s) y
  CROSS JOIN LATERAL (SELECT y.s,
                             CASE WHEN t.key_kind = 'hourly' AND length(y.s ->> 'start') = 10
                                  THEN (y.s ->> 'start') || 'T00'
                                  ELSE y.s ->> 'start' END AS start) x
  -- A state left by a task that had keys of another kind covers none of these.
  LEFT JOIN schedule_state st ON st.task_id = t.id AND key_valid(t.key_kind, st.last_key)
  WHERE t.removed_at IS NULL
    AND t.key_kind <> 'none'
    AND x.s ? 'start'
$$;

-- The keys that a pass at the moment at would enqueue: per scheduled task whose graph
-- is not paused, the due keys from its start that its schedule has never covered
-- (schedule_state), as far back as the catch-up policy goes ("all"; "latest": the last due key alone; a number of seconds:
-- the keys that became due within it), less those done or waiting (a key someone ran
-- by hand is not run again; one that failed or was cancelled is), with lookback=false;
-- and for each such stretch of new keys, the lookback keys before it that are done,
-- to be run again (late data), with lookback=true.
CREATE OR REPLACE FUNCTION schedule_due(at timestamptz)
RETURNS TABLE (task_id integer, key text, lookback boolean)
LANGUAGE sql STABLE SET search_path = @schema@, pg_temp AS $$
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
    SELECT sg.id, k.key
    FROM segments sg
    CROSS JOIN LATERAL key_series(sg.kind, sg.first, sg.last) AS k(key)
    WHERE sg.first <= sg.last
  ), lookback_keys AS (
    SELECT DISTINCT sg.id, k.key
    FROM segments sg
    CROSS JOIN LATERAL key_series(sg.kind,
                                  greatest(sg.start, key_shift(sg.kind, sg.first,
                                                               -(sg.s ->> 'lookback')::integer)),
                                  key_shift(sg.kind, sg.first, -1)) AS k(key)
    WHERE sg.first <= sg.last
      AND (sg.s ->> 'lookback')::integer > 0
      AND NOT EXISTS (SELECT 1 FROM new_keys n WHERE n.id = sg.id AND n.key = k.key)
  )
  SELECT n.id, n.key, false
  FROM new_keys n
  LEFT JOIN partitions p ON p.task_id = n.id AND p.key = n.key
  WHERE p.state IS NULL OR p.state NOT IN ('success', 'queued', 'running', 'held')
  UNION ALL
  SELECT l.id, l.key, true
  FROM lookback_keys l
  JOIN partitions p ON p.task_id = l.id AND p.key = l.key
  WHERE p.state = 'success'
$$;
