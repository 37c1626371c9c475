#!/bin/sh
# Unit tests of the opt, in C; see tests/unit/test_opt.c.
exec "$DS_UNITS/test_opt"
