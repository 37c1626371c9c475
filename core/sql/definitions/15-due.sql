-- When a key is due: the one rule. A key is due once its period has ended in the time
-- zone of its task's schedule (or begun, for a schedule with "due": "start"), plus the
-- schedule's delay. Keys are wall-clock periods in that zone: on the day clocks go
-- forward the skipped hour's key is an empty period, due with the hour before it; on the
-- day they go back, the hour that repeats ends, and is due, at the end of its second
-- pass. Keys that are not due are never enqueued (definitions/25-runs.sql), planned,
-- scheduled (definitions/72-schedule.sql) or late (definitions/70-sla.sql).

-- The schedule in force for a task: the defaults, under its graph's schedule, under its
-- own (the normalized forms of datashell-pipelines(5)); a task whose schedule is false
-- takes the defaults alone. It is a schedule that enqueues keys by itself only with a
-- "start"; without one it still says when keys are due.
CREATE OR REPLACE FUNCTION task_schedule(p_task jsonb, p_graph jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT '{"delay": 0, "timezone": "UTC", "due": "end", "catchup": "all", "lookback": 0,
           "priority": 10}'::jsonb
         || CASE WHEN p_task = 'false'::jsonb THEN '{}'::jsonb
                 ELSE coalesce(p_graph, '{}'::jsonb) || coalesce(p_task, '{}'::jsonb) END
$$;

-- The moment key of kind becomes due under schedule s (task_schedule's form): -infinity
-- for the key of kind none, which is always due. One plain SELECT that reads only
-- pg_catalog, so that the planner inlines it into the statements that test many keys;
-- it reads key once (a day padded to its first hour, read as a timestamp), since the
-- planner does not inline a function that would compute an argument given as an
-- expression (the key after another, say) more than once: called instead, it costs
-- a pass of the schedule over a thousand tasks several milliseconds.
CREATE OR REPLACE FUNCTION key_due_at(kind text, key text, s jsonb) RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN kind = 'none' THEN '-infinity'::timestamptz
    ELSE (((replace(rpad(key, 13, 'T00'), 'T', ' ') || ':00')::timestamp
           + CASE WHEN s ->> 'due' = 'start' THEN interval '0'
                  WHEN kind = 'hourly' THEN interval '1 hour'
                  ELSE interval '1 day' END)
          AT TIME ZONE (s ->> 'timezone'))
         + make_interval(secs => (s ->> 'delay')::integer)
  END
$$;

-- The last key of kind that is due at the moment at under schedule s; '' for kind none.
-- Its period ends (or begins, with "due": "start") at the last boundary of a day or an
-- hour, in the schedule's zone, that the moment less the delay has passed: the period
-- before the one that holds it, unless its boundary is not yet there in real time (the
-- clocks changed), when it is one earlier. That is key_due_at turned round, and
-- tests/t/63-due.t checks the two against each other around changes of the clocks. One
-- expression on pg_catalog alone, so that the planner inlines it: the schedule reads it
-- for every task at every pass.
CREATE OR REPLACE FUNCTION last_due_key(kind text, s jsonb, at timestamptz) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN kind = 'none' THEN ''
    ELSE to_char(
      date_trunc(CASE kind WHEN 'hourly' THEN 'hour' ELSE 'day' END,
                 (at - make_interval(secs => (s ->> 'delay')::integer))
                 AT TIME ZONE (s ->> 'timezone'))
      - CASE WHEN date_trunc(CASE kind WHEN 'hourly' THEN 'hour' ELSE 'day' END,
                             (at - make_interval(secs => (s ->> 'delay')::integer))
                             AT TIME ZONE (s ->> 'timezone'))
                  AT TIME ZONE (s ->> 'timezone')
                  <= at - make_interval(secs => (s ->> 'delay')::integer)
             THEN interval '0'
             WHEN kind = 'hourly' THEN interval '1 hour'
             ELSE interval '1 day' END
      - CASE WHEN s ->> 'due' = 'start' THEN interval '0'
             WHEN kind = 'hourly' THEN interval '1 hour'
             ELSE interval '1 day' END,
      CASE kind WHEN 'hourly' THEN 'YYYY-MM-DD"T"HH24' ELSE 'YYYY-MM-DD' END)
  END
$$;
