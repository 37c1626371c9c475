#!/bin/sh
# swap-table under writers: clients write T and a mirror table in the same transactions
# throughout start, fill, check and swap. Whatever the swap does (swap, or refuse), no
# client transaction fails and T holds what the mirror holds; once T_backfill is brought
# up to date with the writers stopped, the swap goes through and T still equals the mirror.
. "$DS_TOP/tests/lib.sh"
use_fresh_database t_swap_writers

# acct, the table swapped (its ids from its serial), and mirror, written alike.
stage_fixture() {
	use_fresh_database t_swap_writers
	setup "$DATASHELL" -c init
	setup sql "CREATE TABLE acct (id bigserial PRIMARY KEY, v integer NOT NULL);
	           INSERT INTO acct (v) SELECT i FROM generate_series(1, 1000) i;
	           CREATE TABLE mirror (id bigint PRIMARY KEY, v integer NOT NULL);
	           INSERT INTO mirror SELECT * FROM acct"
}

# Each transaction inserts a row into both tables, updates one and now and then deletes
# one, the same in both.
cat >"$WORK/writers.sql" <<-'END'
	\set k random(1, 1000)
	\set r random(1, 1000)
	\set del random(1, 20)
	BEGIN;
	INSERT INTO acct (v) VALUES (:k) RETURNING id AS new_id \gset
	INSERT INTO mirror (id, v) VALUES (:new_id, :k);
	UPDATE acct SET v = v + 1 WHERE id = :r;
	UPDATE mirror SET v = v + 1 WHERE id = :r;
	\if :del = 1
	DELETE FROM acct WHERE id = :r;
	DELETE FROM mirror WHERE id = :r;
	\endif
	COMMIT;
END

# The writers: short pgbench runs, one after the other, until stop_writers. Each run's
# report goes to $WORK/pgbench.out and its exit code to $WORK/pgbench.codes.
# At a bounded rate (-R): enough writes at every step, without taking a core from the
# scripts that run beside this one.
start_writers() {
	flush_sql
	rm -f "$WORK/stop" "$WORK/pgbench.out" "$WORK/pgbench.codes"
	(cd "$WORK" && while [ ! -e stop ]; do
		pgbench -n -c 4 -R 400 -T 1 -f writers.sql t_swap_writers >>pgbench.out 2>&1
		echo $? >>pgbench.codes
	done) &
	writers=$!
}

stop_writers() {
	touch "$WORK/stop"
	wait $writers
}

# Wait until the writers have committed more transactions since the last call.
writers_progress() {
	wait_until "(SELECT max(id) FROM mirror) > ${last_id:-0}"
	last_id=$(sql "SELECT max(id) FROM mirror")
}

# No client transaction failed, in any run.
expect_no_failed_client() {
	runs=$(grep -c '^number of failed transactions: ' "$WORK/pgbench.out")
	ok=$(grep -c '^number of failed transactions: 0 ' "$WORK/pgbench.out")
	[ "$runs" -gt 0 ] && [ "$runs" = "$ok" ] || fail "pgbench: $(cat "$WORK/pgbench.out")"
	expect_eq "pgbench exit codes" "$(sort -u "$WORK/pgbench.codes")" 0
}

# The rows of acct and mirror that the other lacks: none.
diff_sql="SELECT count(*) FROM ((TABLE acct EXCEPT TABLE mirror)
                                UNION ALL (TABLE mirror EXCEPT TABLE acct)) d"

begin "writers throughout start, fill, check and swap: no client fails, T equals the mirror"
use_stage fixture
prod_oid=$(sql "SELECT 'acct'::regclass::oid")
start_writers
last_id=
writers_progress
ds -c 'swap-table start acct'
expect_exit 0
writers_progress
sql "INSERT INTO acct_backfill SELECT * FROM acct" >/dev/null
writers_progress
ds -c 'swap-table check acct --json'
# The writers went on after the fill: what the check finds different is accepted, so
# that only what the swap does about those writes decides. A failed check exits 3.
failed=$(perl -MJSON::PP -e 'local $/; print join " ", map { $_->{name} }
	grep { $_->{status} eq "failed" } @{ decode_json(<STDIN>)->{checks} }' <"$OUT")
expect_exit "$([ -n "$failed" ] && echo 3 || echo 0)"
for check in $failed; do
	ds -c "swap-table check acct --accept $check --reason 'writers go on'"
	expect_exit 0
done
writers_progress
ds -c 'swap-table swap acct --lock-timeout 100ms --deadline 20s --yes'
swap_code=$CODE
writers_progress
stop_writers
expect_no_failed_client
expect_sql "T equals the mirror" "$diff_sql" 0
if [ "$swap_code" = 0 ]; then
	expect_sql "state" "$(swap_state_sql acct)" swapped
else
	expect_eq "swap refused" "$swap_code" 3
	expect_sql "state" "$(swap_state_sql acct)" checked
	expect_sql "T is the original table" "SELECT 'acct'::regclass::oid" "$prod_oid"
	# With the writers stopped, T_backfill brought up to date passes and swaps.
	sql "TRUNCATE acct_backfill; INSERT INTO acct_backfill SELECT * FROM acct" >/dev/null
	ds -c 'swap-table check acct' -c 'swap-table swap acct --yes'
	expect_exit 0
	expect_sql "state" "$(swap_state_sql acct)" swapped
	expect_sql "T is the new table" "SELECT 'acct'::regclass::oid <> $prod_oid" t
	expect_sql "T equals the mirror" "$diff_sql" 0
fi
end_case

done_testing
