-- The statement that creates the incoming table $1.$2 like T ($1.$3): the same columns,
-- defaults, constraints, indexes, statistics, comments and storage (INCLUDING ALL), not
-- its rows, grants or triggers (the plan's prepare phase copies those). Generated here
-- with %I, run by the caller (ds_db_exec_rows).
SELECT format('CREATE TABLE %I.%I (LIKE %I.%I INCLUDING ALL)', $1::text, $2::text, $1::text,
              $3::text)
