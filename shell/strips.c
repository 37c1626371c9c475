/*
 * strips.c: the calendar strips of status, for people, under an axis that says which
 * key each mark is: the days of a month, every seventh one numbered (1, 8, 15, 22, 29),
 * or the hours of a day, every sixth one numbered. A range within one month (one day,
 * for hours) is one line per task under the axis, labelled with the month (the day);
 * a longer one folds into a line per month (per day), labelled with it, under the
 * task's name and the axis, so that a year is twelve lines of at most 31 marks.
 */
#include <stdlib.h>
#include <string.h>

#include "../core/key.h"
#include "../core/util.h"
#include "render.h"

/* The keys of a range cut where the axis starts again: months of days, days of hours. */
struct period {
	char label[DS_KEY_SIZE]; /* "2026-11", or "2026-11-14" for hours */
	long from;		 /* the place of its first key in the strips */
	int slot;		 /* the place of its first key on the axis */
	int n;			 /* its keys */
};

struct periods {
	struct period *p;
	int n;
	long keys;		  /* in the whole range */
	int hourly;		  /* the keys are hours */
	int first_slot, end_slot; /* the places on the axis that the lines span */
};

/* The place of a key on the axis: its day of the month from 0, or its hour. */
static int key_slot(const char *key, int hourly)
{
	return hourly ? atoi(key + 11) : atoi(key + 8) - 1;
}

static void add_key(struct periods *ps, const char *key)
{
	size_t label_len = ps->hourly ? 10 : 7;
	struct period *last = ps->n ? &ps->p[ps->n - 1] : NULL;
	int slot = key_slot(key, ps->hourly);

	if (!last || strncmp(last->label, key, label_len)) {
		ps->p = ds_xrealloc(ps->p, (size_t)(ps->n + 1) * sizeof(*ps->p));
		last = &ps->p[ps->n++];
		snprintf(last->label, sizeof(last->label), "%.*s", (int)label_len, key);
		last->from = ps->keys;
		last->slot = slot;
		last->n = 0;
		if (ps->n == 1 || slot < ps->first_slot)
			ps->first_slot = slot;
	}
	last->n++;
	ps->keys++;
	if (slot + 1 > ps->end_slot)
		ps->end_slot = slot + 1;
}

/* The periods of first..last, keys of the kind their length says. */
static void periods_of(struct periods *ps, const char *first, const char *last)
{
	enum ds_key_kind kind = strlen(first) == 13 ? DS_KEY_HOURLY : DS_KEY_DAILY;
	char key[DS_KEY_SIZE];

	memset(ps, 0, sizeof(*ps));
	ps->hourly = kind == DS_KEY_HOURLY;
	snprintf(key, sizeof(key), "%s", first);
	for (;;) {
		add_key(ps, key);
		if (strcmp(key, last) >= 0)
			break;
		ds_key_shift(kind, key, 1, key);
	}
}

/* Whether a place on the axis is numbered: every seventh day from the 1st, every sixth hour. */
static int slot_marked(const struct periods *ps, int slot)
{
	return ps->hourly ? slot % 6 == 0 : slot % 7 == 0;
}

static int slot_number(const struct periods *ps, char *out, size_t size, int slot)
{
	return snprintf(out, size, ps->hourly ? "%02d" : "%d", ps->hourly ? slot : slot + 1);
}

/*
 * The axis over the places the lines span: each number starts right above its key. The
 * first place is numbered too when it is not and its number fits before the next.
 * Caller frees.
 */
static char *axis_text(const struct periods *ps)
{
	int width = ps->end_slot - ps->first_slot;
	char *text = memset(ds_xmalloc((size_t)width + 4), ' ', (size_t)width + 3);
	int free_from = 0, end = 0;

	for (int slot = ps->first_slot; slot < ps->end_slot; slot++) {
		int at = slot - ps->first_slot, next = slot + 1, len;
		char number[8];

		if (!slot_marked(ps, slot) && slot != ps->first_slot)
			continue;
		len = slot_number(ps, number, sizeof(number), slot);
		while (next < ps->end_slot && !slot_marked(ps, next))
			next++;
		if (!slot_marked(ps, slot) && next < ps->end_slot && next - slot < len + 1)
			continue;
		if (at < free_from)
			continue;
		memcpy(text + at, number, (size_t)len);
		free_from = at + len + 1;
		end = at + len;
	}
	text[end] = '\0';
	return text;
}

static void pad(FILE *out, int n)
{
	while (n-- > 0)
		fputc(' ', out);
}

/* "label  " padded to width, after the indent; a label wider is shortened to it. */
static void put_label(FILE *out, int indent, const char *label, int width)
{
	char *shown = ds_render_shortened_name(label, width);

	pad(out, indent);
	fputs(shown, out);
	pad(out, width - ds_display_width(shown) + 2);
	free(shown);
}

/*
 * How narrow the label column may get to fit the terminal: as a table's column that
 * says what a row is (render.c), and never narrower than the period labels.
 */
#define LABEL_LEAST 16

/*
 * The width of the label column, after indent: the longest of the names and of the
 * period labels; where that is too wide for the terminal, what is left beside the
 * axis and the marks (span), as the names give way and the marks never do.
 */
static int label_width(json_t *tasks, const struct periods *ps, int folded, int indent, int span)
{
	int least = folded ? 2 + (int)strlen(ps->p[0].label) : (int)strlen(ps->p[0].label);
	int width = least, room = ds_render_width() - indent - 2 - span;
	size_t i;
	json_t *task;

	json_array_foreach(tasks, i, task)
	{
		int w = ds_display_width(json_string_value(json_object_get(task, "task")));

		if (w > width)
			width = w;
	}
	if (least < LABEL_LEAST)
		least = LABEL_LEAST;
	if (!ds_render_width() || width <= room || width <= least)
		return width;
	return room > least ? room : least;
}

/* One task's strip: on its own line, or folded under its name and the axis. */
static void render_task(FILE *out, json_t *task, const struct periods *ps, const char *axis,
			int indent, int width)
{
	const char *name = json_string_value(json_object_get(task, "task"));
	const char *strip = json_string_value(json_object_get(task, "strip"));

	put_label(out, indent, name, width);
	/* A task without keys has one mark whatever the range. */
	if (ps->n == 1 || (long)strlen(strip) != ps->keys) {
		ds_render_marks(out, strip, strlen(strip));
		fputc('\n', out);
		return;
	}
	fprintf(out, "%s\n", axis);
	for (int i = 0; i < ps->n; i++) {
		put_label(out, indent + 2, ps->p[i].label, width - 2);
		pad(out, ps->p[i].slot - ps->first_slot);
		ds_render_marks(out, strip + ps->p[i].from, (size_t)ps->p[i].n);
		fputc('\n', out);
	}
}

int ds_is_calendar(json_t *obj)
{
	json_t *tasks = json_object_get(obj, "tasks");
	const char *first = json_string_value(json_object_get(obj, "first_key"));

	return first && (strlen(first) == 10 || strlen(first) == 13) &&
	       json_is_string(json_object_get(obj, "last_key")) && json_array_size(tasks) &&
	       json_is_string(json_object_get(json_array_get(tasks, 0), "strip"));
}

void ds_render_strips(FILE *out, json_t *calendar, int indent)
{
	json_t *tasks = json_object_get(calendar, "tasks"), *task;
	struct periods ps;
	char *axis;
	int width, span;
	size_t i;

	periods_of(&ps, json_string_value(json_object_get(calendar, "first_key")),
		   json_string_value(json_object_get(calendar, "last_key")));
	axis = axis_text(&ps);
	span = ps.end_slot - ps.first_slot;
	width = label_width(tasks, &ps, ps.n > 1, indent + 2,
			    (int)strlen(axis) > span ? (int)strlen(axis) : span);
	pad(out, indent);
	fputs("Strips\n", out);
	if (ps.n == 1) {
		put_label(out, indent + 2, ps.p[0].label, width);
		fprintf(out, "%s\n", axis);
	}
	json_array_foreach(tasks, i, task) render_task(out, task, &ps, axis, indent + 2, width);
	free(axis);
	free(ps.p);
}

json_t *ds_tasks_without_strips(json_t *tasks)
{
	json_t *rows = json_array(), *task;
	size_t i;

	json_array_foreach(tasks, i, task)
	{
		json_t *row = json_copy(task);

		json_object_del(row, "strip");
		json_array_append_new(rows, row);
	}
	return rows;
}
