-- The statement that takes swap $1's write log off T as the swap ends (finish, abandon),
-- in the transaction that drops the other table, whose trigger goes with it. IF EXISTS:
-- a swap that an older datashell started has none. Generated here with %I, run by the
-- caller.
SELECT format('DROP TRIGGER IF EXISTS %I ON %I.%I', @schema@.swap_write_trigger(id),
              table_schema, table_name)
FROM @schema@.swaps
WHERE id = $1
  AND to_regclass(format('%I.%I', table_schema, table_name)) IS NOT NULL
