-- The three roles, each a member of the one after it: an operator is also a viewer, an
-- admin also an operator. Role names are constants, never input. A role another init
-- creates at the same time is as good as ours. Without CREATEROLE this fails with
-- SQLSTATE 42501.
DO $ds$
DECLARE r text[] := ARRAY['datashell_viewer', 'datashell_operator', 'datashell_admin'];
BEGIN
  FOR i IN 1..3 LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = r[i]) THEN
      BEGIN
        EXECUTE format('CREATE ROLE %I NOLOGIN', r[i]);
      EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
      END;
    END IF;
    IF i > 1 AND NOT pg_catalog.pg_has_role(r[i], r[i - 1], 'MEMBER') THEN
      EXECUTE format('GRANT %I TO %I', r[i - 1], r[i]);
    END IF;
  END LOOP;
END
$ds$
