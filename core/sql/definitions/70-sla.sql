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

CREATE OR REPLACE FUNCTION check_slas() RETURNS integer
LANGUAGE sql
SET search_path = @schema@, pg_temp AS $$
  SELECT count(raise_alert('sla_missed', 'sla_missed:' || t.name || ':' || k.key,
           t.name, k.key, NULL,
           format('%s missed its SLA for %s (due %s UTC)', t.name, k.key,
                  to_char(d.due AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI')),
           jsonb_build_object('due', d.due)))::integer
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
    AND NOT EXISTS (SELECT 1 FROM alerts a
                    WHERE a.incident = 'sla_missed:' || t.name || ':' || k.key)
$$;
