/*
 * textdiff.h: the line diff of two texts, as unified diff hunks (what `git diff -U3`
 * prints): which lines were removed, which added, with lines of context around them.
 *
 * A text is split at '\n'; a last line without one is a line too, and a text ending in
 * '\n' has no empty line after it (so "a" and "a\n" compare equal). The diff is Myers'
 * shortest edit script, found on what lies between the common first and last lines; past
 * DS_DIFF_MAX_EDITS differences it stops looking for the shortest and reports that middle
 * as removed then added, which is still a correct diff, so time and memory stay bounded
 * for any input.
 */
#ifndef DS_TEXTDIFF_H
#define DS_TEXTDIFF_H

#include <stddef.h>

/* The most differences the search for the shortest diff goes through (memory ~ n^2 ints). */
#define DS_DIFF_MAX_EDITS 1000

/* One line of a hunk: kept (' '), removed ('-') or added ('+'); text is not NUL-ended. */
struct ds_diff_line {
	char op;
	const char *text; /* points into the old or the new text */
	size_t len;
};

/* "@@ -old_start,old_lines +new_start,new_lines @@", and its lines in the diff's lines. */
struct ds_diff_hunk {
	int old_start, old_lines; /* 1-based; with no lines, the line before (0 at the start) */
	int new_start, new_lines;
	int first, nlines; /* in ds_diff.lines */
};

struct ds_diff {
	struct ds_diff_line *lines; /* the lines of every hunk, in order */
	int nlines;
	struct ds_diff_hunk *hunks;
	int nhunks; /* 0: the texts have the same lines */
};

/*
 * The hunks that turn old into new, with context lines of context around each change;
 * hunks whose contexts would touch or overlap are one. d's lines point into old and new,
 * which must outlive it. Release with ds_diff_release(). Returns d->nhunks.
 */
int ds_diff_texts(const char *old, const char *new, int context, struct ds_diff *d);
void ds_diff_release(struct ds_diff *d);

/*
 * The unified diff of old and new as text: "--- OLD_NAME", "+++ NEW_NAME", then each
 * hunk's "@@ ... @@" line and its lines, each ending in '\n'. NULL when the texts have the
 * same lines. Caller frees.
 */
char *ds_diff_unified(const char *old, const char *new, const char *old_name, const char *new_name,
		      int context);

#endif
