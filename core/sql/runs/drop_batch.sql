-- A batch of nothing would only clutter the list: drop it again (runs/enqueue.sql makes
-- one only when it has keys to enqueue, but another shell may enqueue them first).
DELETE FROM @schema@.batches
WHERE id = $1
