-- Alerts: raised (or counted again) per incident, published with NOTIFY
-- datashell_alerts, resolved when their cause clears.

CREATE OR REPLACE FUNCTION alert_json(a @schema@.alerts) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object('id', a.id, 'kind', a.kind, 'incident', a.incident,
    'task', a.task, 'key', a.key, 'worker', a.worker, 'summary', a.summary,
    'detail', a.detail, 'count', a.count, 'state', a.state,
    'first_seen', to_char(a.first_seen AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
    'last_seen', to_char(a.last_seen AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
    'schema', (SELECT n.nspname FROM pg_type t
               JOIN pg_namespace n ON n.oid = t.typnamespace
               WHERE t.oid = pg_typeof(a)))
$$;

CREATE OR REPLACE FUNCTION raise_alert(p_kind text, p_incident text, p_task text, p_key text,
                            p_worker text, p_summary text, p_detail jsonb)
RETURNS bigint LANGUAGE plpgsql
SET search_path = @schema@, pg_temp AS $$
DECLARE
  a alerts;
BEGIN
  INSERT INTO alerts AS x (kind, incident, task, key, worker, summary, detail)
  VALUES (p_kind, p_incident, p_task, p_key, p_worker, p_summary, coalesce(p_detail, '{}'))
  ON CONFLICT (incident) WHERE state <> 'resolved'
  DO UPDATE SET count = x.count + 1, last_seen = now(), key = excluded.key,
                summary = excluded.summary, detail = excluded.detail
  RETURNING * INTO a;
  PERFORM pg_notify('datashell_alerts',
                    (alert_json(a) - 'detail'
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
