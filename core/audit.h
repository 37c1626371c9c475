/* audit.h: the audit log every command that changes state writes to. */
#ifndef DS_AUDIT_H
#define DS_AUDIT_H

#include "db.h"

/*
 * Write one audit row (when, database user, client address, the command line as typed,
 * outcome, detail) inside the caller's transaction, so it commits or rolls back with
 * the change it describes. detail is JSON text, or NULL.
 */
int ds_audit(struct ds_db *db, const char *command_line, const char *outcome,
	     const char *detail, struct ds_error *err);

#endif
