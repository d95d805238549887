# Unit tests of the mail store: folders at work, names and LIST, and the
# folder cache.
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_mailstore tests/unit/test_mailstore_folders \
	tests/unit/test_mailstore_cache
TESTS += tests/unit/test_mailstore tests/unit/test_mailstore_folders \
	tests/unit/test_mailstore_cache
tests_unit_test_mailstore_SOURCES = tests/unit/test_mailstore.c \
	tests/unit/mstore_fixture.c tests/unit/mstore_fixture.h
tests_unit_test_mailstore_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_mailstore_LDADD = $(MAILSTORE_LIBS) $(TEST_LDADD)
tests_unit_test_mailstore_folders_SOURCES = \
	tests/unit/test_mailstore_folders.c \
	tests/unit/mstore_fixture.c tests/unit/mstore_fixture.h
tests_unit_test_mailstore_folders_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_mailstore_folders_LDADD = $(MAILSTORE_LIBS) $(TEST_LDADD)
tests_unit_test_mailstore_cache_SOURCES = tests/unit/test_mailstore_cache.c \
	tests/unit/mstore_fixture.c tests/unit/mstore_fixture.h
tests_unit_test_mailstore_cache_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_mailstore_cache_LDADD = $(MAILSTORE_LIBS) $(TEST_LDADD)
endif
