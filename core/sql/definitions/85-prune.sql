-- prune: old finished runs leave the state, a slice at a time, but never one that the
-- truth of a key still needs. A run stays when it has not ended (queued, running,
-- held), when a record of complete keys points to it (partitions or swap_partitions:
-- the key's latest run, run_id, or the run that built it, built_by; status, why,
-- the SLA and the plans read them), when it is a breaker's probe, or when an incident
-- not yet resolved names it (alerts.runs). Its retried attempts go with it, and so does
-- its batch once it has no runs left and no schedule pass names it. The audit log is
-- the record of who did what and is kept.
--
-- The candidates are read in order of (finished_at, id) from where the last slice
-- stopped, through runs_finished, so that the runs kept for good (a year of keys'
-- records) are read once per prune, not once per slice.

-- The next p_limit runs (all of them for NULL) that ended before p_cutoff, after
-- (p_from_at, p_from_id) in that order, and whether each must stay.
CREATE OR REPLACE FUNCTION prune_candidates(p_cutoff timestamptz, p_from_at timestamptz,
                                            p_from_id bigint, p_limit integer)
RETURNS TABLE (id bigint, batch_id bigint, finished_at timestamptz, kept boolean)
LANGUAGE sql STABLE SET search_path = @schema@, pg_temp AS $$
  WITH named AS (
    SELECT unnest(a.runs) AS run
    FROM alerts a
    WHERE a.state <> 'resolved'
    UNION
    SELECT b.probe_run_id
    FROM breakers b
    WHERE b.probe_run_id IS NOT NULL
  )
  SELECT r.id, r.batch_id, r.finished_at,
         r.state IN ('queued', 'running', 'held')
         OR EXISTS (SELECT 1
                    FROM partitions p
                    WHERE p.task_id = r.task_id
                      AND p.key = r.key
                      AND r.id IN (p.run_id, p.built_by))
         OR EXISTS (SELECT 1
                    FROM swap_partitions p
                    WHERE p.task_id = r.task_id
                      AND p.key = r.key
                      AND r.id IN (p.run_id, p.built_by))
         OR r.id IN (SELECT run FROM named)
  FROM runs r
  WHERE r.finished_at < p_cutoff
    AND (r.finished_at, r.id) > (p_from_at, p_from_id)
  ORDER BY r.finished_at, r.id
  LIMIT p_limit
$$;

-- Delete one slice: the runs among the next p_limit candidates that may go, their
-- attempts, and the batches they leave empty. Returns how many of each went and where
-- the slice stopped (NULL when there was nothing left to read), for the next call.
-- Run as the owner: nobody else may delete runs, and this is the only way they go.
CREATE OR REPLACE FUNCTION prune_runs(p_cutoff timestamptz, p_from_at timestamptz,
                                      p_from_id bigint, p_limit integer,
                                      OUT runs bigint, OUT attempts bigint,
                                      OUT batches bigint, OUT last_at timestamptz,
                                      OUT last_id bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
DECLARE
  doomed bigint[];
  emptied bigint[];
BEGIN
  IF p_cutoff > now() THEN
    RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
      MESSAGE = format('cannot prune runs that ended before %s, which is in the future',
                       iso_utc(p_cutoff));
  END IF;
  WITH c AS MATERIALIZED (
    SELECT *
    FROM prune_candidates(p_cutoff, p_from_at, p_from_id, p_limit)
  ), last AS (
    SELECT c.finished_at, c.id
    FROM c
    ORDER BY c.finished_at DESC, c.id DESC
    LIMIT 1
  )
  SELECT array_agg(c.id) FILTER (WHERE NOT c.kept),
         array_agg(DISTINCT c.batch_id) FILTER (WHERE NOT c.kept AND c.batch_id IS NOT NULL),
         (SELECT l.finished_at FROM last l), (SELECT l.id FROM last l)
  INTO doomed, emptied, last_at, last_id
  FROM c;
  DELETE FROM run_attempts a WHERE a.run_id = ANY (doomed);
  GET DIAGNOSTICS attempts = ROW_COUNT;
  DELETE FROM runs r WHERE r.id = ANY (doomed);
  GET DIAGNOSTICS runs = ROW_COUNT;
  DELETE FROM batches b
  WHERE b.id = ANY (emptied)
    AND b.created_at < p_cutoff
    AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.batch_id = b.id)
    AND NOT EXISTS (SELECT 1 FROM schedule_state s WHERE s.batch_id = b.id);
  GET DIAGNOSTICS batches = ROW_COUNT;
END
$$;
