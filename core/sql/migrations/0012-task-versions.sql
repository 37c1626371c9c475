-- Versions: what changes a task's output, fingerprinted (core/pipeline_version.c says
-- what counts), so that a key built by an older definition can be told from one built by
-- the current one.
--
-- tasks.fingerprint is the task's own (md5 of its output-relevant fields, normalized by
-- the load); tasks.version adds the fingerprints of every task it reads from, directly
-- or not (pipeline/write_versions.sql), so a change upstream changes it too. NULL until
-- init or a load computes them: init does so right after this migration, for the tasks
-- there are.
ALTER TABLE tasks ADD COLUMN fingerprint text, ADD COLUMN version text;

-- The version a run executed: set when a worker claims it (queue/claim.sql), in the
-- statement that hands it the task's SQL, so it is the definition that ran whatever path
-- enqueued the run (backfill, force-run, schedule) and whichever attempt succeeded. NULL
-- for a run never claimed, or recorded before versions: init gives those the version of
-- their task right after this migration.
ALTER TABLE runs ADD COLUMN version text;

-- The ledger's word on which version built a complete key: the version of the run that
-- completed it (definitions/20-partitions.sql copies it when the run ends), or the one a
-- load with --keep-current accepted instead. Kept here, not read from the run, so that
-- status and plans compare it with the task's version without reading the runs. NULL
-- (not known) is never counted stale (definitions/22-versions.sql).
ALTER TABLE partitions ADD COLUMN built_version text;
-- The same for the records of a swap's tables, which become production's at swap.
ALTER TABLE swap_partitions ADD COLUMN built_version text;
