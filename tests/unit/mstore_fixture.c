/* What the mail store's unit tests share (tests/unit/mstore_fixture.h). */

#include "config.h"

#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/xalloc.h"
#include "mailstore/mailstore.h"
#include "mstore_fixture.h"

char *mstore_test_root;

static int
rm_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

int
mstore_test_setup(void **state)
{
	(void)state;
	mstore_test_root = xstrdup("/tmp/dirmail-mstore.XXXXXX");
	return mkdtemp(mstore_test_root) != NULL ? 0 : -1;
}

int
mstore_test_teardown(void **state)
{
	(void)state;
	nftw(mstore_test_root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(mstore_test_root);
	mstore_test_root = NULL;
	return 0;
}

struct mstore *
mstore_test_open(void)
{
	struct mstore *st;
	char *error = NULL;

	if (mstore_open(mstore_test_root, &st, &error) < 0)
		fail_msg("mstore_open: %s", error);
	return st;
}
