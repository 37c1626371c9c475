-- The state of a swap of the journal as people read it: an abandoned swap ends as
-- finished (so the table is free for a new start and its tasks write it alone), marked
-- in timings. One plain SELECT, inlined by the planner.
CREATE OR REPLACE FUNCTION swap_shown_state(state text, timings jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN timings ? 'abandoned' THEN 'abandoned' ELSE state END
$$;
