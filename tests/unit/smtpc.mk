# Unit tests of the SMTP client's protocol helpers and MX ordering.
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_smtpc
TESTS += tests/unit/test_smtpc
tests_unit_test_smtpc_SOURCES = tests/unit/test_smtpc.c \
	src/delivery/smtp_proto.c src/delivery/dns.c
tests_unit_test_smtpc_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_smtpc_LDADD = $(TEST_LDADD) -lresolv
endif
