#!/bin/sh
# Unit tests of variables in task SQL, in C; see tests/unit/test_sqlvars.c.
exec "$DS_UNITS/test_sqlvars"
