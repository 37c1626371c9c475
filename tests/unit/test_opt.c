/* test_opt: the option parser every command shares, and "did you mean". */
#include <stdlib.h>

#include "../../commands/lib/opt.h"
#include "../../core/util.h"
#include "tap.h"

static const struct ds_opt opts[] = { DS_OPT_BOOL("dry-run", "change nothing"),
				      DS_OPT_STRING("create-sql", "FILE", "a definition"),
				      DS_OPT_INT("priority", "N", "a priority"), DS_OPT_END };

enum { HELP, JSON, CSV, DRY_RUN, CREATE_SQL, PRIORITY, NSLOTS };

static int parse(int argc, char **argv, struct ds_optval *vals, char ***args, int *nargs,
		 struct ds_error *err)
{
	memset(vals, 0, NSLOTS * sizeof(*vals));
	return ds_opt_parse("cmd", opts, argc, argv, vals, args, nargs, err);
}

int main(void)
{
	struct ds_optval vals[NSLOTS];
	struct ds_error err;
	char **args;
	int nargs;

	{
		char *argv[] = {
			"cmd", "a",	 "--dry-run", "--create-sql=x.sql", "--priority", "-3",
			"b",   "--json", "--",	      "--not-an-option",    "-",	  NULL
		};

		tap_is_int(parse(11, argv, vals, &args, &nargs, &err), 0, "a mixed line parses");
		tap_is_int(vals[DRY_RUN].set, 1, "a flag is set");
		tap_is_str(vals[CREATE_SQL].str, "x.sql", "--name=value");
		tap_is_int(vals[PRIORITY].num, -3, "--name value, a negative number");
		tap_is_int(vals[JSON].set, 1, "the common --json");
		tap_is_int(vals[HELP].set, 0, "--help not given");
		tap_is_int(nargs, 4, "words, including after --");
		tap_is_str(args[2], "--not-an-option", "-- ends the options");
		tap_is_str(args[3], "-", "a lone dash is a word");
		free(args);
	}
	{
		char *argv[] = { "cmd", "--dry-rn", NULL };

		tap_is_int(parse(2, argv, vals, &args, &nargs, &err), -1, "a typo fails");
		tap_is_str(err.message,
			   "unknown option '--dry-rn' for 'cmd' (did you mean '--dry-run'?)",
			   "and suggests the closest option");
		tap_is_int(err.kind, DS_ERR_USAGE, "as a usage error");
	}
	{
		char *argv[] = { "cmd", "--priority", "high", NULL };

		parse(3, argv, vals, &args, &nargs, &err);
		tap_is_str(err.message,
			   "option '--priority' of 'cmd' needs a whole number, not 'high'",
			   "an integer option checks its value");
	}
	{
		char *argv[] = { "cmd", "--create-sql", NULL };

		parse(2, argv, vals, &args, &nargs, &err);
		tap_is_str(err.message, "option '--create-sql' of 'cmd' needs a value (FILE)",
			   "a missing value is named");
	}
	{
		char *argv[] = { "cmd", "-x", NULL };

		parse(2, argv, vals, &args, &nargs, &err);
		tap_is_str(err.message, "unknown option '-x' for 'cmd'",
			   "short options do not exist");
	}
	{
		char *argv[] = { "cmd", "--dry-run=yes", NULL };

		parse(2, argv, vals, &args, &nargs, &err);
		tap_is_str(err.message, "option '--dry-run' of 'cmd' takes no value",
			   "a flag refuses a value");
	}
	{
		const char *const names[] = { "status", "init", "help", "local", NULL };

		tap_is_str(ds_closest("stauts", names), "status", "closest: a transposition");
		tap_is_str(ds_closest("xyz", names), NULL, "closest: nothing near");
		tap_is_int(ds_edit_distance("kitten", "sitting", 5), 3, "edit distance");
		tap_is_int(ds_edit_distance("a", "abcdef", 2), 3, "edit distance is capped");
	}
	return tap_done();
}
