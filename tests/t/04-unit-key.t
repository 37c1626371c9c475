#!/bin/sh
# Unit tests of partition keys and ranges, in C; see tests/unit/test_key.c.
exec "$DS_UNITS/test_key"
