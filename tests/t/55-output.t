#!/bin/sh
# Output for people and for scripts: colour on terminals only and never with NO_COLOR,
# the pager for long output on a terminal, --csv, and --json of every command parsing.
. "$DS_TOP/tests/lib.sh"
use_fresh_database t_output
export TZ=UTC TERM=xterm

# The shop pipeline, and three runs of orders_raw: one succeeded, one failed with an
# error that needs quoting, one queued.
stage_shop() {
	use_fresh_database t_output
	setup "$DATASHELL" -c init -c "pipeline load $DS_TOP/tests/fixtures/shop.json" \
		-c 'backfill orders_raw 2024-01-01..2024-01-03'
	setup sql "UPDATE datashell.runs SET state = 'failed', error = 'bad \"quote\", and comma'
	           WHERE key = '2024-01-02'" \
		"UPDATE datashell.runs SET state = 'success' WHERE key = '2024-01-01'"
}

# Run datashell on a pseudo-terminal; the raw transcript (escapes as \e) is in $ERR.
on_tty() {
	printf 'wait 0\n' | "$DS_PTYRUN" -v -t 15 -- "$DATASHELL" "$@" >"$OUT" 2>"$ERR"
	CODE=$?
}

begin "on a terminal, headers, strips and errors have colour"
use_stage shop
(
	unset NO_COLOR
	on_tty -c 'status orders_raw 2024-01-01..2024-01-03'
	grep -qF '\e[1mtask\e[0m' "$ERR" || echo "fail: no bold header: $(head -c 2000 "$ERR")"
	grep -qF '\e[32m#\e[0m\e[1;31mF\e[0mq' "$ERR" ||
		echo "fail: no coloured strip: $(head -c 2000 "$ERR")"
	printf 'wait 3\n' | "$DS_PTYRUN" -v -t 15 -- "$DATASHELL" -c stauts >/dev/null 2>"$ERR"
	grep -qF '\e[1;31merror:\e[0m unknown command' "$ERR" ||
		echo "fail: no red error: $(head -c 2000 "$ERR")"
) >"$WORK/verdict"
fail_each() { while IFS= read -r l; do fail "$l"; done <"$1"; }
fail_each "$WORK/verdict"
end_case

begin "NO_COLOR, whatever its value, and TERM=dumb mean no escape codes"
use_stage shop
for setting in "NO_COLOR=1" "NO_COLOR=" "TERM=dumb"; do
	(
		unset NO_COLOR
		export "$setting"
		on_tty -c 'status orders_raw 2024-01-01..2024-01-03' -c stauts
		echo "$CODE" >"$WORK/code"
	)
	grep -q '\\e' "$ERR" && fail "with $setting: escape codes: $(head -c 2000 "$ERR")"
	grep -qF 'error: unknown command' "$ERR" || fail "with $setting: $(head -c 2000 "$ERR")"
done
end_case

begin "NO_COLOR at the prompt: command output has no colour"
use_stage shop
"$DS_PTYRUN" -v -t 15 -- "$DATASHELL" >"$OUT" 2>"$ERR" <<-'END'
	expect datashell> $
	sendline status orders_raw 2024-01-01..2024-01-03
	expect \(1 row\)
	expect datashell> $
	sendline quit
	wait 0
END
CODE=$?
expect_exit 0
grep -q '\\e\[[0-9;]*m' "$ERR" && fail "colour codes with NO_COLOR: $(head -c 2000 "$ERR")"
end_case

begin "long output on a terminal goes through the pager; short output, files and an empty pager do not"
PAGER='sed s/^/paged:/' on_tty -c 'help --json'
expect_exit 0
grep -q 'paged:.*"commands"' "$ERR" || fail "not paged: $(head -c 2000 "$ERR")"
PAGER='sed s/^/paged:/' on_tty -c 'help quit'
grep -q 'paged:' "$ERR" && fail "short output was paged"
DATASHELL_PAGER='' PAGER='sed s/^/paged:/' on_tty -c 'help --json'
grep -q 'paged:' "$ERR" && fail "DATASHELL_PAGER='' still paged"
grep -q '"commands"' "$ERR" || fail "no output without a pager: $(head -c 2000 "$ERR")"
DATASHELL_PAGER='sed s/^/mine:/' PAGER='sed s/^/paged:/' on_tty -c 'help --json'
grep -q 'mine:' "$ERR" || fail "DATASHELL_PAGER not used: $(head -c 2000 "$ERR")"
PAGER='sed s/^/paged:/' ds -c 'help --json'
grep -q 'paged:' "$OUT" && fail "output to a file was paged"
end_case

begin "--csv prints the rows, quoted as RFC 4180 says"
use_stage shop
ds -c 'status orders_raw 2024-01-01..2024-01-03 --csv'
expect_exit 0
expect_stdout_matches '^task,graph,key_kind,strip,'
expect_stdout_matches '^orders_raw,core,daily,#Fq,'
ds -c 'pipeline list --csv'
expect_exit 0
expect_stdout_matches '^clicks_hourly,core,hourly,sql,'
ds -c 'help --csv'
expect_stdout_matches "^help,shell,\[COMMAND\],\"list the commands, or show one command's synopsis and options\"$"
ds -c "backfill orders_raw 2024-01-01..2024-01-03 --dry-run --csv"
expect_stdout_matches '^task,keys,enqueue,'
ds -c 'pipeline show orders_raw --json --csv'
expect_exit 3
expect_stderr_matches "error: 'pipeline' takes --json or --csv, not both"
end_case

begin "a quote in a field is doubled, the field quoted"
use_stage shop
ds -c 'status 1 --csv'
expect_exit 0
expect_stdout <<-'END'
	task,key,state,attempt,error,why
	orders_raw,2024-01-02,failed,0,"bad ""quote"", and comma",
	orders_raw,2024-01-03,queued,0,,"is ready, but no live worker can run it"
END
end_case

begin "timestamps for people carry their age in human units; --json and --csv do not"
use_stage shop
sql "UPDATE datashell.batches SET created_at = now() - interval '3 hours 5 minutes' WHERE id = 1" >/dev/null
ds -c 'status 1'
expect_exit 0
expect_stdout_matches '^Created at +[0-9-]+T[0-9:]+Z \(3h ago\)$'
ds -c 'status 1 --json'
expect_eq "created_at" "$(json_get '{created_at}' <"$OUT" | grep -c ago)" 0
sql "UPDATE datashell.batches SET created_at = now() - interval '50 seconds' WHERE id = 1" >/dev/null
ds -c 'status 1'
expect_stdout_matches '^Created at +[0-9-]+T[0-9:]+Z \(5[0-9]s ago\)$'
end_case

# One or more invocations per command; a command of the table without one fails here.
cat >"$WORK/invocations" <<-END
	status
	status 1
	status orders_raw 2024-01-01..2024-01-03
	metrics
	backfill orders_clean 2024-01-01 --dry-run
	backfill orders_clean 2024-01-01
	force-run orders_report 2024-01-01 --dry-run
	force-run orders_report 2024-01-01
	cancel orders_report 2024-01-01 --dry-run
	cancel orders_report 2024-01-01 --yes
	prune --before 180d --dry-run
	prune --before 180d --yes
	worker --drain --graph finance
	log --since 1h
	logs orders_raw 2024-01-02
	why orders_raw 2024-01-02
	mark orders_raw 2024-01-02 --skipped --reason test --dry-run
	mark orders_raw 2024-01-02 --skipped --reason test
	alerts
	alerts --open
	breaker list
	breaker trip orders_raw --reason test --dry-run
	breaker reset orders_raw --dry-run
	handoff --since 1h
	swap-table status
	pipeline list
	pipeline show orders_raw
	pipeline load --dry-run $DS_TOP/tests/fixtures/shop.json
	pipeline load $DS_TOP/tests/fixtures/shop.json
	pipeline pause finance --dry-run
	pipeline pause finance
	pipeline resume finance
	schedule
	schedule graph:finance
	init --dry-run
	init
	local status
	help
	help status
	quit
	exit
END

# The --json output of each invocation, from the state of stage shop, in $WORK/json.*.
json_outputs() {
	use_stage shop
	while IFS= read -r line; do
		"$DATASHELL" -c "$line --json" >"$WORK/json.$(echo "$line" | tr -c 'a-z0-9\n' _)" \
			2>/dev/null </dev/null
	done <"$WORK/invocations"
}

begin "--json output of every command parses as one JSON document"
use_stage shop
ds -c 'help --json'
perl -MJSON::PP -e 'local $/; print "$_->{name}\n" for @{ JSON::PP->new->decode(<STDIN>)->{commands} }' \
	<"$OUT" >"$WORK/commands"
while IFS= read -r name; do
	grep -q "^$name\( \|\$\)" "$WORK/invocations" || fail "no --json invocation of '$name' here"
done <"$WORK/commands"
while IFS= read -r line; do
	ds -c "$line --json"
	[ "$CODE" = 0 ] || fail "'$line --json' exited $CODE: $(head -c 500 "$ERR")"
	perl -MJSON::PP -e 'local $/; my $d = JSON::PP->new->decode(<STDIN>);
		exit(ref $d ? 0 : 1)' <"$OUT" 2>/dev/null ||
		fail "'$line --json' printed no JSON document: $(head -c 500 "$OUT")"
done <"$WORK/invocations"
end_case

begin "the man page names every field of --json output, with the fields of its rows"
json_outputs
sed -n '/^\.SH "\{0,1\}JSON OUTPUT/,/^\.SH /p' "$DS_TOP/man/datashell.1" >"$WORK/section"
[ -s "$WORK/section" ] || fail "man/datashell.1 has no JSON OUTPUT section"
for f in "$WORK"/json.*; do
	perl -MJSON::PP -e '
		local $/; my $d = JSON::PP->new->decode(<STDIN>);
		open my $fh, "<", $ARGV[0] or die; my $man = <$fh>;
		my %seen;
		my $walk; $walk = sub {
			my ($v, $depth) = @_;
			if (ref $v eq "ARRAY") { $walk->($v->[0], $depth) if @$v; return }
			return unless ref $v eq "HASH";
			for my $k (keys %$v) {
				next if $seen{$k}++;
				print "field \x27$k\x27 is not in JSON OUTPUT\n" unless $man =~ /\b\Q$k\E\b/;
				# Keys and states maps, definitions and details hold data, not field names.
				$walk->($v->{$k}, $depth + 1)
					unless $k =~ /^(states|definition|result|would|detail)$/ || $depth > 1;
			}
		};
		$walk->($d, 0);
	' "$WORK/section" <"$f" >"$WORK/missing"
	while IFS= read -r l; do fail "$l (from $(basename "$f"))"; done <"$WORK/missing"
done
end_case

done_testing
