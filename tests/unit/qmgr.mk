# Unit tests of qmgr's transport resolution and back-off rule.
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_qmgr
TESTS += tests/unit/test_qmgr
tests_unit_test_qmgr_SOURCES = tests/unit/test_qmgr.c \
	src/queue/qmgr_transport.c src/queue/qmgr_transport.h \
	tests/unit/testdir.c tests/unit/testdir.h
tests_unit_test_qmgr_CFLAGS = $(TEST_CFLAGS)
# libglobal first: the resolver uses the tables of libmaps.
tests_unit_test_qmgr_LDADD = src/global/libglobal.a $(TEST_LDADD)
endif
