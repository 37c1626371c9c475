-- Whether graph $1 exists and is not removed: a row if so.
SELECT 1
FROM @schema@.graphs
WHERE name = $1
  AND removed_at IS NULL
