-- The definitions init has just applied; one row, replaced each time.
INSERT INTO @schema@.schema_definitions AS d (fingerprint)
VALUES ($1)
ON CONFLICT (one) DO UPDATE
SET fingerprint = excluded.fingerprint, applied_at = now(), applied_by = current_user
