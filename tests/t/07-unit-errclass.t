#!/bin/sh
# Unit tests of error classes, in C; see tests/unit/test_errclass.c.
exec "$DS_UNITS/test_errclass"
