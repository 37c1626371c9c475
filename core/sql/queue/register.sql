-- A worker ($1) starts: where it runs, its scope (a graph, or NULL) and its slots. A
-- worker that reconnects after losing its server registers again under its name: its
-- row may be there (live again) or lost with the crash (its commits do not wait for
-- the disk; see claim.c).
INSERT INTO @schema@.workers (name, host, pid, graph, concurrency)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (name) DO UPDATE
SET heartbeat_at = now(), stopped_at = NULL
