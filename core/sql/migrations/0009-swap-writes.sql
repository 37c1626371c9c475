-- What was written to the tables of an active swap, and by whom: one row per
-- transaction that wrote the production table T or the incoming table (T_backfill),
-- written by the statement triggers swap_log_write() (definitions/80-swaps.sql) in that
-- transaction, so that a write that rolls back leaves no row. A transaction that wrote T
-- but not the incoming table is a write the swap would lose, unless the last check saw
-- it: swap and rollback refuse while there is one (swap/foreign_writes.sql).
CREATE TABLE swap_writes (
    swap_id bigint NOT NULL REFERENCES swaps (id),
    txid xid8 NOT NULL,
    wrote_table boolean NOT NULL,
    wrote_incoming boolean NOT NULL,
    ops text[] NOT NULL,
    role text NOT NULL,
    application_name text NOT NULL,
    first_at timestamptz NOT NULL,
    last_at timestamptz NOT NULL,
    statements integer NOT NULL,
    PRIMARY KEY (swap_id, txid)
);
-- The writes a swap would lose, which the exchange reads under its lock: few rows.
CREATE INDEX swap_writes_table_only ON swap_writes (swap_id)
    WHERE wrote_table AND NOT wrote_incoming;
-- The point after which writes to T are not covered: the snapshot of the last check's
-- comparison, or of the last swap or rollback (taken under its lock). A transaction not
-- visible in it committed after it.
ALTER TABLE swaps ADD COLUMN writes_since pg_snapshot;
