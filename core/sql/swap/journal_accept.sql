-- Accept the failed check $2 of swap $1 with the reason why ($3), so that it no longer
-- blocks the swap: who and when are recorded with it. Only a check whose last result is
-- failed can be accepted; no row says there is none. Returns what the audit records.
UPDATE @schema@.swaps
SET accepted = accepted || jsonb_build_array(jsonb_build_object('check', $2::text,
                                                                'reason', $3::text,
                                                                'by', current_user,
                                                                'at', now()))
WHERE id = $1
  AND EXISTS (SELECT 1
              FROM jsonb_array_elements(checks) c
              WHERE c->>'name' = $2
                AND c->>'status' = 'failed')
RETURNING jsonb_build_object('swap', id, 'accepted', $2::text, 'reason', $3::text)::text
