# Unit tests of the POP3 engine's text side: command lines, message
# numbers, UIDL formats and dot-stuffing.
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_pop3
TESTS += tests/unit/test_pop3
tests_unit_test_pop3_SOURCES = tests/unit/test_pop3.c
tests_unit_test_pop3_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_pop3_LDADD = src/pop3d/libpop3.a $(TEST_LDADD)
endif

# The engine's sessions over a socket pair, with a stand-in mail store.
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_pop3_engine
TESTS += tests/unit/test_pop3_engine
tests_unit_test_pop3_engine_SOURCES = tests/unit/test_pop3_engine.c \
	tests/unit/test_pop3_client.c tests/unit/test_pop3_client.h
tests_unit_test_pop3_engine_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_pop3_engine_LDADD = src/pop3d/libpop3.a $(TEST_LDADD) -lpthread
endif

# The engine over the real mail store and a Maildir.
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_pop3_store
TESTS += tests/unit/test_pop3_store
tests_unit_test_pop3_store_SOURCES = tests/unit/test_pop3_store.c \
	tests/unit/test_pop3_client.c tests/unit/test_pop3_client.h \
	tests/unit/testdir.c tests/unit/testdir.h
tests_unit_test_pop3_store_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_pop3_store_LDADD = src/pop3d/libpop3.a \
	src/mailstore/libmailstore.a $(TEST_LDADD) -lpthread
endif
