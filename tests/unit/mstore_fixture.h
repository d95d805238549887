#ifndef DIRMAIL_TESTS_MSTORE_FIXTURE_H
#define DIRMAIL_TESTS_MSTORE_FIXTURE_H

/*
 * What the mail store's unit tests share: a fresh Maildir root per test
 * (cmocka setup/teardown) and opening the store on it.  Include after
 * <cmocka.h>.
 */

struct mstore;

/* The root of the current test's Maildir. */
extern char *mstore_test_root;

/* cmocka setup: make a new empty root under /tmp. */
int mstore_test_setup(void **state);
/* cmocka teardown: remove the root and everything in it. */
int mstore_test_teardown(void **state);
/* Open the store on the root; fail the test if it cannot. */
struct mstore *mstore_test_open(void);

/* A test with the fresh root. */
#define MSTORE_TEST(f) \
	cmocka_unit_test_setup_teardown(f, mstore_test_setup, \
	    mstore_test_teardown)

#endif
