# Helpers of the auth broker that know nothing of its sockets: password
# schemes, Dovecot %-variables and dovecot-ldap.conf.ext files.
noinst_LIBRARIES += src/auth/libauthutil.a
src_auth_libauthutil_a_SOURCES = src/auth/password.c src/auth/password.h

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_password
TESTS += tests/unit/test_password
tests_unit_test_password_SOURCES = tests/unit/test_password.c
tests_unit_test_password_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_password_LDADD = src/auth/libauthutil.a $(TEST_LDADD)
endif
