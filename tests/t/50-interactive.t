#!/bin/sh
# The interactive shell, driven through a real pseudo-terminal by tests/ptyrun: the
# prompt, history across sessions, tab completion, errors, Ctrl-C and Ctrl-D, ~/.inputrc.
. "$DS_TOP/tests/lib.sh"
use_fresh_database t_interactive
"$DATASHELL" -c init >/dev/null 2>&1 || { echo "Bail out! init failed"; exit 1; }
export TERM=xterm

# The state store alone (so that status fits on the screen, without a pager), and with
# the example pipeline loaded, for completion from the server.
stage_initialized() {
	use_fresh_database t_interactive
	setup "$DATASHELL" -c init
}

stage_example() {
	use_stage initialized
	setup "$DATASHELL" -c "pipeline load $DS_TOP/examples/pipeline.json"
}
hist="$XDG_STATE_HOME/datashell/history"

# Drive the shell with the ptyrun script on stdin; its verdict lands in $CODE and $ERR.
pty() {
	"$DS_PTYRUN" -t 15 -- "$DATASHELL" "$@" >"$OUT" 2>"$ERR"
	CODE=$?
}

begin "the prompt names the database and the schema; commands run; quit leaves"
pty <<-'END'
	expect t_interactive/datashell> $
	sendline status
	expect Database +t_interactive
	expect t_interactive/datashell> $
	sendline quit
	wait 0
END
expect_exit 0
end_case

begin "errors print and the shell goes on; a bad quote is pointed at"
pty <<-'END'
	expect datashell> $
	sendline stauts
	expect error: unknown command 'stauts' \(did you mean 'status'\?\)
	expect datashell> $
	sendline help "init
	expect error: unterminated double quote at column 6
	expect \^
	expect datashell> $
	sendline help quit
	expect usage: quit
	expect datashell> $
	send \x04
	wait 0
END
expect_exit 0
end_case

begin "history is kept across sessions, private, without lines starting with a space"
rm -f "$hist"
pty <<-'END'
	expect datashell> $
	sendline help init
	expect usage: init
	expect datashell> $
	sendline  help local
	expect usage: local
	expect datashell> $
	sendline quit
	wait 0
END
expect_exit 0
[ -f "$hist" ] || fail "no history file at $hist"
expect_eq "history mode" "$(stat -c %a "$hist" 2>/dev/null)" 600
grep -qx 'help init' "$hist" || fail "'help init' is not in the history: $(cat "$hist")"
grep -q 'help local' "$hist" && fail "a line starting with a space was saved"
pty <<-'END'
	expect datashell> $
	send \x10\x10
	expect help init
	sendline
	expect usage: init
	expect datashell> $
	sendline quit
	wait 0
END
expect_exit 0
end_case

begin "a password typed at the prompt is masked in the history file and the error"
pty <<-'END'
	expect datashell> $
	sendline pipeline load 'host=db password=hunter2'
	expect cannot open the file
	expect datashell> $
	sendline quit
	wait 0
END
expect_exit 0
grep -q hunter2 "$hist" "$OUT" && fail "the password reached the history or the screen"
grep -qx "pipeline load 'host=db password=\*\*\*'" "$hist" ||
	fail "the masked line is not in the history: $(cat "$hist")"
end_case

begin "tab completes command names, actions and options"
use_stage initialized
pty <<-'END'
	expect datashell> $
	send sta\t
	expect status $
	sendline
	expect Database +t_interactive
	expect datashell> $
	send local sto\t
	expect local stop $
	send \x03
	expect datashell> $
	send init --dr\t
	expect init --dry-run $
	sendline
	expect is up to date
	expect datashell> $
	send help ini\t
	expect help init $
	sendline
	expect usage: init
	sendline quit
	wait 0
END
expect_exit 0
end_case

begin "tab completes task names, selectors, graphs, batches and keys from the server"
use_stage example
"$DATASHELL" -c 'backfill raw_orders 2024-01-01 --json' >"$WORK/batch.json" 2>&1
batch=$(json_get '{batch}' <"$WORK/batch.json")
month=$(date -d yesterday +%Y-%m)	# keys complete as far as yesterday: today is not due
pty <<-END
	expect datashell> \$
	send pipeline show revenue_g\t
	expect pipeline show revenue_growth \$
	send \x03
	expect datashell> \$
	send backfill graph:mark\t
	expect backfill graph:marketing \$
	send \x03
	expect datashell> \$
	send backfill gra\t
	expect backfill graph:\$
	send \x03
	expect datashell> \$
	send backfill raw_orders\t\t
	expect raw_orders +raw_orders\\+
	send \x03
	expect datashell> \$
	send force-run raw_orders,orders_d\t
	expect force-run raw_orders,orders_daily \$
	send yesterd\t
	expect yesterday \$
	send \x03
	expect datashell> \$
	send status $batch\t
	expect status $batch \$
	send \x03
	expect datashell> \$
	send why revenue_g\t
	expect why revenue_growth \$
	send yesterd\t
	expect yesterday \$
	send \x03
	expect datashell> \$
	send worker --graph co\t
	expect worker --graph core \$
	send \x03
	expect datashell> \$
	send cancel raw_orders $month-0\t\t
	expect $month-01
	send \x03
	expect datashell> \$
	sendline quit
	wait 0
END
expect_exit 0
end_case

begin "tab completes file names after pipeline load, and batch ids newest first"
use_stage example
mkdir -p "$WORK/pipes/sub"
: >"$WORK/pipes/core.json"
: >"$WORK/pipes/marketing.json"
for day in 01 02 03 04 05 06 07 08 09 10 11 12; do
	"$DATASHELL" -c "backfill raw_orders 2024-01-$day" >/dev/null 2>&1 || fail "backfill $day"
done
pty <<-END
	expect datashell> \$
	send pipeline load $WORK/pi\t
	expect pipeline load $WORK/pipes/\$
	send co\t
	expect core.json \$
	send $WORK/pipes/\t\t
	expect core.json +marketing.json +sub/
	send \x03
	expect datashell> \$
	send swap-table start t --create-sql $WORK/pipes/m\t
	expect marketing.json \$
	send \x03
	expect datashell> \$
	send status 1\t\t
	expect 12 +11 +10 +1 +$
	send \x03
	expect datashell> \$
	sendline quit
	wait 0
END
expect_exit 0
end_case

begin "a file name with a blank completes quoted, and loads as one word"
use_stage example
mkdir -p "$WORK/on call"
cp "$DS_TOP/examples/pipeline.json" "$WORK/on call/pipeline.json"
pty <<-END
	expect datashell> \$
	send pipeline load $WORK/on\t
	expect call/\$
	send \t
	expect pipeline.json' \$
	sendline
	expect loaded 1 file: no changes
	expect datashell> \$
	sendline quit
	wait 0
END
expect_exit 0
tail -n 2 "$hist" | grep -qxF "pipeline load '$WORK/on call/pipeline.json' " ||
	fail "the line as completed: $(tail -n 2 "$hist")"
end_case

begin "completion gives up quickly when the server cannot answer"
use_stage example
hold_session "LOCK TABLE datashell.tasks IN ACCESS EXCLUSIVE MODE"
start=$(date +%s)
# The bell says that completion gave up; Ctrl-C then throws the line away.
bell=$(printf '\a')
pty <<-END
	expect datashell> \$
	send pipeline show revenue_g\t
	expect revenue_g$bell
	send \x03
	expect datashell> \$
	sendline help quit
	expect usage: quit
	sendline quit
	wait 0
END
expect_exit 0
[ $(( $(date +%s) - start )) -lt 8 ] || fail "completion held the prompt for $(( $(date +%s) - start ))s"
release_session
end_case

begin "Ctrl-C at the prompt throws the line away"
pty <<-'END'
	expect datashell> $
	send help stauts
	expect help stauts$
	send \x03
	expect datashell> $
	sendline help quit
	expect usage: quit
	expect-not no help for
	sendline quit
	wait 0
END
expect_exit 0
end_case

begin "Ctrl-C cancels a statement waiting on the server; nothing changes"
# Hold the lock init takes for schema 'held', so that init waits on the server; Ctrl-C
# comes once it does.
hold_session "SELECT pg_advisory_xact_lock(hashtextextended('datashell.init.' || 'held', 0))"
ctrl_c_lock_wait "$PGDATABASE" 'held>' init --schema held
expect_exit 0
release_session
expect_sql "schema 'held'" "SELECT count(*) FROM pg_namespace WHERE nspname = 'held'" 0
end_case

runs_and_batches() {
	sql "SELECT (SELECT count(*) FROM datashell.runs) || ':' || (SELECT count(*) FROM datashell.batches)"
}

begin "Ctrl-C during a backfill waiting on the server: nothing enqueued, the shell goes on"
use_stage example
before=$(runs_and_batches)
# Hold an exclusive lock on the runs table, so that the backfill waits on the server;
# Ctrl-C comes once it does.
hold_session "LOCK TABLE datashell.runs IN ACCESS EXCLUSIVE MODE"
ctrl_c_lock_wait "$PGDATABASE" 'datashell>' 'backfill raw_orders 2023-02 --yes'
expect_exit 0
release_session
expect_eq "runs and batches" "$(runs_and_batches)" "$before"
end_case

begin "Ctrl-C in a script cancels the statement and stops the script with exit 3"
use_stage example
before=$(runs_and_batches)
hold_session "LOCK TABLE datashell.runs IN ACCESS EXCLUSIVE MODE"
ctrl_c_lock_wait "$PGDATABASE" - 'backfill raw_orders 2023-02 --yes'
expect_exit 0
release_session
expect_eq "runs and batches" "$(runs_and_batches)" "$before"
end_case

begin "~/.inputrc is read, and \$if datashell applies"
cat >"$HOME/.inputrc" <<-'END'
	$if datashell
	"\C-t": "help exit"
	$endif
END
pty <<-'END'
	expect datashell> $
	send \x14
	sendline
	expect usage: exit
	sendline quit
	wait 0
END
expect_exit 0
rm -f "$HOME/.inputrc"
end_case

begin "without a server the shell still starts and says why"
PGHOST="$WORK/nowhere" pty <<-'END'
	expect error: could not connect to the server
	expect \(not connected\)/datashell> $
	sendline help quit
	expect usage: quit
	sendline status
	expect error: could not connect
	expect datashell> $
	send \x04
	wait 0
END
expect_exit 0
end_case

done_testing
