#!/bin/sh
# Unit tests of what tab completion offers, in C, against a real server; see
# tests/unit/test_complete.c.
. "$DS_TOP/tests/lib.sh"
use_fresh_database t_complete
"$DATASHELL" -c init -c "pipeline load $DS_TOP/tests/fixtures/shop.json" \
	-c 'backfill orders_raw 2024-01-01' >/dev/null 2>&1 || { echo "Bail out! setup failed"; exit 1; }
sql "CREATE TABLE public.sales_facts (id int); CREATE SCHEMA warehouse;
     CREATE TABLE warehouse.orders (id int)" >/dev/null
exec "$DS_UNITS/test_complete"
