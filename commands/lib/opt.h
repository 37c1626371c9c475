/*
 * opt.h: a declarative option table per command and the one parser for all of them.
 *
 * As in git's parse-options, each row of a table binds an option to the field it fills:
 * a field of the command's options struct, named with the struct's type, so that a
 * misspelt field or one of the wrong type does not compile. The parser fills the
 * fields; nothing reads an option back by its name.
 *
 *	struct backfill_opts { int rerun; long priority; };
 *	static const struct ds_opt backfill_options[] = {
 *		DS_OPT_BOOL("rerun", struct backfill_opts, rerun, "re-run complete keys"),
 *		DS_OPT_INT("priority", struct backfill_opts, priority, "N", "queue priority"),
 *		DS_OPT_END,
 *	};
 *
 * Options are long only (--name, --name=value, --name value); "--" ends them.
 */
#ifndef DS_OPT_H
#define DS_OPT_H

#include <stddef.h>

#include "../../core/error.h"

enum ds_opt_type { DS_OPT_T_END, DS_OPT_T_BOOL, DS_OPT_T_STRING, DS_OPT_T_INT, DS_OPT_T_LIST };

struct ds_opt {
	const char *name;
	enum ds_opt_type type;
	size_t offset;	  /* of the field it fills: an int, a const char * or a long */
	const char *arg;  /* the value's name in help: "N", "FILE"; NULL for a flag */
	const char *help; /* one line, lower case */
};

/* offsetof(stype, field), which compiles only if the field is of type ctype. */
#define DS_OPT_FIELD(stype, field, ctype)                                                          \
	_Generic(((stype *)0)->field, ctype : offsetof(stype, field))

/*
 * The rows are compound literals, which GCC and Clang take in static initializers:
 * clang-format lays them out as expressions, where it would spread a bare brace list
 * over lines as if it were a block.
 */

/* --name: sets an int field to 1. */
#define DS_OPT_BOOL(name_, stype, field, help_)                                                    \
	((struct ds_opt){ .name = (name_),                                                         \
			  .type = DS_OPT_T_BOOL,                                                   \
			  .offset = DS_OPT_FIELD(stype, field, int),                               \
			  .help = (help_) })

/* --name VALUE: points a const char * field at VALUE, which stays in argv. */
#define DS_OPT_STRING(name_, stype, field, arg_, help_)                                            \
	((struct ds_opt){ .name = (name_),                                                         \
			  .type = DS_OPT_T_STRING,                                                 \
			  .offset = DS_OPT_FIELD(stype, field, const char *),                      \
			  .arg = (arg_),                                                           \
			  .help = (help_) })

/*
 * --name VALUE, repeatable: a const char * field gets the values given joined with
 * commas (--exclude a --exclude b is --exclude a,b), held by the parsed command line.
 */
#define DS_OPT_LIST(name_, stype, field, arg_, help_)                                              \
	((struct ds_opt){ .name = (name_),                                                         \
			  .type = DS_OPT_T_LIST,                                                   \
			  .offset = DS_OPT_FIELD(stype, field, const char *),                      \
			  .arg = (arg_),                                                           \
			  .help = (help_) })

/* --name N: a whole number, into a long field. */
#define DS_OPT_INT(name_, stype, field, arg_, help_)                                               \
	((struct ds_opt){ .name = (name_),                                                         \
			  .type = DS_OPT_T_INT,                                                    \
			  .offset = DS_OPT_FIELD(stype, field, long),                              \
			  .arg = (arg_),                                                           \
			  .help = (help_) })

/* The end of a table. */
#define DS_OPT_END ((struct ds_opt){ .name = NULL })

/* A table of options and the struct its rows fill (NULL when it is only listed). */
struct ds_opt_set {
	const struct ds_opt *opts;
	void *fill;
};

/* What a command line held besides its options: its words, and which options it gave. */
struct ds_opt_parsed {
	char **words; /* point into argv */
	int nwords;
	const struct ds_opt **given; /* the rows of the options given, in the order given */
	int ngiven;
	char **joined; /* the values of repeated list options, joined (DS_OPT_LIST) */
	int njoined;
};

/*
 * Parse argv (argv[0] is the command's name) against the rows of sets[0..nsets), each
 * filling its own struct. The fields of options not given keep what they held. Fills
 * p; release it with ds_opt_parsed_release(), also after a failure.
 */
int ds_opt_parse(const char *command, const struct ds_opt_set *sets, int nsets, int argc,
		 char **argv, struct ds_opt_parsed *p, struct ds_error *err);

void ds_opt_parsed_release(struct ds_opt_parsed *p);

/* The row of sets[0..nsets) whose name is the first len bytes of name, or NULL. */
const struct ds_opt *ds_opt_find(const struct ds_opt_set *sets, int nsets, const char *name,
				 size_t len);

#endif
