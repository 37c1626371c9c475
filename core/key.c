/* key.c: parsing keys and ranges, and key arithmetic on civil dates. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "key.h"
#include "util.h"

static const char *const kind_names[] = { "none", "daily", "hourly" };

static const char *const month_names[] = { "January",	"February", "March",	"April",
					   "May",	"June",	    "July",	"August",
					   "September", "October",  "November", "December" };

const char *ds_key_kind_name(enum ds_key_kind kind)
{
	return kind_names[kind];
}

int ds_key_kind_parse(const char *name, enum ds_key_kind *kind)
{
	for (int i = 0; i < 3; i++)
		if (!strcmp(name, kind_names[i])) {
			*kind = (enum ds_key_kind)i;
			return 0;
		}
	return -1;
}

static int is_leap(long y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(long y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm). */
static long days_from_civil(long y, int m, int d)
{
	long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(long z, long *y, int *m, int *d)
{
	long era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* Exactly n digits at s, as a number; -1 if not. */
static long digits(const char *s, int n)
{
	long v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/*
 * One end of a range, as positions in keys (days or hours since 1970): the first key it
 * names and the last, which differ for a month ("2024-03") and for a day read as its
 * hours.
 */
struct point {
	enum ds_key_kind kind;
	long pos;
	long last;
};

static int bad_key(const char *text, struct ds_error *err)
{
	ds_error_set(err, DS_ERR_USAGE, "invalid key '%s'", text);
	return ds_error_hint(err, "write a date (2024-01-05), a month (2024-03), a year (2024), "
				  "an hour (2024-01-05T07), a range (A..B), today, yesterday, "
				  "today-7 or now-6h");
}

static int check_date(const char *text, long y, long m, long d, struct ds_error *err)
{
	if (y < 1 || m < 1 || m > 12)
		return ds_error_set(err, DS_ERR_USAGE, "invalid date '%s': there is no month %02ld",
				    text, m);
	if (d < 1 || d > days_in_month(y, (int)m))
		return ds_error_set(err, DS_ERR_USAGE, "invalid date '%s': %s %ld has %d days",
				    text, month_names[m - 1], y, days_in_month(y, (int)m));
	return 0;
}

/*
 * How far a relative key may reach: about 270 years of days, 11 of hours, so that no
 * key it names falls outside the years a key is written in.
 */
#define RELATIVE_MAX 99999

/*
 * The offset after "today", "yesterday" or "now": "" (0), or +N or -N followed by unit
 * ("" for days, "h" for hours); -1 if the text is anything else.
 */
static int relative_offset(const char *s, const char *unit, long *n)
{
	size_t ndigits;

	*n = 0;
	if (!*s)
		return 0;
	ndigits = strspn(s + 1, "0123456789");
	if ((s[0] != '+' && s[0] != '-') || ndigits == 0 || ndigits > 9 ||
	    strcmp(s + 1 + ndigits, unit))
		return -1;
	*n = strtol(s + 1, NULL, 10);
	if (*n > RELATIVE_MAX)
		return -1;
	if (s[0] == '-')
		*n = -*n;
	return 0;
}

static int bad_relative(const char *text, const char *word, const char *unit, const char *example,
			struct ds_error *err)
{
	return ds_error_set(err, DS_ERR_USAGE,
			    "invalid key '%s': after '%s' comes +N%s or -N%s, N at most %d "
			    "(as in %s)",
			    text, word, unit, unit, RELATIVE_MAX, example);
}

/*
 * today, yesterday, today+N, today-N (days) and now, now+Nh, now-Nh (hours), read on the
 * wall clock of the local time zone (TZ) at now. For hourly keys (want) a day is read
 * as its hours: today as those up to the hour now is in. 1 if text is one of them (p
 * filled, or -1 with err), 0 if it is not relative.
 */
static int parse_relative(const char *text, enum ds_key_kind want, time_t now, struct point *p,
			  struct ds_error *err)
{
	struct tm tm;
	long today, n;

	localtime_r(&now, &tm);
	today = days_from_civil(tm.tm_year + 1900L, tm.tm_mon + 1, tm.tm_mday);
	if (!strncmp(text, "now", 3)) {
		if (relative_offset(text + 3, "h", &n) < 0)
			return bad_relative(text, "now", "h", "now-6h", err);
		p->kind = DS_KEY_HOURLY;
		p->pos = p->last = today * 24 + tm.tm_hour + n;
	} else if (!strncmp(text, "today", 5) || !strncmp(text, "yesterday", 9)) {
		const char *word = text[0] == 't' ? "today" : "yesterday";

		if (relative_offset(text + strlen(word), "", &n) < 0)
			return bad_relative(text, word, "", "today-7", err);
		p->kind = DS_KEY_DAILY;
		p->pos = p->last = today - (text[0] == 'y') + n;
		if (want == DS_KEY_HOURLY) {
			p->kind = DS_KEY_HOURLY;
			p->last = p->pos == today ? p->pos * 24 + tm.tm_hour : p->pos * 24 + 23;
			p->pos *= 24;
		}
	} else {
		return 0;
	}
	return 1;
}

static int parse_point(const char *text, size_t len, enum ds_key_kind want, time_t now,
		       struct point *p, struct ds_error *err)
{
	char buf[32];
	long y, m, d, h;
	int relative;

	memset(p, 0, sizeof(*p));
	if (len >= sizeof(buf))
		return bad_key(text, err);
	memcpy(buf, text, len);
	buf[len] = '\0';
	relative = parse_relative(buf, want, now, p, err);
	if (relative)
		return relative < 0 ? -1 : 0;
	y = digits(buf, 4);
	if (len == 4 && y >= 1) {
		/* A year: its days, as a month is its days. */
		p->kind = DS_KEY_DAILY;
		p->pos = days_from_civil(y, 1, 1);
		p->last = days_from_civil(y, 12, 31);
		return 0;
	}
	if (y < 0 || buf[4] != '-' || (m = digits(buf + 5, 2)) < 0)
		return bad_key(buf, err);
	if (len == 7) {
		if (check_date(buf, y, m, 1, err) < 0)
			return -1;
		p->kind = DS_KEY_DAILY;
		p->pos = days_from_civil(y, (int)m, 1);
		p->last = p->pos + days_in_month(y, (int)m) - 1;
		return 0;
	}
	if ((len != 10 && len != 13) || buf[7] != '-' || (d = digits(buf + 8, 2)) < 0)
		return bad_key(buf, err);
	if (check_date(buf, y, m, d, err) < 0)
		return -1;
	p->pos = days_from_civil(y, (int)m, (int)d);
	p->kind = DS_KEY_DAILY;
	if (len == 13) {
		if (buf[10] != 'T' || (h = digits(buf + 11, 2)) < 0)
			return bad_key(buf, err);
		if (h > 23)
			return ds_error_set(err, DS_ERR_USAGE,
					    "invalid hour '%s': hours go from 00 to 23", buf);
		p->kind = DS_KEY_HOURLY;
		p->pos = p->pos * 24 + h;
	}
	p->last = p->pos;
	return 0;
}

static void format_key(enum ds_key_kind kind, long pos, char *out)
{
	char buf[80]; /* what the format could produce; keys themselves fit DS_KEY_SIZE */
	long y;
	int m, d;

	if (kind == DS_KEY_NONE) {
		out[0] = '\0';
		return;
	}
	civil_from_days(kind == DS_KEY_HOURLY ? (pos >= 0 ? pos / 24 : (pos - 23) / 24) : pos, &y,
			&m, &d);
	if (kind == DS_KEY_DAILY)
		snprintf(buf, sizeof(buf), "%04ld-%02d-%02d", y, m, d);
	else
		snprintf(buf, sizeof(buf), "%04ld-%02d-%02dT%02ld", y, m, d,
			 ((pos % 24) + 24) % 24);
	snprintf(out, DS_KEY_SIZE, "%.15s", buf);
}

int ds_range_parse_for(const char *text, enum ds_key_kind want, time_t now, struct ds_range *r,
		       struct ds_error *err)
{
	const char *dots = strstr(text, "..");
	struct point a, b;

	memset(r, 0, sizeof(*r));
	if (parse_point(text, dots ? (size_t)(dots - text) : strlen(text), want, now, &a, err) < 0)
		return -1;
	if (!dots) {
		b = a;
	} else if (parse_point(dots + 2, strlen(dots + 2), want, now, &b, err) < 0) {
		return -1;
	}
	if (a.kind != b.kind) {
		ds_error_set(err, DS_ERR_USAGE,
			     "invalid range '%s': one end is a date, the other "
			     "an hour",
			     text);
		return ds_error_hint(err, "write 2024-01-05..2024-01-07 or "
					  "2024-01-05T00..2024-01-05T23");
	}
	/*
	 * A year or a month, or a day read as hours, at the end of a range means up to its
	 * last key.
	 */
	if (b.last < a.pos)
		return ds_error_set(err, DS_ERR_USAGE,
				    "invalid range '%s': it ends before it starts", text);
	r->kind = a.kind;
	r->count = b.last - a.pos + 1;
	format_key(a.kind, a.pos, r->first);
	format_key(b.kind, b.last, r->last);
	return 0;
}

int ds_range_parse(const char *text, time_t now, struct ds_range *r, struct ds_error *err)
{
	return ds_range_parse_for(text, DS_KEY_NONE, now, r, err);
}

int ds_range_now_check(struct ds_error *err)
{
	const char *fixed = getenv("DATASHELL_NOW");
	char *end;

	if (!fixed || !*fixed)
		return 0;
	errno = 0;
	(void)strtoll(fixed, &end, 10);
	if (errno == 0 && *end == '\0')
		return 0;
	ds_error_set(err, DS_ERR_USAGE,
		     "DATASHELL_NOW is '%s': a moment in seconds since 1970-01-01 is expected "
		     "(a test setting; unset it to read the clock)",
		     fixed);
	return -1;
}

time_t ds_range_now(void)
{
	const char *fixed = getenv("DATASHELL_NOW");

	return fixed && *fixed ? (time_t)strtoll(fixed, NULL, 10) : time(NULL);
}

void ds_key_shift(enum ds_key_kind kind, const char *key, int n, char *out)
{
	struct point p;

	if (kind == DS_KEY_NONE || parse_point(key, strlen(key), DS_KEY_NONE, 0, &p, NULL) < 0) {
		snprintf(out, DS_KEY_SIZE, "%s", key);
		return;
	}
	format_key(kind, p.pos + n, out);
}

char *ds_key_bound(const char *kind_name, const char *key, int n)
{
	enum ds_key_kind kind;
	char shifted[DS_KEY_SIZE];

	if (ds_key_kind_parse(kind_name, &kind) < 0 || kind == DS_KEY_NONE || strlen(key) < 10)
		return NULL;
	ds_key_shift(kind, key, n, shifted);
	if (kind == DS_KEY_DAILY)
		return ds_xprintf("%.10s 00:00:00", shifted);
	return ds_xprintf("%.10s %.2s:00:00", shifted, shifted + 11);
}
