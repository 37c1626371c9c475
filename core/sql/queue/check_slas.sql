-- The deadlines of the tasks' SLAs that passed without the key done raise their
-- incidents, and the incidents whose cause cleared meanwhile resolve (settle_incidents):
-- one statement, one look on the workers' clock.
SELECT @schema@.settle_incidents() + @schema@.check_slas()
