-- finish --keep: T_old of swap $1 is kept $2 seconds after the swap; a finish before
-- then drops nothing. Returns the time it is kept until.
UPDATE @schema@.swaps
SET keep_until = swapped_at + make_interval(secs => $2::bigint)
WHERE id = $1
RETURNING @schema@.iso_utc(keep_until)
