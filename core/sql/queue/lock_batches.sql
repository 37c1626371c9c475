-- A batch's max_active (backfill --max-active) must hold with any number of workers
-- claiming at once, whatever graphs they claim from (capped_batches,
-- definitions/25-runs.sql, says which batches). As for the graphs
-- (queue/lock_graphs.sql, sent just before), each claim takes a lock per capped batch
-- with runs waiting, in id order and after the graphs so that two claimers cannot
-- deadlock, and keeps it until it commits: claims of a capped batch take turns, each
-- counting its running runs in a snapshot taken after the previous claimer committed.
-- The locks are advisory ones, on (the batches table, the batch), rather than row
-- locks, so that a claim never waits for whoever holds the batches table itself. A
-- batch enqueued after this statement is not locked, though the claim will see it:
-- the claim takes runs of a capped batch only when its id is in the list this leaves
-- it, for the transaction, in datashell.claim_batches. Ids past 2^31 share locks with
-- smaller ones, which costs turns, never the cap.
SELECT set_config('datashell.claim_batches', coalesce(array_agg(l.id)::text, '{}'), true)
FROM (SELECT b.id, pg_advisory_xact_lock(b.tableoid::integer, (b.id & 2147483647)::integer)
      FROM @schema@.capped_batches c
      JOIN @schema@.batches b ON b.id = c.id
      ORDER BY b.id) l
