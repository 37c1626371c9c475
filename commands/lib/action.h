/*
 * action.h: commands made of actions ("pipeline load", "breaker reset"): the first
 * word picks the action, which says how many more words it takes and which of the
 * command's own options apply to it.
 */
#ifndef DS_ACTION_H
#define DS_ACTION_H

#include "../command.h"

struct ds_action {
	const char *name;
	const char *usage;	    /* "pipeline show TASK", for the hint of a misuse */
	int min_words, max_words;   /* after the action's name; max -1 for any number */
	const char *const *options; /* the command's options it takes, NULL-terminated */
	const char *role;	    /* the role it needs to change state; NULL: it only reads */
	int (*run)(struct ds_session *s, const struct ds_invocation *inv, struct ds_result *out);
};

/*
 * Run the action inv->args[0] names, after checking its words and options; an unknown
 * action suggests the closest of the command's words. A command that may be given no
 * words (min_args 0, as "alerts") runs the first action then, which must take none. An action
 * without a role, or a dry run, changes nothing: it gets no audit row.
 */
int ds_run_action(struct ds_session *s, const struct ds_invocation *inv, struct ds_result *out,
		  const struct ds_action *actions, size_t nactions);

#endif
