# Unit tests of the local delivery agent's parts: Maildir and mbox
# writers, alias values, mail_location and the Delivered-To loop check.
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_delivery
TESTS += tests/unit/test_delivery
tests_unit_test_delivery_SOURCES = tests/unit/test_delivery.c \
	tests/unit/testdir.c tests/unit/testdir.h
tests_unit_test_delivery_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_delivery_LDADD = $(DELIVER_LIBS) $(TEST_LDADD)
endif
