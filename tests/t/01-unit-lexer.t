#!/bin/sh
# Unit tests of the lexer, in C; see tests/unit/test_lexer.c.
exec "$DS_UNITS/test_lexer"
