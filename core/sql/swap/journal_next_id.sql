-- The id of a swap about to start, from the journal's own sequence in the state schema
-- ($1, its name as given): taken before the step, as a swap on a connection writes it in
-- the warehouse first.
SELECT nextval(pg_get_serial_sequence(format('%I.swaps', $1::text), 'id'))
