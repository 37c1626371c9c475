-- Until when T_old of swap $1 is still kept (finish --keep); no row once that time has
-- passed, or when nothing is kept.
SELECT @schema@.iso_utc(keep_until)
FROM @schema@.swaps
WHERE id = $1
  AND keep_until > now()
