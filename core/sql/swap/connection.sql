-- The connection string of connection $1 (swap-table --connection), as the pipeline files
-- declared it (migrations/0017-connections.sql); no row: no such connection.
SELECT conninfo
FROM @schema@.connections
WHERE name = $1
