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
