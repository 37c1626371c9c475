/* test_opt: the option parser every command shares, and "did you mean". */
#include <stdlib.h>

#include "../../commands/lib/opt.h"
#include "../../core/util.h"
#include "tap.h"

/* A command's own options, and the common ones, as two structs filled at once. */
struct own {
	int dry_run;
	const char *create_sql;
	long priority;
	const char *exclude;
};

struct common {
	int help, json;
};

static const struct ds_opt own_opts[] = {
	DS_OPT_BOOL("dry-run", struct own, dry_run, "change nothing"),
	DS_OPT_STRING("create-sql", struct own, create_sql, "FILE", "a definition"),
	DS_OPT_INT("priority", struct own, priority, "N", "a priority"),
	DS_OPT_LIST("exclude", struct own, exclude, "SELECTOR", "tasks to leave out"),
	DS_OPT_END,
};

static const struct ds_opt common_opts[] = {
	DS_OPT_BOOL("help", struct common, help, "help"),
	DS_OPT_BOOL("json", struct common, json, "json"),
	DS_OPT_END,
};

static struct own own;
static struct common common;
static struct ds_opt_parsed parsed;

/* Parse argv into fresh structs; the words and options given end up in parsed. */
static int parse(int argc, char **argv, struct ds_error *err)
{
	const struct ds_opt_set sets[] = { { common_opts, &common }, { own_opts, &own } };

	memset(&own, 0, sizeof(own));
	memset(&common, 0, sizeof(common));
	own.priority = 7; /* a default, kept unless given */
	ds_opt_parsed_release(&parsed);
	return ds_opt_parse("cmd", sets, 2, argc, argv, &parsed, err);
}

int main(void)
{
	struct ds_error err;

	{
		char *argv[] = {
			"cmd", "a",	 "--dry-run", "--create-sql=x.sql", "--priority", "-3",
			"b",   "--json", "--",	      "--not-an-option",    "-",	  NULL
		};

		tap_is_int(parse(11, argv, &err), 0, "a mixed line parses");
		tap_is_int(own.dry_run, 1, "a flag is set");
		tap_is_str(own.create_sql, "x.sql", "--name=value");
		tap_is_int(own.priority, -3, "--name value, a negative number");
		tap_is_int(common.json, 1, "each set fills its own struct");
		tap_is_int(common.help, 0, "--help not given");
		tap_is_int(parsed.nwords, 4, "words, including after --");
		tap_is_str(parsed.words[2], "--not-an-option", "-- ends the options");
		tap_is_str(parsed.words[3], "-", "a lone dash is a word");
		tap_is_int(parsed.ngiven, 4, "the options given are listed");
		tap_ok(parsed.given[0] == &own_opts[0] && parsed.given[3] == &common_opts[1],
		       "as their rows, in the order given");
	}
	{
		char *argv[] = { "cmd", "--exclude", "a", NULL };

		parse(3, argv, &err);
		tap_is_str(own.exclude, "a", "a list option given once is its value");
	}
	{
		char *argv[] = { "cmd",	      "--exclude", "a&b", "x", "--exclude=/c,d/",
				 "--exclude", "e",	   NULL };

		tap_is_int(parse(7, argv, &err), 0, "a list option repeats");
		tap_is_str(own.exclude, "a&b,/c,d/,e", "its values are joined with commas");
		tap_is_int(parsed.nwords, 1, "its values are not words");
	}
	{
		char *argv[] = { "cmd", "a", NULL };

		parse(2, argv, &err);
		tap_is_int(own.priority, 7, "an option not given keeps its default");
		tap_is_str(own.create_sql, NULL, "a string not given stays NULL");
	}
	{
		char *argv[] = { "cmd", "--dry-rn", NULL };

		tap_is_int(parse(2, argv, &err), -1, "a typo fails");
		tap_is_str(err.message,
			   "unknown option '--dry-rn' for 'cmd' (did you mean '--dry-run'?)",
			   "and suggests the closest option");
		tap_is_int(err.kind, DS_ERR_USAGE, "as a usage error");
	}
	{
		char *argv[] = { "cmd", "--jsn", NULL };

		parse(2, argv, &err);
		tap_is_str(err.message, "unknown option '--jsn' for 'cmd' (did you mean '--json'?)",
			   "the suggestion looks in every set");
	}
	{
		char *argv[] = { "cmd", "--priority", "high", NULL };

		parse(3, argv, &err);
		tap_is_str(err.message,
			   "option '--priority' of 'cmd' needs a whole number, not 'high'",
			   "an integer option checks its value");
	}
	{
		char *argv[] = { "cmd", "--create-sql", NULL };

		parse(2, argv, &err);
		tap_is_str(err.message, "option '--create-sql' of 'cmd' needs a value (FILE)",
			   "a missing value is named");
	}
	{
		char *argv[] = { "cmd", "-x", NULL };

		parse(2, argv, &err);
		tap_is_str(err.message, "unknown option '-x' for 'cmd'",
			   "short options do not exist");
	}
	{
		char *argv[] = { "cmd", "--dry-run=yes", NULL };

		parse(2, argv, &err);
		tap_is_str(err.message, "option '--dry-run' of 'cmd' takes no value",
			   "a flag refuses a value");
	}
	{
		const struct ds_opt_set sets[] = { { common_opts, NULL }, { own_opts, NULL } };

		tap_ok(ds_opt_find(sets, 2, "priority=3", 8) == &own_opts[2],
		       "find: by the name before '='");
		tap_ok(ds_opt_find(sets, 2, "prio", 4) == NULL, "find: no prefixes");
	}
	{
		const char *const names[] = { "status", "init", "help", "local", NULL };

		tap_is_str(ds_closest("stauts", names), "status", "closest: a transposition");
		tap_is_str(ds_closest("xyz", names), NULL, "closest: nothing near");
		tap_is_int(ds_edit_distance("kitten", "sitting", 5), 3, "edit distance");
		tap_is_int(ds_edit_distance("a", "abcdef", 2), 3, "edit distance is capped");
	}
	ds_opt_parsed_release(&parsed);
	return tap_done();
}
