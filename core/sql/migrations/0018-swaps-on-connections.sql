-- swap-table --connection: a swap of a table in a named connection's database (a
-- warehouse), whose journal row stays here. NULL: a table of the state database. The
-- warehouse keeps a copy of the row (swap/warehouse_tables.sql), written first in the
-- transaction of each step's DDL, from which this one is brought forward.
ALTER TABLE swaps ADD COLUMN connection text;
-- One swap at a time per table of each database: a warehouse's orders is another table
-- than the state database's.
DROP INDEX swaps_active;
CREATE UNIQUE INDEX swaps_active ON swaps (table_schema, table_name, coalesce(connection, ''))
    WHERE state <> 'finished';
