-- Mark batch $1 cancelled (when and by whom the first time only); no row if there is
-- no such batch. Its runs are cancelled by runs/cancel.sql.
UPDATE @schema@.batches
SET cancelled_at = coalesce(cancelled_at, now()),
    cancelled_by = coalesce(cancelled_by, current_user)
WHERE id = $1
RETURNING id
