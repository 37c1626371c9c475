/*
 * test_complete: what tab completion offers after a command's name, as the row's
 * .complete says, with names read from a real server (tests/t/07-unit-complete.t sets
 * up the database: the shop fixture and a warehouse table).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../commands/command.h"
#include "tap.h"

struct test_opts {
	const char *graph;
	int yes;
};

static const struct ds_opt opts[] = {
	DS_OPT_STRING("graph", struct test_opts, graph, "GRAPH", "a graph"),
	DS_OPT_BOOL("yes", struct test_opts, yes, "no questions"),
	DS_OPT_END,
};

/* A command as swap-table declares itself: actions, each taking a table. */
static const struct ds_action table_actions[] = {
	{ .name = "start",
	  .synopsis = "TABLE",
	  .summary = "a test",
	  .opts = opts,
	  .complete = "TABLE" },
	{ .name = "swap",
	  .synopsis = "TABLE",
	  .summary = "a test",
	  .opts = opts,
	  .complete = "TABLE" },
	{ .name = NULL },
};

static const struct ds_command table_cmd = {
	.name = "rebuild",
	.group = "test",
	.summary = "a test",
	.opts_size = sizeof(struct test_opts),
	.actions = table_actions,
};

static const struct ds_command runs_cmd = {
	.name = "runs",
	.group = "test",
	.synopsis = "BATCH | SELECTOR RANGE",
	.summary = "a test",
	.complete = "BATCH|SELECTOR KEY",
	.opts = opts,
	.opts_size = sizeof(struct test_opts),
};

/* A command that takes files, as pipeline load declares itself. */
static const struct ds_command files_cmd = {
	.name = "read",
	.group = "test",
	.summary = "a test",
	.complete = "FILE...",
	.opts = opts,
	.opts_size = sizeof(struct test_opts),
};

/* The local date n days from today, as a key; a static buffer. */
static const char *day(int n)
{
	static char text[16];
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	tm.tm_mday += n;
	tm.tm_hour = 12;
	tm.tm_isdst = -1;
	mktime(&tm);
	strftime(text, sizeof(text), "%Y-%m-%d", &tm);
	return text;
}

/* Whether the candidates for text (after words) include want. */
static int offers(struct ds_session *s, const struct ds_command *cmd, int n, char **words,
		  const char *text, const char *want)
{
	int how, found = 0;
	char **c = ds_complete_args(s, cmd, n, words, text, &how);

	for (int i = 0; c[i]; i++)
		found |= !strcmp(c[i], want);
	ds_names_free(c);
	return found;
}

int main(void)
{
	struct ds_session s = { .opts = { .schema = "datashell" } };
	char *start[] = { "start" }, *graph[] = { "--graph" }, *yes_start[] = { "--yes", "start" };
	char *sel[] = { "orders_raw" }, *frob[] = { "frob" };
	char *exclude[] = { "orders_raw+", "--exclude" };
	char **c;
	int how;

	tap_ok(!offers(&s, &table_cmd, 1, start, "", "sales_facts"),
	       "not connected: no names, and no connection made");
	tap_is_int(ds_db_connected(&s.db), 0, "completion does not connect");
	if (ds_session_connect(&s) < 0) {
		printf("Bail out! %s\n", s.err.message);
		return 1;
	}
	c = ds_complete_args(&s, &table_cmd, 0, NULL, "", &how);
	tap_is_str(c[0], "start", "the first word: the actions");
	ds_names_free(c);
	tap_ok(offers(&s, &table_cmd, 1, start, "", "sales_facts"), "then a table of the catalog");
	tap_ok(!offers(&s, &table_cmd, 1, frob, "", "sales_facts"),
	       "nothing after an unknown action");
	tap_ok(offers(&s, &table_cmd, 1, start, "", "warehouse.orders"),
	       "schema-qualified when not on the search path");
	tap_ok(!offers(&s, &table_cmd, 1, start, "", "datashell.runs"),
	       "not the state schema's tables");
	tap_ok(offers(&s, &table_cmd, 2, yes_start, "", "sales_facts"), "options are skipped");
	tap_ok(offers(&s, &table_cmd, 1, graph, "", "finance"), "--graph GRAPH completes graphs");
	tap_ok(offers(&s, &runs_cmd, 0, NULL, "", "orders_raw"), "a selector: tasks");
	tap_ok(offers(&s, &runs_cmd, 0, NULL, "", "graph:"), "a selector: graph:");
	tap_ok(offers(&s, &runs_cmd, 0, NULL, "graph:f", "graph:finance"), "graph:NAME");
	tap_ok(offers(&s, &runs_cmd, 0, NULL, "+o", "+orders_clean"), "+task");
	tap_ok(offers(&s, &runs_cmd, 0, NULL, "orders_raw", "orders_raw+"),
	       "task+ once the task is typed in full");
	tap_ok(!offers(&s, &runs_cmd, 0, NULL, "orders_r", "orders_r+"), "not before");
	tap_ok(offers(&s, &runs_cmd, 0, NULL, "revenue,orders_r", "revenue,orders_raw"),
	       "after a comma");
	tap_ok(offers(&s, &runs_cmd, 0, NULL, "orders_raw+&graph:f", "orders_raw+&graph:finance"),
	       "after an & (intersection)");
	tap_ok(offers(&s, &runs_cmd, 0, NULL, "a&+orders_c", "a&+orders_clean"),
	       "+task after an &");
	tap_ok(offers(&s, ds_command_find("backfill"), 2, exclude, "", "revenue"),
	       "--exclude SELECTOR completes a selector");
	tap_ok(offers(&s, ds_command_find("backfill"), 2, exclude, "revenue,g", "revenue,graph:"),
	       "each part of it");
	tap_ok(offers(&s, ds_command_find("status"), 2, exclude, "", "orders_raw"),
	       "status takes --exclude too");
	tap_ok(offers(&s, &runs_cmd, 0, NULL, "", "1"), "batch ids");
	c = ds_complete_args(&s, &runs_cmd, 0, NULL, "", &how);
	tap_is_str(c[0], "12", "the newest batch first");
	tap_is_str(c[1], "11", "then the one before, in numeric order");
	ds_names_free(c);
	tap_ok(how & DS_COMPLETE_IN_ORDER, "batch ids are offered in that order, not sorted");
	c = ds_complete_args(&s, &files_cmd, 1, start, "", &how);
	tap_ok(how & DS_COMPLETE_FILES, "FILE...: file names, from the shell, for every word");
	tap_ok(!(how & DS_COMPLETE_IN_ORDER), "sorted");
	ds_names_free(c);
	c = ds_complete_args(&s, &table_cmd, 1, start, "", &how);
	tap_is_int(how, 0, "no file names where the row does not say FILE");
	ds_names_free(c);
	tap_ok(offers(&s, &runs_cmd, 1, sel, "", "yesterday"), "then keys");
	tap_ok(offers(&s, &runs_cmd, 1, sel, "", day(-1)), "yesterday's date");
	tap_ok(offers(&s, &runs_cmd, 1, sel, "", day(-32)), "and the 31 dates before it");
	tap_ok(!offers(&s, &runs_cmd, 1, sel, "", day(-33)), "not earlier ones");
	tap_ok(!offers(&s, &runs_cmd, 1, sel, "", "today"), "never today: it is not due");
	tap_ok(!offers(&s, &runs_cmd, 1, sel, "", day(0)), "nor today's date");
	tap_ok(!offers(&s, &runs_cmd, 1, sel, "", day(1)), "nor a later one");
	ds_session_release(&s);
	return tap_done();
}
