#!/bin/sh
# Batch mode: scripts from stdin, -f and -c; comments, continuations, the first failure
# stopping the script with exit 3, --keep-going, --echo, and the command line itself.
. "$DS_TOP/tests/lib.sh"
use_fresh_database t_batch

# The cases that look at the state store start from a database without it, or with it.
stage_empty() {
	use_fresh_database t_batch
}

stage_initialized() {
	use_stage empty
	setup "$DATASHELL" -c init
}

begin "--version prints the version"
ds --version
expect_exit 0
expect_stdout_matches '^datashell [0-9]+\.[0-9]+\.[0-9]+$'
end_case

begin "--help lists the options"
ds --help
expect_exit 0
expect_stdout_matches '--keep-going'
expect_stdout_matches '^usage: datashell'
end_case

begin "an unknown command-line option exits 1"
ds --frobnicate
expect_exit 1
expect_stderr_matches "unrecognized option '--frobnicate'"
end_case

begin "a stray argument exits 1 and suggests -c"
ds status
expect_exit 1
expect_stderr <<-'END'
	datashell: unexpected argument 'status'
	hint: quote a command and pass it with -c, e.g. datashell -c 'status'
END
end_case

begin "a script from stdin skips comments and blank lines and joins continued lines"
use_stage empty
ds_stdin <<-'END'
	# set up the state store
	
	init \
	  --dry-run
	help \
	  quit
END
expect_exit 0
expect_stdout <<-END
	would bring schema 'datashell' from version 0 to $SCHEMA_VERSION ($SCHEMA_MIGRATIONS migrations); nothing was changed
	usage: quit
	  leave the shell (as does Ctrl-D)
	
	options:
	  --help                 show this command's synopsis and options
	  --json                 print the result as one JSON document
	  --csv                  print the result's rows as CSV
	  --wide                 show every column in full, however wide the terminal
END
end_case

cat >"$WORK/s.ds" <<-'END'
	help quit
	# the next line is wrong
	stauts
	init
END

begin "the first failing command stops the script with exit 3, naming the line"
use_stage empty
ds -f "$WORK/s.ds"
expect_exit 3
expect_stderr <<-END
	datashell: $WORK/s.ds:3: error: unknown command 'stauts' (did you mean 'status'?)
	hint: 'help' lists the commands
END
expect_sql "schema after the stop" "SELECT count(*) FROM pg_namespace WHERE nspname = 'datashell'" 0
end_case

begin "--keep-going runs the rest and still exits 3"
use_stage empty
ds --keep-going -f "$WORK/s.ds"
expect_exit 3
expect_stdout_matches "^created schema 'datashell' at version $SCHEMA_VERSION\$"
expect_sql "schema after keep-going" "SELECT count(*) FROM pg_namespace WHERE nspname = 'datashell'" 1
end_case

begin "an unterminated quote is an error naming its column and line"
printf 'help\nhelp "init\n' >"$WORK/q.ds"
ds -f "$WORK/q.ds"
expect_exit 3
expect_stderr <<-END
	datashell: $WORK/q.ds:2: error: unterminated double quote at column 6
END
end_case

begin "several -c commands run in order; a failing one stops the rest"
ds -c 'help quit' -c 'init --bogus' -c 'help exit'
expect_exit 3
expect_stdout_matches '^usage: quit$'
expect_stderr <<-'END'
	datashell: error: unknown option '--bogus' for 'init'
	hint: see 'init --help'
END
if grep -q 'usage: exit' "$OUT"; then fail "the command after the failure ran"; fi
end_case

begin "quit ends a script early and successfully"
ds_stdin <<-'END'
	help quit
	quit
	stauts
END
expect_exit 0
end_case

begin "--echo prints each command before its output"
use_stage initialized
ds --echo -c 'init --dry-run'
expect_exit 0
expect_stdout <<-END
	init --dry-run
	schema 'datashell' is up to date (version $SCHEMA_VERSION)
END
end_case

begin "a wrong number of arguments is a usage error with the synopsis"
ds -c 'local'
expect_exit 3
expect_stderr <<-'END'
	datashell: error: 'local' needs 1 argument
	hint: usage: local start|stop|status
END
end_case

begin "too many arguments"
ds -c 'init now please'
expect_exit 3
expect_stderr <<-'END'
	datashell: error: 'init' takes no arguments
	hint: usage: init [--dry-run]
END
end_case

begin "-f - reads the script from stdin, between -c commands"
printf 'help exit\n' | "$DATASHELL" -c 'help quit' -f - -c 'help help' >"$OUT" 2>"$ERR"
CODE=$?
expect_exit 0
expect_eq "order" "$(grep '^usage:' "$OUT" | tr '\n' ';')" "usage: quit;usage: exit;usage: help [COMMAND];"
end_case

begin "-f with a missing file exits 1"
ds -f "$WORK/nope.ds"
expect_exit 1
expect_stderr_matches "cannot open '.*nope.ds'"
end_case

begin "help lists every command with its summary"
ds -c help
expect_exit 0
for c in help status init local quit exit; do
	grep -qE "^  $c " "$OUT" || fail "help does not list '$c'"
done
end_case

begin "help COMMAND is the same page as COMMAND --help"
ds -c 'help init'
cp "$OUT" "$WORK/help1"
ds -c 'init --help'
expect_exit 0
expect_same "help init vs init --help" "$WORK/help1" <"$OUT"
expect_stdout_matches '^  --dry-run'
end_case

begin "help for an unknown command fails"
ds -c 'help frob'
expect_exit 3
expect_stderr_matches "no help for 'frob': no such command"
end_case

begin "--json output of every command parses"
use_stage initialized
for c in "help" "help init" "status" "init --dry-run" "local status" "quit"; do
	ds -c "$c --json"
	[ "$CODE" = 0 ] || fail "'$c --json' exited $CODE: $(cat "$ERR")"
	perl -MJSON::PP -e 'local $/; JSON::PP->new->decode(<STDIN>)' <"$OUT" 2>"$WORK/perr" ||
		fail "'$c --json' is not JSON: $(cat "$WORK/perr") $(head -c 300 "$OUT")"
done
end_case

begin "help --json names every command, with its group"
ds -c 'help --json'
expect_eq "first command" "$(json_get '{commands}[0]{name}' <"$OUT")" status
expect_eq "its group" "$(json_get '{commands}[0]{group}' <"$OUT")" runs
expect_eq "its synopsis" "$(json_get '{commands}[0]{synopsis}' <"$OUT")" "[SELECTOR [RANGE] | BATCH] [--exclude SELECTOR] [--failed] [--into backfill] [--all]"
end_case

begin "help lists the commands grouped by purpose"
ds -c help
expect_exit 0
expect_eq "headings" "$(grep -E '^[A-Z]' "$OUT" | tr '\n' ';')" "Runs;Pipelines;Tables;On-call;State store;Shell;"
end_case

begin "the schema comes from --schema, then DATASHELL_SCHEMA"
use_stage empty
ds --schema "we\"ird sch'ema" -c init
expect_exit 0
expect_stdout <<-END
	created schema 'we"ird sch'ema' at version $SCHEMA_VERSION
END
DATASHELL_SCHEMA="we\"ird sch'ema" ds -c 'status --json'
expect_exit 0
expect_eq "schema name in status" "$(json_get '{schema}{name}' <"$OUT")" "we\"ird sch'ema"
expect_sql "tables in it" "SELECT count(*) FROM pg_tables WHERE schemaname = 'we\"ird sch''ema'" 20
end_case

done_testing
