-- One row of the audit log ($1 command, $2 outcome, $3 error, $4 what it touched)
-- through audit_write(), which runs as the schema's owner: nobody else may write to
-- the log directly, and the server, not the caller, says who and from where. Returns
-- the row's id.
SELECT @schema@.audit_write($1, $2, $3, $4::jsonb)
