/*
 * tap.h: a minimal Test Anything Protocol producer for the unit tests, read by prove.
 * Each check prints "ok N - name" or "not ok N - name" with what differed.
 */
#ifndef DS_TAP_H
#define DS_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_count, tap_failed;

static inline int tap_ok(int pass, const char *name)
{
	tap_count++;
	printf("%sok %d - %s\n", pass ? "" : "not ", tap_count, name);
	if (!pass)
		tap_failed++;
	return pass;
}

static inline int tap_is_str(const char *got, const char *want, const char *name)
{
	int pass = (got && want) ? !strcmp(got, want) : got == want;

	if (!tap_ok(pass, name))
		printf("#   got:      '%s'\n#   expected: '%s'\n", got ? got : "(null)",
		       want ? want : "(null)");
	return pass;
}

static inline int tap_is_int(long got, long want, const char *name)
{
	if (!tap_ok(got == want, name))
		printf("#   got:      %ld\n#   expected: %ld\n", got, want);
	return got == want;
}

static inline int tap_done(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed ? 1 : 0;
}

#endif
