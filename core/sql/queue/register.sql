-- A worker ($1) starts: where it runs, its scope (a graph, or NULL) and its slots. A
-- worker that reconnects after losing its server registers again under its name: its
-- row may be there (live again) or lost with the crash (its commits do not wait for
-- the disk; see claim.c). The runs it held then are still running under its name until
-- their leases run out: its row stands for them as well as for its slots (abandoned,
-- read by the claim's fleet, queue/claim.sql).
INSERT INTO @schema@.workers (name, host, pid, graph, concurrency, abandoned)
VALUES ($1, $2, $3, $4, $5, (SELECT count(*)
                             FROM @schema@.runs
                             WHERE state = 'running' AND worker = $1))
ON CONFLICT (name) DO UPDATE
SET heartbeat_at = now(), stopped_at = NULL, abandoned = excluded.abandoned
