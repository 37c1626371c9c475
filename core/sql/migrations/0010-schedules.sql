-- The schedule a graph gives its tasks, as a default under each task's own
-- (definitions/15-due.sql merges them): {} when it gives none.
ALTER TABLE graphs ADD COLUMN schedule jsonb NOT NULL DEFAULT '{}';

-- What the schedule of each task has covered: the keys from first_key to last_key were
-- each enqueued, found done or left out by the catch-up policy, by some worker's pass
-- (definitions/72-schedule.sql), and are never considered again. A start moved earlier
-- than first_key opens the keys before it; the keys after last_key come as they are due.
CREATE TABLE schedule_state (
    task_id integer PRIMARY KEY REFERENCES tasks (id),
    first_key text NOT NULL,
    last_key text NOT NULL,
    passed_at timestamptz NOT NULL DEFAULT now(),
    batch_id bigint REFERENCES batches (id)
);

-- The keys a pass found waiting in a run the schedule did not enqueue (a backfill, a
-- force-run): the schedule leaves such a key to that run, and takes it back when the run
-- ends without the key done (failed, cancelled), so that a manual run never stands in
-- for a scheduled key that was not done.
CREATE TABLE schedule_left (
    task_id integer NOT NULL REFERENCES tasks (id),
    key text NOT NULL,
    PRIMARY KEY (task_id, key)
);
