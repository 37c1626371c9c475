/*
 * pipeline.c: the struct ds_pipeline that reading, planning and loading share, and the
 * list of problems a load reports all at once rather than one per attempt.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline.h"

void ds_pipeline_init(struct ds_pipeline *p)
{
	memset(p, 0, sizeof(*p));
}

void ds_task_def_release(struct ds_task_def *t)
{
	for (int i = 0; i < t->ndeps; i++)
		free(t->deps[i].task);
	free(t->deps);
	free(t->name);
	free(t->graph);
	free(t->file);
	json_decref(t->definition);
}

void ds_pipeline_release(struct ds_pipeline *p)
{
	for (int i = 0; i < p->ntasks; i++)
		ds_task_def_release(&p->tasks[i]);
	for (int i = 0; i < p->ngraphs; i++) {
		free(p->graphs[i].name);
		free(p->graphs[i].file);
		json_decref(p->graphs[i].breaker);
		json_decref(p->graphs[i].schedule);
		free(p->graphs[i].connection);
	}
	for (int i = 0; i < p->nconns; i++) {
		free(p->conns[i].name);
		free(p->conns[i].conninfo);
		free(p->conns[i].file);
	}
	free(p->tasks);
	free(p->graphs);
	free(p->conns);
	free(ds_buf_take(&p->errors));
	memset(p, 0, sizeof(*p));
}

void ds_pipeline_vproblem(struct ds_pipeline *p, const char *file, const char *path,
			  const char *fmt, va_list ap)
{
	char *msg;

	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	ds_buf_addf(&p->errors, "%s: %s%s%s\n", file, path, path[0] ? ": " : "",
		    msg ? msg : "(out of memory)");
	free(msg);
	p->nerrors++;
}

void ds_pipeline_problem(struct ds_pipeline *p, const char *file, const char *path, const char *fmt,
			 ...)
{
	va_list ap;

	va_start(ap, fmt);
	ds_pipeline_vproblem(p, file, path, fmt, ap);
	va_end(ap);
}

int ds_pipeline_error(const struct ds_pipeline *p, struct ds_error *err)
{
	/* Keep room for the line that says how many did not fit. */
	size_t room = sizeof(err->message) - 64, used = 0;
	const char *line = p->errors.s ? p->errors.s : "";
	int shown = 0;

	ds_error_set(err, DS_ERR_FAILED, "%s", "");
	while (*line && shown < p->nerrors) {
		size_t len = strcspn(line, "\n");

		if (used + len + 1 > room)
			break;
		memcpy(err->message + used, line, len);
		used += len;
		err->message[used++] = '\n';
		line += len + (line[len] == '\n');
		shown++;
	}
	if (shown < p->nerrors)
		used += (size_t)snprintf(err->message + used, sizeof(err->message) - used,
					 "... and %d more\n", p->nerrors - shown);
	/* The shell adds the last newline itself. */
	err->message[used ? used - 1 : 0] = '\0';
	return ds_error_hint(err, "nothing was changed; fix %s and load again",
			     p->nerrors == 1 ? "the problem" : "these problems");
}

const char *ds_change_name(enum ds_change change)
{
	static const char *const names[DS_NCHANGES] = { "unchanged", "added", "revived", "changed",
							"removed" };

	return names[change];
}
