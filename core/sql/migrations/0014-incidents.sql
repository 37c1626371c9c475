-- Alerts become incidents: one open row per task and cause (definitions/40-alerts.sql
-- says which), whose severity rises while it lasts, and whose delivery to the hook is
-- a state, not a queue: what the hook was last told of it (told, told_severity) beside
-- what it is now (state, severity), with the retries of a delivery that failed.
--
-- severity: warning, error or critical; it only rises while the incident is open.
-- keys: the keys involved (the failed keys of a task, the late keys of a day), the
-- latest few hundred. runs: the runs involved (those a worker lost with its lease).
-- told: 'nothing' (the hook never heard of it), 'trigger' (it was told the incident
-- is open, at told_severity) or 'resolve' (it was told the incident ended).
-- hook_attempts and hook_next_at: the failed attempts in a row at the pending action
-- and when the next one may be made; hook_lease_until: a worker is delivering it until
-- then; hook_at and hook_error: the last attempt, and why it failed.
ALTER TABLE alerts ADD COLUMN severity text NOT NULL DEFAULT 'error'
                       CHECK (severity IN ('warning', 'error', 'critical')),
                   ADD COLUMN keys text[] NOT NULL DEFAULT '{}',
                   ADD COLUMN runs bigint[] NOT NULL DEFAULT '{}',
                   ADD COLUMN told text NOT NULL DEFAULT 'nothing'
                       CHECK (told IN ('nothing', 'trigger', 'resolve')),
                   ADD COLUMN told_severity text
                       CHECK (told_severity IN ('warning', 'error', 'critical')),
                   ADD COLUMN hook_attempts integer NOT NULL DEFAULT 0,
                   ADD COLUMN hook_next_at timestamptz,
                   ADD COLUMN hook_lease_until timestamptz;

-- The alerts of before, as incidents: a task's task_failed, breaker_open and
-- check_blocked become its one task_failing incident, an SLA missed per key becomes
-- one per task and day. A resolved alert is settled: the hook of before was never told
-- a resolve, under a deduplication key the new ones do not share, so there is nothing
-- to tell it; an open one it took counts as triggered, one it failed on or never got
-- is delivered as a trigger by the next worker with a hook. A lease_lost of before
-- does not know the runs it lost: the next look (settle_incidents) resolves it.
UPDATE alerts
SET severity = CASE kind WHEN 'check_blocked' THEN 'warning'
                         WHEN 'lease_lost' THEN 'warning'
                         WHEN 'breaker_open' THEN 'critical'
                         ELSE 'error' END,
    keys = CASE WHEN key IS NULL THEN '{}' ELSE ARRAY[key] END,
    told = CASE WHEN hook_state <> 'sent' THEN 'nothing'
                WHEN state = 'resolved' THEN 'resolve'
                ELSE 'trigger' END;
UPDATE alerts SET told_severity = severity WHERE told = 'trigger';
DROP INDEX alerts_incident;
UPDATE alerts
SET kind = CASE WHEN kind = 'sla_missed' THEN kind
                WHEN kind = 'lease_lost' THEN kind
                ELSE 'task_failing' END,
    incident = CASE WHEN kind = 'sla_missed' THEN 'sla:' || task || ':' || left(key, 10)
                    WHEN kind = 'lease_lost' THEN 'worker:' || worker
                    ELSE 'task:' || task END
WHERE kind IN ('task_failed', 'breaker_open', 'check_blocked', 'sla_missed', 'lease_lost');

-- Open alerts of one incident merge into the oldest: counts added, the highest
-- severity, every key, the latest summary; acked only if all were; triggered if the
-- hook took any. The others end resolved, saying where they went.
UPDATE alerts a
SET count = m.count, first_seen = m.first_seen, last_seen = m.last_seen,
    severity = m.severity, keys = m.keys, state = m.state, summary = m.summary,
    detail = m.detail, key = m.key, told = m.told, told_severity = m.told_severity
FROM (SELECT g.incident, min(g.id) AS id, sum(g.count) AS count,
             min(g.first_seen) AS first_seen, max(g.last_seen) AS last_seen,
             (ARRAY['warning', 'error', 'critical'])[max(array_position(
                 ARRAY['warning', 'error', 'critical'], g.severity))] AS severity,
             (SELECT array_agg(DISTINCT k ORDER BY k)
              FROM alerts b, unnest(b.keys) AS k
              WHERE b.incident = g.incident AND b.state <> 'resolved') AS keys,
             CASE WHEN bool_and(g.state = 'acked') THEN 'acked' ELSE 'open' END AS state,
             (array_agg(g.summary ORDER BY g.last_seen DESC, g.id DESC))[1] AS summary,
             (array_agg(g.detail ORDER BY g.last_seen DESC, g.id DESC))[1] AS detail,
             (array_agg(g.key ORDER BY g.last_seen DESC, g.id DESC))[1] AS key,
             CASE WHEN bool_or(g.told = 'trigger') THEN 'trigger' ELSE 'nothing' END AS told,
             (ARRAY['warning', 'error', 'critical'])[max(array_position(
                 ARRAY['warning', 'error', 'critical'], g.told_severity))] AS told_severity
      FROM alerts g
      WHERE g.state <> 'resolved'
      GROUP BY g.incident
      HAVING count(*) > 1) m
WHERE a.id = m.id;
UPDATE alerts a
SET state = 'resolved', resolved_at = now(), resolved_by = 'datashell',
    told = CASE WHEN a.told = 'nothing' THEN 'nothing' ELSE 'resolve' END,
    detail = a.detail || jsonb_build_object('merged_into', m.id)
FROM (SELECT incident, min(id) AS id
      FROM alerts
      WHERE state <> 'resolved'
      GROUP BY incident
      HAVING count(*) > 1) m
WHERE a.incident = m.incident AND a.state <> 'resolved' AND a.id <> m.id;
CREATE UNIQUE INDEX alerts_incident ON alerts (incident) WHERE state <> 'resolved';

-- What the workers' hooks still have to say: resolved incidents the hook was told of
-- or never heard of (the history) are not in it.
DROP INDEX alerts_hook;
ALTER TABLE alerts DROP COLUMN hook_state;
CREATE INDEX alerts_hook ON alerts (id)
    WHERE told = 'trigger' OR (told = 'nothing' AND state <> 'resolved');
