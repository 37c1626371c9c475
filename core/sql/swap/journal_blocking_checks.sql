-- What stops swap $1 from going ahead: whether it was never checked, and the failed
-- checks nobody accepted, by name (NULL: none).
SELECT checks IS NULL,
       (SELECT string_agg(c->>'name', ', ')
        FROM jsonb_array_elements(checks) c
        WHERE c->>'status' = 'failed'
          AND NOT accepted @> jsonb_build_array(jsonb_build_object('check', c->>'name')))
FROM @schema@.swaps
WHERE id = $1
