# Unit tests of the auth-client protocol client, against a fake server.
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_auth_client
TESTS += tests/unit/test_auth_client
tests_unit_test_auth_client_SOURCES = tests/unit/test_auth_client.c \
	tests/unit/testdir.c tests/unit/testdir.h
tests_unit_test_auth_client_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_auth_client_LDADD = $(TEST_LDADD)
endif
