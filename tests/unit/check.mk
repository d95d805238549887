# Unit tests of the SMTP restrictions and the client rate limits.
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_anvil tests/unit/test_check
TESTS += tests/unit/test_anvil tests/unit/test_check
tests_unit_test_anvil_SOURCES = tests/unit/test_anvil.c
tests_unit_test_anvil_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_anvil_LDADD = src/smtpd/libcheck.a $(TEST_LDADD)
tests_unit_test_check_SOURCES = tests/unit/test_check.c \
	tests/unit/testdir.c tests/unit/testdir.h
tests_unit_test_check_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_check_LDADD = src/smtpd/libcheck.a $(TEST_LDADD)
endif
