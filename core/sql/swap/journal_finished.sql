-- Swap $1 is finished, in the transaction that dropped the table it retired.
UPDATE @schema@.swaps
SET state = 'finished',
    finished_at = now()
WHERE id = $1
