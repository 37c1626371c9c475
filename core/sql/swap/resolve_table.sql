-- The schema, name, kind and oid of a table given as SQL writes it ($1: orders,
-- public.orders, "Order Items"), resolved with the session's search_path as the user's
-- own statements would be. No row: there is no such relation.
SELECT n.nspname, c.relname, c.relkind, c.oid
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.oid = to_regclass($1)
