# Helpers of the auth broker that know nothing of its sockets: password
# schemes, Dovecot %-variables and dovecot-ldap.conf.ext files.
noinst_LIBRARIES += src/auth/libauthutil.a
src_auth_libauthutil_a_SOURCES = src/auth/password.c src/auth/password.h \
	src/auth/var_expand.c src/auth/var_expand.h \
	src/auth/db_ldap_conf.c src/auth/db_ldap_conf.h

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_password tests/unit/test_var_expand \
	tests/unit/test_db_ldap_conf
TESTS += tests/unit/test_password tests/unit/test_var_expand \
	tests/unit/test_db_ldap_conf
tests_unit_test_password_SOURCES = tests/unit/test_password.c
tests_unit_test_password_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_password_LDADD = src/auth/libauthutil.a $(TEST_LDADD)
tests_unit_test_var_expand_SOURCES = tests/unit/test_var_expand.c
tests_unit_test_var_expand_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_var_expand_LDADD = src/auth/libauthutil.a $(TEST_LDADD)
tests_unit_test_db_ldap_conf_SOURCES = tests/unit/test_db_ldap_conf.c
tests_unit_test_db_ldap_conf_CPPFLAGS = $(AM_CPPFLAGS) \
	-DAUTH_LDAP_FIXTURES='"$(abs_top_srcdir)/tests/fixtures/auth-ldap"'
tests_unit_test_db_ldap_conf_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_db_ldap_conf_LDADD = src/auth/libauthutil.a $(TEST_LDADD)
endif
