#!/bin/sh
# Output fits the terminal: on a pseudo-terminal 80, 120 or 200 columns wide no line of
# status, handoff, alerts, breaker list or swap-table status is wider than it, though
# the data is (long task names, long errors); through a pipe, with --wide, --json or
# --csv nothing is cut. --json, --csv and --wide are options of the program as well.
# Long lists say how many rows they left out, and --all shows them all.
. "$DS_TOP/tests/lib.sh"
use_fresh_database t_fit
export TZ=UTC TERM=dumb DATASHELL_PAGER='' LC_ALL=C.UTF-8
unset COLUMNS

LONG_TASK=orders_enriched_with_customer_lifetime_value_daily_rollup
LONG_ERROR='relation staging.orders_enriched_with_customer_lifetime_value does not exist: the upstream extract of the customer ledger did not run, see the runbook entry for the ledger export before retrying'

# LONG_TASK fails with LONG_ERROR and its breaker (one failure) opens: a failed key, held
# keys, an open breaker and alerts. quiet has 150 keys queued in batch 2. facts has a
# swap under way.
stage_wide() {
	use_fresh_database t_fit
	schema_with_pipeline datashell <<END
{"graphs": {"warehouse": {"breaker": {"failures": 1}}},
 "tasks": [
  {"name": "$LONG_TASK", "graph": "warehouse", "key": "daily", "retry_delay": 0,
   "command": "echo '$LONG_ERROR' >&2; exit 1"},
  {"name": "quiet", "graph": "warehouse", "key": "daily", "command": "true"}]}
END
	setup_failing "$DATASHELL" -c "backfill $LONG_TASK 2024-01-01..2024-01-04 --yes" \
		-c 'worker --drain'
	setup "$DATASHELL" -c 'backfill quiet 2024-01-01..2024-05-29 --yes'
	setup sql "CREATE TABLE public.facts_of_the_customer_ledger_by_day (day date, n int)"
	setup "$DATASHELL" -c 'swap-table start public.facts_of_the_customer_ledger_by_day'
}

# Run datashell on a pseudo-terminal COLUMNS wide; the transcript is in $ERR.
on_tty() {	# COLUMNS ARGS...
	t_cols=$1
	shift
	printf 'wait 0\n' | "$DS_PTYRUN" -v -w "$t_cols" -t 30 -- "$DATASHELL" "$@" >"$OUT" 2>"$ERR"
	CODE=$?
}

# The lines the program printed in a ptyrun transcript, without its line ends.
printed() {	# TRANSCRIPT
	sed -n 's/^< //p' "$1" | sed 's/\\r\\n$//'
}

# The width of the widest line of a file, in characters (UTF-8).
widest() {	# FILE
	perl -CSD -ne 'chomp; s/\\(\\|e|t|x[0-9a-f]{2})/_/g; $m = length if length > $m;
		END { print $m + 0 }' "$1"
}

COMMANDS="status|handoff --since 1000d|alerts|breaker list|swap-table status"

begin "on terminals 80, 120 and 200 wide no line is wider, and the long text is shortened"
use_stage wide
for cols in 80 120 200; do
	echo "$COMMANDS" | tr '|' '\n' | while IFS= read -r command; do
		on_tty "$cols" -c "$command"
		printed "$ERR" >"$WORK/shown"
		[ "$CODE" = 0 ] || echo "$command at $cols: exit $CODE: $(head -c 2000 "$ERR")"
		w=$(widest "$WORK/shown")
		[ "$w" -le "$cols" ] ||
			echo "$command at $cols: a line $w wide: $(cat "$WORK/shown")"
		grep -q . "$WORK/shown" || echo "$command at $cols: printed nothing"
	done >>"$WORK/verdict"
done
# The data is wider than 200 columns: something was cut (the mark, or columns left out).
on_tty 200 -c handoff
printed "$ERR" >"$WORK/shown"
grep -qF "$LONG_ERROR" "$WORK/shown" && echo "the error was not shortened at 200" >>"$WORK/verdict"
grep -q "…" "$WORK/shown" || echo "no cut mark at 200: $(cat "$WORK/shown")" >>"$WORK/verdict"
# Identifying columns stay whole while free text gives way.
on_tty 120 -c "status $LONG_TASK 2024-01-01..2024-01-04"
printed "$ERR" >"$WORK/shown"
grep -q "^ *$LONG_TASK *| 2024-01-01 *| failed *|" "$WORK/shown" ||
	echo "the failure's task and key cut at 120: $(cat "$WORK/shown")" >>"$WORK/verdict"
# A name that must give way is cut in its middle: its end, which tells names apart, stays.
on_tty 80 -c "handoff --since 1000d"
printed "$ERR" >"$WORK/shown"
grep -q "orders_enrich[a-z_]*…[a-z_]*rollup" "$WORK/shown" ||
	echo "a task's name not cut in its middle at 80: $(cat "$WORK/shown")" >>"$WORK/verdict"
while IFS= read -r l; do fail "$l"; done <"$WORK/verdict"
end_case

begin "the strips of long task names fit the terminal: the names give way in their middle, keeping their end, never the marks"
use_stage wide
for range in 2024-01 2023-12-20..2024-01-10; do
	on_tty 80 -c "status $LONG_TASK,quiet $range"
	printed "$ERR" >"$WORK/shown"
	expect_exit 0
	w=$(widest "$WORK/shown")
	[ "$w" -le 80 ] || fail "status over $range: a line $w wide: $(cat "$WORK/shown")"
	grep -q '^  orders_enriched_with_customer_…e_daily_rollup  ' "$WORK/shown" ||
		fail "the long name not shortened over $range: $(cat "$WORK/shown")"
done
# Over one month every key has its mark, under the axis.
on_tty 80 -c "status $LONG_TASK 2024-01"
printed "$ERR" >"$WORK/shown"
expect_eq "the axis" "$(grep -A1 '^Strips$' "$WORK/shown" | sed -n 2p)" \
	"  2024-01                                        1      8      15     22     29"
grep -q '^  orders_enriched_with_customer_…e_daily_rollup  FHHH\.\{27\}$' "$WORK/shown" ||
	fail "the marks are not whole: $(cat "$WORK/shown")"
end_case

begin "at 80 columns the columns that do not fit are left out, and the output says which"
use_stage wide
on_tty 80 -c alerts
printed "$ERR" >"$WORK/shown"
expect_exit 0
grep -q '^ *(left out to fit the terminal: .*; --wide shows them)$' "$WORK/shown" ||
	grep -q '^ *([0-9]* columns\? left out to fit the terminal; --wide shows them)$' "$WORK/shown" ||
	fail "no line says columns were left out: $(cat "$WORK/shown")"
grep -q '^ *id *| *state *|' "$WORK/shown" || fail "id and state left out: $(cat "$WORK/shown")"
# Where the locale is not UTF-8, the cut mark is ~.
LC_ALL=C on_tty 80 -c 'handoff --since 1000d'
printed "$ERR" >"$WORK/shown"
grep -q '…' "$WORK/shown" && fail "an ellipsis in the C locale: $(cat "$WORK/shown")"
grep -q '[^ ]~ |' "$WORK/shown" || fail "no ~ in the C locale: $(cat "$WORK/shown")"
end_case

begin "the line that says how many columns were left out fits a narrow terminal too"
use_stage wide
on_tty 60 -c status
printed "$ERR" >"$WORK/shown"
expect_exit 0
grep -q 'left out to fit the terminal' "$WORK/shown" ||
	fail "nothing left out at 60: $(cat "$WORK/shown")"
w=$(widest "$WORK/shown")
[ "$w" -le 60 ] || fail "status at 60: a line $w wide: $(cat "$WORK/shown")"
grep -q '(1 columns' "$WORK/shown" && fail "1 columns: $(cat "$WORK/shown")"
end_case

begin "at the prompt, results fit the terminal too"
use_stage wide
"$DS_PTYRUN" -v -w 80 -t 30 -- "$DATASHELL" >"$OUT" 2>"$ERR" <<-'END'
	expect datashell> $
	sendline handoff --since 1000d
	expect left out to fit the terminal
	expect datashell> $
	sendline quit
	wait 0
END
CODE=$?
expect_exit 0
printed "$ERR" >"$WORK/shown"
w=$(widest "$WORK/shown")
[ "$w" -le 80 ] || fail "a line $w wide at the prompt: $(cat "$WORK/shown")"
grep -q '…' "$WORK/shown" || fail "nothing shortened at the prompt: $(cat "$WORK/shown")"
end_case

begin "\$COLUMNS is honoured on a terminal, as psql does"
use_stage wide
COLUMNS=100 on_tty 200 -c handoff
printed "$ERR" >"$WORK/shown"
w=$(widest "$WORK/shown")
[ "$w" -le 100 ] || fail "a line $w wide with COLUMNS=100: $(cat "$WORK/shown")"
[ "$w" -gt 80 ] || fail "COLUMNS=100 not used (widest line $w)"
end_case

begin "text results fold at the terminal's width, losing nothing; a pipe gets them whole"
use_stage wide
on_tty 80 -c "why $LONG_TASK 2024-01-01"
printed "$ERR" >"$WORK/shown"
expect_exit 0
w=$(widest "$WORK/shown")
[ "$w" -le 80 ] || fail "why at 80: a line $w wide: $(cat "$WORK/shown")"
tr '\n' ' ' <"$WORK/shown" | sed 's/  */ /g' | grep -qF "$LONG_ERROR" ||
	fail "why at 80 lost words of the error: $(cat "$WORK/shown")"
grep -q "^    [^ ]" "$WORK/shown" || fail "why at 80: no continuation indented under its line: $(cat "$WORK/shown")"
COLUMNS=80 "$DATASHELL" -c "why $LONG_TASK 2024-01-01" | cat >"$WORK/piped"
grep -qF "$LONG_ERROR" "$WORK/piped" || fail "why cut in a pipe: $(cat "$WORK/piped")"
end_case

begin "through a pipe, with --wide, --json or --csv nothing is cut"
use_stage wide
echo "$COMMANDS" | tr '|' '\n' | while IFS= read -r command; do
	COLUMNS=80 "$DATASHELL" -c "$command" | cat >"$WORK/piped"
	grep -q '…\|left out to fit' "$WORK/piped" && echo "$command cut in a pipe: $(cat "$WORK/piped")"
done >"$WORK/verdict"
while IFS= read -r l; do fail "$l"; done <"$WORK/verdict"
COLUMNS=80 "$DATASHELL" -c 'handoff --since 1000d' | cat >"$WORK/piped"
grep -qF "$LONG_ERROR" "$WORK/piped" || fail "the error cut in a pipe: $(cat "$WORK/piped")"
for how in "-c handoff --wide" "--wide -c handoff" "-c handoff --json" "--csv -c handoff"; do
	# shellcheck disable=SC2086 # the words of $how are the program's arguments
	on_tty 80 $how
	printed "$ERR" | tr -d '\n' | sed 's/  */ /g' >"$WORK/shown"
	expect_exit 0
	grep -qF "$LONG_ERROR" "$WORK/shown" || fail "the error cut with $how: $(head -c 3000 "$ERR")"
	grep -q '…' "$WORK/shown" && fail "cut with $how: $(head -c 3000 "$ERR")"
done
end_case

begin "--json, --csv and --wide are options of the program, for every command of the run"
use_stage wide
ds --json -c status -c 'alerts --open'
expect_exit 0
perl -MJSON::PP -e 'local $/; my @docs = split /(?<=\n\})\n/, <STDIN>;
	die "not two documents\n" unless @docs == 2;
	die "no graphs\n" unless decode_json($docs[0])->{graphs};
	die "no alerts\n" unless decode_json($docs[1])->{alerts};' <"$OUT" ||
	fail "not two JSON documents: $(cat "$OUT")"
ds -c status --json
expect_exit 0
json_get '{graphs}' <"$OUT" | grep -q warehouse || fail "-c status --json: $(cat "$OUT")"
ds --csv -c 'alerts --open'
expect_exit 0
expect_eq "CSV header" "$(head -n 1 "$OUT" | cut -d, -f1-3)" "id,state,severity"
ds --json -c 'alerts --open --csv'
expect_exit 0
expect_eq "a command's own --csv wins" "$(head -n 1 "$OUT" | cut -d, -f1)" "id"
ds --json --csv -c status
expect_exit 1
expect_stderr_matches '^datashell: --json or --csv, not both$'
ds -c status --failed
expect_exit 1
expect_stderr_matches "^hint: a command's own options go inside the quotes of -c: datashell -c 'status --failed'$"
end_case

begin "long lists say how many rows they left out, and --all shows them all"
use_stage wide
batch=$(sql "SELECT batch_id FROM runs r JOIN tasks t ON t.id = r.task_id
	     WHERE t.name = 'quiet' LIMIT 1")
ds -c "status $batch"
expect_exit 0
expect_stdout_matches '^  \(100 of 150 rows shown; --all shows every row\)$'
expect_eq "rows listed" "$(grep -c '^ *quiet ' "$OUT")" 100
ds -c "status $batch --all"
expect_exit 0
expect_stdout_matches '^  \(150 rows\)$'
expect_eq "rows listed with --all" "$(grep -c '^ *quiet ' "$OUT")" 150
ds -c "status $batch --json"
expect_eq "total in --json" "$(json_get '{not_succeeded_total}' <"$OUT")" 150
expect_eq "listed in --json" "$(json_get '{not_succeeded}' <"$OUT" |
	perl -MJSON::PP -e 'local $/; print scalar @{ decode_json(<STDIN>) }')" 100
setup "$DATASHELL" -c 'backfill quiet 2024-06-01 --yes' -c 'backfill quiet 2024-06-02 --yes' \
	-c 'backfill quiet 2024-06-03 --yes' -c 'backfill quiet 2024-06-04 --yes'
ds -c status
expect_stdout_matches '^  \(5 of 6 rows shown; --all shows every row\)$'
ds -c 'status --all --json'
expect_eq "every batch with --all" "$(json_get '{recent_batches_total}' <"$OUT")" 6
ds -c 'handoff --since 1000d --json'
expect_eq "handoff counts the failed keys" "$(json_get '{failed_keys_total}' <"$OUT")" 1
ds -c 'alerts --json'
expect_eq "alerts counts them" "$(json_get '{alerts_total}' <"$OUT")" \
	"$(sql 'SELECT count(*) FROM alerts')"
end_case

drop_templates
done_testing
