-- One pass of the schedule (definitions/72-schedule.sql): enqueue the due keys of the
-- scheduled tasks, once however many workers pass. $1: wait for a pass in progress
-- rather than leave the keys to it, as `worker --drain` does before it drains. The
-- worker sends it on a connection of its own, so that a long catch-up holds up
-- neither its claims nor the renewal of its leases.
SELECT @schema@.schedule_pass($1::boolean)
