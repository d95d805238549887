# Unit tests of the delivery protocol's lines.
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_dproto
TESTS += tests/unit/test_dproto
tests_unit_test_dproto_SOURCES = tests/unit/test_dproto.c
tests_unit_test_dproto_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_dproto_LDADD = $(TEST_LDADD)
endif
