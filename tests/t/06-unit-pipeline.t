#!/bin/sh
# Unit tests of reading pipeline files and planning loads, in C; see tests/unit/test_pipeline.c.
exec "$DS_UNITS/test_pipeline"
