-- finish --keep --dry-run: the time T_old of swap $1 would be kept until, $2 seconds
-- after the swap (swap/journal_keep.sql, without the update).
SELECT @schema@.iso_utc(swapped_at + make_interval(secs => $2::bigint))
FROM @schema@.swaps
WHERE id = $1
