#!/bin/sh
# Selectors with & (intersection) and --exclude, and relative ranges (today-7..yesterday,
# now-6h..now-1h, today as hours for hourly tasks): the tasks and keys they name, across
# the ends of months and years, on every command that takes a selector, and their errors.
. "$DS_TOP/tests/lib.sh"
use_fresh_database t_selectors
export TZ=UTC

# Moments for DATASHELL_NOW, which the relative keys of one command are read at.
NEW_YEAR=1735695000   # 2025-01-01T01:30:00Z
LEAP_MARCH=1709251800 # 2024-03-01T00:10:00Z
NOON_31=1735646400    # 2024-12-31T12:00:00Z: 2025-01-01T02 in Pacific/Kiritimati (UTC+14)

runs() {	# the runs as task:key:state lines, sorted
	sql "SELECT t.name || ':' || r.key || ':' || r.state FROM datashell.runs r
	     JOIN datashell.tasks t ON t.id = r.task_id ORDER BY 1"
}

status_tasks() {	# the task names of status --json
	perl -MJSON::PP -e 'local $/; print join ",", map { $_->{task} }
		@{ JSON::PP->new->decode(<STDIN>)->{tasks} }' <"$OUT"
}

range_of() {	# first_key..last_key of the JSON result
	echo "$(json_get '{first_key}' <"$OUT")..$(json_get '{last_key}' <"$OUT")"
}

keys_of() {	# BATCH: the keys of its runs, each once, in order
	sql "SELECT string_agg(DISTINCT key, ',' ORDER BY key) FROM datashell.runs
	     WHERE batch_id = $1"
}

# shop: the fixture pipeline, no runs. batch1: batch 1, orders_raw+ for January.
stage_shop() {
	use_fresh_database t_selectors
	setup "$DATASHELL" -c init -c "pipeline load $DS_TOP/tests/fixtures/shop.json"
}

stage_batch1() {
	use_stage shop
	setup "$DATASHELL" -c 'backfill orders_raw+ 2024-01'
}

begin "& intersects, and binds before the comma's union"
use_stage shop
expect_backfill_plan 'orders_raw+&graph:core' "" orders_clean,orders_raw,orders_report
expect_backfill_plan 'orders_raw+&graph:finance,orders_raw' "" orders_raw,revenue
expect_backfill_plan '/orders/&+orders_report' "" orders_clean,orders_raw,orders_report
expect_backfill_plan '/orders_(raw|clean)/&orders_clean+' "" orders_clean
expect_backfill_plan 'graph:core&/^orders_r/&+orders_clean' "" orders_raw
expect_backfill_plan '/[&,]|^revenue$/&graph:finance' "" revenue
end_case

begin "--exclude leaves tasks out: repeated, a comma list, or an intersection"
use_stage shop
expect_backfill_plan orders_raw+ "--exclude revenue" orders_clean,orders_raw,orders_report
expect_backfill_plan orders_raw+ "--exclude revenue --exclude orders_report" \
	orders_clean,orders_raw
expect_backfill_plan orders_raw+ "--exclude revenue,orders_report" orders_clean,orders_raw
expect_backfill_plan orders_raw+ "--exclude=revenue,/report/" orders_clean,orders_raw
expect_backfill_plan orders_raw+ "--exclude 'orders_clean+&graph:core'" orders_raw,revenue
expect_backfill_plan graph:core "--exclude clicks_hourly" orders_clean,orders_raw,orders_report
ds -c "force-run orders_raw+ 2024-01-05 --exclude 'orders_raw+&graph:finance' --dry-run --json"
expect_exit 0
expect_eq "force-run" "$(plan_tasks)" "orders_clean,orders_raw,orders_report"
ds -c "status graph:core 2024-01-01..2024-01-02 --exclude clicks_hourly --json"
expect_exit 0
expect_eq "status" "$(status_tasks)" "orders_clean,orders_raw,orders_report"
ds -c "schedule --exclude /./"
expect_exit 3
grep -qF "error: no task is left once --exclude '/./' is taken out" "$ERR" ||
	fail "schedule said: $(cat "$ERR")"
ds -c "schedule --exclude revenue"
expect_exit 0
expect_stdout <<-'END'
	none of the tasks selected has no schedule; a "schedule" with a "start" in the pipeline file makes one (datashell-pipelines(5))
END
expect_sql "nothing enqueued" 'SELECT count(*) FROM datashell.runs' 0
end_case

begin "backfill and cancel with --exclude change only the tasks left"
use_stage shop
ds -c "backfill orders_raw+ 2024-01-01..2024-01-02 --exclude revenue --json"
expect_exit 0
expect_eq "enqueued" "$(json_get '{enqueued}' <"$OUT")" 6
expect_sql "tasks of the batch" "SELECT string_agg(DISTINCT t.name, ',' ORDER BY t.name)
	FROM datashell.runs r JOIN datashell.tasks t ON t.id = r.task_id" \
	"orders_clean,orders_raw,orders_report"
ds -c "cancel orders_raw+ 2024-01-01..2024-01-02 --exclude 'orders_raw&orders_raw' --yes --json"
expect_exit 0
expect_eq "dequeued" "$(json_get '{dequeued}' <"$OUT")" 4
expect_sql "runs left queued" "SELECT string_agg(t.name || ':' || r.key, ',' ORDER BY t.name, r.key)
	FROM datashell.runs r JOIN datashell.tasks t ON t.id = r.task_id WHERE r.state = 'queued'" \
	"orders_raw:2024-01-01,orders_raw:2024-01-02"
end_case

begin "relative days across a year's end, read once at DATASHELL_NOW"
use_stage shop
DATASHELL_NOW=$NEW_YEAR ds -c 'backfill orders_raw today-3..yesterday --json'
expect_exit 0
expect_eq "first key" "$(json_get '{first_key}' <"$OUT")" 2024-12-29
expect_eq "last key" "$(json_get '{last_key}' <"$OUT")" 2024-12-31
expect_eq "keys enqueued" "$(keys_of 1)" "2024-12-29,2024-12-30,2024-12-31"
DATASHELL_NOW=$NEW_YEAR ds -c 'backfill orders_raw yesterday..today+1 --dry-run --json'
expect_exit 0
expect_eq "today+1" "$(range_of)" "2024-12-31..2025-01-02"
DATASHELL_NOW=$NEW_YEAR ds -c 'status orders_raw+ today-1 --json'
expect_exit 0
expect_eq "status today-1" "$(range_of)" \
	"2024-12-31..2024-12-31"
expect_eq "status tasks" "$(status_tasks)" "orders_clean,orders_raw,orders_report,revenue"
end_case

begin "relative days across the end of a leap February"
use_stage shop
DATASHELL_NOW=$LEAP_MARCH ds -c 'backfill orders_raw+ yesterday --json'
expect_exit 0
expect_eq "yesterday" "$(keys_of 1)" "2024-02-29"
DATASHELL_NOW=$LEAP_MARCH ds -c 'backfill orders_raw today-30..today --dry-run --json'
expect_eq "today-30..today" "$(range_of)" \
	"2024-01-31..2024-03-01"
expect_eq "keys" "$(json_get '{plan}[0]{keys}' <"$OUT")" 31
end_case

begin "relative hours: now-Nh, and today and yesterday as hours of hourly tasks"
use_stage shop
DATASHELL_NOW=$NEW_YEAR ds -c 'backfill clicks_hourly now-3h..now-1h --json'
expect_exit 0
expect_eq "now-3h..now-1h" "$(keys_of 1)" "2024-12-31T22,2024-12-31T23,2025-01-01T00"
DATASHELL_NOW=$NEW_YEAR ds -c 'backfill clicks_hourly today --dry-run --json'
expect_exit 0
expect_eq "today so far" "$(range_of)" \
	"2025-01-01T00..2025-01-01T01"
DATASHELL_NOW=$NEW_YEAR ds -c 'backfill clicks_hourly yesterday --json'
expect_exit 0
expect_eq "yesterday's hours" "$(range_of)" \
	"2024-12-31T00..2024-12-31T23"
expect_eq "enqueued" "$(json_get '{enqueued}' <"$OUT")" 22
DATASHELL_NOW=$NEW_YEAR ds -c 'force-run clicks_hourly now-1h --dry-run --json'
expect_exit 0
expect_eq "force-run now-1h" "$(json_get '{plan}[0]{keys}' <"$OUT")" 1
DATASHELL_NOW=$NEW_YEAR ds -c 'status clicks_hourly --json'
expect_exit 0
expect_eq "status's default: the last 24 hours" \
	"$(range_of)" "2024-12-31T02..2025-01-01T01"
end_case

begin "mark, why and logs read relative keys for the task's kind of key"
use_stage shop
DATASHELL_NOW=$NEW_YEAR ds -c 'mark clicks_hourly yesterday --skipped --reason test --dry-run --json'
expect_exit 0
expect_eq "yesterday's hours" "$(perl -MJSON::PP -e 'local $/;
	my @k = @{ JSON::PP->new->decode(<STDIN>)->{keys} }; print "$k[0] $k[-1] " . @k' <"$OUT")" \
	"2024-12-31T00 2024-12-31T23 24"
DATASHELL_NOW=$NEW_YEAR ds -c 'mark orders_raw today-2..yesterday --success --reason test --json'
expect_exit 0
expect_sql "marked" "SELECT string_agg(r.key, ',' ORDER BY r.key) FROM datashell.runs r
	JOIN datashell.tasks t ON t.id = r.task_id WHERE t.name = 'orders_raw'" \
	"2024-12-30,2024-12-31"
DATASHELL_NOW=$NEW_YEAR ds -c 'logs orders_raw yesterday --json'
expect_exit 0
expect_eq "logs yesterday" "$(json_get '[0]{state}' <"$OUT")" success
DATASHELL_NOW=$NEW_YEAR ds -c 'why clicks_hourly now-1h'
expect_exit 0
grep -q "2025-01-01T00" "$OUT" || fail "why now-1h said: $(cat "$OUT")"
end_case

begin "relative keys are read in the local time zone (TZ)"
use_stage shop
TZ=Pacific/Kiritimati DATASHELL_NOW=$NOON_31 ds -c 'status orders_raw today --json'
expect_exit 0
expect_eq "today in Kiritimati" "$(json_get '{first_key}' <"$OUT")" 2025-01-01
TZ=Pacific/Kiritimati DATASHELL_NOW=$NOON_31 ds -c 'status clicks_hourly now --json'
expect_eq "now in Kiritimati" "$(json_get '{first_key}' <"$OUT")" 2025-01-01T02
end_case

begin "on the real clock, keys that are not due yet are cut as before"
use_stage shop
away_from_boundary
today=$(date +%Y-%m-%d)
ds -c 'backfill orders_raw today-7..today --dry-run --json'
expect_exit 0
expect_eq "first key" "$(json_get '{first_key}' <"$OUT")" "$(date -d '7 days ago' +%Y-%m-%d)"
expect_eq "last key" "$(json_get '{last_key}' <"$OUT")" "$today"
expect_eq "today is not due" "$(json_get '{plan}[0]{not_due}' <"$OUT")" 1
ds -c 'backfill clicks_hourly now-6h..now --dry-run --json'
expect_exit 0
expect_eq "now" "$(json_get '{last_key}' <"$OUT")" "$(date +%Y-%m-%dT%H)"
expect_eq "the hour now is in is not due" "$(json_get '{plan}[0]{not_due}' <"$OUT")" 1
expect_eq "the six before it are" "$(json_get '{plan}[0]{enqueue}' <"$OUT")" 6
expect_sql "nothing enqueued" 'SELECT count(*) FROM datashell.runs' 0
end_case

begin "a malformed relative key or exclusion is a clear error and changes nothing"
use_stage batch1
before=$(runs | md5sum)
batches=$(sql "SELECT count(*) FROM datashell.batches")
for case in \
	"backfill orders_raw today-x|invalid key 'today-x': after 'today' comes +N or -N, N at most 99999 (as in today-7)" \
	"backfill orders_raw today-7d..yesterday|invalid key 'today-7d': after 'today' comes +N or -N, N at most 99999 (as in today-7)" \
	"backfill clicks_hourly now-6..now-1h|invalid key 'now-6': after 'now' comes +Nh or -Nh, N at most 99999 (as in now-6h)" \
	"backfill orders_raw yesterday..today-3|invalid range 'yesterday..today-3': it ends before it starts" \
	"backfill orders_raw today..now|invalid range 'today..now': one end is a date, the other an hour" \
	"backfill orders_raw now-6h..now-1h|task 'orders_raw' is daily but 2024-12-31T19..2025-01-01T00 is a range of hours" \
	"backfill orders_raw+ 2024-01 --exclude ordres_raw|--exclude 'ordres_raw': unknown task 'ordres_raw' (did you mean 'orders_raw'?)" \
	"backfill orders_raw+ 2024-01 --exclude /x(/|--exclude '/x(/': invalid pattern '/x(/': missing closing parenthesis at offset 2" \
	"backfill orders_raw 2024-01 --exclude orders_raw|no task of 'orders_raw' is left once --exclude 'orders_raw' is taken out" \
	"backfill orders_raw 2024-01 --exclude|option '--exclude' of 'backfill' needs a value (SELECTOR)" \
	"backfill 'orders_raw&revenue' 2024-01|no task is named by every part of 'orders_raw&revenue'" \
	"backfill 'orders_raw&' 2024-01|empty term in selector 'orders_raw&'" \
	"backfill 'orders_raw&&revenue' 2024-01|empty term in selector 'orders_raw&&revenue'" \
	"backfill 'orders_raw&graph:nope' 2024-01|unknown graph 'nope'" \
	"cancel 1 --exclude revenue --yes|cancel BATCH takes no --exclude" \
	"status --exclude revenue|--exclude shows the keys of tasks, not the overview" \
	"status 1 --exclude revenue|--exclude shows the keys of tasks, not a batch"; do
	cmd=${case%%|*}
	msg=${case#*|}
	DATASHELL_NOW=$NEW_YEAR ds -c "$cmd"
	[ "$CODE" = 3 ] || fail "'$cmd' exited $CODE"
	grep -qF "error: $msg" "$ERR" || fail "'$cmd' said: $(cat "$ERR")"
done
for now in 1735689600x ' ' 2025-01-01; do
	DATASHELL_NOW=$now ds -c 'backfill orders_raw yesterday --yes'
	expect_exit 1
	expect_eq "what DATASHELL_NOW='$now' gets" "$(cat "$ERR")" \
		"datashell: DATASHELL_NOW is '$now': a moment in seconds since 1970-01-01 is expected (a test setting; unset it to read the clock)"
done
expect_eq "runs unchanged" "$(runs | md5sum)" "$before"
expect_sql "no batch made" "SELECT count(*) FROM datashell.batches" "$batches"
end_case

done_testing
