-- Which version built each complete key: the one home of "stale" (a key whose last
-- success was built by an older definition of its task or of a task it reads from).
-- status, the backfill plan, backfill --stale and pipeline load all read it.
--
-- A key is complete when its latest run succeeded (partitions, production's record);
-- it was built by the version that run executed (runs.version, set at claim), or by the
-- one a load with --keep-current accepted it as (runs.accepted_version). A run without a
-- version (none recorded) is never counted stale.
CREATE OR REPLACE VIEW key_versions AS
SELECT p.task_id,
       p.key,
       p.run_id,
       coalesce(r.accepted_version, r.version) AS built_version,
       t.version AS current_version,
       coalesce(coalesce(r.accepted_version, r.version) <> t.version, false) AS stale
FROM partitions p
JOIN runs r ON r.id = p.run_id
JOIN tasks t ON t.id = p.task_id
WHERE p.state = 'success';
