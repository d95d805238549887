# Unit tests of the mail store: folders at work, and names and LIST.
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_mailstore tests/unit/test_mailstore_folders
TESTS += tests/unit/test_mailstore tests/unit/test_mailstore_folders
tests_unit_test_mailstore_SOURCES = tests/unit/test_mailstore.c
tests_unit_test_mailstore_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_mailstore_LDADD = $(MAILSTORE_LIBS) $(TEST_LDADD)
tests_unit_test_mailstore_folders_SOURCES = \
	tests/unit/test_mailstore_folders.c
tests_unit_test_mailstore_folders_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_mailstore_folders_LDADD = $(MAILSTORE_LIBS) $(TEST_LDADD)
endif
