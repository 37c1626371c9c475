-- Nobody but the owner writes the log directly: everyone goes through audit_write(),
-- which takes who and from where from the server (session_user is the person who
-- logged in, whatever role they act as), so a row cannot be written in another's
-- name. Rows are never updated: a failed command's row is written after its
-- transaction rolled back.

CREATE OR REPLACE FUNCTION audit_write(command text, outcome text, error text, touched jsonb)
RETURNS bigint LANGUAGE sql SECURITY DEFINER
SET search_path = @schema@, pg_temp AS $$
  INSERT INTO audit_log (db_user, client_addr, command, outcome, error, detail)
  VALUES (session_user, inet_client_addr(), $1, $2, $3, $4)
  RETURNING id
$$;
REVOKE ALL ON FUNCTION audit_write(text, text, text, jsonb) FROM PUBLIC;
