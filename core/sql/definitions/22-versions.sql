-- The one home of "stale": a complete key (its latest run, p_state, succeeded) whose
-- ledger says it was built (p_built, partitions.built_version) by another version than
-- the task's current one (p_current, tasks.version). A key whose version is not known
-- is not stale. status, the backfill plan, backfill --stale and pipeline load all ask
-- it. Inlinable, so that a plan over a year of keys costs no call per key.
CREATE OR REPLACE FUNCTION key_stale(p_state text, p_built text, p_current text)
RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
  SELECT p_state = 'success' AND p_built IS NOT NULL AND p_built IS DISTINCT FROM p_current
$$;
