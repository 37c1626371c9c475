-- A batch's max_active (backfill --max-active) must hold with any number of workers
-- claiming at once, whatever graphs they claim from. As for the graphs
-- (queue/lock_graphs.sql, sent just before), each claim locks the rows of the capped
-- batches with runs waiting, in id order and after the graphs so that two claimers
-- cannot deadlock, and keeps them until it commits: claims of a capped batch take
-- turns, each counting its running runs in a snapshot taken after the previous
-- claimer committed. A batch enqueued after this statement is not locked, though the
-- claim will see it: the claim takes runs of a capped batch only when its id is in
-- the list this leaves it, for the transaction, in datashell.claim_batches.
SELECT set_config('datashell.claim_batches', coalesce(array_agg(l.id)::text, '{}'), true)
FROM (SELECT b.id
      FROM @schema@.batches b
      WHERE b.max_active IS NOT NULL
        AND EXISTS (SELECT 1
                    FROM @schema@.runs r
                    WHERE r.batch_id = b.id
                      AND r.state = 'queued')
      ORDER BY b.id
      FOR NO KEY UPDATE OF b) l
