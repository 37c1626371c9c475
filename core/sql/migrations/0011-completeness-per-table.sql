-- Completeness per key and per table. partitions is production's record: the latest
-- run of every (task, key) that wrote the task's target. A run that writes a swap's
-- incoming table (T_backfill, T_v2) records its key there too, in swap_partitions, and
-- one that writes the incoming table alone (backfill --into backfill) only there. At
-- swap the incoming records become production's and production's are kept aside (side
-- 'old', the records of T_old) until finish; rollback puts both back.
--
-- built_by is the latest successful run of the record, which may be older than run_id
-- (a re-run waiting, or one that failed): an upstream is done for its downstream when
-- production's key was built and nothing is waiting to build it again (queue/claim.sql).
ALTER TABLE partitions ADD COLUMN built_by bigint;
CREATE TABLE swap_partitions (
    swap_id bigint NOT NULL REFERENCES swaps (id),
    side text NOT NULL CHECK (side IN ('incoming', 'old')),
    task_id integer NOT NULL REFERENCES tasks (id),
    key text NOT NULL,
    run_id bigint NOT NULL,
    state text NOT NULL,
    built_by bigint,
    PRIMARY KEY (swap_id, side, task_id, key)
);
-- The triggers on runs find a run's records by its task and key.
CREATE INDEX swap_partitions_task_key ON swap_partitions (task_id, key);

-- The records made before count for production, the table their task targeted: the
-- runs of backfill --into backfill among them, which could not be told apart.
UPDATE partitions p
SET built_by = b.id
FROM (SELECT task_id, key, max(id) AS id
      FROM runs
      WHERE state = 'success'
      GROUP BY task_id, key) b
WHERE b.task_id = p.task_id
  AND b.key = p.key;
