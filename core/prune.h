/*
 * prune.h: deleting old finished runs, in slices, keeping every run that the truth of a
 * key needs (core/sql/definitions/85-prune.sql says which).
 */
#ifndef DS_PRUNE_H
#define DS_PRUNE_H

#include "audit.h"
#include "db.h"

/* Runs per slice, each its own transaction: short locks, and vacuum keeps up. */
#define DS_PRUNE_SLICE 10000

struct ds_prune_report {
	char cutoff[40];    /* runs that ended before this (ISO 8601, UTC) */
	long long runs;	    /* deleted, or with dry_run that would be */
	long long attempts; /* their retried attempts */
	long long batches;  /* the batches they left empty */
};

/*
 * Delete the runs that ended before `before`, a duration before now ("180d") or a date
 * ("2024-06-30", midnight UTC), and may go: slice runs per transaction. With dry_run
 * everything is done in one transaction and rolled back, so the counts are exact and
 * nothing changes. What was deleted so far is in rep, and in audit's touched, even when
 * it fails half way. A bad or future `before` is a usage error.
 */
int ds_prune(struct ds_db *db, const char *before, int slice, int dry_run, struct ds_audit *audit,
	     struct ds_prune_report *rep, struct ds_error *err);

#endif
