-- The latest batches, so that their ids are at hand for status BATCH and cancel: the $1
-- latest (NULL: all); total counts them all.
SELECT id AS batch,
       kind,
       runs,
       created_by,
       @schema@.iso_utc(created_at) AS created_at,
       cancelled_at IS NOT NULL AS cancelled,
       count(*) OVER () AS total
FROM @schema@.batches
ORDER BY id DESC
LIMIT $1::integer
