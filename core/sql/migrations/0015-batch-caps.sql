-- A backfill can cap how many of its runs run at once (backfill --max-active N), on
-- top of the max_active of its graphs; NULL: no cap of its own. The claim finds the
-- capped batches that have runs waiting at every claim (queue/lock_batches.sql), so
-- both lookups go through an index: the capped batches, and a batch's waiting runs
-- (runs_batch holds every run the batch ever had).
ALTER TABLE batches ADD COLUMN max_active integer CHECK (max_active > 0);
CREATE INDEX batches_capped ON batches (id) WHERE max_active IS NOT NULL;
CREATE INDEX runs_batch_queued ON runs (batch_id) WHERE state = 'queued';
