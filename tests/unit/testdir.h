#ifndef DIRMAIL_TESTS_UNIT_TESTDIR_H
#define DIRMAIL_TESTS_UNIT_TESTDIR_H

/* A private temporary directory for a cmocka test group. */

/* The directory; valid between testdir_setup() and testdir_teardown(). */
extern char *testdir;

/* cmocka group setup: make the directory. */
int testdir_setup(void **state);

/* cmocka group teardown: remove the directory and the files in it. */
int testdir_teardown(void **state);

/*
 * Write TEXT to NAME in the directory and return the path (free it).  The
 * file is replaced, never rewritten in place, so it gets a new inode.
 */
char *testdir_write(const char *name, const char *text);

#endif
