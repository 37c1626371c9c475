-- Put back to the queue the runs whose worker stopped renewing its lease (it died or
-- lost its connection). A run whose cancel was requested meanwhile ends cancelled.
-- SKIP LOCKED: a run being finished right now is not expired, and nobody waits.
-- One incident per worker that lost runs, counting them, with the runs it lost
-- (settle_incidents resolves it once they have all ended). The attempt a run queued again
-- lost is kept in run_attempts, as end_run keeps a failed one, for logs.
-- A stopped worker that left runs in hand stands for them (abandoned, the claim's fleet in
-- queue/claim.sql) until none of them is running any more (settled).
WITH reaped AS (
    UPDATE @schema@.runs r
    SET state = CASE WHEN r.cancel_requested THEN 'cancelled' ELSE 'queued' END,
        finished_at = CASE WHEN r.cancel_requested THEN now() END,
        error = 'the lease of worker ' || coalesce(x.worker, '?') || ' expired'
                || CASE WHEN r.cancel_requested THEN '' ELSE '; queued again' END,
        worker = NULL,
        lease_until = NULL
    FROM (SELECT id, worker
          FROM @schema@.runs
          WHERE state = 'running' AND lease_until < now()
          FOR UPDATE SKIP LOCKED) x
    WHERE r.id = x.id
    RETURNING x.worker, r.id, r.attempt, r.started_at, r.state, r.error, r.connection
), kept AS (
    INSERT INTO @schema@.run_attempts (run_id, attempt, worker, started_at, finished_at, error,
                                       connection)
    SELECT id, attempt, worker, started_at, now(), error, connection
    FROM reaped
    WHERE state = 'queued'
    ON CONFLICT (run_id, attempt) DO NOTHING
), settled AS (
    UPDATE @schema@.workers w
    SET abandoned = 0
    WHERE w.stopped_at IS NOT NULL
      AND w.abandoned > 0
      AND @schema@.worker_running_runs(w.name) = 0
), losers AS (
    SELECT coalesce(worker, '?') AS worker, count(*) AS n, array_agg(id ORDER BY id) AS ids
    FROM reaped
    GROUP BY 1
)
SELECT count(@schema@.raise_alert('lease_lost', 'worker:' || l.worker, NULL, NULL, l.worker,
                                  format('worker %s lost its lease on %s run(s); '
                                         || 'they went back to the queue', l.worker, l.n),
                                  jsonb_build_object('runs', l.n), 'warning', NULL, l.ids))
FROM losers l
