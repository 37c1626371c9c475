/*
 * roles.h: who may do what. Three NOLOGIN roles that a DBA grants to people, each with
 * the privileges of the one before it and more; the grants on the state schema enforce
 * them in the database itself.
 */
#ifndef DS_ROLES_H
#define DS_ROLES_H

#include "db.h"

#define DS_ROLE_VIEWER	 "datashell_viewer"   /* reads: status, log, alerts, metrics */
#define DS_ROLE_OPERATOR "datashell_operator" /* also runs: backfill, cancel, workers */
#define DS_ROLE_ADMIN	 "datashell_admin"    /* also definitions: pipeline load, pause */

/*
 * Create the roles that do not exist yet and make each a member of the one after it.
 * Their grants on the state schema are definitions (core/sql/definitions/90-grants.sql).
 * Runs in the caller's transaction.
 */
int ds_roles_create(struct ds_db *db, struct ds_error *err);

/*
 * A fingerprint of the roles, their memberships and the schema's grants, so that init
 * can tell whether it changed anything. Caller frees.
 */
char *ds_roles_fingerprint(struct ds_db *db, struct ds_error *err);

#endif
