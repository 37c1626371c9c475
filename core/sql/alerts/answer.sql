-- Acknowledge ($2 = 'acked') or resolve ($2 = 'resolved') alert $1, unless it is
-- resolved already: its state before (was), and whether it was answered. No row: there
-- is no such alert. The alert as it is then is read with alerts/list.sql.
WITH old AS (
    SELECT id, state
    FROM @schema@.alerts
    WHERE id = $1::bigint
    FOR UPDATE
), answered AS (
    UPDATE @schema@.alerts a
    SET state = $2,
        acked_at = CASE WHEN $2 = 'acked' THEN now() ELSE a.acked_at END,
        acked_by = CASE WHEN $2 = 'acked' THEN current_user ELSE a.acked_by END,
        resolved_at = CASE WHEN $2 = 'resolved' THEN now() END,
        resolved_by = CASE WHEN $2 = 'resolved' THEN current_user END
    FROM old
    WHERE a.id = old.id AND old.state <> 'resolved'
    RETURNING a.id
)
SELECT old.state AS was,
       answered.id IS NOT NULL AS answered
FROM old
LEFT JOIN answered USING (id)
