-- How the hook took action $2 ($3: the severity it told) on incident $1: when it
-- succeeded ($4 NULL), that is what the hook was last told; when it failed with error
-- $4, the same action is tried again after hook_backoff of the failures in a row, by
-- whichever worker with a hook takes it then.
UPDATE @schema@.alerts
SET told = CASE WHEN $4::text IS NOT NULL THEN told
                WHEN $2::text = 'resolve' THEN 'resolve'
                ELSE 'trigger' END,
    told_severity = CASE WHEN $4::text IS NULL AND $2::text <> 'resolve' THEN $3::text
                         ELSE told_severity END,
    hook_attempts = CASE WHEN $4::text IS NULL THEN 0 ELSE hook_attempts + 1 END,
    hook_next_at = CASE WHEN $4::text IS NULL THEN NULL
                        ELSE now() + @schema@.hook_backoff(hook_attempts + 1) END,
    hook_error = $4::text,
    hook_lease_until = NULL,
    hook_at = now()
WHERE id = $1::bigint
