-- mark --dry-run: the keys mark.sql would mark ($1 task, $2 keys, $3 mark, $4 reason),
-- refused as it refuses them (definitions/62-mark.sql), with no batch and no runs: a dry
-- run takes no id of either.
SELECT NULL::bigint AS batch,
       NULL::bigint AS run,
       u.key
FROM @schema@.mark_check($1, $2::text[], $3, $4) t
CROSS JOIN LATERAL (SELECT DISTINCT k AS key FROM unnest($2::text[]) k) u
ORDER BY u.key
