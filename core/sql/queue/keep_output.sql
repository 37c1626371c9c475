-- What the server said while a SQL run ($1) of worker $2 at attempt $3 ran (its
-- notices, $4), kept once its success committed: the success is marked in the message
-- that runs the task's SQL, before the worker has read them (queue/
-- create_succeed_function.sql). Only that attempt's own success takes them.
UPDATE @schema@.runs
SET output = $4
WHERE id = $1::bigint
  AND CASE state WHEN 'success' THEN worker = $2 AND attempt = $3::integer ELSE false END
