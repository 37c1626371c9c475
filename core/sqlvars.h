/*
 * sqlvars.h: psql's variable syntax in task SQL.
 *
 * :'name' becomes the variable's value as a quoted literal and :"name" as a quoted
 * identifier; nothing is ever pasted in unquoted. Text inside string literals, quoted
 * identifiers, dollar-quoted bodies and comments is left alone, as are :: casts and
 * a bare :name (psql leaves unknown ones alone too). The SQL is cut into tokens as the
 * server's lexer (scan.l) cuts it, with standard_conforming_strings on.
 *
 * The variables a task's SQL may use: key, task, target, graph, key_start and key_end
 * (the timestamps bounding the key's partition, 'YYYY-MM-DD HH:MI:SS').
 */
#ifndef DS_SQLVARS_H
#define DS_SQLVARS_H

#include "error.h"

struct ds_sqlvar {
	const char *name;
	const char *value; /* NULL: the variable has no value (a task without target) */
	int qualified;	   /* as :"name", quote each dot-separated part: schema.table */
};

/* The names above, NULL-terminated. */
extern const char *const ds_sql_known_vars[];

/*
 * Check that sql uses only variables among known (NULL-terminated). On an unknown
 * one, err says which and its 1-based character offset in err->column.
 */
int ds_sql_check_vars(const char *sql, const char *const *known, struct ds_error *err);

/*
 * sql with every :'name' and :"name" replaced by the quoted value. A variable not in
 * vars, or whose value is NULL, is an error naming it. Caller frees the result.
 */
char *ds_sql_expand(const char *sql, const struct ds_sqlvar *vars, int nvars, struct ds_error *err);

/*
 * Whether sql has a statement that ends or starts a transaction (BEGIN, START
 * TRANSACTION, COMMIT, END, ROLLBACK other than ROLLBACK TO, ABORT, PREPARE
 * TRANSACTION, COMMIT PREPARED): 1 with the offset of its first word in *offset and
 * its leading words as written in *what (caller frees), else 0. Statements are cut at
 * semicolons outside strings, comments, parentheses and BEGIN ATOMIC bodies.
 */
int ds_sql_transaction_control(const char *sql, size_t *offset, char **what);

/*
 * sql as its tokens, as the scanner above cuts them, one space apart: comments and
 * whitespace outside literals, quoted identifiers and dollar-quoted bodies are gone, and
 * the text inside those is kept as written. Two bodies that differ only in layout or
 * comments normalize to the same text. Caller frees.
 */
char *ds_sql_normalize(const char *sql);

/* The 1-based line and column (in characters) of offset in sql. */
void ds_sql_position(const char *sql, size_t offset, int *line, int *column);

/* value as an SQL literal, quoted as PQescapeLiteral would. Caller frees. */
char *ds_sql_literal(const char *value);

#endif
