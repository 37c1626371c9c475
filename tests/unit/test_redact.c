/* test_redact: passwords masked in command lines, in every spelling libpq accepts. */
#include <stdlib.h>

#include "../../core/util.h"
#include "tap.h"

static void masks(const char *line, const char *want, const char *name)
{
	char *got = ds_redact_secrets(line);

	tap_is_str(got, want, name);
	free(got);
}

int main(void)
{
	masks("connect host=db password=hunter2 user=bob", "connect host=db password=*** user=bob",
	      "keyword=value");
	masks("pipeline load 'host=db password=hunter2'", "pipeline load 'host=db password=***'",
	      "a closing quote around the conninfo is kept");
	masks("x password\t=\thunter2 y", "x password\t=\t*** y", "tabs around '='");
	masks("x password\n=\nhunter2", "x password\n=\n***", "newlines around '='");
	masks("x password = 'a b\\' c' y", "x password = *** y",
	      "a quoted value, with a backslash-escaped quote");
	masks("x password=a\\ b y", "x password=*** y", "an escaped blank in an unquoted value");
	masks("x password=ab'cd y", "x password=*** y", "a quote inside an unquoted value");
	masks("x password=a&b y", "x password=*** y", "an & in a keyword=value value");
	masks("x sslpassword=hunter2", "x sslpassword=***", "sslpassword");
	masks("x dbname='password=\\'a b\\'' y", "x dbname='password=***' y",
	      "a conninfo nested in dbname");
	masks("cancel postgresql://bob:s3cret@db/x 1", "cancel postgresql://bob:***@db/x 1",
	      "the password of a URI");
	masks("postgres://bob:s3?c#r t@db/x", "postgres://bob:***@db/x",
	      "a URI password runs to the first '@' or '/', as libpq reads it");
	masks("postgresql://bob:a:b@db", "postgresql://bob:***@db", "from the first ':'");
	masks("postgresql://db/x?sslmode=require&password=pw2&user=u 1",
	      "postgresql://db/x?sslmode=require&password=***&user=u 1", "a password in the query");
	masks("postgresql://db/x?passwor%64=pw2 1", "postgresql://db/x?passwor%64=*** 1",
	      "a percent-encoded keyword in the query");
	masks("postgresql://db/x?%70assword=pw2&a=b", "postgresql://db/x?%70assword=***&a=b",
	      "another one");
	masks("no secrets here: a=b 'c' postgresql://db/x",
	      "no secrets here: a=b 'c' postgresql://db/x", "lines without secrets are unchanged");
	masks("x password=", "x password=", "an empty value");
	masks("x password='unterminated", "x password=***", "an unterminated quoted value");
	return tap_done();
}
