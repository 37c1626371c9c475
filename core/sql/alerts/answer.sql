-- Acknowledge ($1 = 'acked') or resolve ($1 = 'resolved') a set of alerts in one
-- statement: those with the ids $2 (NULL: any), of the tasks $3 (NULL: any), of kind
-- $4 (NULL: any) and not of the tasks $5 (NULL: none; never an alert of no task, a
-- worker's), the filters taken together. A resolved alert is never answered
-- again, and acking by filter alone takes the open ones (an acked alert stays as it
-- is); an alert named by its id is acked again, by whoever asks now.
--
-- All or nothing: when an id in $2 names no alert (missing) or one already resolved
-- (resolved), nothing is answered, and the row says which. Otherwise answered lists
-- the alerts answered, with their state before (was), in id order.
WITH given AS (
    SELECT u.id,
           a.id IS NULL AS missing,
           a.state = 'resolved' AS resolved
    FROM unnest($2::bigint[]) AS u(id)
    LEFT JOIN @schema@.alerts a ON a.id = u.id
), refused AS (
    SELECT coalesce(jsonb_agg(id ORDER BY id) FILTER (WHERE missing), '[]') AS missing,
           coalesce(jsonb_agg(id ORDER BY id) FILTER (WHERE resolved), '[]') AS resolved
    FROM given
), target AS (
    SELECT a.id, a.state
    FROM @schema@.alerts a, refused f
    WHERE f.missing = '[]'
      AND f.resolved = '[]'
      AND a.state <> 'resolved'
      AND ($2::bigint[] IS NULL OR a.id = ANY ($2::bigint[]))
      AND ($3::text[] IS NULL OR a.task = ANY ($3::text[]))
      AND ($4::text IS NULL OR a.kind = $4::text)
      AND ($5::text[] IS NULL OR a.task IS NULL OR a.task <> ALL ($5::text[]))
      AND ($2::bigint[] IS NOT NULL OR $1::text = 'resolved' OR a.state = 'open')
    FOR UPDATE OF a
), answered AS (
    UPDATE @schema@.alerts a
    SET state = $1::text,
        acked_at = CASE WHEN $1::text = 'acked' THEN now() ELSE a.acked_at END,
        acked_by = CASE WHEN $1::text = 'acked' THEN current_user ELSE a.acked_by END,
        resolved_at = CASE WHEN $1::text = 'resolved' THEN now() END,
        resolved_by = CASE WHEN $1::text = 'resolved' THEN current_user END
    FROM target t
    WHERE a.id = t.id
    RETURNING a.id, t.state AS was, a.state, a.kind, a.task, a.key, a.summary
)
SELECT f.missing,
       f.resolved,
       coalesce((SELECT jsonb_agg(to_jsonb(x) ORDER BY x.id) FROM answered x), '[]') AS answered
FROM refused f
