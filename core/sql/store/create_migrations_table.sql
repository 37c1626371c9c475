-- The one table that is not a migration: it says which migrations were applied.
CREATE TABLE IF NOT EXISTS @schema@.schema_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    applied_by text NOT NULL DEFAULT current_user
)
