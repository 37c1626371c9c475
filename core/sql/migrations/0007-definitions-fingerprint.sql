-- Functions, triggers, views and grants are not migrated: init re-applies the ones
-- this datashell carries (core/sql/definitions/) and records their fingerprint here,
-- one row, so that a command run by a build with other definitions can tell.
CREATE TABLE schema_definitions (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    fingerprint text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    applied_by text NOT NULL DEFAULT current_user
);
