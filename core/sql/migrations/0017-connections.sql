-- Named connections (datashell-pipelines(5)): where the SQL of a task runs when not in
-- the state database. Declared in pipeline files and written by their load; conninfo
-- is a libpq connection string or URI that the load checked has no password in it
-- (passwords stay in .pgpass or the service file of the worker's machine). A task names
-- the one it runs on in its definition ("connection", its own or its graph's); none:
-- the state database. A connection the files no longer declare is deleted: the runs
-- keep its name.
CREATE TABLE connections (
    name text PRIMARY KEY,
    conninfo text NOT NULL,
    source text,
    loaded_at timestamptz NOT NULL DEFAULT now()
);

-- The connection a run executed on: set when a worker claims it (queue/claim.sql), as
-- version is, so that status and logs say where an attempt ran; an attempt that failed
-- and was retried keeps its own. NULL: the state database.
ALTER TABLE runs ADD COLUMN connection text;
ALTER TABLE run_attempts ADD COLUMN connection text;
