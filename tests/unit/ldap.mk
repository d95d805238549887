# Unit tests of the LDAP client and the ldap table.
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_ldap_escape
TESTS += tests/unit/test_ldap_escape
tests_unit_test_ldap_escape_SOURCES = tests/unit/test_ldap_escape.c
tests_unit_test_ldap_escape_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_ldap_escape_LDADD = $(TEST_LDADD)
endif
