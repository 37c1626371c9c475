-- The graphs a worker may be scoped to, to check its --graph and name the others.
SELECT name
FROM @schema@.graphs
WHERE removed_at IS NULL
ORDER BY name
