/* test_textdiff: the line diff and its unified hunks, against what `diff -U3` prints. */
#include <stdlib.h>
#include <string.h>

#include "../../core/textdiff.h"
#include "../../core/util.h"
#include "tap.h"

/* The unified diff of old and new with 3 lines of context, "" when the same. */
static void diff_is(const char *old, const char *new, const char *want, const char *name)
{
	char *got = ds_diff_unified(old, new, "a", "b", 3);

	tap_is_str(got ? got : "", want, name);
	free(got);
}

/* "1\n2\n...\nn\n": numbered lines. Caller frees. */
static char *numbered(int n)
{
	struct ds_buf b = DS_BUF_INIT;

	for (int i = 1; i <= n; i++)
		ds_buf_addf(&b, "%d\n", i);
	return ds_buf_take(&b);
}

/* numbered(n) with line k replaced by text. Caller frees. */
static char *numbered_with(int n, int k, const char *text)
{
	struct ds_buf b = DS_BUF_INIT;

	for (int i = 1; i <= n; i++)
		if (i == k)
			ds_buf_addf(&b, "%s\n", text);
		else
			ds_buf_addf(&b, "%d\n", i);
	return ds_buf_take(&b);
}

/* Apply a diff's hunks to old and compare with new: the diff is a correct one. */
static int applies(const char *old, const char *new, int context)
{
	struct ds_diff d;
	struct ds_buf out = DS_BUF_INIT;
	const char *p = old;
	int line = 1, ok;
	char *text;

	ds_diff_texts(old, new, context, &d);
	for (int h = 0; h < d.nhunks; h++) {
		int until = d.hunks[h].old_lines ? d.hunks[h].old_start : d.hunks[h].old_start + 1;

		for (; line < until; line++) {
			size_t n = strcspn(p, "\n");

			ds_buf_addf(&out, "%.*s\n", (int)n, p);
			p += n + (p[n] == '\n');
		}
		for (int k = d.hunks[h].first; k < d.hunks[h].first + d.hunks[h].nlines; k++) {
			const struct ds_diff_line *l = &d.lines[k];

			if (l->op != '+') {
				size_t n = strcspn(p, "\n");

				if (n != l->len || memcmp(p, l->text, n))
					return 0;
				p += n + (p[n] == '\n');
				line++;
			}
			if (l->op != '-')
				ds_buf_addf(&out, "%.*s\n", (int)l->len, l->text);
		}
	}
	ds_buf_addf(&out, "%s", p);
	text = ds_buf_take(&out);
	ok = !strcmp(text, new);
	free(text);
	ds_diff_release(&d);
	return ok;
}

int main(void)
{
	char *a, *b;
	struct ds_diff d;

	diff_is("x\ny\n", "x\ny\n", "", "identical texts: no diff");
	diff_is("", "", "", "two empty texts: no diff");
	diff_is("x\ny", "x\ny\n", "", "a missing last newline is not a line");
	tap_is_int(ds_diff_texts("x\n", "x\n", 3, &d), 0, "identical texts: no hunks");
	ds_diff_release(&d);

	diff_is("", "x\ny\n", "--- a\n+++ b\n@@ -0,0 +1,2 @@\n+x\n+y\n", "the old side empty");
	diff_is("x\ny\n", "", "--- a\n+++ b\n@@ -1,2 +0,0 @@\n-x\n-y\n", "the new side empty");
	diff_is("x\n", "y\n", "--- a\n+++ b\n@@ -1 +1 @@\n-x\n+y\n",
		"one line changed: counts of one are left out");

	a = numbered(10);
	b = numbered_with(10, 1, "one");
	diff_is(a, b, "--- a\n+++ b\n@@ -1,4 +1,4 @@\n-1\n+one\n 2\n 3\n 4\n",
		"a change at the start: context after it only");
	free(b);
	b = numbered_with(10, 10, "ten");
	diff_is(a, b, "--- a\n+++ b\n@@ -7,4 +7,4 @@\n 7\n 8\n 9\n-10\n+ten\n",
		"a change at the end: context before it only");
	free(b);
	b = numbered_with(10, 5, "five");
	diff_is(a, b, "--- a\n+++ b\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n",
		"a change in the middle: 3 lines of context each side");
	free(b);
	free(a);

	diff_is("1\n2\n3\n4\n", "1\n2\nnew\n3\n4\n",
		"--- a\n+++ b\n@@ -1,4 +1,5 @@\n 1\n 2\n+new\n 3\n 4\n", "an insertion");
	diff_is("1\n2\n3\n4\n5\n6\n7\n8\n", "1\n2\n3\n4\n5\n6\n7\n8\n9\n",
		"--- a\n+++ b\n@@ -6,3 +6,4 @@\n 6\n 7\n 8\n+9\n", "an append");
	diff_is("1\n2\n3\n4\n5\n6\n7\n8\n", "0\n1\n2\n3\n4\n5\n6\n7\n8\n",
		"--- a\n+++ b\n@@ -1,3 +1,4 @@\n+0\n 1\n 2\n 3\n", "an insertion at the top");
	diff_is("1\n2\n3\n4\n5\n6\n7\n8\n", "1\n2\n3\n4\n6\n7\n8\n",
		"--- a\n+++ b\n@@ -2,7 +2,6 @@\n 2\n 3\n 4\n-5\n 6\n 7\n 8\n", "a deletion");

	/* Changes at lines 2 and 9: 6 kept lines between, within 2 contexts: one hunk. */
	a = numbered(12);
	b = numbered_with(12, 2, "two");
	{
		char *c = numbered_with(12, 9, "nine"), *bc;
		size_t at = strlen("1\ntwo\n3\n4\n5\n6\n7\n8\n");

		bc = ds_xprintf("%.*s%s", (int)at, b, c + strlen("1\n2\n3\n4\n5\n6\n7\n8\n"));
		diff_is(a, bc,
			"--- a\n+++ b\n@@ -1,12 +1,12 @@\n 1\n-2\n+two\n 3\n 4\n 5\n 6\n 7\n 8\n"
			"-9\n+nine\n 10\n 11\n 12\n",
			"changes 6 lines apart make one hunk");
		free(bc);
		free(c);
	}
	free(b);
	free(a);
	/* Changes at lines 2 and 10: 7 kept lines between: two hunks. */
	a = numbered(14);
	b = ds_xstrdup("1\ntwo\n3\n4\n5\n6\n7\n8\n9\nten\n11\n12\n13\n14\n");
	diff_is(a, b,
		"--- a\n+++ b\n@@ -1,5 +1,5 @@\n 1\n-2\n+two\n 3\n 4\n 5\n"
		"@@ -7,7 +7,7 @@\n 7\n 8\n 9\n-10\n+ten\n 11\n 12\n 13\n",
		"changes 7 lines apart make two hunks");
	tap_is_int(ds_diff_texts(a, b, 3, &d), 2, "  two hunks as data");
	tap_is_int(d.hunks[1].old_start, 7, "  the second starts at line 7");
	tap_is_int(d.hunks[1].nlines, 8, "  with 8 lines");
	tap_ok(d.lines[d.hunks[1].first + 3].op == '-' &&
		       !strncmp(d.lines[d.hunks[1].first + 3].text, "10", 2),
	       "  its fourth line removes 10");
	ds_diff_release(&d);
	free(b);
	free(a);

	diff_is("SELECT a,\n       b\nFROM t\nWHERE x\n", "SELECT a,\n       c\nFROM t\n",
		"--- a\n+++ b\n@@ -1,4 +1,3 @@\n SELECT a,\n-       b\n+       c\n FROM t\n"
		"-WHERE x\n",
		"a change and a deletion");
	diff_is("a\nb\nc\na\nb\nb\na\n", "c\nb\na\nb\na\nc\n",
		"--- a\n+++ b\n@@ -1,7 +1,6 @@\n-a\n-b\n c\n+b\n a\n b\n-b\n a\n+c\n",
		"the shortest edit script of Myers' paper");

	/* Large bodies: one change in 20000 lines; and bodies too different to search. */
	a = numbered(20000);
	b = numbered_with(20000, 12345, "changed");
	diff_is(a, b,
		"--- a\n+++ b\n@@ -12342,7 +12342,7 @@\n 12342\n 12343\n 12344\n-12345\n"
		"+changed\n 12346\n 12347\n 12348\n",
		"one change in 20000 lines");
	free(b);
	{
		struct ds_buf o = DS_BUF_INIT;

		for (int i = 1; i <= 20000; i++)
			ds_buf_addf(&o, "%d\n", i % 3 ? i : -i);
		b = ds_buf_take(&o);
	}
	tap_ok(applies(a, b, 3), "a diff past the search's bound still turns old into new");
	free(b);
	free(a);
	tap_ok(applies("a\nb\nc\na\nb\nb\na\n", "c\nb\na\nb\na\nc\n", 3), "hunks apply");
	tap_ok(applies("1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n", "1\nx\n3\n4\n5\n6\n7\n8\ny\n10\n11\n", 1),
	       "hunks with one line of context apply");
	tap_ok(applies("", "x\n", 0), "an insertion into nothing applies, without context");
	return tap_done();
}
