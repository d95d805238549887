# Unit tests of the queue file writer, committer and reader.  The same
# program measures commit rates with "test_queue --bench DIR [SECONDS]".
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_queue
TESTS += tests/unit/test_queue
tests_unit_test_queue_SOURCES = tests/unit/test_queue.c \
	tests/unit/testdir.c tests/unit/testdir.h src/queue/queue_int.h
tests_unit_test_queue_CFLAGS = $(TEST_CFLAGS) -pthread \
	-DTOP_SRCDIR='"$(abs_top_srcdir)"'
# The test wraps the library's fsync() to slow it down or make it fail.
tests_unit_test_queue_LDFLAGS = $(AM_LDFLAGS) $(QUEUE_LDFLAGS) \
	-Wl,--wrap=fsync
tests_unit_test_queue_LDADD = $(QUEUE_LIBS) $(TEST_LDADD)
endif
