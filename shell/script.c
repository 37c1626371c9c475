/* script.c: the line reader behind batch mode. */
#include <stdlib.h>
#include <string.h>

#include "../core/util.h"
#include "script.h"

/* Whether the line ends with a backslash that is not itself escaped. */
static int continues(const char *s, size_t len)
{
	size_t n = 0;

	while (n < len && s[len - 1 - n] == '\\')
		n++;
	return n % 2 == 1;
}

static int is_skipped(const char *s)
{
	s += strspn(s, " \t");
	return !*s || *s == '#';
}

int ds_script_next(struct ds_script *sc, char **line, int *first)
{
	struct ds_buf cmd = DS_BUF_INIT;
	char *raw = NULL;
	size_t rawcap = 0;
	ssize_t n;
	int joining = 0;

	while ((n = getline(&raw, &rawcap, sc->f)) >= 0) {
		size_t len = (size_t)n;

		sc->lineno++;
		while (len && (raw[len - 1] == '\n' || raw[len - 1] == '\r'))
			raw[--len] = '\0';
		if (!joining) {
			if (is_skipped(raw))
				continue;
			*first = sc->lineno;
		}
		joining = continues(raw, len);
		ds_buf_add(&cmd, raw, joining ? len - 1 : len);
		if (!joining)
			break;
	}
	free(raw);
	if (!cmd.s) {
		free(ds_buf_take(&cmd));
		return 0;
	}
	*line = ds_buf_take(&cmd);
	return 1;
}
