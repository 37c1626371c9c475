/* opt.c: the option parser shared by every command. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/util.h"
#include "opt.h"

/* The set whose table holds the row called name (its first len bytes), or NULL. */
static const struct ds_opt_set *find_set(const struct ds_opt_set *sets, int nsets, const char *name,
					 size_t len, const struct ds_opt **row)
{
	for (int s = 0; s < nsets; s++)
		for (const struct ds_opt *o = sets[s].opts; o && o->name; o++)
			if (strlen(o->name) == len && !strncmp(o->name, name, len)) {
				*row = o;
				return &sets[s];
			}
	return NULL;
}

const struct ds_opt *ds_opt_find(const struct ds_opt_set *sets, int nsets, const char *name,
				 size_t len)
{
	const struct ds_opt *row = NULL;

	find_set(sets, nsets, name, len, &row);
	return row;
}

static int unknown_option(const char *command, const struct ds_opt_set *sets, int nsets,
			  const char *word, size_t len, struct ds_error *err)
{
	const char **names = NULL;
	char *given = ds_xprintf("%.*s", (int)len, word);
	const char *best;
	int n = 0;

	for (int s = 0; s < nsets; s++)
		for (const struct ds_opt *o = sets[s].opts; o && o->name; o++) {
			names = ds_xrealloc(names, (size_t)(n + 2) * sizeof(*names));
			names[n++] = o->name;
		}
	names = ds_xrealloc(names, (size_t)(n + 1) * sizeof(*names));
	names[n] = NULL;
	best = ds_closest(given, names);
	if (best)
		ds_error_set(err, DS_ERR_USAGE,
			     "unknown option '--%s' for '%s' (did you mean '--%s'?)", given,
			     command, best);
	else
		ds_error_set(err, DS_ERR_USAGE, "unknown option '--%s' for '%s'", given, command);
	ds_error_hint(err, "see '%s --help'", command);
	free(given);
	free(names);
	return -1;
}

/* Add value to the values a list option's field already holds, joined with a comma. */
static void append_value(char *field, const char *value, struct ds_opt_parsed *p)
{
	const char *held;
	char *joined;

	memcpy(&held, field, sizeof(held));
	if (!held) {
		memcpy(field, &value, sizeof(value));
		return;
	}
	joined = ds_xprintf("%s,%s", held, value);
	p->joined = ds_xrealloc(p->joined, (size_t)(p->njoined + 1) * sizeof(*p->joined));
	p->joined[p->njoined++] = joined;
	memcpy(field, &joined, sizeof(joined));
}

/* Store value into the field the row binds, checking a whole number for an INT option. */
static int fill_value(const char *command, const struct ds_opt *o, char *field, const char *value,
		      struct ds_opt_parsed *p, struct ds_error *err)
{
	char *end;
	long num;

	if (o->type == DS_OPT_T_STRING) {
		memcpy(field, &value, sizeof(value));
		return 0;
	}
	if (o->type == DS_OPT_T_LIST) {
		append_value(field, value, p);
		return 0;
	}
	errno = 0;
	num = strtol(value, &end, 10);
	if (errno || end == value || *end)
		return ds_error_set(err, DS_ERR_USAGE,
				    "option '--%s' of '%s' needs a whole number, not '%s'", o->name,
				    command, value);
	memcpy(field, &num, sizeof(num));
	return 0;
}

/* One "--name" or "--name=value" at argv[*i]; a value in the next word moves *i on. */
static int parse_option(const char *command, const struct ds_opt_set *sets, int nsets, int argc,
			char **argv, int *i, struct ds_opt_parsed *p, struct ds_error *err)
{
	const char *name = argv[*i] + 2, *eq = strchr(name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	const struct ds_opt *o = NULL;
	const struct ds_opt_set *set = find_set(sets, nsets, name, len, &o);
	char *field;

	if (!set)
		return unknown_option(command, sets, nsets, name, len, err);
	p->given = ds_xrealloc(p->given, (size_t)(p->ngiven + 1) * sizeof(*p->given));
	p->given[p->ngiven++] = o;
	field = (char *)set->fill + o->offset;
	if (o->type == DS_OPT_T_BOOL) {
		if (eq)
			return ds_error_set(err, DS_ERR_USAGE,
					    "option '--%s' of '%s' takes no value", o->name,
					    command);
		*(int *)field = 1;
		return 0;
	}
	if (!eq && *i + 1 >= argc)
		return ds_error_set(err, DS_ERR_USAGE, "option '--%s' of '%s' needs a value (%s)",
				    o->name, command, o->arg);
	return fill_value(command, o, field, eq ? eq + 1 : argv[++*i], p, err);
}

/* A word, not an option: "-", a negative number, anything after "--". */
static int is_word(const char *w)
{
	return w[0] != '-' || !w[1] || (w[1] >= '0' && w[1] <= '9');
}

int ds_opt_parse(const char *command, const struct ds_opt_set *sets, int nsets, int argc,
		 char **argv, struct ds_opt_parsed *p, struct ds_error *err)
{
	int only_words = 0;

	memset(p, 0, sizeof(*p));
	p->words = ds_xmalloc((size_t)argc * sizeof(*p->words));
	for (int i = 1; i < argc; i++) {
		const char *w = argv[i];

		if (only_words || is_word(w)) {
			p->words[p->nwords++] = argv[i];
		} else if (w[1] != '-') {
			ds_error_set(err, DS_ERR_USAGE, "unknown option '%s' for '%s'", w, command);
			return ds_error_hint(err, "options are long: see '%s --help'", command);
		} else if (!w[2]) {
			only_words = 1;
		} else if (parse_option(command, sets, nsets, argc, argv, &i, p, err) < 0) {
			return -1;
		}
	}
	return 0;
}

void ds_opt_parsed_release(struct ds_opt_parsed *p)
{
	free(p->words);
	free(p->given);
	for (int i = 0; i < p->njoined; i++)
		free(p->joined[i]);
	free(p->joined);
	memset(p, 0, sizeof(*p));
}
