/* test_key: ranges of partition keys, their errors, and key arithmetic. */
#include <stdlib.h>

#include "../../core/key.h"
#include "tap.h"

/* 2024-03-15 12:00 UTC; the tests run with TZ=UTC. */
#define NOW ((time_t)1710504000)

static void range_is(const char *text, const char *first, const char *last, long count,
		     enum ds_key_kind kind)
{
	struct ds_range r;
	struct ds_error err;

	if (ds_range_parse(text, NOW, &r, &err) < 0) {
		tap_ok(0, text);
		printf("#   unexpected error: %s\n", err.message);
		return;
	}
	tap_is_str(r.first, first, text);
	tap_is_str(r.last, last, text);
	tap_is_int(r.count, count, text);
	tap_is_int(r.kind, kind, text);
}

static void range_fails(const char *text, const char *message)
{
	struct ds_range r;
	struct ds_error err;

	if (ds_range_parse(text, NOW, &r, &err) == 0) {
		tap_ok(0, text);
		printf("#   no error for '%s'\n", text);
		return;
	}
	tap_is_str(err.message, message, text);
	tap_is_int(err.kind, DS_ERR_USAGE, "a usage error");
}

int main(void)
{
	char out[DS_KEY_SIZE];

	setenv("TZ", "UTC", 1);
	tzset();
	range_is("2024-01-05", "2024-01-05", "2024-01-05", 1, DS_KEY_DAILY);
	range_is("2024-01-01..2024-03-31", "2024-01-01", "2024-03-31", 91, DS_KEY_DAILY);
	range_is("2024-02", "2024-02-01", "2024-02-29", 29, DS_KEY_DAILY);
	range_is("2023-02", "2023-02-01", "2023-02-28", 28, DS_KEY_DAILY);
	range_is("2024-01..2024-03", "2024-01-01", "2024-03-31", 91, DS_KEY_DAILY);
	range_is("today", "2024-03-15", "2024-03-15", 1, DS_KEY_DAILY);
	range_is("yesterday", "2024-03-14", "2024-03-14", 1, DS_KEY_DAILY);
	range_is("2024-03-01..today", "2024-03-01", "2024-03-15", 15, DS_KEY_DAILY);
	range_is("2024-01-05T07", "2024-01-05T07", "2024-01-05T07", 1, DS_KEY_HOURLY);
	range_is("2024-01-05T00..2024-01-05T23", "2024-01-05T00", "2024-01-05T23", 24,
		 DS_KEY_HOURLY);
	range_is("2024-12-31T22..2025-01-01T01", "2024-12-31T22", "2025-01-01T01", 4,
		 DS_KEY_HOURLY);

	range_fails("2024-02-30", "invalid date '2024-02-30': February 2024 has 29 days");
	range_fails("2023-02-29", "invalid date '2023-02-29': February 2023 has 28 days");
	range_fails("2024-13-01", "invalid date '2024-13-01': there is no month 13");
	range_fails("2024-03-31..2024-01-01",
		    "invalid range '2024-03-31..2024-01-01': it ends before it starts");
	range_fails(
		"2024-01-05..2024-01-06T03",
		"invalid range '2024-01-05..2024-01-06T03': one end is a date, the other an hour");
	range_fails("2024-01-05T24", "invalid hour '2024-01-05T24': hours go from 00 to 23");
	range_fails("tomorrow", "invalid key 'tomorrow'");
	range_fails("2024-1-5", "invalid key '2024-1-5'");
	range_fails("2024-01-05..", "invalid key ''");

	ds_key_shift(DS_KEY_DAILY, "2024-03-01", -1, out);
	tap_is_str(out, "2024-02-29", "shift a day back over a leap day");
	ds_key_shift(DS_KEY_HOURLY, "2024-12-31T23", 1, out);
	tap_is_str(out, "2025-01-01T00", "shift an hour over a year's end");
	ds_key_shift(DS_KEY_NONE, "", 3, out);
	tap_is_str(out, "", "a key of kind none does not move");

	return tap_done();
}
