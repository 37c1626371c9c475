#!/bin/sh
# Unit tests of the masking of passwords in command lines, in C; see tests/unit/test_redact.c.
exec "$DS_UNITS/test_redact"
