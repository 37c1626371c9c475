/*
 * migrations.c: the state store's schema history. Append only: a released migration is
 * never edited, a change is a new migration. Each runs with search_path set to the
 * state schema, in the same transaction as its row in schema_migrations. @schema@
 * stands for the schema's quoted name, for code that runs later under whatever
 * search_path the caller has (trigger functions).
 */
#include "store.h"

static const struct ds_migration migrations[] = {
	{ 1, "audit log",
	  "CREATE TABLE audit_log (\n"
	  "    id bigserial PRIMARY KEY,\n"
	  "    at timestamptz NOT NULL DEFAULT now(),\n"
	  "    db_user text NOT NULL DEFAULT current_user,\n"
	  "    client_addr inet DEFAULT inet_client_addr(),\n"
	  "    command text NOT NULL,\n"
	  "    outcome text NOT NULL,\n"
	  "    detail jsonb\n"
	  ");\n"
	  "CREATE INDEX audit_log_at ON audit_log (at);\n" },
	{ 2, "pipelines and runs",
	  /*
	   * Keys are text in one canonical form per kind, so that they sort as they should:
	   * 'YYYY-MM-DD' (daily), 'YYYY-MM-DDTHH' (hourly), '' (none).
	   */
	  "CREATE FUNCTION key_shift(kind text, key text, n integer) RETURNS text\n"
	  "LANGUAGE sql STABLE PARALLEL SAFE AS $$\n"
	  "  SELECT CASE kind\n"
	  "    WHEN 'daily' THEN to_char(left(key, 10)::date + n, 'YYYY-MM-DD')\n"
	  "    WHEN 'hourly' THEN to_char(left(key, 10)::date\n"
	  "         + make_interval(hours => nullif(substr(key, 12, 2), '')::integer + n),\n"
	  "         'YYYY-MM-DD\"T\"HH24')\n"
	  "    ELSE key END\n"
	  "$$;\n"
	  /*
	   * One plain SELECT, so that the planner inlines it into the queries that plan a
	   * backfill instead of calling a function once per task. Once inlined, constant
	   * parts of both branches are folded, so the hour is read with nullif: a date has
	   * none, and ''::integer would fail the whole query.
	   */
	  "CREATE FUNCTION key_series(kind text, first text, last text) RETURNS SETOF text\n"
	  "LANGUAGE sql STABLE PARALLEL SAFE AS $$\n"
	  "  SELECT to_char(g, CASE kind WHEN 'hourly' THEN 'YYYY-MM-DD\"T\"HH24'\n"
	  "                               ELSE 'YYYY-MM-DD' END)\n"
	  "  FROM generate_series(\n"
	  "    left(first, 10)::date + CASE kind WHEN 'hourly'\n"
	  "      THEN make_interval(hours => nullif(substr(first, 12, 2), '')::integer)\n"
	  "      ELSE interval '0' END,\n"
	  "    left(last, 10)::date + CASE kind WHEN 'hourly'\n"
	  "      THEN make_interval(hours => nullif(substr(last, 12, 2), '')::integer)\n"
	  "      ELSE interval '0' END,\n"
	  "    CASE kind WHEN 'hourly' THEN interval '1 hour' ELSE interval '1 day' END) AS g\n"
	  "  WHERE kind <> 'none'\n"
	  "  UNION ALL\n"
	  "  SELECT '' WHERE kind = 'none'\n"
	  "$$;\n"
	  "CREATE TABLE graphs (\n"
	  "    name text PRIMARY KEY,\n"
	  "    max_active integer NOT NULL DEFAULT 4 CHECK (max_active > 0),\n"
	  "    paused boolean NOT NULL DEFAULT false,\n"
	  "    paused_at timestamptz,\n"
	  "    paused_by text,\n"
	  "    removed_at timestamptz\n"
	  ");\n"
	  /* Tasks are never deleted, only marked removed, so the runs keep their history. */
	  "CREATE TABLE tasks (\n"
	  "    id serial PRIMARY KEY,\n"
	  "    name text NOT NULL UNIQUE,\n"
	  "    graph text NOT NULL REFERENCES graphs (name),\n"
	  "    key_kind text NOT NULL CHECK (key_kind IN ('daily', 'hourly', 'none')),\n"
	  "    sql text,\n"
	  "    command text,\n"
	  "    target text,\n"
	  "    retries integer NOT NULL DEFAULT 0 CHECK (retries >= 0),\n"
	  "    retry_delay_s integer NOT NULL DEFAULT 60 CHECK (retry_delay_s >= 0),\n"
	  "    timeout_s integer CHECK (timeout_s > 0),\n"
	  "    checks jsonb NOT NULL DEFAULT '[]',\n"
	  "    complete_when text,\n"
	  "    definition jsonb NOT NULL,\n"
	  "    source text,\n"
	  "    loaded_at timestamptz NOT NULL DEFAULT now(),\n"
	  "    removed_at timestamptz,\n"
	  "    CHECK ((sql IS NULL) <> (command IS NULL))\n"
	  ");\n"
	  "CREATE TABLE task_deps (\n"
	  "    task_id integer NOT NULL REFERENCES tasks (id),\n"
	  "    upstream_id integer NOT NULL REFERENCES tasks (id),\n"
	  "    key_offset integer NOT NULL DEFAULT 0,\n"
	  "    PRIMARY KEY (task_id, upstream_id, key_offset)\n"
	  ");\n"
	  "CREATE INDEX task_deps_upstream ON task_deps (upstream_id);\n"
	  "CREATE TABLE batches (\n"
	  "    id bigserial PRIMARY KEY,\n"
	  "    kind text NOT NULL,\n"
	  "    command text NOT NULL,\n"
	  "    created_at timestamptz NOT NULL DEFAULT now(),\n"
	  "    created_by text NOT NULL DEFAULT current_user,\n"
	  "    runs integer NOT NULL DEFAULT 0,\n"
	  "    cancelled_at timestamptz,\n"
	  "    cancelled_by text\n"
	  ");\n"
	  "CREATE TABLE runs (\n"
	  "    id bigserial PRIMARY KEY,\n"
	  "    task_id integer NOT NULL REFERENCES tasks (id),\n"
	  "    key text NOT NULL,\n"
	  "    state text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running',\n"
	  "        'success', 'failed', 'held', 'blocked', 'cancelled')),\n"
	  "    batch_id bigint REFERENCES batches (id),\n"
	  "    priority integer NOT NULL DEFAULT 0,\n"
	  "    ord bigint NOT NULL DEFAULT 0,\n"
	  "    ignore_deps boolean NOT NULL DEFAULT false,\n"
	  "    attempt integer NOT NULL DEFAULT 0,\n"
	  "    not_before timestamptz NOT NULL DEFAULT now(),\n"
	  "    worker text,\n"
	  "    lease_until timestamptz,\n"
	  "    cancel_requested boolean NOT NULL DEFAULT false,\n"
	  "    queued_at timestamptz NOT NULL DEFAULT now(),\n"
	  "    started_at timestamptz,\n"
	  "    finished_at timestamptz,\n"
	  "    error text,\n"
	  "    output text\n"
	  ");\n"
	  /* At most one run of a task for a key is waiting or in progress, whoever enqueues. */
	  /* state is included so that status counts the live runs from the index alone. */
	  "CREATE UNIQUE INDEX runs_active ON runs (task_id, key) INCLUDE (state)\n"
	  "    WHERE state IN ('queued', 'running', 'held');\n"
	  "CREATE INDEX runs_queue ON runs (priority DESC, ord, id) WHERE state = 'queued';\n"
	  "CREATE INDEX runs_task_key ON runs (task_id, key, id);\n"
	  "CREATE INDEX runs_batch ON runs (batch_id);\n"
	  "CREATE INDEX runs_running ON runs (worker) WHERE state = 'running';\n"
	  /* status reads recent outcomes without scanning all of history. */
	  "CREATE INDEX runs_finished ON runs (finished_at) WHERE finished_at IS NOT NULL;\n"
	  /*
	   * The state of the latest run of every (task, key), kept by triggers, so that
	   * planning a backfill and drawing a calendar read one row per key instead of
	   * sorting all of a key's history. The insert trigger works on the statement's
	   * transition table, so a 365,000-run backfill stays one set-based statement.
	   */
	  "CREATE TABLE partitions (\n"
	  "    task_id integer NOT NULL REFERENCES tasks (id),\n"
	  "    key text NOT NULL,\n"
	  "    run_id bigint NOT NULL,\n"
	  "    state text NOT NULL,\n"
	  "    PRIMARY KEY (task_id, key)\n"
	  ");\n"
	  "CREATE FUNCTION partitions_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$\n"
	  "BEGIN\n"
	  "  INSERT INTO @schema@.partitions AS p (task_id, key, run_id, state)\n"
	  "  SELECT DISTINCT ON (task_id, key) task_id, key, id, state FROM new_runs\n"
	  "  ORDER BY task_id, key, id DESC\n"
	  "  ON CONFLICT (task_id, key) DO UPDATE\n"
	  "  SET run_id = excluded.run_id, state = excluded.state\n"
	  "  WHERE p.run_id < excluded.run_id;\n"
	  "  RETURN NULL;\n"
	  "END\n"
	  "$$;\n"
	  "CREATE TRIGGER partitions_after_insert AFTER INSERT ON runs\n"
	  "  REFERENCING NEW TABLE AS new_runs\n"
	  "  FOR EACH STATEMENT EXECUTE FUNCTION partitions_after_insert();\n"
	  /*
	   * A row trigger, fired only when a run leaves or enters the waiting-or-running
	   * states: claims (queued to running) and lost leases (back to queued) are the
	   * worker's hot path and change nothing a plan counts, so partitions keeps an
	   * active run as it was enqueued; the calendar reads its live state from runs.
	   */
	  "CREATE FUNCTION partitions_after_update() RETURNS trigger LANGUAGE plpgsql AS $$\n"
	  "BEGIN\n"
	  "  UPDATE @schema@.partitions SET state = NEW.state\n"
	  "  WHERE task_id = NEW.task_id AND key = NEW.key AND run_id = NEW.id;\n"
	  "  RETURN NULL;\n"
	  "END\n"
	  "$$;\n"
	  "CREATE TRIGGER partitions_after_update AFTER UPDATE OF state ON runs\n"
	  "  FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state AND NOT\n"
	  "    (OLD.state IN ('queued', 'running', 'held') AND\n"
	  "     NEW.state IN ('queued', 'running', 'held')))\n"
	  "  EXECUTE FUNCTION partitions_after_update();\n"
	  "CREATE TABLE workers (\n"
	  "    name text PRIMARY KEY,\n"
	  "    host text NOT NULL,\n"
	  "    pid integer NOT NULL,\n"
	  "    graph text,\n"
	  "    concurrency integer NOT NULL,\n"
	  "    started_at timestamptz NOT NULL DEFAULT now(),\n"
	  "    heartbeat_at timestamptz NOT NULL DEFAULT now(),\n"
	  "    stopped_at timestamptz\n"
	  ");\n" },
	{ 3, "table swaps",
	  /*
	   * The journal of swap-table: one row per rebuild of a production table, whose
	   * state changes in the same transaction as the DDL it records, so a killed
	   * shell leaves a state the next command can read.
	   */
	  "CREATE TABLE swaps (\n"
	  "    id bigserial PRIMARY KEY,\n"
	  "    table_schema text NOT NULL,\n"
	  "    table_name text NOT NULL,\n"
	  "    shadow_name text NOT NULL,\n"
	  "    old_name text NOT NULL,\n"
	  "    state text NOT NULL DEFAULT 'started' CHECK (state IN ('started', 'checked',\n"
	  "        'swapped', 'rolled back', 'finished')),\n"
	  "    started_at timestamptz NOT NULL DEFAULT now(),\n"
	  "    started_by text NOT NULL DEFAULT current_user,\n"
	  "    checked_at timestamptz,\n"
	  "    swapped_at timestamptz,\n"
	  "    rolled_back_at timestamptz,\n"
	  "    finished_at timestamptz,\n"
	  "    keep_until timestamptz,\n"
	  "    checks jsonb,\n"
	  "    accepted jsonb NOT NULL DEFAULT '[]',\n"
	  "    timings jsonb NOT NULL DEFAULT '{}',\n"
	  "    pending jsonb NOT NULL DEFAULT '[]'\n"
	  ");\n"
	  /* One swap at a time per table, whoever starts it. */
	  "CREATE UNIQUE INDEX swaps_active ON swaps (table_schema, table_name)\n"
	  "    WHERE state <> 'finished';\n"
	  /* A run of backfill --into writes this table instead of its task's target. */
	  "ALTER TABLE runs ADD COLUMN target text;\n" },
};

const struct ds_migration *ds_store_migrations(int *count)
{
	*count = (int)(sizeof(migrations) / sizeof(migrations[0]));
	return migrations;
}

int ds_store_latest_version(void)
{
	int n;
	const struct ds_migration *m = ds_store_migrations(&n);

	return m[n - 1].version;
}
