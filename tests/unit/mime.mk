# Unit tests of the MIME parser, BODYSTRUCTURE, ENVELOPE, sections,
# SEARCH helpers and IMAP strings.
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_mime
TESTS += tests/unit/test_mime
tests_unit_test_mime_SOURCES = tests/unit/test_mime.c \
	tests/unit/test_mime_more.c
tests_unit_test_mime_CFLAGS = $(TEST_CFLAGS) \
	-DTOP_SRCDIR='"$(abs_top_srcdir)"'
tests_unit_test_mime_LDADD = $(MIME_LIBS) $(TEST_LDADD)
endif
