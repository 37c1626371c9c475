-- Swap $1 is swapped, in the locked transaction that exchanged the tables; $2 holds the
-- statements left for after the commit (a JSON array of text: the plan's after phase).
UPDATE @schema@.swaps
SET state = 'swapped',
    swapped_at = now(),
    pending = $2
WHERE id = $1
