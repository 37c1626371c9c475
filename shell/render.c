/* render.c: aligned human output, CSV and JSON output of command results. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include "../core/util.h"
#include "render.h"

/* Whether rendering for people adds colour: see ds_render_set_colour(). */
static int colour;

int ds_colour_wanted(int fd)
{
	const char *term = getenv("TERM");

	return isatty(fd) && !getenv("NO_COLOR") && !(term && !strcmp(term, "dumb"));
}

void ds_render_set_colour(int on)
{
	colour = on;
}

/* SGR sequences, or nothing without colour. */
#define SGR(code) (colour ? "\033[" code "m" : "")
#define BOLD	  SGR("1")
#define RESET	  SGR("0")

/* The colour of a calendar strip's mark: failures red, successes green. */
static const char *mark_colour(char mark)
{
	switch (mark) {
	case '#':
		return SGR("32");
	case 'F':
	case 'B':
		return SGR("1;31");
	case 'R':
		return SGR("36");
	case 'H':
		return SGR("33");
	case '~':
		return SGR("35");
	default:
		return "";
	}
}

/* A table cell; the marks of a calendar strip (the column "strip") in colour. */
static void put_cell(FILE *out, const char *key, const char *text)
{
	if (!colour || strcmp(key, "strip")) {
		fputs(text, out);
		return;
	}
	for (const char *p = text; *p; p++) {
		const char *c = mark_colour(*p);

		fprintf(out, "%s%c%s", c, *p, c[0] ? RESET : "");
	}
}

int ds_display_width(const char *s)
{
	mbstate_t st;
	int width = 0;
	size_t n;
	wchar_t wc;

	memset(&st, 0, sizeof(st));
	while (*s) {
		n = mbrtowc(&wc, s, MB_CUR_MAX, &st);
		if (n == (size_t)-1 || n == (size_t)-2) {
			/* Not valid in this locale: count bytes, as a terminal would show them. */
			memset(&st, 0, sizeof(st));
			width++;
			s++;
			continue;
		}
		int w = wcwidth(wc);
		width += w > 0 ? w : 0;
		s += n ? n : 1;
	}
	return width;
}

/* "server_version" reads as "Server version". Caller frees. */
static char *label_of(const char *key)
{
	char *l = ds_xstrdup(key);

	for (char *p = l; *p; p++)
		if (*p == '_')
			*p = ' ';
	if (l[0] >= 'a' && l[0] <= 'z')
		l[0] = (char)(l[0] - 'a' + 'A');
	return l;
}

/* "45s", "12m", "3h", "4d": how long seconds is, in the largest unit that fits. */
static char *human_duration(long long seconds)
{
	if (seconds < 120)
		return ds_xprintf("%llds", seconds);
	if (seconds < 120 * 60)
		return ds_xprintf("%lldm", seconds / 60);
	if (seconds < 48 * 3600)
		return ds_xprintf("%lldh", seconds / 3600);
	return ds_xprintf("%lldd", seconds / 86400);
}

/*
 * A timestamp as the core writes them (2024-03-17T06:00:00Z, ISO 8601 in UTC) with its
 * age for a person: "2024-03-17T06:00:00Z (3h ago)". Anything else is left as it is.
 * Caller frees.
 */
static char *with_age(const char *s)
{
	struct tm tm;
	const char *end;
	long long age;
	char *d, *text;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!end || *end || strlen(s) != 20)
		return ds_xstrdup(s);
	age = (long long)(time(NULL) - timegm(&tm));
	d = human_duration(age < 0 ? -age : age);
	text = ds_xprintf(age < 0 ? "%s (in %s)" : "%s (%s ago)", s, d);
	free(d);
	return text;
}

/* A scalar as a person reads it. Caller frees. */
static char *scalar_text(json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		return with_age(json_string_value(v));
	case JSON_INTEGER:
		return ds_xprintf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
	case JSON_REAL:
		return ds_xprintf("%g", json_real_value(v));
	case JSON_TRUE:
		return ds_xstrdup("yes");
	case JSON_FALSE:
		return ds_xstrdup("no");
	case JSON_NULL:
		return ds_xstrdup("");
	default:
		return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	}
}

static int is_scalar(json_t *v)
{
	return !json_is_object(v) && !json_is_array(v);
}

static void pad(FILE *out, int n)
{
	while (n-- > 0)
		fputc(' ', out);
}

/*
 * An array of objects as a psql-style table; columns from the first row's keys. Nested
 * values (a map of keys to states, say) are for scripts: --json has them, the table
 * leaves them out.
 */
static void render_table(FILE *out, json_t *rows, int indent)
{
	json_t *first = json_array_get(rows, 0), *row, *v;
	size_t ncols = json_object_size(first), nrows = json_array_size(rows), i, c;
	const char **keys = ds_xmalloc(ncols * sizeof(*keys));
	int *width = ds_xmalloc(ncols * sizeof(*width)),
	    *right = ds_xmalloc(ncols * sizeof(*right));
	char ***cells = ds_xmalloc(nrows * sizeof(*cells));
	const char *key;

	ncols = 0;
	json_object_foreach(first, key, v) ncols += is_scalar(v);
	c = 0;
	json_object_foreach(first, key, v)
	{
		if (!is_scalar(v))
			continue;
		keys[c] = key;
		width[c] = ds_display_width(key);
		right[c] = json_is_number(v);
		c++;
	}
	json_array_foreach(rows, i, row)
	{
		cells[i] = ds_xmalloc(ncols * sizeof(**cells));
		for (c = 0; c < ncols; c++) {
			int w;

			v = json_object_get(row, keys[c]);
			cells[i][c] = v ? scalar_text(v) : ds_xstrdup("");
			w = ds_display_width(cells[i][c]);
			if (w > width[c])
				width[c] = w;
		}
	}
	pad(out, indent);
	for (c = 0; c < ncols; c++) {
		int w = ds_display_width(keys[c]);

		fputs(c ? "| " : " ", out);
		pad(out, (width[c] - w) / 2);
		fprintf(out, "%s%s%s", BOLD, keys[c], RESET);
		pad(out, width[c] - w - (width[c] - w) / 2 + 1);
	}
	fputc('\n', out);
	pad(out, indent);
	for (c = 0; c < ncols; c++) {
		fputs(c ? "+" : "", out);
		for (int k = 0; k < width[c] + 2; k++)
			fputc('-', out);
	}
	fputc('\n', out);
	for (i = 0; i < nrows; i++) {
		pad(out, indent);
		for (c = 0; c < ncols; c++) {
			int gap = width[c] - ds_display_width(cells[i][c]);

			fputs(c ? "| " : " ", out);
			if (right[c])
				pad(out, gap);
			put_cell(out, keys[c], cells[i][c]);
			if (!right[c] && c + 1 < ncols)
				pad(out, gap);
			if (c + 1 < ncols)
				fputc(' ', out);
			free(cells[i][c]);
		}
		fputc('\n', out);
		free(cells[i]);
	}
	pad(out, indent);
	fprintf(out, "(%zu row%s)\n", nrows, nrows == 1 ? "" : "s");
	free(cells);
	free(keys);
	free(width);
	free(right);
}

static int is_table(json_t *v)
{
	return json_is_array(v) && json_array_size(v) > 0 && json_is_object(json_array_get(v, 0));
}

/* An object: scalar fields as aligned "Label  value" lines, the rest as sections. */
static void render_object(FILE *out, json_t *obj, int indent)
{
	const char *key;
	json_t *v;
	int width = 0;

	json_object_foreach(obj, key, v)
	{
		int w = ds_display_width(key);

		if (is_scalar(v) && w > width)
			width = w;
	}
	json_object_foreach(obj, key, v)
	{
		char *label = label_of(key);

		pad(out, indent);
		if (is_scalar(v)) {
			/* A field with no value says so ("Batch  none"), as a table cell does not. */
			char *text = json_is_null(v) ? ds_xstrdup("none") : scalar_text(v);

			fprintf(out, "%s", label);
			pad(out, width - ds_display_width(label) + 2);
			fprintf(out, "%s\n", text);
			free(text);
		} else {
			fprintf(out, "%s%s\n", label,
				json_is_array(v) && !json_array_size(v) ? ": (none)" : "");
			ds_render_value(out, v, indent + 2);
		}
		free(label);
	}
}

void ds_render_value(FILE *out, json_t *v, int indent)
{
	size_t i;
	json_t *item;

	if (json_is_object(v)) {
		render_object(out, v, indent);
	} else if (is_table(v)) {
		render_table(out, v, indent);
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, item)
		{
			char *text = scalar_text(item);

			pad(out, indent);
			fprintf(out, "%s\n", text);
			free(text);
		}
	} else {
		char *text = scalar_text(v);

		pad(out, indent);
		fprintf(out, "%s\n", text);
		free(text);
	}
}

/* One CSV field, quoted as RFC 4180 says when it holds a comma, a quote or a line break. */
static void put_csv_field(FILE *out, const char *s)
{
	if (!s[strcspn(s, ",\"\r\n")]) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

/* A value as a CSV field: booleans as SQL writes them, null as empty. Caller frees. */
static char *csv_text(json_t *v)
{
	if (json_is_boolean(v))
		return ds_xstrdup(json_is_true(v) ? "true" : "false");
	if (json_is_string(v))
		return ds_xstrdup(json_string_value(v)); /* as stored: no age */
	return v ? scalar_text(v) : ds_xstrdup("");
}

/* One CSV record: the header (obj NULL), or the fields of obj named by keys. */
static void put_csv_record(FILE *out, json_t *obj, const char **keys)
{
	for (int c = 0; keys[c]; c++) {
		char *text = obj ? csv_text(json_object_get(obj, keys[c])) : ds_xstrdup(keys[c]);

		if (c)
			fputc(',', out);
		put_csv_field(out, text);
		free(text);
	}
	fputc('\n', out);
}

/*
 * The rows --csv prints: the data if it is a list of rows, else its first member that
 * is one (status: graphs or tasks; backfill: plan), else the data as one row.
 */
static json_t *csv_rows(json_t *data, json_t **one)
{
	const char *key;
	json_t *v;

	if (json_is_array(data))
		return data;
	json_object_foreach(data, key, v) if (json_is_array(v) &&
					      (!json_array_size(v) || is_table(v))) return v;
	*one = json_pack("[O]", data);
	return *one;
}

void ds_render_csv(FILE *out, json_t *data)
{
	json_t *one = NULL, *rows = csv_rows(data, &one), *first = json_array_get(rows, 0), *v;
	size_t n = 0, i;
	const char **keys = ds_xmalloc((json_object_size(first) + 1) * sizeof(*keys));
	const char *key;

	/* The columns are the first row's scalar fields, as in a table for people. */
	json_object_foreach(first, key, v) if (is_scalar(v)) keys[n++] = key;
	keys[n] = NULL;
	if (n) {
		put_csv_record(out, NULL, keys);
		json_array_foreach(rows, i, v) put_csv_record(out, v, keys);
	}
	free(keys);
	json_decref(one);
}

/* "5,3" or "5" at *p: the number of lines, 1 when not given; -1 if it is not a range. */
static int hunk_range(const char **p)
{
	const char *s = *p;
	int lines = 1;

	if (*s < '0' || *s > '9')
		return -1;
	while (*s >= '0' && *s <= '9')
		s++;
	if (*s == ',') {
		if (*++s < '0' || *s > '9')
			return -1;
		for (lines = 0; *s >= '0' && *s <= '9'; s++)
			if (lines < 100000000) /* more than any text shown; no overflow */
				lines = lines * 10 + (*s - '0');
	}
	*p = s;
	return lines;
}

/* A hunk's header "@@ -5,3 +5,4 @@": 1 with the numbers of its old and new lines. */
static int hunk_header(const char *line, int *old_lines, int *new_lines)
{
	const char *p = line + 4;

	if (strncmp(line, "@@ -", 4) || (*old_lines = hunk_range(&p)) < 0 || strncmp(p, " +", 2))
		return 0;
	p += 2;
	return (*new_lines = hunk_range(&p)) >= 0 && !strncmp(p, " @@", 3);
}

/*
 * Text as it is; with colour, a unified diff in it as git colours one: its "---" and
 * "+++" lines in bold, hunk headers in cyan, removed lines red, added lines green. A
 * hunk's lines are counted from its header, so a removed SQL comment ("--- ...") is
 * not taken for the start of another diff.
 */
static void put_text(FILE *out, const char *text)
{
	int old_left = 0, new_left = 0, header = 0, in_diff = 0;

	while (*text) {
		size_t n = strcspn(text, "\n");
		const char *c = "";

		if (old_left > 0 || new_left > 0) {
			if (*text == '-') {
				c = SGR("31");
				old_left--;
			} else if (*text == '+') {
				c = SGR("32");
				new_left--;
			} else {
				old_left--;
				new_left--;
			}
		} else if (header) {
			c = BOLD;
			header = 0;
		} else if (!strncmp(text, "--- ", 4) && !strncmp(text + n, "\n+++ ", 5)) {
			c = BOLD;
			header = in_diff = 1;
		} else if (in_diff && hunk_header(text, &old_left, &new_left)) {
			c = SGR("36");
		} else {
			in_diff = 0;
		}
		fprintf(out, "%s%.*s%s\n", c, (int)n, text, c[0] ? RESET : "");
		text += n + (text[n] == '\n');
	}
}

void ds_render_text(FILE *out, const char *text)
{
	size_t n = strlen(text);

	if (colour) {
		put_text(out, text);
		return;
	}
	fputs(text, out);
	if (n && text[n - 1] != '\n')
		fputc('\n', out);
}

void ds_render_result(FILE *out, const struct ds_result *r)
{
	if (r->csv) {
		ds_render_csv(out, r->data ? r->data : json_null());
	} else if (r->json) {
		json_dumpf(r->data ? r->data : json_object(), out, JSON_INDENT(2));
		fputc('\n', out);
	} else if (r->text) {
		ds_render_text(out, r->text);
	} else if (r->data && (!json_is_object(r->data) || json_object_size(r->data))) {
		ds_render_value(out, r->data, 0);
	}
	fflush(out);
}
