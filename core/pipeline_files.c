/*
 * pipeline_files.c: the files that the words of 'pipeline load' name. The shell does no
 * globbing, so load does its own: a directory stands for its *.json files and a glob(3)
 * pattern for its matches, each in an order that does not depend on the locale or the
 * file system, so that the same words load the same files in the same order everywhere.
 */
#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "complete.h"
#include "pipeline.h"

/* The files found so far, NULL-terminated. */
struct files {
	char **v;
	int n;
};

static void add_file(struct files *f, const char *path)
{
	/* A file named twice (a.json, then its directory) is read once. */
	for (int i = 0; i < f->n; i++)
		if (!strcmp(f->v[i], path))
			return;
	f->v = ds_xrealloc(f->v, (size_t)(f->n + 2) * sizeof(*f->v));
	f->v[f->n++] = ds_xstrdup(path);
	f->v[f->n] = NULL;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_directory(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_json_file(const char *dir, const char *name)
{
	size_t len = strlen(name);
	struct stat st;
	char *path;
	int yes;

	/* Hidden files are left out, as a shell's *.json leaves them out. */
	if (name[0] == '.' || len < 6 || strcmp(name + len - 5, ".json"))
		return 0;
	path = ds_xprintf("%s/%s", dir, name);
	yes = stat(path, &st) == 0 && S_ISREG(st.st_mode);
	free(path);
	return yes;
}

/* A directory's *.json files, not those of its subdirectories, in name order. */
static int add_directory(struct files *f, const char *dir, struct ds_error *err)
{
	size_t dlen = strlen(dir);
	int slash = dlen && dir[dlen - 1] == '/';
	struct files found = { NULL, 0 };
	struct dirent *e;
	DIR *d = opendir(dir);

	if (!d) {
		ds_error_set(err, DS_ERR_FAILED, "cannot read the directory '%s': %s", dir,
			     strerror(errno));
		return -1;
	}
	while ((e = readdir(d)))
		if (is_json_file(dir, e->d_name))
			add_file(&found, e->d_name);
	closedir(d);
	if (!found.n) {
		ds_error_set(err, DS_ERR_FAILED, "directory '%s' has no *.json file", dir);
		return ds_error_hint(err, "load reads the *.json files of a directory, not those "
					  "of its subdirectories");
	}
	qsort(found.v, (size_t)found.n, sizeof(*found.v), by_name);
	for (int i = 0; i < found.n; i++) {
		char *path = ds_xprintf("%.*s/%s", (int)(dlen - (size_t)slash), dir, found.v[i]);

		add_file(f, path);
		free(path);
	}
	ds_names_free(found.v);
	return 0;
}

/* A file or a directory that exists, or a name that is not a pattern: as it is. */
static int add_named(struct files *f, const char *path, struct ds_error *err)
{
	if (is_directory(path))
		return add_directory(f, path, err);
	add_file(f, path);
	return 0;
}

/*
 * A pattern's files, in name order. The directories it matches are left out: a pattern
 * names files, and one that ends in a star does not mean every file below it.
 */
static int add_pattern(struct files *f, const char *pattern, struct ds_error *err)
{
	size_t nfiles = 0;
	glob_t g;
	int rc;

	rc = glob(pattern, GLOB_NOSORT, NULL, &g);
	if (rc != 0 && rc != GLOB_NOMATCH) {
		ds_error_set(err, DS_ERR_FAILED, "cannot read the files that '%s' matches",
			     pattern);
		return -1;
	}
	if (rc == 0) {
		qsort(g.gl_pathv, g.gl_pathc, sizeof(*g.gl_pathv), by_name);
		for (size_t i = 0; i < g.gl_pathc; i++)
			if (!is_directory(g.gl_pathv[i])) {
				add_file(f, g.gl_pathv[i]);
				nfiles++;
			}
		globfree(&g);
	}
	if (!nfiles) {
		ds_error_set(err, DS_ERR_FAILED, "no file matches '%s'", pattern);
		return ds_error_hint(err, "a name with *, ? or [ is a pattern, unless a file "
					  "of that very name exists");
	}
	return 0;
}

char **ds_pipeline_files(char *const *words, int nwords, int *nfiles, struct ds_error *err)
{
	struct files f = { NULL, 0 };
	struct stat st;

	for (int i = 0; i < nwords; i++) {
		const char *w = words[i];
		/* A file that exists is read as named, whatever characters its name has. */
		int rc = stat(w, &st) == 0 || !strpbrk(w, "*?[") ? add_named(&f, w, err)
								 : add_pattern(&f, w, err);

		if (rc < 0) {
			ds_names_free(f.v);
			return NULL;
		}
	}
	*nfiles = f.n;
	return f.v;
}
