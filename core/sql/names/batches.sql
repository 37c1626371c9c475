-- The ids of the latest batches, newest first, for tab completion.
SELECT id::text
FROM @schema@.batches
ORDER BY id DESC
LIMIT 50
