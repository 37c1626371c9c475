-- Nobody but the owner writes the log directly: everyone goes through audit_write(),
-- which takes who and from where from the server (session_user is the person who
-- logged in, whatever role they act as), so a row cannot be written in another's
-- name. Rows are never updated but in one way: a failed command's row is written
-- after its transaction rolled back, and a command that waits for what it started
-- (--wait) writes its row as 'waiting' with its change, then concludes it once with
-- what the waiting came to (audit_conclude), so that the log says what happened, not
-- what was asked. A row left 'waiting' is the row of a command that never came back.

CREATE OR REPLACE FUNCTION audit_write(command text, outcome text, error text, touched jsonb)
RETURNS bigint LANGUAGE sql SECURITY DEFINER
SET search_path = @schema@, pg_temp AS $$
  INSERT INTO audit_log (db_user, client_addr, command, outcome, error, detail)
  VALUES (session_user, inet_client_addr(), $1, $2, $3, $4)
  RETURNING id
$$;
REVOKE ALL ON FUNCTION audit_write(text, text, text, jsonb) FROM PUBLIC;

-- The one update of the log: a 'waiting' row ($1) becomes 'ok' or 'failed' ($2, with
-- the error $3 and more of what it touched, $4), once, and only by the user who wrote
-- it. Returns the row's id, or nothing when there is no such row.
CREATE OR REPLACE FUNCTION audit_conclude(id bigint, outcome text, error text, touched jsonb)
RETURNS SETOF bigint LANGUAGE sql SECURITY DEFINER
SET search_path = @schema@, pg_temp AS $$
  UPDATE audit_log a
  SET outcome = $2,
      error = $3,
      detail = CASE WHEN $4 IS NULL THEN a.detail ELSE coalesce(a.detail, '{}') || $4 END
  WHERE a.id = $1
    AND a.outcome = 'waiting'
    AND a.db_user = session_user
    AND $2 IN ('ok', 'failed')
  RETURNING a.id
$$;
REVOKE ALL ON FUNCTION audit_conclude(bigint, text, text, jsonb) FROM PUBLIC;
