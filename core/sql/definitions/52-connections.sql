-- A named connection that refuses connections (its server down, out of connections,
-- the network cut): one cause, whoever meets it. The runs that could not connect are
-- not at fault, so they neither count for their tasks' breakers nor raise their
-- tasks' incidents (a warehouse down would otherwise open every breaker it serves and
-- page once per task); they raise the connection's incident instead and wait for it,
-- without using up their retries (end_run, 60-end-run.sql).

-- Run p_run (key p_key) could not connect to connection p_connection (p_error says
-- why): the incident connection:NAME opens or counts again, and the time the run waits
-- before it tries again comes back. The wait is as long as the connection has refused
-- so far, from 1 second to a minute: a short outage is ridden out at once, a long one
-- is tried about once a minute by each waiting run.
CREATE OR REPLACE FUNCTION connection_refused(p_connection text, p_key text, p_run bigint,
                                              p_error text) RETURNS interval
LANGUAGE plpgsql
SET search_path = @schema@, pg_temp AS $$
DECLARE
  raised bigint := raise_alert('connection_refused', 'connection:' || p_connection, NULL, p_key,
    NULL, format('connection %s refuses connections: %s', p_connection, left(p_error, 500)),
    jsonb_build_object('connection', p_connection, 'error', p_error), 'error',
    CASE WHEN p_key <> '' THEN ARRAY[p_key] END, ARRAY[p_run]);
BEGIN
  RETURN (SELECT least(greatest(now() - a.first_seen, interval '1 second'), interval '1 minute')
          FROM alerts a
          WHERE a.id = raised);
END
$$;

-- A run claimed at p_claimed connected to p_connection: its incident resolves, unless
-- a refusal was counted after that run was claimed, which this connection may predate
-- (a run that connected before the outage and ends during it).
CREATE OR REPLACE FUNCTION connection_reached(p_connection text, p_claimed timestamptz)
RETURNS void LANGUAGE sql
SET search_path = @schema@, pg_temp AS $$
  SELECT resolve_alerts(a.incident, 'datashell')
  FROM alerts a
  WHERE a.incident = 'connection:' || p_connection
    AND a.state <> 'resolved'
    AND a.last_seen < p_claimed
$$;
