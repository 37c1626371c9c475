/*
 * render.h: turning a command's result into what a person or a script reads.
 *
 * People get aligned text: objects as labelled fields, nested objects as sections,
 * arrays of objects as tables like psql's. Scripts get the JSON document as it is.
 */
#ifndef DS_RENDER_H
#define DS_RENDER_H

#include <stdio.h>

#include <jansson.h>

#include "../commands/command.h"

/*
 * Print a result: its main table as CSV with --csv, its JSON with --json, else its
 * text, else its data rendered for a person.
 */
void ds_render_result(FILE *out, const struct ds_result *r);

/*
 * Print text for a person, ending in a newline; with colour, the unified diffs in it
 * (core/textdiff.h) in git's colours.
 */
void ds_render_text(FILE *out, const char *text);

/* Render any JSON value for a person. */
void ds_render_value(FILE *out, json_t *v, int indent);

/* Print the rows of data (see --csv in datashell(1)) as CSV. */
void ds_render_csv(FILE *out, json_t *data);

/*
 * Whether output to fd may have colour: it is a terminal, NO_COLOR is not set (to any
 * value) and TERM is not "dumb". Rendering for people uses colour once turned on.
 */
int ds_colour_wanted(int fd);
void ds_render_set_colour(int on);

/* Print n marks of a calendar strip, in colour when rendering has it. */
void ds_render_marks(FILE *out, const char *marks, size_t n);

/*
 * Whether obj is the calendar status shows for tasks: first_key, last_key, and tasks
 * with a strip each.
 */
int ds_is_calendar(json_t *obj);

/* Print "Strips" and the strips of a calendar's tasks under their axis (shell/strips.c). */
void ds_render_strips(FILE *out, json_t *calendar, int indent);

/* A calendar's tasks without their strips, for the table beside them. Caller frees. */
json_t *ds_tasks_without_strips(json_t *tasks);

/*
 * The width in columns that output for people must fit, or 0 (the default) for no
 * limit: tables shorten their free text (ending it with a cut mark: "…", or "~" where
 * the locale is not UTF-8), then the columns that identify a row, and only then leave
 * out columns, saying which; a calendar strip is never cut. Other text is folded at
 * spaces. The shell sets it to the terminal's width; --wide, --json, --csv and output
 * that is not a terminal are never cut.
 */
void ds_render_set_width(int columns);

/* The width set by ds_render_set_width(): 0 for no limit. */
int ds_render_width(void);

/*
 * text cut to width columns, its end replaced by the cut mark when it is wider.
 * Caller frees.
 */
char *ds_render_shortened(const char *text, int width);

/*
 * A name cut to width columns in its middle, keeping its start and its end (names
 * often differ only at their end: orders_eu_daily, orders_us_daily); as
 * ds_render_shortened when too narrow for that. Caller frees.
 */
char *ds_render_shortened_name(const char *text, int width);

/* The display width of a UTF-8 string in terminal columns. */
int ds_display_width(const char *s);

#endif
