-- The swap journal (swap-table) as people read it.

-- The state of a swap as status and handoff show it: an abandoned swap ends as finished
-- (so that the table is free for a new start and its tasks write it alone), marked in
-- its timings, and reads as abandoned. One plain SELECT, so that the planner inlines it.
CREATE OR REPLACE FUNCTION swap_shown_state(state text, timings jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN timings ? 'abandoned' THEN 'abandoned' ELSE state END
$$;
