-- max_active must hold with any number of workers claiming at once. Each claim first
-- locks the rows of the graphs it may claim from ($1: the worker's graph, or NULL for
-- all), in name order so that two claimers cannot deadlock, and keeps them until it
-- commits: claims in one graph take turns, and each counts the running runs in a
-- snapshot taken after the previous claimer committed. That is why this is a
-- statement of its own before the claim (queue/claim.sql): a single statement would
-- count in a snapshot taken before it waited for the lock. NO KEY UPDATE leaves the
-- foreign-key checks of tasks being loaded alone.
SELECT 1
FROM @schema@.graphs
WHERE NOT paused
  AND removed_at IS NULL
  AND ($1::text IS NULL OR name = $1)
ORDER BY name
FOR NO KEY UPDATE
