-- Put back, for the rest of the transaction, the search_path that
-- swap/transaction_settings.sql emptied ($1, as it returned it).
SELECT set_config('search_path', $1, true)
