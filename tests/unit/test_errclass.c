/* test_errclass: classifying failures by the task's rules, then the built-in ones. */
#include <jansson.h>

#include "../../core/errclass.h"
#include "tap.h"

static void class_is(json_t *rules, const char *error, const char *sqlstate, const char *want,
		     int retry, int fatal, const char *name)
{
	struct ds_error_verdict v;

	ds_error_classify(rules, error, sqlstate, &v);
	tap_is_str(v.class_name, want, name);
	tap_is_int(v.retry, retry, "  retry");
	tap_is_int(v.fatal, fatal, "  fatal");
}

int main(void)
{
	json_t *rules = json_loads(
		"[{\"class\": \"quota\", \"pattern\": \"(?i)quota exceeded\", \"retry\": false},"
		" {\"class\": \"transient\", \"sqlstate\": \"22012\"},"
		" {\"class\": \"vendor\", \"pattern\": \"HTTP 50[0-9]\", \"sqlstate\": \"P0001\","
		"  \"retry\": true}]",
		0, NULL);
	char msg[256];
	size_t offset = 0;

	class_is(NULL, "deadlock detected", "40P01", "transient", 1, 0, "a deadlock is transient");
	class_is(NULL, "could not obtain lock", "55P03", "transient", 1, 0,
		 "a lock timeout is transient");
	class_is(NULL, "relation \"x\" does not exist", "42P01", "fatal", 0, 1,
		 "an undefined table is fatal");
	class_is(NULL, "permission denied for table t", "42501", "fatal", 0, 1,
		 "permission denied is fatal");
	class_is(NULL, "exited with status 1: curl: (7) Connection refused", "", "transient", 1, 0,
		 "a command's connection refused is transient, by its words");
	class_is(NULL, "exited with status 127: sh: 1: nosuch: not found", NULL, "error", 0, 0,
		 "an error no rule knows is of class error");
	class_is(NULL, "division by zero", "22012", "error", 0, 0, "division by zero is an error");
	class_is(rules, "division by zero", "22012", "transient", 1, 0,
		 "the task's rules come before the built-in ones");
	class_is(rules, "Quota Exceeded for project", NULL, "quota", 0, 1,
		 "a class with retry false is fatal");
	class_is(rules, "HTTP 503", "P0001", "vendor", 1, 0, "pattern and sqlstate both match");
	class_is(rules, "HTTP 503", "", "error", 0, 0, "a rule needs both when it gives both");
	class_is(rules, "lost connection to server", "08006", "transient", 1, 0,
		 "a SQLSTATE class of two characters");

	tap_is_int(ds_error_pattern_check("a(b", msg, sizeof(msg), &offset), -1,
		   "a bad pattern is refused");
	tap_is_str(msg, "missing closing parenthesis", "  with PCRE2's message");
	tap_is_int((int)offset, 3, "  and its offset");
	tap_is_int(ds_error_sqlstate_valid("40P01"), 1, "a SQLSTATE");
	tap_is_int(ds_error_sqlstate_valid("08"), 1, "a class of SQLSTATEs");
	tap_is_int(ds_error_sqlstate_valid("4P0"), 0, "three characters are neither");
	json_decref(rules);
	return tap_done();
}
