-- The graphs a load writes ($1: [{name, max_active, paused, breaker, schedule}]), those added,
-- revived or changed, in one statement however many there are. paused is null when
-- the file does not say: the graph then stays as paused or not as it is, and who
-- paused it and when are kept as long as that does not change.
WITH wanted AS (
  SELECT *
  FROM jsonb_to_recordset($1::jsonb) AS x(name text, max_active integer, paused boolean,
                                          breaker jsonb, schedule jsonb)
), updated AS (
  UPDATE @schema@.graphs g
  SET max_active = w.max_active,
      breaker = w.breaker,
      schedule = w.schedule,
      paused = coalesce(w.paused, g.paused),
      paused_at = CASE WHEN w.paused IS NULL OR w.paused = g.paused THEN g.paused_at
                       WHEN w.paused THEN now() END,
      paused_by = CASE WHEN w.paused IS NULL OR w.paused = g.paused THEN g.paused_by
                       WHEN w.paused THEN current_user END,
      removed_at = NULL
  FROM wanted w
  WHERE g.name = w.name
)
INSERT INTO @schema@.graphs (name, max_active, breaker, schedule, paused, paused_at, paused_by)
SELECT name, max_active, breaker, schedule, coalesce(paused, false),
       CASE WHEN paused THEN now() END,
       CASE WHEN paused THEN current_user END
FROM wanted w
WHERE NOT EXISTS (SELECT 1 FROM @schema@.graphs g WHERE g.name = w.name)
