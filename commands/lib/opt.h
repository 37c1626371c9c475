/*
 * opt.h: a declarative option table per command and the one parser for all of them.
 *
 * Options are long only (--name, --name=value, --name value); "--" ends them. Every
 * command also takes --help, --json and --csv, handled by the dispatcher.
 */
#ifndef DS_OPT_H
#define DS_OPT_H

#include "../../core/error.h"

enum ds_opt_type { DS_OPT_T_END, DS_OPT_T_BOOL, DS_OPT_T_STRING, DS_OPT_T_INT };

struct ds_opt {
	const char *name;
	enum ds_opt_type type;
	const char *arg; /* the value's name in help: "N", "FILE" */
	const char *help;
};

#define DS_OPT_BOOL(n, h)                                                                          \
	{                                                                                          \
		(n), DS_OPT_T_BOOL, NULL, (h)                                                      \
	}
#define DS_OPT_STRING(n, a, h)                                                                     \
	{                                                                                          \
		(n), DS_OPT_T_STRING, (a), (h)                                                     \
	}
#define DS_OPT_INT(n, a, h)                                                                        \
	{                                                                                          \
		(n), DS_OPT_T_INT, (a), (h)                                                        \
	}
#define DS_OPT_END                                                                                 \
	{                                                                                          \
		NULL, DS_OPT_T_END, NULL, NULL                                                     \
	}

/* One parsed option: set or not, and its value for STRING and INT options. */
struct ds_optval {
	int set;
	const char *str; /* points into argv */
	long num;
};

/* The options every command takes, before its own. */
extern const struct ds_opt ds_common_opts[];

/*
 * Parse argv (argv[0] is the command's name) against common then own options. vals
 * has one slot per option in that order. Positional words are gathered in *args
 * (caller frees the array, not the strings) and counted in *nargs.
 */
int ds_opt_parse(const char *command, const struct ds_opt *own, int argc, char **argv,
		 struct ds_optval *vals, char ***args, int *nargs, struct ds_error *err);

/* Number of options in a table, not counting DS_OPT_END. */
int ds_opt_count(const struct ds_opt *opts);

#endif
