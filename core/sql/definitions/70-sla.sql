-- SLAs: when a key's deadline is, whether it is late, and the alert for a key that is.

CREATE OR REPLACE FUNCTION sla_deadline(p_sla jsonb, p_kind text, p_key text) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
  SELECT CASE
    WHEN p_sla IS NULL OR jsonb_typeof(p_sla) <> 'object' OR p_kind = 'none' THEN NULL
    WHEN p_sla ? 'within' THEN
      (left(p_key, 10)::date + make_interval(hours => coalesce(
         nullif(substr(p_key, 12, 2), '')::integer, 0))
       + CASE p_kind WHEN 'hourly' THEN interval '1 hour' ELSE interval '1 day' END
       + make_interval(secs => (p_sla ->> 'within')::integer))
      AT TIME ZONE coalesce(p_sla ->> 'timezone', 'UTC')
    ELSE (left(p_key, 10)::date + coalesce((p_sla ->> 'days_after')::integer, 1)
          + (p_sla ->> 'time')::time)
         AT TIME ZONE coalesce(p_sla ->> 'timezone', 'UTC')
  END
$$;

-- Whether key p_key of kind p_kind, whose latest run is in state p_state (NULL: none), is
-- late at the moment p_at under SLA p_sla and schedule p_s (the task's schedule in force,
-- task_schedule's form): the one rule of lateness, which check_slas, status and handoff
-- read. A key that is not due yet is never late, whatever its SLA says; SLAs apply to
-- the due keys of scheduled tasks (from their schedule's start on) and, for the other
-- tasks, which run only when someone asks, to the keys that were enqueued.
CREATE OR REPLACE FUNCTION key_late(p_kind text, p_key text, p_sla jsonb, p_s jsonb,
                                    p_state text, p_at timestamptz) RETURNS boolean
LANGUAGE sql STABLE SET search_path = @schema@, pg_temp AS $$
  SELECT p_kind <> 'none'
         AND p_state IS DISTINCT FROM 'success'
         AND (p_state IS NOT NULL
              OR p_s ? 'start' AND left(p_key, length(p_s ->> 'start')) >= p_s ->> 'start')
         AND coalesce(sla_deadline(p_sla, p_kind, p_key) <= p_at, false)
         AND key_due_at(p_kind, p_key, p_s) <= p_at
$$;

-- The SLA incidents: one per task and day of late keys (for a daily task, one per
-- deadline), which gains the keys of that day that become late while it is open. A key
-- is raised once: a key of an incident, open or resolved, raises nothing again, so that
-- an incident resolved by hand while its keys are still late stays resolved until
-- another key is late. A key done before the check ran is never late. Returns the
-- incidents raised or counted again.
CREATE OR REPLACE FUNCTION check_slas() RETURNS integer
LANGUAGE sql
SET search_path = @schema@, pg_temp AS $$
  WITH late AS (
    SELECT t.name AS task, left(k.key, 10) AS day, k.key, d.due,
           NOT EXISTS (SELECT 1 FROM alerts a
                       WHERE a.incident = 'sla:' || t.name || ':' || left(k.key, 10)
                         AND k.key = ANY (a.keys)) AS new
    FROM tasks t
    LEFT JOIN graphs g ON g.name = t.graph
    CROSS JOIN LATERAL key_series(t.key_kind,
        to_char(now() AT TIME ZONE 'UTC' - interval '4 days',
                CASE t.key_kind WHEN 'hourly' THEN 'YYYY-MM-DD"T"HH24' ELSE 'YYYY-MM-DD' END),
        to_char(now() AT TIME ZONE 'UTC',
                CASE t.key_kind WHEN 'hourly' THEN 'YYYY-MM-DD"T"HH24' ELSE 'YYYY-MM-DD' END))
      AS k(key)
    CROSS JOIN LATERAL (SELECT sla_deadline(t.definition -> 'sla', t.key_kind, k.key)
                        AS due) d
    LEFT JOIN partitions p ON p.task_id = t.id AND p.key = k.key
    WHERE t.removed_at IS NULL AND t.key_kind <> 'none'
      AND jsonb_typeof(t.definition -> 'sla') = 'object'
      AND d.due > now() - interval '2 days'
      AND key_late(t.key_kind, k.key, t.definition -> 'sla',
                   task_schedule(t.definition -> 'schedule', g.schedule), p.state, now())
  ), days AS (
    SELECT task, day, array_agg(key ORDER BY key) AS keys, min(due) AS due
    FROM late
    GROUP BY task, day
    HAVING bool_or(new)
  )
  SELECT count(raise_alert('sla_missed', 'sla:' || task || ':' || day, task, keys[1], NULL,
           CASE WHEN cardinality(keys) = 1
                THEN format('%s missed its SLA for %s (due %s UTC)', task, keys[1],
                            to_char(due AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'))
                ELSE format('%s missed its SLA for %s keys of %s: %s (the first due %s UTC)',
                            task, cardinality(keys), day, array_to_string(keys, ', '),
                            to_char(due AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'))
           END,
           jsonb_build_object('due', due), 'error', keys, NULL))::integer
  FROM days
$$;

-- The incidents whose cause cleared without a run's end to say so: an SLA incident
-- once all its late keys are done (run or marked: their records say success), a lost
-- lease once every run the worker lost has ended (none queued or running: a held one
-- waits for its breaker, which has an incident of its own). Workers run it with
-- check_slas. Returns the incidents resolved.
CREATE OR REPLACE FUNCTION settle_incidents() RETURNS integer
LANGUAGE plpgsql
SET search_path = @schema@, pg_temp AS $$
DECLARE
  n integer;
BEGIN
  UPDATE alerts a
  SET state = 'resolved', resolved_at = now(), resolved_by = 'datashell'
  WHERE a.state <> 'resolved'
    AND ((a.kind = 'sla_missed'
          AND NOT EXISTS (SELECT 1
                          FROM unnest(a.keys) AS k(key)
                          JOIN tasks t ON t.name = a.task
                          LEFT JOIN partitions p ON p.task_id = t.id AND p.key = k.key
                          WHERE p.state IS DISTINCT FROM 'success'))
         OR (a.kind = 'lease_lost'
             AND NOT EXISTS (SELECT 1 FROM runs r
                             WHERE r.id = ANY (a.runs)
                               AND r.state IN ('queued', 'running'))));
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END
$$;
