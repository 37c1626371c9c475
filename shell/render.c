/* render.c: aligned human output, CSV and JSON output of command results. */
#include <langinfo.h>
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

void ds_render_marks(FILE *out, const char *marks, size_t n)
{
	for (size_t i = 0; i < n && marks[i]; i++) {
		const char *c = mark_colour(marks[i]);

		fprintf(out, "%s%c%s", c, marks[i], c[0] ? RESET : "");
	}
}

/* A table cell; the marks of a calendar strip (the column "strip") in colour. */
static void put_cell(FILE *out, const char *key, const char *text)
{
	if (!colour || strcmp(key, "strip")) {
		fputs(text, out);
		return;
	}
	ds_render_marks(out, text, strlen(text));
}

/*
 * The character at *s: how many columns it takes, and *s moved past it. A byte that is
 * not valid in this locale counts as one column, as a terminal would show it.
 */
static int next_char_width(const char **s, mbstate_t *st)
{
	wchar_t wc;
	size_t n = mbrtowc(&wc, *s, MB_CUR_MAX, st);
	int w;

	if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
		memset(st, 0, sizeof(*st));
		(*s)++;
		return 1;
	}
	*s += n;
	w = wcwidth(wc);
	return w > 0 ? w : 0;
}

int ds_display_width(const char *s)
{
	mbstate_t st;
	int width = 0;

	memset(&st, 0, sizeof(st));
	while (*s)
		width += next_char_width(&s, &st);
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
 * The width output for people must fit (ds_render_set_width), or 0 for no limit; a
 * table fitted to it left out what --wide shows.
 */
static int fit_width;

void ds_render_set_width(int columns)
{
	fit_width = columns > 0 ? columns : 0;
}

/* The mark of shortened text: an ellipsis where the terminal shows UTF-8. */
static const char *cut_mark(void)
{
	return !strcmp(nl_langinfo(CODESET), "UTF-8") ? "\xe2\x80\xa6" : "~";
}

/* The bytes of the longest start of s no wider than width columns. */
static size_t fitting_bytes(const char *s, int width)
{
	const char *p = s, *next = s;
	mbstate_t st;
	int used = 0;

	memset(&st, 0, sizeof(st));
	while (*p && (used += next_char_width(&next, &st)) <= width)
		p = next;
	return (size_t)(p - s);
}

int ds_render_width(void)
{
	return fit_width;
}

char *ds_render_shortened(const char *text, int width)
{
	if (ds_display_width(text) <= width)
		return ds_xstrdup(text);
	if (width < 1)
		return ds_xstrdup("");
	return ds_xprintf("%.*s%s", (int)fitting_bytes(text, width - 1), text, cut_mark());
}

/* The bytes from which the rest of s is no wider than width columns. */
static size_t tail_start(const char *s, int width)
{
	const char *p = s, *next = s;
	mbstate_t st;
	int rest = ds_display_width(s);

	memset(&st, 0, sizeof(st));
	while (*p && rest > width) {
		rest -= next_char_width(&next, &st);
		p = next;
	}
	return (size_t)(p - s);
}

char *ds_render_shortened_name(const char *text, int width)
{
	int tail = (width - 1) / 3;

	if (ds_display_width(text) <= width || tail < 3)
		return ds_render_shortened(text, width);
	return ds_xprintf("%.*s%s%s", (int)fitting_bytes(text, width - 1 - tail), text, cut_mark(),
			  text + tail_start(text, tail));
}

/*
 * Print text that starts at column and ends the line, folded at spaces into the width
 * output must fit: nothing is cut, longer lines go on under the first (a word wider
 * than a line is broken across lines).
 */
static void put_folded(FILE *out, const char *text, int column)
{
	int room = fit_width - column, used = 0;

	if (!fit_width || room < 20 || ds_display_width(text) <= room) {
		fprintf(out, "%s\n", text);
		return;
	}
	while (*text) {
		size_t gap = strspn(text, " "), n = strcspn(text + gap, " ");
		char *word = ds_xprintf("%.*s", (int)n, text + gap), *rest = word;

		if (used && used + (int)gap + ds_display_width(word) > room) {
			fputc('\n', out);
			pad(out, column);
			used = 0;
		} else {
			pad(out, (int)gap);
			used += (int)gap;
		}
		while (ds_display_width(rest) > room - used) {
			size_t k = fitting_bytes(rest, room - used);

			fprintf(out, "%.*s\n", (int)k, rest);
			pad(out, column);
			used = 0;
			rest += k;
		}
		fputs(rest, out);
		used += ds_display_width(rest);
		text += gap + n;
		free(word);
	}
	fputc('\n', out);
}

/*
 * What a table's column holds decides how it gives way to fit the terminal: free text
 * (errors, hints, root causes, timestamps) is shortened first, then the columns that
 * say what a row is; numbers and yes/no are never shortened (a cut number is a wrong
 * one), nor is a calendar strip, whose marks line up with the keys.
 */
enum holds { FREE_TEXT, COUNT, IDENTITY, STRIP };

static enum holds holds_of(const char *key, json_t *v)
{
	static const char *const identifying[] = { "id",    "task",	"key",	 "state",
						   "graph", "table",	"batch", "name",
						   "kind",  "severity", NULL };

	if (!strcmp(key, "strip"))
		return STRIP;
	if (json_is_number(v) || json_is_boolean(v))
		return COUNT;
	for (int i = 0; identifying[i]; i++)
		if (!strcmp(key, identifying[i]))
			return IDENTITY;
	return FREE_TEXT;
}

/* How narrow shortening may make a column of free text, and one that identifies rows. */
#define FREE_TEXT_LEAST 10
#define IDENTITY_LEAST	16

struct column {
	const char *key;
	int natural; /* the width of its widest cell and its header */
	int width;   /* as drawn */
	int least;   /* shortened no further than this */
	int right;   /* numbers line up on the right */
	enum holds holds;
	int says_nothing; /* every cell is empty, 0 or no */
	int as_ages;	  /* its width with timestamps shown as ages (0: not timestamps) */
	int shown;
};

/* The width of a table's lines: " a | b | c " plus its indent. */
static int table_width(const struct column *col, size_t ncols, int indent)
{
	int total = indent - 1;

	for (size_t c = 0; c < ncols; c++)
		if (col[c].shown)
			total += col[c].width + 3;
	return total;
}

/* Shorten the widest shown columns holding h, a column at a time, until the table fits. */
static int shorten_columns(struct column *col, size_t ncols, int indent, enum holds h)
{
	int over = table_width(col, ncols, indent) - fit_width;

	while (over > 0) {
		struct column *widest = NULL;

		for (size_t c = 0; c < ncols; c++)
			if (col[c].shown && col[c].holds == h && col[c].width > col[c].least &&
			    (!widest || col[c].width > widest->width))
				widest = &col[c];
		if (!widest)
			return -1;
		widest->width--;
		over--;
	}
	return 0;
}

/*
 * Which columns are left out first: those that say nothing, then free text, then
 * numbers, then those that say what a row is; never a strip, nor the first column
 * (without it no row says what it is).
 */
static int leave_out_order(const struct column *c)
{
	if (c->says_nothing)
		return 0;
	switch (c->holds) {
	case FREE_TEXT:
		return 1;
	case COUNT:
		return 2;
	default:
		return 3;
	}
}

/* The shown column to leave out next, the rightmost of those that go first; or NULL. */
static struct column *next_to_leave_out(struct column *col, size_t ncols)
{
	struct column *out = NULL;

	for (size_t c = 1; c < ncols; c++)
		if (col[c].shown && col[c].holds != STRIP &&
		    (!out || leave_out_order(&col[c]) <= leave_out_order(out)))
			out = &col[c];
	return out;
}

/*
 * Fit the table to fit_width: leave out the columns that say nothing, shorten free
 * text, then the columns that identify rows, and only when that is not enough leave
 * out another column and start again. Returns how many columns were left out.
 */
static int fit_columns(struct column *col, size_t ncols, int indent)
{
	int left_out = 0;

	for (size_t c = 0; c < ncols; c++)
		col[c].width = col[c].natural;
	if (!fit_width || table_width(col, ncols, indent) <= fit_width)
		return 0;
	for (size_t c = 0; c < ncols; c++) {
		if (c && col[c].says_nothing && col[c].holds != STRIP) {
			col[c].shown = 0;
			left_out++;
		}
		if (col[c].as_ages)
			col[c].natural = col[c].as_ages;
	}
	for (;;) {
		struct column *drop;

		for (size_t c = 0; c < ncols; c++)
			col[c].width = col[c].natural;
		if (!fit_width || shorten_columns(col, ncols, indent, FREE_TEXT) == 0 ||
		    shorten_columns(col, ncols, indent, IDENTITY) == 0 ||
		    !(drop = next_to_leave_out(col, ncols)))
			return left_out;
		drop->shown = 0;
		left_out++;
	}
}

/*
 * The table's last lines: how many rows, out of how many (total, 0 when all are here),
 * and which columns were left out to fit the terminal.
 */
static void put_table_footer(FILE *out, const struct column *col, size_t ncols, int indent,
			     size_t nrows, json_int_t total, int left_out)
{
	struct ds_buf b = DS_BUF_INIT;
	char *names, *line;

	pad(out, indent);
	if (total > (json_int_t)nrows)
		fprintf(out,
			"(%zu of %" JSON_INTEGER_FORMAT " rows shown; --all shows every row)\n",
			nrows, total);
	else
		fprintf(out, "(%zu row%s)\n", nrows, nrows == 1 ? "" : "s");
	if (!left_out)
		return;
	for (size_t c = 0; c < ncols; c++)
		if (!col[c].shown)
			ds_buf_addf(&b, "%s%s", b.len ? ", " : "", col[c].key);
	names = ds_buf_take(&b);
	line = ds_xprintf("(left out to fit the terminal: %s; --wide shows them)", names);
	if (indent + ds_display_width(line) > fit_width) {
		free(line);
		line = ds_xprintf("(%d column%s left out to fit the terminal; --wide shows them)",
				  left_out, left_out == 1 ? "" : "s");
	}
	pad(out, indent);
	put_folded(out, line, indent);
	free(line);
	free(names);
}

/* The width of the age of a timestamp as with_age() shows it ("3h ago"), or 0. */
static int age_width(const char *text)
{
	size_t n = strlen(text);

	if (n > 23 && !strncmp(text + 19, "Z (", 3) && text[10] == 'T' && text[n - 1] == ')')
		return (int)n - 23;
	return 0;
}

/*
 * Take the measure of a cell of column c: its width, whether it says anything, and as
 * a timestamp how wide its age is.
 */
static void measure_cell(struct column *c, const char *text)
{
	int w = ds_display_width(text), age = age_width(text);

	if (w > c->natural)
		c->natural = w;
	c->says_nothing &= !text[0] || !strcmp(text, "0") || !strcmp(text, "no");
	if (text[0] && !age)
		c->as_ages = -1; /* not a column of timestamps */
	else if (c->as_ages >= 0 && age > c->as_ages)
		c->as_ages = age;
}

/* How narrow shortening may make a column: numbers and strips not at all. */
static int least_width(const struct column *c)
{
	int least = c->holds == FREE_TEXT  ? FREE_TEXT_LEAST
		    : c->holds == IDENTITY ? IDENTITY_LEAST
					   : c->natural;

	return least < c->natural ? least : c->natural;
}

/* The columns of a table: the first row's scalar fields. Caller frees. */
static struct column *table_columns(json_t *first, size_t *ncols)
{
	struct column *col = ds_xmalloc((json_object_size(first) + 1) * sizeof(*col));
	const char *key;
	json_t *v;

	*ncols = 0;
	json_object_foreach(first, key, v)
	{
		int w = ds_display_width(key);

		if (!is_scalar(v))
			continue;
		col[*ncols] = (struct column){ .key = key,
					       .natural = w,
					       .right = json_is_number(v),
					       .holds = holds_of(key, v),
					       .says_nothing = 1,
					       .shown = 1 };
		(*ncols)++;
	}
	return col;
}

static void put_table_header(FILE *out, const struct column *col, size_t ncols, int indent)
{
	int first = 1;

	pad(out, indent);
	for (size_t c = 0; c < ncols; c++) {
		char *head = ds_render_shortened(col[c].key, col[c].width);
		int w = ds_display_width(head);

		if (!col[c].shown) {
			free(head);
			continue;
		}
		fputs(first ? " " : "| ", out);
		pad(out, (col[c].width - w) / 2);
		fprintf(out, "%s%s%s", BOLD, head, RESET);
		pad(out, col[c].width - w - (col[c].width - w) / 2 + 1);
		first = 0;
		free(head);
	}
	fputc('\n', out);
	pad(out, indent);
	first = 1;
	for (size_t c = 0; c < ncols; c++) {
		if (!col[c].shown)
			continue;
		fputs(first ? "" : "+", out);
		for (int k = 0; k < col[c].width + 2; k++)
			fputc('-', out);
		first = 0;
	}
	fputc('\n', out);
}

/*
 * A cell shortened to width: a timestamp with its age (with_age) that does not fit
 * becomes its age, "3h ago", which says more than a cut date; a name is cut in its middle
 * (ds_render_shortened_name), other text at its end (ds_render_shortened).
 * Caller frees.
 */
static char *fitted_cell(const char *text, int width, enum holds h)
{
	int age = age_width(text);

	if (ds_display_width(text) > width && age && age <= width)
		return ds_xprintf("%.*s", age, text + 22);
	return h == IDENTITY ? ds_render_shortened_name(text, width)
			     : ds_render_shortened(text, width);
}

static void put_table_row(FILE *out, const struct column *col, size_t ncols, int indent,
			  char **cells)
{
	size_t last = 0;

	for (size_t c = 0; c < ncols; c++)
		if (col[c].shown)
			last = c;
	pad(out, indent);
	for (size_t c = 0; c < ncols; c++) {
		char *text;
		int gap;

		if (!col[c].shown)
			continue;
		text = fitted_cell(cells[c], col[c].width, col[c].holds);
		gap = col[c].width - ds_display_width(text);
		fputs(c == 0 ? " " : "| ", out);
		if (col[c].right)
			pad(out, gap);
		put_cell(out, col[c].key, text);
		if (!col[c].right && c < last)
			pad(out, gap);
		if (c < last)
			fputc(' ', out);
		free(text);
	}
	fputc('\n', out);
}

/*
 * An array of objects as a psql-style table; columns from the first row's keys. Nested
 * values (a map of keys to states, say) are for scripts: --json has them, the table
 * leaves them out. total counts the rows there are when more than these (0 if not).
 */
static void render_table(FILE *out, json_t *rows, int indent, json_int_t total)
{
	size_t ncols, nrows = json_array_size(rows), i, c;
	struct column *col = table_columns(json_array_get(rows, 0), &ncols);
	char ***cells = ds_xmalloc(nrows * sizeof(*cells));
	json_t *row;
	int left_out;

	json_array_foreach(rows, i, row)
	{
		cells[i] = ds_xmalloc((ncols + 1) * sizeof(**cells));
		for (c = 0; c < ncols; c++) {
			json_t *v = json_object_get(row, col[c].key);

			cells[i][c] = v ? scalar_text(v) : ds_xstrdup("");
			measure_cell(&col[c], cells[i][c]);
		}
	}
	for (c = 0; c < ncols; c++) {
		int head = ds_display_width(col[c].key);

		/* Shown as ages, the column is as wide as its widest age, or its header. */
		col[c].as_ages = col[c].as_ages <= 0	 ? 0
				 : col[c].as_ages > head ? col[c].as_ages
							 : head;
		col[c].least = least_width(&col[c]);
	}
	left_out = fit_columns(col, ncols, indent);
	put_table_header(out, col, ncols, indent);
	for (i = 0; i < nrows; i++) {
		put_table_row(out, col, ncols, indent, cells[i]);
		for (c = 0; c < ncols; c++)
			free(cells[i][c]);
		free(cells[i]);
	}
	put_table_footer(out, col, ncols, indent, nrows, total, left_out);
	free(cells);
	free(col);
}

static int is_table(json_t *v)
{
	return json_is_array(v) && json_array_size(v) > 0 && json_is_object(json_array_get(v, 0));
}

/*
 * How many rows the list obj.key holds in all when the core cut it short: its sibling
 * KEY_total, or "total" (status's stuck keys); NULL if it has none.
 */
static json_t *total_member(json_t *obj, const char *key)
{
	char *name = ds_xprintf("%s_total", key);
	json_t *total = json_object_get(obj, name);

	free(name);
	return total ? total : json_object_get(obj, "total");
}

/* Whether obj.key counts the rows of a list beside it: its table's footer says it. */
static int counts_a_list(json_t *obj, const char *key)
{
	size_t n = strlen(key);
	const char *name;
	json_t *v;

	if (!json_is_integer(json_object_get(obj, key)))
		return 0;
	json_object_foreach(obj, name, v)
	{
		if (!json_is_array(v))
			continue;
		if (!strcmp(key, "total") || (n == strlen(name) + 6 && !strncmp(key, name, n - 6) &&
					      !strcmp(key + n - 6, "_total")))
			return 1;
	}
	return 0;
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
		char *label;

		if (is_scalar(v) && counts_a_list(obj, key))
			continue;
		label = label_of(key);
		pad(out, indent);
		if (is_scalar(v)) {
			/* A field with no value says so ("Batch  none"), as a table cell does not. */
			char *text = json_is_null(v) ? ds_xstrdup("none") : scalar_text(v);

			fprintf(out, "%s", label);
			pad(out, width - ds_display_width(label) + 2);
			put_folded(out, text, indent + width + 2);
			free(text);
		} else if (!strcmp(key, "tasks") && ds_is_calendar(obj)) {
			/* The strips under their axis, then the rest of the tasks' columns. */
			json_t *rows = ds_tasks_without_strips(v);

			ds_render_strips(out, obj, indent);
			pad(out, indent);
			fprintf(out, "%s\n", label);
			ds_render_value(out, rows, indent + 2);
			json_decref(rows);
		} else if (is_table(v)) {
			json_t *total = total_member(obj, key);

			fprintf(out, "%s\n", label);
			render_table(out, v, indent + 2, json_integer_value(total));
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
		render_table(out, v, indent, 0);
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, item)
		{
			char *text = scalar_text(item);

			pad(out, indent);
			put_folded(out, text, indent);
			free(text);
		}
	} else {
		char *text = scalar_text(v);

		pad(out, indent);
		put_folded(out, text, indent);
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
/*
 * A line of a text result, folded at spaces to fit the terminal: what follows its own
 * indentation goes on, two columns further in, on the lines after (a tree of why keeps
 * its shape). A word too long for a line is split; nothing is cut.
 */
static void put_line_folded(FILE *out, const char *line, size_t n)
{
	char *copy = ds_xprintf("%.*s", (int)n, line);
	int indent = (int)strspn(copy, " ");

	pad(out, indent);
	put_folded(out, copy + indent, indent + 2);
	free(copy);
}

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
		if (!in_diff && !c[0] && fit_width)
			put_line_folded(out, text, n);
		else
			fprintf(out, "%s%.*s%s\n", c, (int)n, text, c[0] ? RESET : "");
		text += n + (text[n] == '\n');
	}
}

void ds_render_text(FILE *out, const char *text)
{
	size_t n = strlen(text);

	/* Diffs are coloured, other lines folded to the terminal (neither in a pipe). */
	if (colour || fit_width) {
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
