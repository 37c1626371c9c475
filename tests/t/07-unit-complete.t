#!/bin/sh
# Unit tests of what tab completion offers, in C, against a real server; see
# tests/unit/test_complete.c. Batches 1 to 12, so that their ids sort differently as
# text and as numbers.
. "$DS_TOP/tests/lib.sh"
use_fresh_database t_complete
"$DATASHELL" -c init -c "pipeline load $DS_TOP/tests/fixtures/shop.json" \
	-c 'backfill orders_raw 2024-01-01..2024-01-02' -c 'backfill orders_raw 2024-01-03' \
	-c 'backfill orders_raw 2024-01-04' -c 'backfill orders_raw 2024-01-05' \
	-c 'backfill orders_raw 2024-01-06' -c 'backfill orders_raw 2024-01-07' \
	-c 'backfill orders_raw 2024-01-08' -c 'backfill orders_raw 2024-01-09' \
	-c 'backfill orders_raw 2024-01-10' -c 'backfill orders_raw 2024-01-11' \
	-c 'backfill orders_raw 2024-01-12' -c 'backfill orders_raw 2024-01-13' \
	>/dev/null 2>&1 || { echo "Bail out! setup failed"; exit 1; }
sql "CREATE TABLE public.sales_facts (id int); CREATE SCHEMA warehouse;
     CREATE TABLE warehouse.orders (id int)" >/dev/null
exec "$DS_UNITS/test_complete"
