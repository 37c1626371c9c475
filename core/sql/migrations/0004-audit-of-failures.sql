-- A failed command's audit row says why. Who writes the log, and how, is
-- definitions/30-audit.sql.
ALTER TABLE audit_log ADD COLUMN error text;
