# Unit tests of the LDAP client and the ldap table.
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_ldap_escape tests/unit/test_ldap_table \
	tests/unit/test_ldap_conn
TESTS += tests/unit/test_ldap_escape tests/unit/test_ldap_table \
	tests/unit/test_ldap_conn
tests_unit_test_ldap_escape_SOURCES = tests/unit/test_ldap_escape.c
tests_unit_test_ldap_escape_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_ldap_escape_LDADD = $(TEST_LDADD)
# map_ldap_conf.h is the ldap table's internal header, for this test.
tests_unit_test_ldap_table_SOURCES = tests/unit/test_ldap_table.c \
	src/maps/map_ldap_conf.h
tests_unit_test_ldap_table_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_ldap_table_LDADD = $(TEST_LDADD)
# Against a real slapd: skipped unless run by test_ldap_table.py.
tests_unit_test_ldap_conn_SOURCES = tests/unit/test_ldap_conn.c
tests_unit_test_ldap_conn_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_ldap_conn_LDADD = $(TEST_LDADD)
endif
