/* error.c: filling struct ds_error. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

int ds_error_set(struct ds_error *err, enum ds_error_kind kind, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -1;
	ds_error_clear(err);
	err->kind = kind;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return -1;
}

int ds_error_hint(struct ds_error *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -1;
	va_start(ap, fmt);
	vsnprintf(err->hint, sizeof(err->hint), fmt, ap);
	va_end(ap);
	return -1;
}

void ds_error_clear(struct ds_error *err)
{
	memset(err, 0, sizeof(*err));
}
