-- The statements swap $1 left for after its commit (VALIDATE CONSTRAINT), in order.
-- Each is idempotent, so a shell killed while running them runs them all again.
SELECT p.stmt
FROM @schema@.swaps s
CROSS JOIN jsonb_array_elements_text(s.pending) WITH ORDINALITY AS p(stmt, n)
WHERE s.id = $1
ORDER BY p.n
