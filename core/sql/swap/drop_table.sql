-- The statement that drops the table a swap retires ($1.$2: T_old, T_backfill, or T in
-- mode v2), RESTRICT, never CASCADE: what still depends on it was refused before (see
-- swap/still_used.sql), and whatever appeared since makes the drop fail, not vanish.
-- IF EXISTS: a finish run again after a killed shell finds it gone. Generated here with
-- %I, run by the caller (ds_db_exec_rows).
SELECT format('DROP TABLE IF EXISTS %I.%I RESTRICT', $1::text, $2::text)
