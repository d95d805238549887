# Unit tests of the messages between the login process, the spawner and
# the mail processes of imapd and pop3d.
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_mra
TESTS += tests/unit/test_mra
tests_unit_test_mra_SOURCES = tests/unit/test_mra.c
tests_unit_test_mra_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_mra_LDADD = src/mra/libmra.a $(TEST_LDADD)
endif
