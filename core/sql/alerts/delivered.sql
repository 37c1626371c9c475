-- How the hook took alert $1: sent, or failed with error $2.
UPDATE @schema@.alerts
SET hook_state = CASE WHEN $2::text IS NULL THEN 'sent' ELSE 'failed' END,
    hook_error = $2,
    hook_at = now()
WHERE id = $1::bigint
