-- What each role may do to the state schema, the whole truth: everything is revoked
-- from the three roles, then granted again as listed. Each role adds to the one before
-- it (an operator is also a viewer, an admin also an operator; store/create_roles.sql).
-- A new table or function adds its lines here.

REVOKE ALL ON ALL TABLES IN SCHEMA @schema@ FROM datashell_viewer, datashell_operator, datashell_admin;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA @schema@ FROM datashell_viewer, datashell_operator, datashell_admin;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA @schema@ FROM datashell_viewer, datashell_operator, datashell_admin;
REVOKE ALL ON SCHEMA @schema@ FROM datashell_viewer, datashell_operator, datashell_admin;

GRANT USAGE ON SCHEMA @schema@ TO datashell_viewer;
GRANT SELECT ON TABLE @schema@.schema_migrations TO datashell_viewer;
GRANT SELECT ON TABLE @schema@.schema_definitions TO datashell_viewer;

-- Nobody writes the log but audit_write(), which runs as the owner.
GRANT SELECT ON TABLE @schema@.audit_log TO datashell_viewer;
GRANT EXECUTE ON FUNCTION @schema@.audit_write(text, text, text, jsonb) TO datashell_viewer;

-- Workers lock the rows of open graphs to count their slots, which PostgreSQL allows
-- only to a role that may update some column: paused_at is the one whose change does
-- least harm.
GRANT SELECT ON TABLE @schema@.graphs TO datashell_viewer;
GRANT UPDATE (paused_at) ON TABLE @schema@.graphs TO datashell_operator;
GRANT INSERT, UPDATE ON TABLE @schema@.graphs TO datashell_admin;

GRANT SELECT ON TABLE @schema@.tasks TO datashell_viewer;
GRANT INSERT, UPDATE ON TABLE @schema@.tasks TO datashell_admin;
GRANT USAGE ON SEQUENCE @schema@.tasks_id_seq TO datashell_admin;
GRANT SELECT ON TABLE @schema@.task_deps TO datashell_viewer;
GRANT INSERT, DELETE ON TABLE @schema@.task_deps TO datashell_admin;

GRANT SELECT ON TABLE @schema@.batches TO datashell_viewer;
GRANT INSERT, UPDATE, DELETE ON TABLE @schema@.batches TO datashell_operator;
GRANT USAGE ON SEQUENCE @schema@.batches_id_seq TO datashell_operator;
GRANT SELECT ON TABLE @schema@.runs TO datashell_viewer;
GRANT INSERT, UPDATE ON TABLE @schema@.runs TO datashell_operator;
GRANT USAGE ON SEQUENCE @schema@.runs_id_seq TO datashell_operator;
GRANT SELECT ON TABLE @schema@.partitions TO datashell_viewer;
GRANT INSERT, UPDATE ON TABLE @schema@.partitions TO datashell_operator;
GRANT SELECT ON TABLE @schema@.workers TO datashell_viewer;
GRANT INSERT, UPDATE ON TABLE @schema@.workers TO datashell_operator;

-- Workers open and close breakers and raise alerts; operators answer them.
GRANT SELECT ON TABLE @schema@.breakers TO datashell_viewer;
GRANT INSERT, UPDATE ON TABLE @schema@.breakers TO datashell_operator;
GRANT SELECT ON TABLE @schema@.alerts TO datashell_viewer;
GRANT INSERT, UPDATE ON TABLE @schema@.alerts TO datashell_operator;
GRANT USAGE ON SEQUENCE @schema@.alerts_id_seq TO datashell_operator;

-- The swap journal: the admin's, who rebuilds tables.
GRANT SELECT ON TABLE @schema@.swaps TO datashell_viewer;
GRANT INSERT, UPDATE ON TABLE @schema@.swaps TO datashell_admin;
GRANT USAGE ON SEQUENCE @schema@.swaps_id_seq TO datashell_admin;
-- Writes to the tables of a swap are noted by swap_log_write(), run as the owner; the
-- admin puts it on the tables (which needs EXECUTE) and clears what a check covered.
GRANT SELECT ON TABLE @schema@.swap_writes TO datashell_viewer;
GRANT DELETE ON TABLE @schema@.swap_writes TO datashell_admin;
GRANT EXECUTE ON FUNCTION @schema@.swap_log_write() TO datashell_admin;
