-- Pause ($2 true) or resume ($2 false) graph $1, not removed, as one JSON document
-- that says whether anything changed. The row is locked and read as it was first, so
-- that pausing a paused graph keeps who paused it and when; no row for an unknown
-- graph.
UPDATE @schema@.graphs g
SET paused = $2::boolean,
    paused_at = CASE WHEN old.was = $2::boolean THEN g.paused_at
                     WHEN $2::boolean THEN now() END,
    paused_by = CASE WHEN old.was = $2::boolean THEN g.paused_by
                     WHEN $2::boolean THEN current_user END
FROM (SELECT name, paused AS was
      FROM @schema@.graphs
      WHERE name = $1
        AND removed_at IS NULL
      FOR UPDATE) old
WHERE g.name = old.name
RETURNING json_build_object('graph', g.name,
                            'paused', g.paused,
                            'paused_at', @schema@.iso_utc(g.paused_at),
                            'paused_by', g.paused_by,
                            'changed', g.paused <> old.was)
