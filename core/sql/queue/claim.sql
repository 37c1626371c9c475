-- Claim up to $2 runs in queue order (the runs_queue index) for worker $3, with a lease
-- of $4 seconds, in graph $1 (NULL: any): queued, due, in an open graph with a free
-- slot, every upstream done for the key (its shifted key in done_keys,
-- definitions/20-partitions.sql).
-- Runs another claimer holds are skipped, not waited for.
--
-- The candidates are walked in index order and cut at $2 before the per-graph slots
-- are counted (a window function cannot sit under FOR UPDATE), so a claim may take
-- fewer runs than it could; the next one takes the rest. A task whose breaker is open
-- has its runs held, and the claim skips it too, for a run queued at the moment the
-- breaker opened; while it is half open the claim takes its probe alone (held_tasks,
-- probe_runs): the breakers are read once per claim, not once per candidate.
-- started_at is the clock's, not now(): the transaction may have begun before it
-- waited for the graph locks (queue/lock_graphs.sql).
--
-- What a run writes follows from its task and the journal, never from a name in the
-- run: the task's target T and, while a swap of T has an incoming table (T_backfill
-- while started, checked or rolled back; T_v2 in mode v2), that one too, in the last
-- column. A run of backfill --into backfill (swap_id) writes its swap's T_backfill
-- alone, and only while the swap has one and T is still the task's target: otherwise
-- it is not run but cancelled, saying why, so that nothing recreates a table the swap
-- dropped or renamed. A task writes the swaps of its own database: a task on a
-- connection, those of that warehouse's tables (swap-table --connection), and a swap of
-- the state database's table of the same name is not its (writes_swap_database,
-- swap_names_target). The swaps are read once per claim. A run that writes both tables
-- is recorded for the incoming one here (recorded), since only the claim knows it
-- writes there; its record follows the run from then on (definitions/20-partitions.sql).
--
-- The run records the task's version (migrations/0012-task-versions.sql) here, in the
-- statement that hands the worker the task's SQL: the version is what the run executes,
-- on whichever attempt, however it was enqueued. Its connection too (the task's, by
-- name; NULL: the state database), so that status and logs say where it ran, and the
-- worker gets that connection's string with the task's SQL.
--
-- A batch with a max_active of its own (backfill --max-active) is a slot count like a
-- graph's, on top of it: its runs are taken only while the batch has a free slot, and
-- only when the claim holds the batch's lock (queue/lock_batches.sql, which lists the
-- batches it locked): a capped batch enqueued since waits for the next claim. Full and
-- unlocked batches are cut from the candidates, as full graphs are, so that their runs
-- do not fill the LIMIT and starve the rest of the queue.
--
-- The scan may start where the worker's last claim found its first run ($5 priority,
-- $6 ord, $7 id; NULL: at the head of the queue). While a transaction elsewhere holds an
-- old snapshot, every run claimed since leaves in runs_queue an entry that nobody can
-- remove or mark dead, and a scan from the head visits each one in the table: claims
-- slowed as a drain went on (126 buffers for a claim of 8 after 6,003 runs, against 33).
-- From the bound the scan reads only the entries of runs claimed since. The bound keeps
-- the scan within the bound's priority (a range the btree can start at, in one
-- generic plan: an inclusive bound on priority lets the row comparison position the
-- scan too); a claim that comes back short is followed by one from the head, which
-- finds the lower priorities. What the bound passes over was dead, taken by another
-- claimer or not ready; the worker scans from the head again when it is notified that
-- runs may have become ready (definitions/26-wake.sql), and at least once a second for
-- what becomes ready silently (a retry's not_before). Three more reasons a run is
-- passed over change without a notification: a full graph or batch gets a free slot,
-- a breaker closes over runs queued while it opened. While a graph in scope is full, a
-- capped batch is held back or a breaker is not closed, resumable (the last column) is
-- false, and the next claim starts at the head.
--
-- The running runs are counted (running) only where a cap may bind: a graph in scope
-- whose max_active is below the most runs the workers can hold at once (fleet), or a
-- capped batch. Under an old snapshot, runs_running holds an entry for every run that
-- ended since, each looked up in the table: 368 buffers a claim after 10,000 runs,
-- against 4, for a count that a graph roomier than the workers does not need. Every
-- running run is a worker's, and a worker holds at most its slots (concurrency) and
-- the runs it left in hand (abandoned: when it came back after losing its server, or
-- stopped; queue/register.sql, unregister.sql). So the claimer counts with all of
-- that, and so does another live worker (worker_live). One that has not beaten lately
-- may be dead, and counts with the runs it holds, read from runs_running: exact, since
-- a claim of the same graph waits for this one's graph locks. One that stopped counts
-- with what it left. A row that came back after a crash may have lost with it runs it
-- stands for: it then counts for more than it holds, never for less.
--
-- The worker reads the columns by position (claim.c, run_from_row).
WITH shadows AS MATERIALIZED (
    SELECT id,
           to_regclass(format('%I.%I', table_schema, table_name)) AS rel,
           table_schema || '.' || shadow_name AS shadow,
           coalesce(timings->>'mode' = 'v2', false) AS v2,
           table_schema, table_name, connection, timings
    FROM @schema@.swaps
    WHERE state IN ('started', 'checked', 'rolled back')
), fleet AS (
    SELECT coalesce(sum(CASE
                          WHEN w.name = $3 OR @schema@.worker_live(w)
                            THEN w.concurrency + w.abandoned
                          WHEN w.stopped_at IS NOT NULL THEN w.abandoned
                          ELSE @schema@.worker_running_runs(w.name)
                        END), 0) AS slots
    FROM @schema@.workers w
    WHERE w.stopped_at IS NULL OR w.abandoned > 0
), running AS MATERIALIZED (
    SELECT t.graph, r.batch_id
    FROM @schema@.runs r
    JOIN @schema@.tasks t ON t.id = r.task_id
    WHERE r.state = 'running'
      AND (EXISTS (SELECT 1 FROM @schema@.capped_batches)
           OR EXISTS (SELECT 1
                      FROM @schema@.graphs g
                      WHERE NOT g.paused
                        AND g.removed_at IS NULL
                        AND ($1::text IS NULL OR g.name = $1)
                        AND g.max_active < (SELECT slots FROM fleet)))
), busy AS (
    SELECT graph, count(*) AS n
    FROM running
    GROUP BY graph
), capped AS MATERIALIZED (
    SELECT b.id,
           b.id = ANY (coalesce(nullif(current_setting('datashell.claim_batches', true), ''),
                                '{}')::bigint[]) AS locked,
           b.max_active - (SELECT count(*) FROM running x WHERE x.batch_id = b.id) AS free
    FROM @schema@.capped_batches b
), open AS (
    SELECT g.name, g.max_active - coalesce(b.n, 0) AS free
    FROM @schema@.graphs g
    LEFT JOIN busy b ON b.graph = g.name
    WHERE NOT g.paused
      AND g.removed_at IS NULL
      AND ($1::text IS NULL OR g.name = $1)
      AND g.max_active > coalesce(b.n, 0)
), candidates AS (
    SELECT r.id, r.priority, r.ord, t.graph, r.batch_id,
           r.swap_id IS NULL OR EXISTS (SELECT 1
                                        FROM shadows s
                                        WHERE s.id = r.swap_id
                                          AND NOT s.v2
                                          AND @schema@.writes_swap_database(t.definition,
                                                                            s.connection)
                                          AND @schema@.swap_names_target(
                                                t.target, s.connection, s.rel,
                                                s.table_schema, s.table_name, s.timings))
             AS writable
    FROM @schema@.runs r
    JOIN @schema@.tasks t ON t.id = r.task_id
    WHERE r.state = 'queued'
      AND r.priority <= coalesce($5::integer, 2147483647)
      AND r.priority >= coalesce($5::integer, -2147483648)
      AND (r.ord, r.id) >= (coalesce($6::bigint, -9223372036854775808),
                            coalesce($7::bigint, -9223372036854775808))
      AND r.not_before <= now()
      AND t.removed_at IS NULL
      AND t.graph IN (SELECT name FROM open)
      AND (r.batch_id IS NULL
           OR r.batch_id <> ALL (ARRAY(SELECT id FROM capped WHERE NOT locked OR free <= 0)))
      AND (r.task_id <> ALL (ARRAY(SELECT task_id FROM @schema@.held_tasks))
           OR r.id = ANY (ARRAY(SELECT run_id FROM @schema@.probe_runs)))
      AND (r.ignore_deps OR NOT EXISTS (
          SELECT 1
          FROM @schema@.task_deps d
          CROSS JOIN LATERAL (SELECT @schema@.key_shift(t.key_kind, r.key, d.key_offset) AS key) k
          WHERE d.task_id = r.task_id
            AND NOT EXISTS (SELECT 1
                            FROM @schema@.done_keys p
                            WHERE p.task_id = d.upstream_id AND p.key = k.key)))
    ORDER BY r.priority DESC, r.ord, r.id
    LIMIT $2
    FOR UPDATE OF r SKIP LOCKED
), resumable AS (
    SELECT NOT EXISTS (SELECT 1
                       FROM @schema@.graphs g
                       WHERE NOT g.paused
                         AND g.removed_at IS NULL
                         AND ($1::text IS NULL OR g.name = $1)
                         AND g.name NOT IN (SELECT name FROM open))
           AND NOT EXISTS (SELECT 1 FROM capped WHERE NOT locked OR free <= 0)
           AND NOT EXISTS (SELECT 1 FROM @schema@.held_tasks) AS ok
), orphans AS (
    UPDATE @schema@.runs r
    SET state = 'cancelled',
        finished_at = clock_timestamp(),
        error = CASE WHEN s.state IN ('started', 'checked', 'rolled back')
                     THEN format('cancelled before it ran: it was to write %I.%I for swap %s '
                                 || 'of %I.%I, but task %s writes %s now', s.table_schema,
                                 s.shadow_name, s.id, s.table_schema, s.table_name, t.name,
                                 coalesce(t.target, 'no table'))
                     ELSE format('cancelled before it ran: swap %s of %I.%I is %s, so %I.%I '
                                 || 'is not its incoming table any more', s.id, s.table_schema,
                                 s.table_name, @schema@.swap_shown_state(s.state, s.timings),
                                 s.table_schema, s.shadow_name)
                END
    FROM candidates c, @schema@.swaps s, @schema@.tasks t
    WHERE r.id = c.id AND NOT c.writable AND s.id = r.swap_id AND t.id = r.task_id
), picked AS (
    SELECT c.id
    FROM (SELECT id, graph, batch_id,
                 row_number() OVER (PARTITION BY graph ORDER BY priority DESC, ord, id) AS rn,
                 row_number() OVER (PARTITION BY batch_id
                                    ORDER BY priority DESC, ord, id) AS batch_rn
          FROM candidates
          WHERE writable) c
    JOIN open o ON o.name = c.graph
    LEFT JOIN capped k ON k.id = c.batch_id
    WHERE c.rn <= o.free
      AND (k.id IS NULL OR c.batch_rn <= k.free)
), claimed AS (
    UPDATE @schema@.runs r
    SET state = 'running',
        worker = $3,
        attempt = r.attempt + 1,
        lease_until = clock_timestamp() + make_interval(secs => $4),
        started_at = clock_timestamp(),
        finished_at = NULL,
        version = t.version,
        connection = t.definition ->> 'connection'
    FROM picked p, @schema@.tasks t
    LEFT JOIN LATERAL (SELECT s.shadow, CASE WHEN s.v2 THEN 'v2' ELSE 'backfill' END AS pass
                       FROM shadows s
                       WHERE @schema@.writes_swap_database(t.definition, s.connection)
                         AND @schema@.swap_names_target(t.target, s.connection, s.rel,
                                                        s.table_schema, s.table_name,
                                                        s.timings)) w ON true
    WHERE r.id = p.id AND t.id = r.task_id
    RETURNING r.id, r.attempt, t.name, t.graph, t.key_kind, r.key, t.sql, t.command,
              coalesce((SELECT s.shadow FROM shadows s WHERE s.id = r.swap_id), t.target),
              t.timeout_s, t.checks, t.complete_when, t.definition -> 'error_classes',
              r.priority, r.ord,
              CASE WHEN r.swap_id IS NULL THEN w.shadow END AS also_writes,
              CASE WHEN r.swap_id IS NULL THEN w.pass END,
              t.definition ->> 'connection',
              (SELECT c.conninfo
               FROM @schema@.connections c
               WHERE c.name = t.definition ->> 'connection'),
              (SELECT ok FROM resumable)
), recorded AS (
    INSERT INTO @schema@.swap_partitions AS p (swap_id, side, task_id, key, run_id, state)
    SELECT s.id, 'incoming', t.id, c.key, c.id, 'running'
    FROM claimed c
    JOIN @schema@.tasks t ON t.name = c.name
    JOIN shadows s ON s.shadow = c.also_writes
                  AND @schema@.writes_swap_database(t.definition, s.connection)
                  AND @schema@.swap_names_target(t.target, s.connection, s.rel,
                                                 s.table_schema, s.table_name, s.timings)
    ON CONFLICT (swap_id, side, task_id, key) DO UPDATE
    SET run_id = excluded.run_id,
        state = excluded.state
    WHERE p.run_id <= excluded.run_id
)
SELECT *
FROM claimed
ORDER BY priority DESC, ord, id
