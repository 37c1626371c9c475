-- The scheduled tasks ($1: their ids, or NULL for all), as `schedule` shows them: the
-- policy in force (durations written as pipeline files write them: "2h", "7d"), the
-- last key the schedule covered, the next key that is not yet due and when it becomes
-- due, and how many runs a pass now would enqueue. All of it read from schedule_tasks()
-- and schedule_due() at one moment, the server's now(), so that what it says is what a
-- worker's pass does (definitions/72-schedule.sql holds the policy).
WITH scheduled AS (
  SELECT st.task_id, st.kind, st.s, st.start, st.last_due, st.last_key, st.paused,
         CASE WHEN st.last_due >= st.start
              THEN @schema@.key_shift(st.kind, st.last_due, 1)
              ELSE st.start END AS next_key
  FROM @schema@.schedule_tasks(now()) st
  WHERE $1::integer[] IS NULL
     OR st.task_id = ANY ($1::integer[])
), due AS (
  SELECT d.task_id, count(*) AS runs
  FROM @schema@.schedule_due(now()) d
  WHERE d.task_id IN (SELECT task_id FROM scheduled)
  GROUP BY d.task_id
)
SELECT t.name AS task,
       t.graph,
       sc.paused,
       sc.next_key,
       @schema@.iso_utc(@schema@.key_due_at(sc.kind, sc.next_key, sc.s)) AS next_due_at,
       coalesce(due.runs, 0) AS enqueue,
       sc.last_key,
       sc.kind AS key,
       sc.start,
       CASE WHEN sc.s ->> 'due' = 'start' THEN 'start' ELSE 'end' END AS due,
       durations.delay,
       sc.s ->> 'timezone' AS timezone,
       CASE WHEN jsonb_typeof(sc.s -> 'catchup') = 'number' THEN durations.catchup
            ELSE sc.s ->> 'catchup' END AS catchup,
       (sc.s ->> 'lookback')::integer AS lookback,
       (sc.s ->> 'priority')::integer AS priority
FROM scheduled sc
JOIN @schema@.tasks t ON t.id = sc.task_id
LEFT JOIN due ON due.task_id = sc.task_id
-- Seconds as a pipeline file writes them, in the largest unit that divides them.
CROSS JOIN LATERAL (
  SELECT max(f.text) FILTER (WHERE v.name = 'delay') AS delay,
         max(f.text) FILTER (WHERE v.name = 'catchup') AS catchup
  FROM (VALUES ('delay', (sc.s ->> 'delay')::bigint),
               ('catchup', CASE WHEN jsonb_typeof(sc.s -> 'catchup') = 'number'
                                THEN (sc.s ->> 'catchup')::bigint END)) AS v(name, n)
  CROSS JOIN LATERAL (
    SELECT CASE WHEN v.n = 0 THEN '0'
                WHEN v.n % 86400 = 0 THEN (v.n / 86400) || 'd'
                WHEN v.n % 3600 = 0 THEN (v.n / 3600) || 'h'
                WHEN v.n % 60 = 0 THEN (v.n / 60) || 'm'
                ELSE v.n || 's' END AS text
  ) f
) durations
ORDER BY t.graph, t.name
