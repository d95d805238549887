# Unit tests of the bounce writer and the blocking queue file commit.
# With BOUNCE_DSN_OUT=FILE the program also saves one notice there, for
# tests/integration/test_bounce.py.
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_bounce
TESTS += tests/unit/test_bounce
tests_unit_test_bounce_SOURCES = tests/unit/test_bounce.c \
	tests/unit/testdir.c tests/unit/testdir.h
tests_unit_test_bounce_CFLAGS = $(TEST_CFLAGS)
# The test wraps the library's fsync() to make it fail.
tests_unit_test_bounce_LDFLAGS = $(AM_LDFLAGS) $(QUEUE_LDFLAGS) \
	-Wl,--wrap=fsync
tests_unit_test_bounce_LDADD = $(QUEUE_LIBS) $(TEST_LDADD)
endif
