#!/bin/sh
# Unit tests of the script, in C; see tests/unit/test_script.c.
exec "$DS_UNITS/test_script"
