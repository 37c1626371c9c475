/* test_script: the batch line reader: comments, blank lines, continuations, line numbers. */
#include <stdlib.h>

#include "../../shell/script.h"
#include "tap.h"

int main(void)
{
	static char text[] = "# a comment\n"
			     "\n"
			     "status\n"
			     "   # indented comment\n"
			     "init \\\n"
			     "  --dry-run\n"
			     "help\r\n"
			     "path c:\\\\\n"
			     "last \\";
	FILE *f = fmemopen(text, sizeof(text) - 1, "r");
	struct ds_script sc = { f, "test", 0 };
	char *line;
	int first;

	tap_is_int(ds_script_next(&sc, &line, &first), 1, "a command after comments");
	tap_is_str(line, "status", "comments and blank lines are skipped");
	tap_is_int(first, 3, "its line number counts the skipped lines");
	free(line);

	ds_script_next(&sc, &line, &first);
	tap_is_str(line, "init   --dry-run", "a trailing backslash joins the next line");
	tap_is_int(first, 5, "a joined command is numbered by its first line");
	free(line);

	ds_script_next(&sc, &line, &first);
	tap_is_str(line, "help", "a CRLF line ending is dropped");
	free(line);

	ds_script_next(&sc, &line, &first);
	tap_is_str(line, "path c:\\\\", "an escaped backslash does not continue the line");
	tap_is_int(first, 8, "line numbers go on after a join");
	free(line);

	ds_script_next(&sc, &line, &first);
	tap_is_str(line, "last ", "a continuation at the end of the file ends the command");
	free(line);

	tap_is_int(ds_script_next(&sc, &line, &first), 0, "then the script ends");
	fclose(f);
	return tap_done();
}
