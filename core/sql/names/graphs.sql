-- The graphs not removed: for tab completion, for "did you mean" when a graph is
-- unknown, and for a worker to check its --graph and name the others.
SELECT name
FROM @schema@.graphs
WHERE removed_at IS NULL
ORDER BY name
