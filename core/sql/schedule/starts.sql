-- The start of each scheduled task's schedule, {task id: start}, read by a pipeline load
-- before it writes the files' definitions, so that load_plan.sql can tell which
-- schedules the load adds or opens earlier.
SELECT coalesce(jsonb_object_agg(st.task_id, st.start), '{}')
FROM @schema@.schedule_tasks(now()) st
