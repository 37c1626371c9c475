/* select.c: the runs a selector and a range of keys name, and whether a word is a batch. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "select.h"
#include "util.h"

int ds_word_is_batch(const char *word, long long *id)
{
	if (!*word || strlen(word) > 18)
		return 0;
	for (const char *p = word; *p; p++)
		if (!isdigit((unsigned char)*p))
			return 0;
	*id = atoll(word);
	return 1;
}

/* The kind of key the selected tasks share; DS_KEY_NONE if all are of kind none. */
static int common_kind(const struct ds_taskset *ts, const char *selected, enum ds_key_kind *kind,
		       struct ds_error *err)
{
	*kind = DS_KEY_NONE;
	for (int i = 0; i < ts->n; i++) {
		if (!selected[i] || ts->tasks[i].kind == DS_KEY_NONE)
			continue;
		if (*kind != DS_KEY_NONE && *kind != ts->tasks[i].kind) {
			ds_error_set(err, DS_ERR_USAGE,
				     "the selected tasks have daily and hourly keys");
			return ds_error_hint(err, "give a range of dates or of hours");
		}
		*kind = ts->tasks[i].kind;
	}
	return 0;
}

/* A range for the selected tasks, of their kind of key; NULL text: the recent past. */
static int parse_range(const char *text, enum ds_key_kind kind, time_t now, struct ds_range *range,
		       struct ds_error *err)
{
	if (!text)
		text = kind == DS_KEY_HOURLY ? "now-23h..now" : "today-13..today";
	return ds_range_parse_for(text, kind, now, range, err);
}

int ds_resolve_request(struct ds_db *db, const char *selector, const char *exclude,
		       const char *range_text, struct ds_run_request *req, struct ds_error *err)
{
	struct ds_taskset ts;
	struct ds_range range;
	enum ds_key_kind kind;
	char *selected;
	int rc = -1;

	memset(req, 0, sizeof(*req));
	if (ds_taskset_load(db, &ts, err) < 0)
		return -1;
	selected = memset(ds_xmalloc((size_t)ts.n + 1), 0, (size_t)ts.n + 1);
	if (ds_select(&ts, selector, exclude, selected, err) == 0 &&
	    common_kind(&ts, selected, &kind, err) == 0 &&
	    parse_range(range_text, kind, ds_range_now(), &range, err) == 0)
		rc = ds_run_request_init(req, &ts, selected, &range, err);
	free(selected);
	ds_taskset_release(&ts);
	return rc;
}
