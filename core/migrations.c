/*
 * migrations.c: the state store's schema history. Append only: a released migration is
 * never edited, a change is a new migration. Each runs with search_path set to the
 * state schema, in the same transaction as its row in schema_migrations.
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
	  "    WHEN 'daily' THEN to_char(key::date + n, 'YYYY-MM-DD')\n"
	  "    WHEN 'hourly' THEN to_char(left(key, 10)::date\n"
	  "         + make_interval(hours => substr(key, 12, 2)::integer + n), 'YYYY-MM-DD\"T\"HH24')\n"
	  "    ELSE key END\n"
	  "$$;\n"
	  "CREATE FUNCTION key_series(kind text, first text, last text) RETURNS SETOF text\n"
	  "LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$\n"
	  "BEGIN\n"
	  "  IF kind = 'daily' THEN\n"
	  "    RETURN QUERY SELECT to_char(d, 'YYYY-MM-DD')\n"
	  "      FROM generate_series(first::date, last::date, interval '1 day') d;\n"
	  "  ELSIF kind = 'hourly' THEN\n"
	  "    RETURN QUERY SELECT to_char(h, 'YYYY-MM-DD\"T\"HH24')\n"
	  "      FROM generate_series(left(first, 10)::date + make_interval(hours => substr(first, 12, 2)::integer),\n"
	  "                           left(last, 10)::date + make_interval(hours => substr(last, 12, 2)::integer),\n"
	  "                           interval '1 hour') h;\n"
	  "  ELSE\n"
	  "    RETURN NEXT '';\n"
	  "  END IF;\n"
	  "END\n"
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
	  "CREATE UNIQUE INDEX runs_active ON runs (task_id, key)\n"
	  "    WHERE state IN ('queued', 'running', 'held');\n"
	  "CREATE INDEX runs_queue ON runs (priority DESC, ord, id) WHERE state = 'queued';\n"
	  "CREATE INDEX runs_task_key ON runs (task_id, key, id);\n"
	  "CREATE INDEX runs_batch ON runs (batch_id);\n"
	  "CREATE INDEX runs_running ON runs (worker) WHERE state = 'running';\n"
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
