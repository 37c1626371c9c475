-- The server session a worker's claims go through (its control connection): its
-- backend's pid and start. A worker that lost its connection may leave that session
-- alive on the server, a claim in it still waiting for a graph lock, which would claim
-- runs under the worker's name when the lock comes free. Before the worker registers
-- again it ends that session (queue/end_lost_session.sql); the start tells it from a
-- later session that got the same pid.
ALTER TABLE workers ADD COLUMN session_pid integer, ADD COLUMN session_start timestamptz;
