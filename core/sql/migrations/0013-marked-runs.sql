-- A key a person marked done without running it (mark): the run that records it is
-- written in its final state at once, success, and says so. marked is what the person
-- said the key is: 'success' (it was built some other way) or 'skipped' (there is
-- nothing to build, a day with no data); both complete the key, for downstream, the SLA
-- and the versions alike. reason is theirs, required; who marked it is the run's batch's
-- created_by. A run the workers ran has neither.
ALTER TABLE runs ADD COLUMN marked text CHECK (marked IN ('success', 'skipped')),
                 ADD COLUMN reason text,
                 ADD CHECK (marked IS NULL OR reason <> '');

-- The attempts of a run that failed and went back to the queue for a retry, or whose
-- worker lost its lease: a run is one row whose error and output each attempt
-- overwrites, so end_run (definitions/60-end-run.sql) and the reaper (queue/reap.sql)
-- keep the attempt here first, and logs shows every attempt. The last attempt is the
-- run's row itself.
CREATE TABLE run_attempts (
    run_id bigint NOT NULL REFERENCES runs (id),
    attempt integer NOT NULL,
    worker text,
    started_at timestamptz,
    finished_at timestamptz NOT NULL,
    error_class text,
    error text,
    output text,
    PRIMARY KEY (run_id, attempt)
);
