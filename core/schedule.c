/* schedule.c: the scheduled tasks of a selection and where their schedules stand. */
#include <stdlib.h>
#include <string.h>

#include "schedule.h"
#include "sql.h"
#include "taskset.h"
#include "util.h"

/* "{3,17}": the ids of the selected tasks as an SQL array. Caller frees. */
static char *selected_ids(const struct ds_taskset *ts, const char *selected, int *n)
{
	struct ds_buf b = DS_BUF_INIT;

	*n = 0;
	ds_buf_addf(&b, "{");
	for (int i = 0; i < ts->n; i++)
		if (selected[i])
			ds_buf_addf(&b, "%s%d", (*n)++ ? "," : "", ts->tasks[i].id);
	ds_buf_addf(&b, "}");
	return ds_buf_take(&b);
}

json_t *ds_schedule_list(struct ds_db *db, const char *selector, const char *exclude,
			 int *nselected, struct ds_error *err)
{
	struct ds_taskset ts;
	const char *params[1] = { NULL };
	char *selected, *ids = NULL;
	json_t *rows = NULL;
	int n = 0;

	if (!selector && !exclude) {
		rows = ds_sql_json_rows(db, DS_SQL_SCHEDULE_LIST, 1, params, err);
		if (nselected)
			*nselected = -1;
		return rows;
	}
	if (ds_taskset_load(db, &ts, err) < 0)
		return NULL;
	selected = memset(ds_xmalloc((size_t)ts.n + 1), 0, (size_t)ts.n + 1);
	if (ds_select(&ts, selector, exclude, selected, err) == 0) {
		ids = selected_ids(&ts, selected, &n);
		params[0] = ids;
		rows = ds_sql_json_rows(db, DS_SQL_SCHEDULE_LIST, 1, params, err);
	}
	if (nselected)
		*nselected = n;
	free(ids);
	free(selected);
	ds_taskset_release(&ts);
	return rows;
}
