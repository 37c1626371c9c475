-- Incidents (the table is alerts): what pages a person, one open row per task and
-- cause, its repeats counted and its severity raised, published with NOTIFY
-- datashell_alerts, resolved by itself when its cause clears. The causes, each with its
-- incident text (the unique key of an open row) and its home:
--
--   task_failing  task:NAME      a task's final failures (error), its breaker opening
--                                (critical), its pre-checks blocking (warning):
--                                50-breakers.sql, 60-end-run.sql; resolved when the
--                                task succeeds with its breaker closed (note_success)
--   sla_missed    sla:NAME:DAY   a task's keys of one day past their SLA (error; for a
--                                daily task, one per deadline): 70-sla.sql, resolved
--                                when all those keys are done
--   lease_lost    worker:NAME    a worker stopped renewing its leases (warning):
--                                queue/reap.sql, resolved when every run it lost has
--                                ended (70-sla.sql: settle_incidents)
--   connection_refused  connection:NAME
--                                a named connection refused runs (error), one
--                                incident for all of them: 52-connections.sql,
--                                resolved when a run claimed after the last refusal
--                                connects (connection_reached)
--
-- A person may ack or resolve one by hand (alerts/answer.sql); a cause that comes back
-- after that opens a new incident. What the hook was told of each is kept beside it
-- (told): alerts/take.sql hands the worker the next thing to tell.

-- The version without severity, keys and runs is dropped so that a schema it was made
-- in has one raise_alert.
DROP FUNCTION IF EXISTS raise_alert(text, text, text, text, text, text, jsonb);

-- The order of severities: 1 warning, 2 error, 3 critical (NULL: none).
CREATE OR REPLACE FUNCTION severity_rank(p_severity text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT array_position(ARRAY['warning', 'error', 'critical'], p_severity)
$$;

-- The incident as the hook and the NOTIFY receive it. dedup_key is the same for every
-- action on one incident and differs from the next incident of the same cause (the id
-- is in it), and from another schema's.
CREATE OR REPLACE FUNCTION alert_json(a @schema@.alerts) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object('id', a.id, 'kind', a.kind, 'incident', a.incident,
    'task', a.task, 'key', a.key, 'worker', a.worker, 'summary', a.summary,
    'detail', a.detail, 'count', a.count, 'state', a.state, 'severity', a.severity,
    'keys', to_jsonb(a.keys),
    'first_seen', to_char(a.first_seen AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
    'last_seen', to_char(a.last_seen AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
    || (SELECT jsonb_build_object('schema', n.nspname,
                                  'dedup_key', 'datashell:' || n.nspname || ':' || a.incident
                                               || ':' || a.id)
        FROM pg_type t
        JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE t.oid = pg_typeof(a))
$$;

-- Open incident p_incident, or count it again: its severity rises to p_severity if that
-- is higher, its keys and runs gain p_keys and p_runs (the latest 200 of each), its
-- summary, detail and key become the latest cause's.
CREATE OR REPLACE FUNCTION raise_alert(p_kind text, p_incident text, p_task text, p_key text,
                            p_worker text, p_summary text, p_detail jsonb,
                            p_severity text, p_keys text[], p_runs bigint[])
RETURNS bigint LANGUAGE plpgsql
SET search_path = @schema@, pg_temp AS $$
DECLARE
  a alerts;
BEGIN
  INSERT INTO alerts AS x (kind, incident, task, key, worker, summary, detail, severity,
                           keys, runs)
  VALUES (p_kind, p_incident, p_task, p_key, p_worker, p_summary, coalesce(p_detail, '{}'),
          p_severity, coalesce(p_keys, '{}'), coalesce(p_runs, '{}'))
  ON CONFLICT (incident) WHERE state <> 'resolved'
  DO UPDATE SET count = x.count + 1, last_seen = now(), key = excluded.key,
                summary = excluded.summary, detail = excluded.detail,
                severity = CASE WHEN severity_rank(excluded.severity) > severity_rank(x.severity)
                                THEN excluded.severity ELSE x.severity END,
                keys = ARRAY(SELECT k FROM unnest(x.keys || excluded.keys)
                               WITH ORDINALITY AS u(k, i)
                             GROUP BY k ORDER BY max(i) DESC LIMIT 200),
                runs = ARRAY(SELECT r FROM unnest(x.runs || excluded.runs)
                               WITH ORDINALITY AS u(r, i)
                             GROUP BY r ORDER BY max(i) DESC LIMIT 200)
  RETURNING * INTO a;
  PERFORM pg_notify('datashell_alerts',
                    (alert_json(a) - 'detail' - 'keys'
                     || jsonb_build_object('summary', left(a.summary, 2000)))::text);
  RETURN a.id;
END
$$;

CREATE OR REPLACE FUNCTION resolve_alerts(p_incident text, p_by text) RETURNS void
LANGUAGE sql
SET search_path = @schema@, pg_temp AS $$
  UPDATE alerts SET state = 'resolved', resolved_at = now(), resolved_by = p_by
  WHERE incident = p_incident AND state <> 'resolved'
$$;

-- What the hook is to be told of incident a now, NULL: nothing. An open incident the
-- hook never heard of is a trigger, one whose severity rose since it was told an
-- update, and a resolved one it was told of a resolve; a resolved incident it never
-- heard of is history, never delivered, so that a hook started for the first time
-- pages what is open and nothing else.
CREATE OR REPLACE FUNCTION hook_action(a @schema@.alerts) RETURNS text
LANGUAGE sql STABLE
SET search_path = @schema@, pg_temp AS $$
  SELECT CASE
    WHEN a.state <> 'resolved' AND a.told = 'nothing' THEN 'trigger'
    WHEN a.state <> 'resolved' AND a.told = 'trigger'
         AND severity_rank(a.severity) > coalesce(severity_rank(a.told_severity), 0)
      THEN 'update'
    WHEN a.state = 'resolved' AND a.told = 'trigger' THEN 'resolve'
  END
$$;

-- How long after its n-th failed attempt in a row a delivery is tried again: 30
-- seconds, doubling, at most 30 minutes.
CREATE OR REPLACE FUNCTION hook_backoff(n integer) RETURNS interval
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT make_interval(secs => least(30 * power(2, least(greatest(n, 1) - 1, 16)), 1800))
$$;
