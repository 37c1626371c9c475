-- Whether the name of table $1.$2 alone (as a task's target may write it) names that
-- table with this session's search_path. swap-table start records it for a warehouse's
-- table (timings' "bare"), whose names the claim, in the state database, cannot resolve
-- (definitions/80-swaps.sql, swap_names_target).
SELECT coalesce(to_regclass(quote_ident($2::text)) = to_regclass(format('%I.%I', $1::text,
                                                                          $2::text)),
                false)
