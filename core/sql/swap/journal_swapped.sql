-- Swap $1 is swapped, in the locked transaction that exchanged the tables; $2 holds the
-- statements left for after the commit (a JSON array of text: the plan's after phase).
-- Writes to T from here on are not covered (taken under the lock: every writer is done).
UPDATE @schema@.swaps
SET state = 'swapped',
    swapped_at = now(),
    pending = $2,
    writes_since = pg_current_snapshot()
WHERE id = $1
