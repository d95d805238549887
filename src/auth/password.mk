# Helpers of the auth broker that know nothing of its sockets: password
# schemes, Dovecot %-variables and dovecot-ldap.conf.ext files.
noinst_LIBRARIES += src/auth/libauthutil.a
src_auth_libauthutil_a_SOURCES = src/auth/password.c src/auth/password.h \
	src/auth/var_expand.c src/auth/var_expand.h

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_password tests/unit/test_var_expand
TESTS += tests/unit/test_password tests/unit/test_var_expand
tests_unit_test_password_SOURCES = tests/unit/test_password.c
tests_unit_test_password_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_password_LDADD = src/auth/libauthutil.a $(TEST_LDADD)
tests_unit_test_var_expand_SOURCES = tests/unit/test_var_expand.c
tests_unit_test_var_expand_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_var_expand_LDADD = src/auth/libauthutil.a $(TEST_LDADD)
endif
