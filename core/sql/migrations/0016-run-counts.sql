-- The ended runs counted, so that metrics reads a few hundred rows instead of scanning
-- every run: per task and ended state (success, failed, blocked, cancelled), how many
-- runs, how many of them have a duration (finished_at - started_at, of the last
-- attempt), the durations' sum, and how many took at most each bound of the histogram
-- (b0 ... b12: 0.1, 0.5, 1, 5, 10, 30, 60, 300, 600, 1800, 3600, 7200 and 21600 s).
-- The sum is numeric so that a run counted out exactly undoes its counting in.
-- The runs queued, running or held are few and are counted from runs itself.
--
-- The counts are kept by triggers on runs (definitions/35-run-counts.sql), as deltas
-- added to one of a few rows per task and state, the slot of the session that writes
-- (its backend pid modulo 16), so that workers finishing runs of one task at once do
-- not queue behind one row's lock; a reader sums the slots. A slot may go negative when
-- prune deletes runs another session counted.
CREATE TABLE run_counts (
    task_id integer NOT NULL REFERENCES tasks (id),
    state text NOT NULL,
    slot smallint NOT NULL,
    runs bigint NOT NULL DEFAULT 0,
    timed bigint NOT NULL DEFAULT 0,
    seconds numeric NOT NULL DEFAULT 0,
    b0 bigint NOT NULL DEFAULT 0,
    b1 bigint NOT NULL DEFAULT 0,
    b2 bigint NOT NULL DEFAULT 0,
    b3 bigint NOT NULL DEFAULT 0,
    b4 bigint NOT NULL DEFAULT 0,
    b5 bigint NOT NULL DEFAULT 0,
    b6 bigint NOT NULL DEFAULT 0,
    b7 bigint NOT NULL DEFAULT 0,
    b8 bigint NOT NULL DEFAULT 0,
    b9 bigint NOT NULL DEFAULT 0,
    b10 bigint NOT NULL DEFAULT 0,
    b11 bigint NOT NULL DEFAULT 0,
    b12 bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (task_id, state, slot)
);

-- The runs there are, counted once, in slot 0 (the triggers count from here on).
INSERT INTO run_counts (task_id, state, slot, runs, timed, seconds, b0, b1, b2, b3, b4, b5,
                        b6, b7, b8, b9, b10, b11, b12)
SELECT task_id, state, 0, count(*), count(d), coalesce(sum(d::numeric), 0),
       count(*) FILTER (WHERE d <= 0.1), count(*) FILTER (WHERE d <= 0.5),
       count(*) FILTER (WHERE d <= 1), count(*) FILTER (WHERE d <= 5),
       count(*) FILTER (WHERE d <= 10), count(*) FILTER (WHERE d <= 30),
       count(*) FILTER (WHERE d <= 60), count(*) FILTER (WHERE d <= 300),
       count(*) FILTER (WHERE d <= 600), count(*) FILTER (WHERE d <= 1800),
       count(*) FILTER (WHERE d <= 3600), count(*) FILTER (WHERE d <= 7200),
       count(*) FILTER (WHERE d <= 21600)
FROM (SELECT task_id, state, date_part('epoch', finished_at - started_at) AS d
      FROM runs
      WHERE state IN ('success', 'failed', 'blocked', 'cancelled')) r
GROUP BY task_id, state;
