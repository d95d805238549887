# Unit tests of the IMAP engine: the command parser and SEARCH.
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_imap_parse
TESTS += tests/unit/test_imap_parse
tests_unit_test_imap_parse_SOURCES = tests/unit/test_imap_parse.c \
	src/imapd/imap_parse.c
tests_unit_test_imap_parse_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_imap_parse_LDADD = $(TEST_LDADD)
endif
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_imap_search
TESTS += tests/unit/test_imap_search
tests_unit_test_imap_search_SOURCES = tests/unit/test_imap_search.c \
	src/imapd/imap_search.c src/imapd/imap_parse.c
tests_unit_test_imap_search_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_imap_search_LDADD = $(MIME_LIBS) $(TEST_LDADD)
endif
