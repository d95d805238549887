/* A private temporary directory for a cmocka test group. */

#include "config.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/xalloc.h"
#include "testdir.h"

char *testdir;

int
testdir_setup(void **state)
{
	(void)state;
	testdir = xstrdup("/tmp/dirmail-unit.XXXXXX");
	return mkdtemp(testdir) != NULL ? 0 : -1;
}

int
testdir_teardown(void **state)
{
	DIR *dir = opendir(testdir);
	struct dirent *d;
	char *path;

	(void)state;
	while (dir != NULL && (d = readdir(dir)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		path = xasprintf("%s/%s", testdir, d->d_name);
		unlink(path);
		free(path);
	}
	if (dir != NULL)
		closedir(dir);
	rmdir(testdir);
	free(testdir);
	testdir = NULL;
	return 0;
}

char *
testdir_write(const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", testdir, name);
	char *tmp = xasprintf("%s.new", path);
	FILE *fp = fopen(tmp, "w");

	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(rename(tmp, path), 0);
	free(tmp);
	return path;
}
