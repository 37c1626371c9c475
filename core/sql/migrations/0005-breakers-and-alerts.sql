-- A task's circuit breaker and the alerts. The functions that keep them are in
-- definitions/: the worker ends every run through end_run, which counts failures,
-- opens breakers and raises alerts in the run's own transaction, so that a crash
-- cannot record a failure without its consequences.
ALTER TABLE graphs ADD COLUMN breaker jsonb NOT NULL DEFAULT '{}';
ALTER TABLE runs ADD COLUMN error_class text;
CREATE INDEX runs_held ON runs (task_id, priority DESC, ord, id) WHERE state = 'held';
CREATE TABLE breakers (
    task_id integer PRIMARY KEY REFERENCES tasks (id),
    state text NOT NULL DEFAULT 'closed' CHECK (state IN ('closed', 'open', 'half_open')),
    consecutive integer NOT NULL DEFAULT 0,
    recent timestamptz[] NOT NULL DEFAULT '{}',
    opened_at timestamptz,
    opened_by text,
    reason text,
    manual boolean NOT NULL DEFAULT false,
    retry_at timestamptz,
    probe_run_id bigint
);
CREATE TABLE alerts (
    id bigserial PRIMARY KEY,
    kind text NOT NULL,
    incident text NOT NULL,
    task text,
    key text,
    worker text,
    summary text NOT NULL,
    detail jsonb NOT NULL DEFAULT '{}',
    count integer NOT NULL DEFAULT 1,
    first_seen timestamptz NOT NULL DEFAULT now(),
    last_seen timestamptz NOT NULL DEFAULT now(),
    state text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'acked', 'resolved')),
    acked_at timestamptz,
    acked_by text,
    resolved_at timestamptz,
    resolved_by text,
    hook_state text NOT NULL DEFAULT 'pending' CHECK (hook_state IN ('pending', 'sent', 'failed')),
    hook_at timestamptz,
    hook_error text
);
CREATE UNIQUE INDEX alerts_incident ON alerts (incident) WHERE state <> 'resolved';
CREATE INDEX alerts_incident_all ON alerts (incident);
CREATE INDEX alerts_hook ON alerts (id) WHERE hook_state = 'pending';
CREATE INDEX alerts_seen ON alerts (last_seen);
