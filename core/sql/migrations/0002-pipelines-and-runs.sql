-- Graphs, tasks and their dependencies, batches, runs, the latest run of every
-- (task, key) and the workers.
CREATE TABLE graphs (
    name text PRIMARY KEY,
    max_active integer NOT NULL DEFAULT 4 CHECK (max_active > 0),
    paused boolean NOT NULL DEFAULT false,
    paused_at timestamptz,
    paused_by text,
    removed_at timestamptz
);
-- Tasks are never deleted, only marked removed, so the runs keep their history.
CREATE TABLE tasks (
    id serial PRIMARY KEY,
    name text NOT NULL UNIQUE,
    graph text NOT NULL REFERENCES graphs (name),
    key_kind text NOT NULL CHECK (key_kind IN ('daily', 'hourly', 'none')),
    sql text,
    command text,
    target text,
    retries integer NOT NULL DEFAULT 0 CHECK (retries >= 0),
    retry_delay_s integer NOT NULL DEFAULT 60 CHECK (retry_delay_s >= 0),
    timeout_s integer CHECK (timeout_s > 0),
    checks jsonb NOT NULL DEFAULT '[]',
    complete_when text,
    definition jsonb NOT NULL,
    source text,
    loaded_at timestamptz NOT NULL DEFAULT now(),
    removed_at timestamptz,
    CHECK ((sql IS NULL) <> (command IS NULL))
);
CREATE TABLE task_deps (
    task_id integer NOT NULL REFERENCES tasks (id),
    upstream_id integer NOT NULL REFERENCES tasks (id),
    key_offset integer NOT NULL DEFAULT 0,
    PRIMARY KEY (task_id, upstream_id, key_offset)
);
CREATE INDEX task_deps_upstream ON task_deps (upstream_id);
CREATE TABLE batches (
    id bigserial PRIMARY KEY,
    kind text NOT NULL,
    command text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by text NOT NULL DEFAULT current_user,
    runs integer NOT NULL DEFAULT 0,
    cancelled_at timestamptz,
    cancelled_by text
);
CREATE TABLE runs (
    id bigserial PRIMARY KEY,
    task_id integer NOT NULL REFERENCES tasks (id),
    key text NOT NULL,
    state text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running',
        'success', 'failed', 'held', 'blocked', 'cancelled')),
    batch_id bigint REFERENCES batches (id),
    priority integer NOT NULL DEFAULT 0,
    ord bigint NOT NULL DEFAULT 0,
    ignore_deps boolean NOT NULL DEFAULT false,
    attempt integer NOT NULL DEFAULT 0,
    not_before timestamptz NOT NULL DEFAULT now(),
    worker text,
    lease_until timestamptz,
    cancel_requested boolean NOT NULL DEFAULT false,
    queued_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    finished_at timestamptz,
    error text,
    output text
);
-- At most one run of a task for a key is waiting or in progress, whoever enqueues.
-- state is included so that status counts the live runs from the index alone.
CREATE UNIQUE INDEX runs_active ON runs (task_id, key) INCLUDE (state)
    WHERE state IN ('queued', 'running', 'held');
CREATE INDEX runs_queue ON runs (priority DESC, ord, id) WHERE state = 'queued';
CREATE INDEX runs_task_key ON runs (task_id, key, id);
CREATE INDEX runs_batch ON runs (batch_id);
CREATE INDEX runs_running ON runs (worker) WHERE state = 'running';
-- status reads recent outcomes without scanning all of history.
CREATE INDEX runs_finished ON runs (finished_at) WHERE finished_at IS NOT NULL;
-- The state of the latest run of every (task, key), kept by triggers, so that
-- planning a backfill and drawing a calendar read one row per key instead of
-- sorting all of a key's history. The insert trigger works on the statement's
-- transition table, so a 365,000-run backfill stays one set-based statement.
CREATE TABLE partitions (
    task_id integer NOT NULL REFERENCES tasks (id),
    key text NOT NULL,
    run_id bigint NOT NULL,
    state text NOT NULL,
    PRIMARY KEY (task_id, key)
);
CREATE TABLE workers (
    name text PRIMARY KEY,
    host text NOT NULL,
    pid integer NOT NULL,
    graph text,
    concurrency integer NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now(),
    heartbeat_at timestamptz NOT NULL DEFAULT now(),
    stopped_at timestamptz
);
