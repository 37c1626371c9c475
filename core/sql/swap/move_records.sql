-- The records of swap $1's tables move with them ($3: swap, rollback or end; $2 the
-- tasks whose target is the table, from swap/target_tasks.sql), in the transaction that
-- exchanges or drops the tables (definitions/20-partitions.sql says how).
SELECT @schema@.swap_move_records($1, $2::integer[], $3)
