/*
 * action.h: commands made of actions ("pipeline load", "breaker reset"). The first word
 * names the action; its row (struct ds_action) says what words and options it takes,
 * what it changes and who may run it, and the dispatcher, help and completion read
 * that row alone.
 */
#ifndef DS_ACTION_H
#define DS_ACTION_H

#include "../command.h"

/* The action of cmd called name, or NULL. */
const struct ds_action *ds_action_find(const struct ds_command *cmd, const char *name);

/* How many words a command takes, its actions' included; max -1 for any number. */
void ds_command_arity(const struct ds_command *cmd, int *min, int *max);

/*
 * Set inv->action to the action inv->args[0] names, or to the default action when no
 * word was given, and move inv->args past its name, once the words and options given
 * are those it takes. Otherwise fill err (a usage error) and return -1.
 */
int ds_action_pick(struct ds_invocation *inv, struct ds_error *err);

/* One action's usage: "pipeline load [--dry-run] FILE...". Caller frees. */
char *ds_action_usage(const struct ds_command *cmd, const struct ds_action *a);

/*
 * The help of option o of cmd. Of a command with actions, when not all of them take
 * it, it starts with those that do: "with trip: why, for the alert". Caller frees.
 */
char *ds_option_help(const struct ds_command *cmd, const struct ds_opt *o);

#endif
