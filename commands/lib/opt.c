/* opt.c: the option parser shared by every command. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/util.h"
#include "opt.h"

const struct ds_opt ds_common_opts[] = {
	DS_OPT_BOOL("help", "show this command's synopsis and options"),
	DS_OPT_BOOL("json", "print the result as one JSON document"),
	DS_OPT_BOOL("csv", "print the result's rows as CSV"), DS_OPT_END
};

int ds_opt_count(const struct ds_opt *opts)
{
	int n = 0;

	while (opts && opts[n].name)
		n++;
	return n;
}

/* Find name among common and own options; its slot index, or -1. */
static int find_opt(const struct ds_opt *own, const char *name, size_t len,
		    const struct ds_opt **found)
{
	int ncommon = ds_opt_count(ds_common_opts);

	for (int i = 0; i < ncommon; i++)
		if (strlen(ds_common_opts[i].name) == len &&
		    !strncmp(ds_common_opts[i].name, name, len)) {
			*found = &ds_common_opts[i];
			return i;
		}
	for (int i = 0; own && own[i].name; i++)
		if (strlen(own[i].name) == len && !strncmp(own[i].name, name, len)) {
			*found = &own[i];
			return ncommon + i;
		}
	return -1;
}

static int unknown_option(const char *command, const struct ds_opt *own, const char *word,
			  size_t len, struct ds_error *err)
{
	int ncommon = ds_opt_count(ds_common_opts), nown = ds_opt_count(own), n = 0;
	const char **names = ds_xmalloc((size_t)(ncommon + nown + 1) * sizeof(*names));
	char *given = ds_xprintf("%.*s", (int)len, word);
	const char *best;

	for (int i = 0; i < ncommon; i++)
		names[n++] = ds_common_opts[i].name;
	for (int i = 0; i < nown; i++)
		names[n++] = own[i].name;
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

static int parse_value(const char *command, const struct ds_opt *o, const char *value,
		       struct ds_optval *v, struct ds_error *err)
{
	v->set = 1;
	v->str = value;
	if (o->type == DS_OPT_T_INT) {
		char *end;

		errno = 0;
		v->num = strtol(value, &end, 10);
		if (errno || end == value || *end)
			return ds_error_set(err, DS_ERR_USAGE,
					    "option '--%s' of '%s' needs a whole number, not '%s'",
					    o->name, command, value);
	}
	return 0;
}

int ds_opt_parse(const char *command, const struct ds_opt *own, int argc, char **argv,
		 struct ds_optval *vals, char ***args, int *nargs, struct ds_error *err)
{
	int only_args = 0;

	*args = ds_xmalloc((size_t)argc * sizeof(**args));
	*nargs = 0;
	for (int i = 1; i < argc; i++) {
		const char *w = argv[i], *name, *eq;
		const struct ds_opt *o;
		size_t len;
		int slot;

		if (only_args || w[0] != '-' || !w[1] || (w[1] >= '0' && w[1] <= '9')) {
			(*args)[(*nargs)++] = argv[i]; /* a word, "-" or a negative number */
			continue;
		}
		if (w[1] != '-') {
			ds_error_set(err, DS_ERR_USAGE, "unknown option '%s' for '%s'", w, command);
			ds_error_hint(err, "options are long: see '%s --help'", command);
			goto fail;
		}
		if (!w[2]) {
			only_args = 1;
			continue;
		}
		name = w + 2;
		eq = strchr(name, '=');
		len = eq ? (size_t)(eq - name) : strlen(name);
		slot = find_opt(own, name, len, &o);
		if (slot < 0) {
			unknown_option(command, own, name, len, err);
			goto fail;
		}
		if (o->type == DS_OPT_T_BOOL) {
			if (eq) {
				ds_error_set(err, DS_ERR_USAGE,
					     "option '--%s' of '%s' takes no value", o->name,
					     command);
				goto fail;
			}
			vals[slot].set = 1;
			continue;
		}
		if (!eq && i + 1 >= argc) {
			ds_error_set(err, DS_ERR_USAGE, "option '--%s' of '%s' needs a value (%s)",
				     o->name, command, o->arg);
			goto fail;
		}
		if (parse_value(command, o, eq ? eq + 1 : argv[++i], &vals[slot], err) < 0)
			goto fail;
	}
	return 0;
fail:
	free(*args);
	*args = NULL;
	*nargs = 0;
	return -1;
}
