# Unit tests of the address parser and the recipient resolver.
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_addr tests/unit/test_resolve
TESTS += tests/unit/test_addr tests/unit/test_resolve
tests_unit_test_addr_SOURCES = tests/unit/test_addr.c
tests_unit_test_addr_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_addr_LDADD = $(TEST_LDADD)
tests_unit_test_resolve_SOURCES = tests/unit/test_resolve.c \
	tests/unit/testdir.c tests/unit/testdir.h
tests_unit_test_resolve_CFLAGS = $(TEST_CFLAGS)
# libglobal first: resolve.c uses the tables of libmaps.
tests_unit_test_resolve_LDADD = src/global/libglobal.a $(TEST_LDADD)
endif
