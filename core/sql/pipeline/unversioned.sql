-- The tasks without a fingerprint, with their normalized definitions: those stored
-- before versions existed (migrations/0012-task-versions.sql), for init to fingerprint.
SELECT id, definition
FROM @schema@.tasks
WHERE fingerprint IS NULL
ORDER BY id
