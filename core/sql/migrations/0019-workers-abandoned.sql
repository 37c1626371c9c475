-- How many running runs a worker's row stands for beyond its slots: the runs it left in
-- hand when it lost its server and came back under its name, or when it stopped. Their
-- rows stay running until their leases run out and the reaper queues them again. With
-- it, the most runs the workers can hold at once is known from their rows alone
-- (the fleet of queue/claim.sql), and a claim need not count the running runs
-- of a graph whose cap that many cannot reach.
ALTER TABLE workers ADD COLUMN abandoned integer NOT NULL DEFAULT 0;
