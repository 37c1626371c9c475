-- The connections a load removes ($1: their names, a JSON array): the files that
-- declared them no longer do, and no task that stays runs on them (the load checked).
DELETE FROM @schema@.connections
WHERE name IN (SELECT jsonb_array_elements_text($1::jsonb))
