-- A batch of nothing would only clutter the list: drop it again.
DELETE FROM @schema@.batches
WHERE id = $1
