# 90-man.t: the man page renders cleanly and documents every command, every option of
# every command and every command-line option. The lists come from the binary itself
# (help --json, COMMAND --help --json, --help), so a new command or option fails here
# until man/datashell.1 describes it. Needs no database server.
#
# DS_MAN names the page to check (default: man/datashell.1 of the tree under test).

: "${DS_TOP:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$DS_TOP/tests/lib.sh"

MAN_PAGE=${DS_MAN:-$DS_TOP/man/datashell.1}

# Report each line of a checker's output as one failure; the lines say what is missing.
fail_each() {	# FILE
	while IFS= read -r line; do
		fail "$line"
	done <"$1"
}

# The names in a JSON document on stdin: list {KEY}[i]{name}, one per line.
json_names() {	# KEY
	perl -MJSON::PP -e '
		local $/; my $d = JSON::PP->new->decode(<STDIN>);
		print "$_->{name}\n" for @{ $d->{$ARGV[0]} || [] };
	' "$1"
}

# man/datashell.1's COMMANDS section, split into entries. Reads the page, then one line
# per command: "NAME OPTION..." (options without their dashes). Prints one line per thing
# that is missing. A command's entry is a .TP at the outer level (not inside .RS/.RE)
# whose tag starts with the name in bold (".B NAME" or "\fBNAME\fR"); an option is
# documented if "\-\-NAME" (hyphens as \-) appears in the command's entry, or if the
# section has an outer .TP entry of its own for it (the options every command takes).
check_commands() {	# MANPAGE
	perl -e '
		my $page = shift;
		open my $fh, "<", $page or die "cannot read $page: $!\n";
		my (@lines, $in);
		while (<$fh>) {
			chomp;
			if (/^\.SH\s+"?COMMANDS"?\s*$/) { $in = 1; next; }
			last if $in && /^\.SH\b/;
			push @lines, $_ if $in;
		}
		if (!@lines) { print "$page has no COMMANDS section\n"; exit; }

		# Entries: [tag, text], split at outer .TP and at .SS.
		my (@entries, $depth, $cur, $want_tag);
		$depth = 0;
		for my $l (@lines) {
			if ($l =~ /^\.RS\b/) { $depth++; }
			elsif ($l =~ /^\.RE\b/) { $depth-- if $depth > 0; }
			if ($depth == 0 && $l =~ /^\.(TP|SS)\b/) {
				$cur = ["", ""];
				push @entries, $cur;
				$want_tag = $1 eq "TP";
				next;
			}
			next unless $cur;
			if ($want_tag) { $cur->[0] = $l; $want_tag = 0; }
			$cur->[1] .= "$l\n";
		}
		my $bold_head = sub {	# the first bold word of a tag, or ""
			my $t = shift;
			return $1 if $t =~ /^\.B\s+"?((?:\\-|[^\s"\\])+)/;
			return $1 if $t =~ /^\\fB((?:\\-|[^\s\\])+)\\f[RP]/;
			return "";
		};
		my $opt = sub { (my $o = shift) =~ s/-/\\-/g; "\\-\\-$o" };
		# "\-\-dry\-run" must not be found inside "\-\-dry\-run\-all".
		my $mentions = sub {
			my ($text, $o) = @_;
			return $text =~ /\Q$o\E(?![a-z0-9]|\\-[a-z0-9])/;
		};

		while (my $in_line = <STDIN>) {
			my ($name, @opts) = split " ", $in_line;
			next unless defined $name;
			(my $man_name = $name) =~ s/-/\\-/g;	# force-run is written force\-run
			my @mine = grep { $bold_head->($_->[0]) eq $man_name } @entries;
			if (!@mine) {
				print "command \x27$name\x27 has no entry under COMMANDS in $page ",
				      "(a .TP whose tag starts with \\fB$name\\fR)\n";
				next;
			}
			for my $o (@opts) {
				my $esc = $opt->($o);
				next if grep { $mentions->($_->[1], $esc) } @mine;
				next if grep { $bold_head->($_->[0]) eq $esc } @entries;
				print "option --$o of command \x27$name\x27 is not in its entry ",
				      "under COMMANDS in $page (as $esc)\n";
			}
		}
	' "$1"
}

begin "groff renders the man page without a warning"
if ! command -v groff >/dev/null 2>&1; then
	fail "groff is not installed (Debian: apt-get install groff-base)"
elif [ ! -r "$MAN_PAGE" ]; then
	fail "cannot read the man page '$MAN_PAGE'"
else
	groff -man -ww -z "$MAN_PAGE" >"$OUT" 2>"$ERR"
	CODE=$?
	expect_exit 0
	[ -s "$OUT" ] && fail "groff printed on stdout: $(head -c 2000 "$OUT")"
	[ -s "$ERR" ] && fail "groff warned: $(head -c 2000 "$ERR")"
fi
end_case

begin "groff renders datashell-pipelines(5) without a warning"
groff -man -ww -z "$DS_TOP/man/datashell-pipelines.5" >"$OUT" 2>&1
CODE=$?
expect_exit 0
[ -s "$OUT" ] && fail "groff said: $(head -c 2000 "$OUT")"
end_case

begin "make install puts the binary and both pages where man finds them"
make -s -C "$DS_TOP" install DESTDIR="$WORK/root" PREFIX=/usr/local >"$OUT" 2>"$ERR"
CODE=$?
expect_exit 0
for f in bin/datashell share/man/man1/datashell.1 share/man/man5/datashell-pipelines.5; do
	[ -f "$WORK/root/usr/local/$f" ] || fail "make install did not install $f"
done
if command -v man >/dev/null 2>&1; then
	export MANPATH="$WORK/root/usr/local/share/man"
	expect_eq "man -w datashell" "$(man -w datashell 2>&1)" \
		"$WORK/root/usr/local/share/man/man1/datashell.1"
	expect_eq "man -w 5 datashell-pipelines" "$(man -w 5 datashell-pipelines 2>&1)" \
		"$WORK/root/usr/local/share/man/man5/datashell-pipelines.5"
	unset MANPATH
fi
end_case

begin "every command and every option of every command is in the man page"
ds -c 'help --json'
expect_exit 0
json_names commands <"$OUT" >"$WORK/commands"
[ -s "$WORK/commands" ] && [ "$(grep -c . "$WORK/commands")" -ge 2 ] ||
	fail "help --json listed no commands: $(head -c 2000 "$OUT")"
: >"$WORK/wanted"
while IFS= read -r name; do
	ds -c "$name --help --json"
	if [ "$CODE" != 0 ]; then
		fail "'$name --help --json' exited $CODE: $(head -c 2000 "$ERR")"
		continue
	fi
	opts=$(json_names options <"$OUT" | tr '\n' ' ')
	[ -n "$opts" ] || fail "'$name --help --json' listed no options (not even --help)"
	echo "$name $opts" >>"$WORK/wanted"
done <"$WORK/commands"
check_commands "$MAN_PAGE" <"$WORK/wanted" >"$WORK/missing" 2>&1
fail_each "$WORK/missing"
end_case

begin "commands that write take --dry-run; destructive ones also --yes"
while IFS= read -r name; do
	ds -c "$name --help --json"
	perl -MJSON::PP -e '
		local $/; my $d = JSON::PP->new->decode(<STDIN>);
		my %has = map { $_->{name} => 1 } @{ $d->{options} };
		my $n = $d->{command};
		print "\x27$n\x27 writes but has no --dry-run\n"
			if $d->{writes} && !$has{"dry-run"} && $n ne "worker";
		print "\x27$n\x27 is destructive but has no --$_\n"
			for grep { $d->{destructive} && !$has{$_} } "dry-run", "yes";
	' <"$OUT" >"$WORK/missing"
	fail_each "$WORK/missing"
done <"$WORK/commands"
ds -c 'cancel --help --json'
expect_eq "cancel is destructive" "$(json_get '{destructive}' <"$OUT")" true
end_case

begin "every command-line option of datashell --help is in OPTIONS"
ds --help
expect_exit 0
# The option lines of the help: "  -d, --dbname=CONNINFO ..." or "      --local ...".
sed -n 's/^ *\(-[A-Za-z], \)\{0,1\}--\([a-z][a-z-]*\).*/\2/p' "$OUT" >"$WORK/longopts"
[ "$(grep -c . "$WORK/longopts")" -ge 5 ] ||
	fail "found too few options in datashell --help: $(head -c 2000 "$OUT")"
sed -n '/^\.SH  *"\{0,1\}OPTIONS"\{0,1\} *$/,/^\.SH /p' "$MAN_PAGE" >"$WORK/options"
[ -s "$WORK/options" ] || fail "$MAN_PAGE has no OPTIONS section"
while IFS= read -r o; do
	esc=$(printf '%s\n' "--$o" | sed 's/-/\\-/g')
	# \-\-NAME not followed by more of a name: \-\-schema must not match \-\-schemas.
	perl -ne 'BEGIN { $o = shift } $found = 1 if /\Q$o\E(?![a-z0-9]|\\-[a-z0-9])/;
		END { exit !$found }' "$esc" "$WORK/options" ||
		fail "command-line option --$o is not under OPTIONS in $MAN_PAGE (as $esc)"
done <"$WORK/longopts"
end_case

done_testing
