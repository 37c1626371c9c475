-- The ids of the latest batches, newest first, for tab completion. Ordered by the
-- number: ordered by the text the statement returns, "9" came before "12", and the
-- latest 50 were not the newest.
SELECT b.id::text AS batch
FROM @schema@.batches b
ORDER BY b.id DESC
LIMIT 50
