#!/bin/sh
# Unit tests of the line diff and its unified hunks, in C; see tests/unit/test_textdiff.c.
exec "$DS_UNITS/test_textdiff"
