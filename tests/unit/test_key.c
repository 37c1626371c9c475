/* test_key: ranges of partition keys, their errors, and key arithmetic. */
#include <stdlib.h>

#include "../../core/key.h"
#include "tap.h"

/* 2024-03-15 12:00 UTC; the tests run with TZ=UTC. */
#define NOW ((time_t)1710504000)

/* 2025-01-01 01:30 UTC: relative keys across a year's end. */
#define NEW_YEAR ((time_t)1735695000)

/* 2024-03-01 00:10 UTC: relative keys across the end of a leap February. */
#define LEAP_MARCH ((time_t)1709251800)

/* The range text names for tasks whose keys are of kind want, at now. */
static void range_at(const char *text, enum ds_key_kind want, time_t now, const char *first,
		     const char *last, long count, enum ds_key_kind kind)
{
	struct ds_range r;
	struct ds_error err;

	if (ds_range_parse_for(text, want, now, &r, &err) < 0) {
		tap_ok(0, text);
		printf("#   unexpected error: %s\n", err.message);
		return;
	}
	tap_is_str(r.first, first, text);
	tap_is_str(r.last, last, text);
	tap_is_int(r.count, count, text);
	tap_is_int(r.kind, kind, text);
}

static void range_is(const char *text, const char *first, const char *last, long count,
		     enum ds_key_kind kind)
{
	range_at(text, DS_KEY_NONE, NOW, first, last, count, kind);
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
	range_is("2023", "2023-01-01", "2023-12-31", 365, DS_KEY_DAILY);
	range_is("2024", "2024-01-01", "2024-12-31", 366, DS_KEY_DAILY);
	range_is("2023-11..2024", "2023-11-01", "2024-12-31", 427, DS_KEY_DAILY);
	range_is("2023..2024-01-05", "2023-01-01", "2024-01-05", 370, DS_KEY_DAILY);
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
	range_fails("0000", "invalid key '0000'");
	range_fails("tomorrow", "invalid key 'tomorrow'");
	range_fails("today-x", "invalid key 'today-x': after 'today' comes +N or -N, N at most "
			       "99999 (as in today-7)");
	range_fails("today-7d", "invalid key 'today-7d': after 'today' comes +N or -N, N at most "
				"99999 (as in today-7)");
	range_fails("yesterday+", "invalid key 'yesterday+': after 'yesterday' comes +N or -N, N "
				  "at most 99999 (as in today-7)");
	range_fails("today-100000", "invalid key 'today-100000': after 'today' comes +N or -N, N "
				    "at most 99999 (as in today-7)");
	range_fails("now-6", "invalid key 'now-6': after 'now' comes +Nh or -Nh, N at most 99999 "
			     "(as in now-6h)");
	range_fails("now-6h..now-1", "invalid key 'now-1': after 'now' comes +Nh or -Nh, N at "
				     "most 99999 (as in now-6h)");
	range_fails("today..now",
		    "invalid range 'today..now': one end is a date, the other an hour");
	range_fails("yesterday..today-3",
		    "invalid range 'yesterday..today-3': it ends before it starts");
	range_fails("now-1h..now-6h", "invalid range 'now-1h..now-6h': it ends before it starts");
	range_fails("2024-1-5", "invalid key '2024-1-5'");
	range_fails("2024-01-05..", "invalid key ''");

	/* Relative keys: days, hours, and days read as hours for hourly tasks. */
	range_is("today-7..yesterday", "2024-03-08", "2024-03-14", 7, DS_KEY_DAILY);
	range_is("today+1", "2024-03-16", "2024-03-16", 1, DS_KEY_DAILY);
	range_is("today-0", "2024-03-15", "2024-03-15", 1, DS_KEY_DAILY);
	range_is("yesterday-1", "2024-03-13", "2024-03-13", 1, DS_KEY_DAILY);
	range_is("today-14..2024-03", "2024-03-01", "2024-03-31", 31, DS_KEY_DAILY);
	range_is("now", "2024-03-15T12", "2024-03-15T12", 1, DS_KEY_HOURLY);
	range_is("now-6h..now-1h", "2024-03-15T06", "2024-03-15T11", 6, DS_KEY_HOURLY);
	range_is("now+2h", "2024-03-15T14", "2024-03-15T14", 1, DS_KEY_HOURLY);
	range_at("today", DS_KEY_DAILY, NOW, "2024-03-15", "2024-03-15", 1, DS_KEY_DAILY);
	range_at("today", DS_KEY_HOURLY, NOW, "2024-03-15T00", "2024-03-15T12", 13, DS_KEY_HOURLY);
	range_at("yesterday", DS_KEY_HOURLY, NOW, "2024-03-14T00", "2024-03-14T23", 24,
		 DS_KEY_HOURLY);
	range_at("today-2..today", DS_KEY_HOURLY, NOW, "2024-03-13T00", "2024-03-15T12", 61,
		 DS_KEY_HOURLY);
	range_at("today+1", DS_KEY_HOURLY, NOW, "2024-03-16T00", "2024-03-16T23", 24,
		 DS_KEY_HOURLY);
	range_at("yesterday..2024-03-15T03", DS_KEY_HOURLY, NOW, "2024-03-14T00", "2024-03-15T03",
		 28, DS_KEY_HOURLY);
	range_at("now-6h..now-1h", DS_KEY_HOURLY, NOW, "2024-03-15T06", "2024-03-15T11", 6,
		 DS_KEY_HOURLY);

	/* Across a year's end and the end of a leap February. */
	range_at("today-3..yesterday", DS_KEY_DAILY, NEW_YEAR, "2024-12-29", "2024-12-31", 3,
		 DS_KEY_DAILY);
	range_at("yesterday..today+1", DS_KEY_DAILY, NEW_YEAR, "2024-12-31", "2025-01-02", 3,
		 DS_KEY_DAILY);
	range_at("now-3h..now", DS_KEY_HOURLY, NEW_YEAR, "2024-12-31T22", "2025-01-01T01", 4,
		 DS_KEY_HOURLY);
	range_at("yesterday..today", DS_KEY_HOURLY, NEW_YEAR, "2024-12-31T00", "2025-01-01T01", 26,
		 DS_KEY_HOURLY);
	range_at("yesterday", DS_KEY_DAILY, LEAP_MARCH, "2024-02-29", "2024-02-29", 1,
		 DS_KEY_DAILY);
	range_at("today-30..today", DS_KEY_DAILY, LEAP_MARCH, "2024-01-31", "2024-03-01", 31,
		 DS_KEY_DAILY);
	range_at("now-1h", DS_KEY_HOURLY, LEAP_MARCH, "2024-02-29T23", "2024-02-29T23", 1,
		 DS_KEY_HOURLY);

	/* Relative keys are read on the local wall clock: 14 hours ahead of UTC here. */
	setenv("TZ", "Pacific/Kiritimati", 1);
	tzset();
	range_is("today", "2024-03-16", "2024-03-16", 1, DS_KEY_DAILY);
	range_is("now", "2024-03-16T02", "2024-03-16T02", 1, DS_KEY_HOURLY);
	range_at("today", DS_KEY_HOURLY, NOW, "2024-03-16T00", "2024-03-16T02", 3, DS_KEY_HOURLY);
	setenv("TZ", "UTC", 1);
	tzset();

	ds_key_shift(DS_KEY_DAILY, "2024-03-01", -1, out);
	tap_is_str(out, "2024-02-29", "shift a day back over a leap day");
	ds_key_shift(DS_KEY_HOURLY, "2024-12-31T23", 1, out);
	tap_is_str(out, "2025-01-01T00", "shift an hour over a year's end");
	ds_key_shift(DS_KEY_NONE, "", 3, out);
	tap_is_str(out, "", "a key of kind none does not move");

	return tap_done();
}
