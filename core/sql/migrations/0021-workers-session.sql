-- The server session a worker's claims go through (its control connection): its
-- backend's pid and start. A worker that lost its connection may leave that session
-- alive on the server, a claim in it still waiting for a graph lock, which would claim
-- runs under the worker's name when the lock comes free. Before the worker registers
-- again it ends that session (queue/end_lost_session.sql); the start tells it from a
-- later session that got the same pid.
ALTER TABLE workers ADD COLUMN session_pid integer, ADD COLUMN session_start timestamptz;
-- Rows written before migration 19 say nothing of the runs their workers left in hand:
-- a worker that stopped on an error, or came back after losing its server, may still
-- have runs running under its name. Each row stands for all of those, to be sure; a
-- live worker's count is made again when it registers or stops.
UPDATE workers w
SET abandoned = greatest(w.abandoned, (SELECT count(*)
                                       FROM runs r
                                       WHERE r.state = 'running' AND r.worker = w.name));
