-- In the comparison's transaction: a scan big enough for JIT (by the server's
-- jit_above_cost) gets its code optimized too, which pays for itself when every row is
-- hashed (a quarter off at 10 million rows); inlining would not (its compile time).
-- As the transaction's first statement it also takes its snapshot (repeatable read),
-- which it returns: what the comparison sees, so that a write to T that commits after
-- it, even while the tables are read, counts as after the check (swap_writes).
SELECT set_config('jit_optimize_above_cost', current_setting('jit_above_cost'), true),
       pg_current_snapshot()::text
