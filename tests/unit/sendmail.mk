# Unit tests of sendmail's address-list parser and the aliases(5) format.
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_sendmail
TESTS += tests/unit/test_sendmail
tests_unit_test_sendmail_SOURCES = tests/unit/test_sendmail.c \
	src/tools/sendmail_addr.c \
	tests/unit/testdir.c tests/unit/testdir.h
tests_unit_test_sendmail_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_sendmail_LDADD = $(TEST_LDADD)
endif
