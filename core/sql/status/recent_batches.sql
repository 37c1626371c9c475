-- The latest batches, so that their ids are at hand for status BATCH and cancel.
SELECT id AS batch,
       kind,
       runs,
       created_by,
       @schema@.iso_utc(created_at) AS created_at,
       cancelled_at IS NOT NULL AS cancelled
FROM @schema@.batches
ORDER BY id DESC
LIMIT 5
