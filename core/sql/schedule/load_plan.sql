-- What a pipeline load means for the next pass of the schedule, read inside the load's
-- transaction once the files' definitions are written (and so as if they were loaded):
-- the scheduled tasks whose schedule is new, whose start moved earlier than it was, or
-- whose keys changed kind, so that their schedule starts again ($1: starts.sql as it
-- was before the load), and how many runs schedule_due() finds for each.
-- {"runs": total, "tasks": {name: runs}}, in name order; NULL when the load adds or
-- opens no schedule.
WITH opened AS (
  SELECT st.task_id
  FROM @schema@.schedule_tasks(now()) st
  WHERE NOT $1::jsonb ? st.task_id::text
     OR st.start < $1::jsonb ->> st.task_id::text
     OR length(st.start) <> length($1::jsonb ->> st.task_id::text)
), due AS (
  SELECT d.task_id, count(*) AS runs
  FROM @schema@.schedule_due(now()) d
  WHERE d.task_id IN (SELECT task_id FROM opened)
  GROUP BY d.task_id
)
SELECT CASE WHEN count(*) > 0
            THEN json_build_object('runs', coalesce(sum(due.runs), 0),
                                   'tasks', json_object_agg(t.name, coalesce(due.runs, 0)
                                                            ORDER BY t.name))
       END
FROM opened o
JOIN @schema@.tasks t ON t.id = o.task_id
LEFT JOIN due ON due.task_id = o.task_id
