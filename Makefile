# datashell: build, test and install.
#
#   make            build ./datashell
#   make check      build and run every test, also under ASan and UBSan
#   make demo       start a private PostgreSQL, load the example, open the shell
#   make install    install the binary and man pages (PREFIX, DESTDIR)

# No built-in rules: core/sql is a directory the embedded SQL depends on, not a program
# to link from core/sql.c.
MAKEFLAGS += --no-builtin-rules
.SUFFIXES:

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
VERSION = 0.1.0

CC ?= cc
PKG_MODULES = libpq readline jansson libpcre2-8
WARNINGS = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
BASE_CFLAGS = -std=c11 -pthread -D_GNU_SOURCE -DDS_VERSION='"$(VERSION)"' $(WARNINGS)
CFLAGS ?= -O2 -g
SAN_CFLAGS = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

# The SQL under core/sql/ is embedded at build time: tools/embed-sql writes it as C into
# build/gen/sql_files.[ch] (core/sql.h says how it is laid out).
SQL_FILES = $(shell find core/sql -name '*.sql')
SQL_DIRS = $(shell find core/sql -type d)
GEN_SRC = build/gen/sql_files.c
CORE_SRC = $(wildcard core/*.c)
COMMANDS_SRC = $(wildcard commands/*.c commands/lib/*.c)
SHELL_SRC = $(wildcard shell/*.c)
LIB_SRC = $(GEN_SRC) $(CORE_SRC) $(COMMANDS_SRC) $(filter-out shell/main.c shell/repl.c shell/complete.c,$(SHELL_SRC))
APP_SRC = shell/main.c shell/repl.c shell/complete.c
UNIT_SRC = $(wildcard tests/unit/test_*.c)

OBJ = $(patsubst %.c,build/%.o,$(LIB_SRC) $(APP_SRC))
SAN_OBJ = $(patsubst %.c,build/asan/%.o,$(LIB_SRC) $(APP_SRC))
UNITS = $(patsubst tests/unit/%.c,build/tests/%,$(UNIT_SRC))
SAN_UNITS = $(patsubst tests/unit/%.c,build/asan/tests/%,$(UNIT_SRC))

all: datashell

# Compiler and linker flags come from pkg-config, once the libraries are known to be
# installed: make builds this file first (installing what is missing), then re-reads it.
ifeq ($(filter clean,$(MAKECMDGOALS)),)
-include build/flags.mk
endif

build/flags.mk: tools/ensure-deps
	@tools/ensure-deps build
	@mkdir -p build
	@echo "PKG_CFLAGS = $$(pkg-config --cflags $(PKG_MODULES))" >$@.tmp
	@echo "PKG_LIBS = $$(pkg-config --libs $(PKG_MODULES))" >>$@.tmp
	@mv $@.tmp $@

# build/gen holds the generated index of the embedded SQL (core/sql.h includes it).
ALL_CFLAGS = $(BASE_CFLAGS) -Ibuild/gen $(PKG_CFLAGS) -MMD -MP
# swap-table watches its lock waits from a thread (core/lockwatch.c).
LIBS = $(PKG_LIBS) -pthread

# A directory's time changes when a file is added or removed, so that rebuilds too. The
# header is rewritten only when the list of statements changes, so that editing a
# statement rebuilds its text, not everything that includes core/sql.h; the stamp
# remembers when the files were last read.
build/gen/sql_files.stamp: tools/embed-sql $(SQL_FILES) $(SQL_DIRS)
	@mkdir -p build/gen
	tools/embed-sql core/sql build/gen/sql_files.c build/gen/sql_files.h
	@touch $@

build/gen/sql_files.c build/gen/sql_files.h: build/gen/sql_files.stamp ;

build/%.o: %.c build/flags.mk | build/gen/sql_files.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(CFLAGS) -c -o $@ $<

build/asan/%.o: %.c build/flags.mk | build/gen/sql_files.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SAN_CFLAGS) -c -o $@ $<

datashell: $(OBJ)
	$(CC) $(CFLAGS) -o $@ $(OBJ) $(LIBS)

build/asan/datashell: $(SAN_OBJ)
	$(CC) $(SAN_CFLAGS) -o $@ $(SAN_OBJ) $(LIBS)

LIB_OBJ = $(patsubst %.c,build/%.o,$(LIB_SRC))
SAN_LIB_OBJ = $(patsubst %.c,build/asan/%.o,$(LIB_SRC))

build/tests/%: build/tests/unit/%.o $(LIB_OBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

build/asan/tests/%: build/asan/tests/unit/%.o $(SAN_LIB_OBJ)
	$(CC) $(SAN_CFLAGS) -o $@ $^ $(LIBS)

build/ptyrun: tests/ptyrun.c
	@mkdir -p build
	$(CC) -std=c11 -D_DEFAULT_SOURCE -D_XOPEN_SOURCE=700 -Wall -Wextra -O1 -g -o $@ $< -lutil

test-deps:
	@tools/ensure-deps check

# The suite runs twice, side by side, each run against a throwaway server of its own:
# the plain build, and the build with AddressSanitizer and UndefinedBehaviorSanitizer.
# tests/run.sh says how to run one file or one case.
check: test-deps datashell build/asan/datashell $(UNITS) $(SAN_UNITS) build/ptyrun
	tests/run.sh -p build/ptyrun -b ./datashell:build/tests -b build/asan/datashell:build/asan/tests

# Benchmarks print their figures with their targets; they are not part of check.
bench-backfill: datashell
	bench/backfill.sh ./datashell

bench-worker: datashell
	bench/worker_bench ./datashell

bench-throughput: datashell
	bench/throughput.sh ./datashell

bench-swap: datashell
	bench/swap.sh ./datashell

bench-schedule: datashell
	bench/schedule.sh ./datashell

install: datashell
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 755 datashell $(DESTDIR)$(BINDIR)/datashell
	install -m 644 man/datashell.1 $(DESTDIR)$(MANDIR)/man1/datashell.1
	install -d $(DESTDIR)$(MANDIR)/man5
	install -m 644 man/datashell-pipelines.5 $(DESTDIR)$(MANDIR)/man5/datashell-pipelines.5

# The demo's private cluster lives beside the source, where the postgres user can reach
# it even when make runs as root with a private home directory.
DEMO_HOME = $(CURDIR)/build/demo
demo: datashell
	@tools/ensure-deps demo
	XDG_DATA_HOME=$(DEMO_HOME)/data ./datashell --local -f examples/demo.ds
	XDG_DATA_HOME=$(DEMO_HOME)/data ./datashell --local

demo-stop: datashell
	XDG_DATA_HOME=$(DEMO_HOME)/data ./datashell -c 'local stop'

# The tree is kept as clang-format 14 (Debian 12's) formats it with .clang-format;
# .ci/run fails on any difference (make format-check).
FORMAT_SRC = $(CORE_SRC) $(COMMANDS_SRC) $(SHELL_SRC) $(UNIT_SRC) tests/ptyrun.c \
	$(wildcard core/*.h commands/*.h commands/lib/*.h shell/*.h tests/unit/*.h)
CLANG_FORMAT = clang-format

format-deps:
	@tools/ensure-deps format
	@$(CLANG_FORMAT) --version | grep -q 'version 14\.' || { \
		echo "datashell: the tree is formatted with clang-format 14; found: $$($(CLANG_FORMAT) --version)" >&2; exit 1; }

format: format-deps
	$(CLANG_FORMAT) -i $(FORMAT_SRC)

format-check: format-deps
	@$(CLANG_FORMAT) --dry-run --Werror $(FORMAT_SRC) || { \
		echo "datashell: the files above differ from clang-format; run 'make format'" >&2; exit 1; }

clean:
	@if [ -d $(DEMO_HOME)/data/datashell/pgdata ]; then \
		XDG_DATA_HOME=$(DEMO_HOME)/data ./datashell -c 'local stop' || true; fi
	rm -rf build datashell

# Keep the unit tests' objects between runs.
.SECONDARY:

.PHONY: bench-backfill bench-worker bench-throughput bench-swap bench-schedule all check test-deps install demo demo-stop format format-deps format-check clean

-include $(OBJ:.o=.d) $(SAN_OBJ:.o=.d) $(UNITS:build/tests/%=build/tests/unit/%.d) \
	$(SAN_UNITS:build/asan/tests/%=build/asan/tests/unit/%.d)
