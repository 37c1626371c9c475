/* audit.c: writing the audit log. */
#include <stdlib.h>

#include "audit.h"
#include "util.h"

int ds_audit(struct ds_db *db, const char *command_line, const char *outcome, const char *detail,
	     struct ds_error *err)
{
	const char *params[] = {command_line, outcome, detail};
	char *sql = ds_xprintf("INSERT INTO %s.audit_log (command, outcome, detail) "
			       "VALUES ($1, $2, $3::jsonb)",
			       db->schema_ident);
	PGresult *res = ds_db_query(db, sql, 3, params, err);

	free(sql);
	if (!res)
		return -1;
	PQclear(res);
	return 0;
}
