-- The journal of swap-table: one row per rebuild of a production table, whose
-- state changes in the same transaction as the DDL it records, so a killed
-- shell leaves a state the next command can read.
CREATE TABLE swaps (
    id bigserial PRIMARY KEY,
    table_schema text NOT NULL,
    table_name text NOT NULL,
    shadow_name text NOT NULL,
    old_name text NOT NULL,
    state text NOT NULL DEFAULT 'started' CHECK (state IN ('started', 'checked',
        'swapped', 'rolled back', 'finished')),
    started_at timestamptz NOT NULL DEFAULT now(),
    started_by text NOT NULL DEFAULT current_user,
    checked_at timestamptz,
    swapped_at timestamptz,
    rolled_back_at timestamptz,
    finished_at timestamptz,
    keep_until timestamptz,
    checks jsonb,
    accepted jsonb NOT NULL DEFAULT '[]',
    timings jsonb NOT NULL DEFAULT '{}',
    pending jsonb NOT NULL DEFAULT '[]'
);
-- One swap at a time per table, whoever starts it.
CREATE UNIQUE INDEX swaps_active ON swaps (table_schema, table_name)
    WHERE state <> 'finished';
-- A run of backfill --into writes this table instead of its task's target.
ALTER TABLE runs ADD COLUMN target text;
