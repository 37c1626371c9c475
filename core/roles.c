/*
 * roles.c: the three roles. What each may do to the state schema is one list of grants,
 * core/sql/definitions/90-grants.sql, which init re-applies.
 */
#include <stdlib.h>
#include <string.h>

#include "roles.h"
#include "sql.h"
#include "util.h"

#define ROLES DS_ROLE_VIEWER ", " DS_ROLE_OPERATOR ", " DS_ROLE_ADMIN

int ds_roles_create(struct ds_db *db, struct ds_error *err)
{
	if (ds_db_exec(db, ds_sql(db, DS_SQL_ROLES_CREATE), err) < 0) {
		if (strcmp(err->sqlstate, "42501"))
			return -1;
		ds_error_set(err, DS_ERR_FAILED,
			     "cannot create the roles " ROLES ": permission denied");
		return ds_error_hint(err, "run init as a role with CREATEROLE, or have a "
					  "superuser create them first: CREATE ROLE " DS_ROLE_VIEWER
					  " NOLOGIN; and so on");
	}
	return 0;
}

char *ds_roles_fingerprint(struct ds_db *db, struct ds_error *err)
{
	const char *params[] = { db->schema };
	PGresult *res = ds_sql_query(db, DS_SQL_ROLES_FINGERPRINT, 1, params, err);
	char *fp;

	if (!res)
		return NULL;
	fp = ds_xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return fp;
}
