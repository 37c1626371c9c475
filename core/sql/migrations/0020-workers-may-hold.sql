-- The workers that may hold running runs, which every claim reads to know how many runs
-- can be running at once (the fleet of queue/claim.sql): not stopped, or stopped with
-- runs left in hand. Every worker that ever started keeps its row, and a claim should
-- not read them all.
CREATE INDEX workers_may_hold ON workers (name) WHERE stopped_at IS NULL OR abandoned > 0;
