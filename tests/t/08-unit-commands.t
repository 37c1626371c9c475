#!/bin/sh
# Unit tests of the command table, in C; see tests/unit/test_commands.c.
exec "$DS_UNITS/test_commands"
