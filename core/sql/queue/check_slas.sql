-- The deadlines of the tasks' SLAs that passed without the key done raise their alerts.
SELECT @schema@.check_slas()
