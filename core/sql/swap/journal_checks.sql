-- The results of a check of swap $1 ($2, a JSON array) and how long it took ($3 ms): the
-- swap is checked. A new check clears what was accepted of the old results.
UPDATE @schema@.swaps
SET checks = $2,
    accepted = '[]',
    state = 'checked',
    checked_at = now(),
    timings = timings || jsonb_build_object('check_ms', $3::bigint)
WHERE id = $1
