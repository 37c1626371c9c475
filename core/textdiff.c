/*
 * textdiff.c: a line diff (Myers, "An O(ND) Difference Algorithm and Its Variations",
 * 1986) and its unified hunks. See textdiff.h.
 *
 * Lines are compared by a hash first, then by their bytes. The common first and last
 * lines are set aside before the search, so that one changed line in a long SQL body
 * costs a pass over it, not a search. The search keeps, for each number of differences
 * d, the furthest point reached on each diagonal (2d + 1 ints), to walk back from the
 * end; that is d^2 ints in all, and d is bounded by DS_DIFF_MAX_EDITS.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "textdiff.h"
#include "util.h"

struct line {
	const char *text;
	size_t len;
	uint64_t hash;
};

/* The lines of text; *n their number. Caller frees. */
static struct line *split_lines(const char *text, int *n)
{
	struct line *v = NULL;
	int cap = 0;

	*n = 0;
	while (*text) {
		size_t len = strcspn(text, "\n");
		uint64_t h = 1469598103934665603ULL; /* FNV-1a */

		for (size_t i = 0; i < len; i++)
			h = (h ^ (unsigned char)text[i]) * 1099511628211ULL;
		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			v = ds_xrealloc(v, (size_t)cap * sizeof(*v));
		}
		v[(*n)++] = (struct line){ text, len, h };
		text += len + (text[len] == '\n');
	}
	return v;
}

static int same_line(const struct line *a, const struct line *b)
{
	return a->hash == b->hash && a->len == b->len && !memcmp(a->text, b->text, a->len);
}

/* The edit script: one op per line kept ('='), removed ('-') or added ('+'), in order. */
struct script {
	char *ops;
	int n;
};

static void push(struct script *s, char op, int count)
{
	memset(s->ops + s->n, op, (size_t)count);
	s->n += count;
}

/*
 * The shortest script for a[0..n) to b[0..m), written at the end of s backwards then
 * turned around; or, past DS_DIFF_MAX_EDITS differences, all of a removed then all of b
 * added. a and b have no common first or last line.
 */
static void middle_script(const struct line *a, int n, const struct line *b, int m,
			  struct script *s)
{
	int max = n + m < DS_DIFF_MAX_EDITS ? n + m : DS_DIFF_MAX_EDITS;
	int *v = ds_xmalloc((size_t)(2 * max + 3) * sizeof(*v)), off = max + 1;
	int *trace = ds_xmalloc(((size_t)max + 1) * ((size_t)max + 1) * sizeof(*trace));
	int found = -1, start = s->n, x, y;

	v[off + 1] = 0;
	for (int d = 0; d <= max && found < 0; d++) {
		for (int k = -d; k <= d; k += 2) {
			if (k == -d || (k != d && v[off + k - 1] < v[off + k + 1]))
				x = v[off + k + 1]; /* down: a line of b added */
			else
				x = v[off + k - 1] + 1; /* right: a line of a removed */
			y = x - k;
			while (x < n && y < m && same_line(&a[x], &b[y]))
				x++, y++;
			v[off + k] = x;
			if (x >= n && y >= m)
				found = d;
		}
		/* The row of d: diagonals -d..d at trace[d * d ..]. */
		memcpy(trace + (size_t)d * d, v + off - d, (size_t)(2 * d + 1) * sizeof(*v));
	}
	if (found < 0) {
		push(s, '-', n);
		push(s, '+', m);
	} else {
		x = n;
		y = m;
		for (int d = found; d > 0; d--) {
			const int *row = trace + (size_t)(d - 1) * (d - 1) + (d - 1); /* row[k] */
			int k = x - y, pk, px, py;

			pk = k == -d || (k != d && row[k - 1] < row[k + 1]) ? k + 1 : k - 1;
			px = row[pk];
			py = px - pk;
			while (x > px && y > py)
				s->ops[s->n++] = '=', x--, y--;
			s->ops[s->n++] = x == px ? '+' : '-';
			x = px;
			y = py;
		}
		while (x > 0 && y > 0)
			s->ops[s->n++] = '=', x--, y--;
		for (int i = start, j = s->n - 1; i < j; i++, j--) {
			char t = s->ops[i];

			s->ops[i] = s->ops[j];
			s->ops[j] = t;
		}
	}
	free(trace);
	free(v);
}

/* The hunk over ops[from..to), whose first op is at line ai of a and bi of b. */
static void add_hunk(struct ds_diff *d, const struct script *s, int from, int to, int ai, int bi,
		     const struct line *a, const struct line *b)
{
	struct ds_diff_hunk *h;

	d->hunks = ds_xrealloc(d->hunks, (size_t)(d->nhunks + 1) * sizeof(*d->hunks));
	h = &d->hunks[d->nhunks++];
	*h = (struct ds_diff_hunk){ .first = d->nlines };
	d->lines = ds_xrealloc(d->lines, (size_t)(d->nlines + to - from) * sizeof(*d->lines));
	for (int i = from; i < to; i++) {
		char op = s->ops[i];
		const struct line *l = op == '+' ? &b[bi + h->new_lines] : &a[ai + h->old_lines];

		d->lines[d->nlines++] =
			(struct ds_diff_line){ op == '=' ? ' ' : op, l->text, l->len };
		h->old_lines += op != '+';
		h->new_lines += op != '-';
	}
	h->nlines = to - from;
	/* An empty side is said as the line before it. */
	h->old_start = h->old_lines ? ai + 1 : ai;
	h->new_start = h->new_lines ? bi + 1 : bi;
}

/* Cut the script into hunks: changes with context lines around, near ones merged. */
static void make_hunks(struct ds_diff *d, const struct script *s, int context, const struct line *a,
		       const struct line *b)
{
	int ai = 0, bi = 0, i = 0;

	while (i < s->n) {
		int from, last, j;

		if (s->ops[i] == '=') {
			i++, ai++, bi++;
			continue;
		}
		from = i - context > 0 ? i - context : 0;
		/* Merge while the run of kept lines between two changes is within 2 contexts. */
		for (last = j = i; j < s->n; j++) {
			if (s->ops[j] != '=')
				last = j;
			else if (j - last > 2 * context)
				break;
		}
		j = last + 1 + context < s->n ? last + 1 + context : s->n;
		/* The hunk's first line: the context before the change was counted as kept. */
		add_hunk(d, s, from, j, ai - (i - from), bi - (i - from), a, b);
		for (; i < j; i++) {
			ai += s->ops[i] != '+';
			bi += s->ops[i] != '-';
		}
	}
}

int ds_diff_texts(const char *old, const char *new, int context, struct ds_diff *d)
{
	int n, m, pre = 0, suf = 0;
	struct line *a = split_lines(old, &n), *b = split_lines(new, &m);
	struct script s;

	memset(d, 0, sizeof(*d));
	if (context < 0)
		context = 0;
	while (pre < n && pre < m && same_line(&a[pre], &b[pre]))
		pre++;
	while (suf < n - pre && suf < m - pre && same_line(&a[n - 1 - suf], &b[m - 1 - suf]))
		suf++;
	s.ops = ds_xmalloc((size_t)n + (size_t)m + 1);
	s.n = 0;
	push(&s, '=', pre);
	middle_script(a + pre, n - pre - suf, b + pre, m - pre - suf, &s);
	push(&s, '=', suf);
	make_hunks(d, &s, context, a, b);
	free(s.ops);
	free(a);
	free(b);
	return d->nhunks;
}

void ds_diff_release(struct ds_diff *d)
{
	free(d->lines);
	free(d->hunks);
	memset(d, 0, sizeof(*d));
}

/* "3,2", "3" for one line (as diff and git write it), "2,0" for none. */
static void add_range(struct ds_buf *b, int start, int lines)
{
	if (lines == 1)
		ds_buf_addf(b, "%d", start);
	else
		ds_buf_addf(b, "%d,%d", start, lines);
}

char *ds_diff_unified(const char *old, const char *new, const char *old_name, const char *new_name,
		      int context)
{
	struct ds_buf b = DS_BUF_INIT;
	struct ds_diff d;

	if (!ds_diff_texts(old, new, context, &d))
		return NULL;
	ds_buf_addf(&b, "--- %s\n+++ %s\n", old_name, new_name);
	for (int i = 0; i < d.nhunks; i++) {
		const struct ds_diff_hunk *h = &d.hunks[i];

		ds_buf_addf(&b, "@@ -");
		add_range(&b, h->old_start, h->old_lines);
		ds_buf_addf(&b, " +");
		add_range(&b, h->new_start, h->new_lines);
		ds_buf_addf(&b, " @@\n");
		for (int k = h->first; k < h->first + h->nlines; k++)
			ds_buf_addf(&b, "%c%.*s\n", d.lines[k].op, (int)d.lines[k].len,
				    d.lines[k].text);
	}
	ds_diff_release(&d);
	return ds_buf_take(&b);
}
