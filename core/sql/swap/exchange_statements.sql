-- The two statements of the exchange itself, generated with %I once, before the first
-- locked transaction begins, so that no round trip under the lock goes to writing them:
--   lock     ACCESS EXCLUSIVE on T ($1.$2) and the incoming table ($1.$4), both at once
--   renames  T to the name it retires as ($3: T_old, or T_backfill for a rollback), then
--            the incoming table to T
SELECT format('LOCK TABLE %I.%I, %I.%I IN ACCESS EXCLUSIVE MODE', $1::text, $2::text, $1::text,
              $4::text) AS lock,
       format('ALTER TABLE %I.%I RENAME TO %I; ALTER TABLE %I.%I RENAME TO %I', $1::text,
              $2::text, $3::text, $1::text, $4::text, $2::text) AS renames
