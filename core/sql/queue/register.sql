-- A worker ($1) starts: where it runs, its scope (a graph, or NULL) and its slots.
INSERT INTO @schema@.workers (name, host, pid, graph, concurrency)
VALUES ($1, $2, $3, $4, $5)
