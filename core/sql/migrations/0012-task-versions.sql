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
-- their task right after this migration, and a NULL version is never counted stale.
--
-- accepted_version is the version a load with --keep-current accepted the run's success
-- as built by, for when the person loading knows the change does not alter the output:
-- the run's own version stays what it executed.
ALTER TABLE runs ADD COLUMN version text, ADD COLUMN accepted_version text;
