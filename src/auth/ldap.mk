# The ldap passdb and userdb of authd, over the asynchronous LDAP client.
noinst_LIBRARIES += src/auth/libauthldap.a
src_auth_libauthldap_a_SOURCES = src/auth/db_ldap.c src/auth/db_ldap.h

# Against a real slapd: skipped unless run by test_authd_ldap.py.
check_PROGRAMS += tests/unit/test_db_ldap
TESTS += tests/unit/test_db_ldap
tests_unit_test_db_ldap_SOURCES = tests/unit/test_db_ldap.c \
	src/auth/fields.c src/auth/fields.h
tests_unit_test_db_ldap_LDADD = src/auth/libauthldap.a \
	src/auth/libauthutil.a $(DM_LIBS) $(DM_EXTLIBS)
