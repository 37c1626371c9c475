-- Swap $1 is rolled back, in the locked transaction that exchanged the tables back; $2
-- holds the statements left for after the commit (a JSON array of text).
UPDATE @schema@.swaps
SET state = 'rolled back',
    rolled_back_at = now(),
    pending = $2
WHERE id = $1
