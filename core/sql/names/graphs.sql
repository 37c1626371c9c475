-- The graphs not removed, for tab completion and for "did you mean" when a graph is
-- unknown.
SELECT name
FROM @schema@.graphs
WHERE removed_at IS NULL
ORDER BY name
