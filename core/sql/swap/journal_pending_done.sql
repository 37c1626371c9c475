-- The statements swap $1 left for after its commit have all run.
UPDATE @schema@.swaps
SET pending = '[]'
WHERE id = $1
