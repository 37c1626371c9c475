-- The connections whose databases have swaps not finished in the journal: swap-table
-- status brings their journal forward from each warehouse's copy before it shows them.
SELECT DISTINCT connection
FROM @schema@.swaps
WHERE state <> 'finished'
  AND connection IS NOT NULL
ORDER BY 1
