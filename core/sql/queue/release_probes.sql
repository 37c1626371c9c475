-- An open breaker's cool-down has passed: let one held run through as a probe.
SELECT @schema@.release_probes()
