-- Swap $1 is abandoned, in the transaction that dropped its incoming table: it ends as
-- finished (so that the table is free for a new start and its tasks write it alone),
-- marked in timings (see swap_shown_state() in definitions/80-swaps.sql).
UPDATE @schema@.swaps
SET state = 'finished',
    finished_at = now(),
    timings = timings || '{"abandoned": true}'
WHERE id = $1
