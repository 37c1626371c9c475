-- The plan of a backfill or force-run, per task: of the keys asked for ($1 task ids,
-- keys $2..$3, $6 of them), how many would be enqueued ($4: rerun complete keys too;
-- $5: only keys that failed), and how many are complete, active or failed. The latest
-- states are counted per task straight from partitions (kept by triggers on runs); the
-- keys themselves are only generated when runs are enqueued (runs/enqueue.sql, which
-- decides key by key what this counts).
WITH selected AS (
    SELECT t.id, t.name, t.key_kind
    FROM unnest($1::integer[]) AS u(id)
    JOIN @schema@.tasks t USING (id)
), latest AS (
    SELECT p.task_id,
           count(*) FILTER (WHERE p.state = 'success') AS complete,
           count(*) FILTER (WHERE p.state IN ('queued', 'running', 'held')) AS active,
           count(*) FILTER (WHERE p.state IN ('failed', 'blocked')) AS failed
    FROM @schema@.partitions p
    JOIN selected s ON s.id = p.task_id
    WHERE p.key = '' OR p.key BETWEEN $2 AND $3
    GROUP BY p.task_id
), counts AS (
    SELECT s.name,
           CASE s.key_kind WHEN 'none' THEN 1 ELSE $6::bigint END AS keys,
           coalesce(l.complete, 0) AS complete,
           coalesce(l.active, 0) AS active,
           coalesce(l.failed, 0) AS failed
    FROM selected s
    LEFT JOIN latest l ON l.task_id = s.id
)
SELECT name AS task,
       keys,
       CASE WHEN $5::boolean THEN failed
            ELSE keys - active - CASE WHEN $4::boolean THEN 0 ELSE complete END
       END AS enqueue,
       complete,
       active,
       failed
FROM counts
ORDER BY name
