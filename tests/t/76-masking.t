#!/bin/sh
# Passwords typed in a command line, in each spelling libpq accepts, never reach the
# audit log (which viewers read), the echo or the error messages.
. "$DS_TOP/tests/lib.sh"
use_fresh_database t_masking
setup "$DATASHELL" -c init

begin "every spelling of a password is masked in the audit log, the echo and errors"
tab=$(printf '\t')
ds -e --keep-going -c "pipeline load 'host=db password$tab=${tab}tab5ecret'" \
	-c "pipeline load 'host=db password=quo\\ 7ed'" \
	-c "pipeline load \"host=db password='sp ace\\' 5ecret'\"" \
	-c "pipeline load postgresql://bob:ur?i#5ecret@db/x" \
	-c "pipeline load postgresql://db/x?passwor%64=enc5ecret"
expect_exit 3
for secret in tab5ecret 7ed 5ecret; do
	expect_eq "$secret in stdout and stderr" "$(cat "$OUT" "$ERR" | grep -c "$secret")" 0
	expect_sql "$secret in the log" "SELECT count(*) FROM datashell.audit_log
		WHERE command || coalesce(error, '') LIKE '%$secret%'" 0
done
expect_sql "lines logged" "SELECT count(*) FROM datashell.audit_log WHERE command LIKE 'pipeline load %'" 5
expect_sql "logged masked" "SELECT string_agg(command, E'\n' ORDER BY id) FROM datashell.audit_log
	WHERE command LIKE 'pipeline load %'" "pipeline load 'host=db password$tab=$tab***'
pipeline load 'host=db password=***'
pipeline load \"host=db password=***\"
pipeline load postgresql://bob:***@db/x
pipeline load postgresql://db/x?passwor%64=***"
end_case

done_testing
