-- The audit log: one row per command that changed state, failed and refused ones too.
CREATE TABLE audit_log (
    id bigserial PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now(),
    db_user text NOT NULL DEFAULT current_user,
    client_addr inet DEFAULT inet_client_addr(),
    command text NOT NULL,
    outcome text NOT NULL,
    detail jsonb
);
CREATE INDEX audit_log_at ON audit_log (at);
