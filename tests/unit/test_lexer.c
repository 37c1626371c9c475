/* test_lexer: word splitting as a POSIX shell does it, and errors that point at a column. */
#include <stdlib.h>

#include "../../shell/lexer.h"
#include "tap.h"

/* Split line and compare the words joined with '|' against want. */
static void splits_to(const char *line, const char *want, const char *name)
{
	struct ds_words w;
	struct ds_error err;
	char joined[512] = "";

	if (ds_split(line, &w, &err) < 0) {
		tap_ok(0, name);
		printf("#   unexpected error: %s\n", err.message);
		return;
	}
	for (int i = 0; i < w.n; i++) {
		if (i)
			strcat(joined, "|");
		strcat(joined, w.v[i]);
	}
	tap_is_str(joined, want, name);
	ds_words_release(&w);
}

static void fails_at(const char *line, int column, const char *message, const char *name)
{
	struct ds_words w;
	struct ds_error err;

	if (ds_split(line, &w, &err) == 0) {
		tap_ok(0, name);
		printf("#   no error for '%s'\n", line);
		ds_words_release(&w);
		return;
	}
	tap_is_int(err.column, column, name);
	tap_is_str(err.message, message, name);
}

int main(void)
{
	struct ds_words w;

	splits_to("status", "status", "one word");
	splits_to("  backfill   orders  2024-01 ", "backfill|orders|2024-01",
		  "blanks separate words");
	splits_to("a 'b c' d", "a|b c|d", "single quotes keep blanks");
	splits_to("'it''s'", "its", "adjacent quoted parts join");
	splits_to("\"a \\\"q\\\" \\\\ \\n\"", "a \"q\" \\ \\n",
		  "double quotes: only \\ \" $ ` escape");
	splits_to("'a\\b'", "a\\b", "single quotes keep backslashes");
	splits_to("a\\ b", "a b", "backslash escapes a blank");
	splits_to("x '' y", "x||y", "an empty quoted word is a word");
	splits_to("status # a comment", "status", "# at a word's start begins a comment");
	splits_to("a#b", "a#b", "# inside a word is a character");
	splits_to("", "", "an empty line has no words");
	splits_to("orders_\xc3\xa9t\xc3\xa9", "orders_\xc3\xa9t\xc3\xa9", "UTF-8 passes through");

	fails_at("status \"abc", 8, "unterminated double quote at column 8", "unterminated double");
	fails_at("a 'b", 3, "unterminated single quote at column 3", "unterminated single");
	fails_at("a \\", 3, "trailing backslash at column 3", "trailing backslash");

	ds_split_partial("help 'sta", &w);
	tap_is_int(w.n, 2, "partial: an open quote ends the last word");
	tap_is_str(w.v[1], "sta", "partial: the word so far");
	ds_words_release(&w);

	ds_split_partial("local st", &w);
	tap_is_str(w.v[1], "st", "partial: a word being typed");
	ds_words_release(&w);
	return tap_done();
}
