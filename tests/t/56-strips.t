#!/bin/sh
# The calendar strips of status: an axis that says which key each mark is, long ranges
# folded per month (per day for hours), hourly tasks rolled up per day beside daily
# ones, and one day of an hourly task hour by hour.
. "$DS_TOP/tests/lib.sh"
use_fresh_database t_strips
export TZ=UTC

# The shop pipeline. orders_raw for November 2024: done, but 2024-11-15 failed and
# 2024-11-22 still queued. clicks_hourly: 2024-11-13 done, 2024-11-14 done but for one
# hour still queued (T05), 2024-11-15 done but for one failed hour (T10).
stage_november() {
	use_fresh_database t_strips
	setup "$DATASHELL" -c init -c "pipeline load $DS_TOP/tests/fixtures/shop.json" \
		-c 'backfill orders_raw 2024-11' \
		-c 'backfill clicks_hourly 2024-11-13T00..2024-11-15T23'
	setup sql "UPDATE datashell.runs SET state = 'success', finished_at = now()
	           WHERE key NOT IN ('2024-11-22', '2024-11-14T05')" \
		"UPDATE datashell.runs SET state = 'failed', error = 'boom'
	           WHERE key IN ('2024-11-15', '2024-11-15T10')"
}

# The mark straight under NUMBER on the axis line labelled AXIS, on the first line
# labelled LINE after it.
mark_under() {	# AXIS NUMBER LINE
	perl -ne '
		BEGIN { ($axis, $n, $line) = @ARGV; @ARGV = () }
		if (!defined $col && /^ *\Q$axis\E  / && /(?<=\s)\Q$n\E(?=\s|$)/) { $col = $-[0] }
		elsif (defined $col && /^ *\Q$line\E  /) { print substr($_, $col, 1); exit }
	' "$1" "$2" "$3" <"$OUT"
}

# The lines of the Strips section.
strips() {
	sed -n '/^Strips$/,/^Tasks$/p' "$OUT" | sed '1d;$d'
}

begin "the axis numbers every seventh day right above its mark"
use_stage november
ds -c 'status orders_raw,clicks_hourly 2024-11'
expect_exit 0
expect_eq "the axis" "$(strips | sed -n 1p)" "  2024-11        1      8      15     22     29"
expect_eq "orders_raw's failed day" "$(mark_under 2024-11 15 orders_raw)" F
expect_eq "orders_raw's queued day" "$(mark_under 2024-11 22 orders_raw)" q
expect_eq "orders_raw's 8th" "$(mark_under 2024-11 8 orders_raw)" '#'
expect_eq "orders_raw's 1st" "$(mark_under 2024-11 1 orders_raw)" '#'
expect_eq "clicks_hourly's day with a failed hour" "$(mark_under 2024-11 15 clicks_hourly)" F
expect_eq "clicks_hourly's 8th" "$(mark_under 2024-11 8 clicks_hourly)" .
expect_eq "the strips" "$(strips | sed -n '2,$p')" "  clicks_hourly  ............#qF...............
  orders_raw     ##############F######q########"
# The table beside the strips keeps the counts; the strip is in the section above.
expect_stdout_matches '^   orders_raw    \| core  \| daily    \|      28 \|      1 \|'
# The first day is numbered too when its number fits before the next.
ds -c 'status orders_raw 2024-11-12..2024-11-16'
expect_exit 0
expect_eq "a few days" "$(strips)" "  2024-11     12 15
  orders_raw  ###F#"
end_case

begin "a long range folds into a line per month, across the end of a year"
use_stage november
ds -c 'status orders_raw,refresh_dims 2024-10-20..2025-01-03'
expect_exit 0
strips >"$WORK/strips"
expect_same "the strips" "$WORK/strips" <<-'END'
	  orders_raw    1      8      15     22     29
	    2024-10                        ............
	    2024-11     ##############F######q########
	    2024-12     ...............................
	    2025-01     ...
	  refresh_dims  .
END
ds -c 'status orders_raw 2024-03..2025-02'
expect_exit 0
expect_eq "month lines" "$(strips | grep -cE '^    20[0-9]{2}-[0-9]{2} ')" 12
expect_eq "the longest strip line" \
	"$(strips | awk '{ if (length($0) > n) n = length($0) } END { print n }')" 45
expect_stdout_matches '^    2024-11   ##############F######q########$'
expect_stdout_matches '^    2025-02   \.{28}$'
end_case

begin "an hourly task's day is done only when all its hours are"
use_stage november
ds -c 'status clicks_hourly 2024-11-13..2024-11-16 --json'
expect_exit 0
expect_eq "the strip" "$(json_get '{tasks}[0]{strip}' <"$OUT")" '#qF.'
expect_eq "the day of 23 hours done" "$(json_get '{tasks}[0]{days}{2024-11-14}' <"$OUT")" \
	'{"done":23,"hours":24,"state":"queued"}'
expect_eq "the day done" "$(json_get '{tasks}[0]{days}{2024-11-13}' <"$OUT")" \
	'{"done":24,"hours":24,"state":"success"}'
expect_eq "the day with a failed hour" \
	"$(json_get '{tasks}[0]{days}{2024-11-15}{state}' <"$OUT")" failed
# --json keeps every hour.
expect_eq "hours" "$(perl -MJSON::PP -e 'local $/; my $t = decode_json(<STDIN>)->{tasks}[0];
	print scalar(keys %{ $t->{states} }), " $t->{states}{q(2024-11-14T05)} $t->{success}"' \
	<"$OUT")" "96 queued 70"
expect_eq "the failed hour" "$(json_get '{failures}[0]{key}' <"$OUT")" 2024-11-15T10
expect_eq "the range" "$(json_get '{first_key}' <"$OUT") $(json_get '{last_key}' <"$OUT")" \
	"2024-11-13 2024-11-16"
ds -c 'status clicks_hourly 2024-11-13..2024-11-16'
expect_exit 0
expect_stdout_matches \
	"^Legend .*; an hourly task's day shows its worst hour: ! F B H C \. R q _ ~ s #\$"
expect_eq "the strips" "$(strips)" "  2024-11          15
  clicks_hourly  #qF."
end_case

begin "the stuck hours of an hourly task are those of the days shown, the last one too"
use_stage november
setup "$DATASHELL" -c 'breaker trip clicks_hourly --reason test'
ds -c 'status clicks_hourly 2024-11-13..2024-11-14 --json'
expect_exit 0
expect_eq "the strip" "$(json_get '{tasks}[0]{strip}' <"$OUT")" '#H'
expect_eq "stuck" "$(json_get '{stuck}{total}' <"$OUT") $(json_get '{stuck}{keys}[0]{key}' <"$OUT")" \
	"1 2024-11-14T05"
ds -c 'status clicks_hourly 2024-11-15..2024-11-16 --json'
expect_exit 0
expect_eq "not stuck on other days" "$(json_get '{stuck}{total}' <"$OUT")" 0
end_case

begin "status selects daily and hourly tasks together"
use_stage november
ds -c 'status /./ 2024-11'
expect_exit 0
expect_eq "the strips" "$(strips)" "  2024-11        1      8      15     22     29
  clicks_hourly  ............#qF...............
  orders_clean   ..............................
  orders_raw     ##############F######q########
  orders_report  ..............................
  refresh_dims   .
  revenue        .............................."
ds -c 'status /./ --json'
expect_exit 0
expect_eq "the default range" "$(json_get '{first_key}' <"$OUT") $(json_get '{last_key}' <"$OUT")" \
	"$(date -u -d '13 days ago' +%F) $(date -u +%F)"
expect_eq "clicks_hourly's marks" "$(json_get '{tasks}[0]{strip}' <"$OUT" | tr -d '\n' | wc -c)" 14
# What enqueues runs still wants one kind of key.
ds -c 'backfill /./ 2024-11 --dry-run'
expect_exit 3
expect_stderr_matches "error: the selected tasks have daily and hourly keys"
end_case

begin "status TASK DAY shows the hours of an hourly task"
use_stage november
ds -c 'status clicks_hourly 2024-11-15'
expect_exit 0
expect_eq "the hours" "$(strips)" "  2024-11-15     00    06    12    18
  clicks_hourly  ##########F#############"
expect_eq "hour 12" "$(mark_under 2024-11-15 12 clicks_hourly)" '#'
expect_stdout_matches '^First key  2024-11-15T00$'
expect_stdout_matches '^   clicks_hourly \| 2024-11-15T10 \| failed \|'
ds -c 'status clicks_hourly 2024-11-13T10..2024-11-15T05'
expect_exit 0
strips >"$WORK/strips"
expect_same "hours over days" "$WORK/strips" <<-'END'
	  clicks_hourly  00    06    12    18
	    2024-11-13             ##############
	    2024-11-14   #####q##################
	    2024-11-15   ######
END
end_case

done_testing
