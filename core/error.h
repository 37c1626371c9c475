/*
 * error.h: errors as values.
 *
 * A core function that can fail returns 0 / -1 (or NULL) and fills a struct ds_error
 * with a message a person can act on. The core never prints; the shell decides how to
 * show the error and which exit code follows from its kind.
 */
#ifndef DS_ERROR_H
#define DS_ERROR_H

enum ds_error_kind {
	DS_ERR_NONE = 0,
	DS_ERR_USAGE,	   /* the command line itself was wrong */
	DS_ERR_FAILED,	   /* the command ran and failed */
	DS_ERR_CONNECTION, /* the server cannot be reached or the connection was lost */
};

struct ds_error {
	enum ds_error_kind kind;
	char message[4096]; /* room for a list of problems, one per line */
	char hint[512];
	int column;	  /* 1-based column in the input line, 0 if not known */
	char sqlstate[6]; /* the server's SQLSTATE when it refused a statement, else "" */
};

/* Fill err (if not NULL) with a printf-style message; always returns -1. */
int ds_error_set(struct ds_error *err, enum ds_error_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Add a hint ("run 'datashell init'") to an error already set; returns -1. */
int ds_error_hint(struct ds_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void ds_error_clear(struct ds_error *err);

#endif
