# Unit tests of tab-escaping, str_to_uint() and the auth protocols' line
# framing.
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_tabescape
TESTS += tests/unit/test_tabescape
tests_unit_test_tabescape_SOURCES = tests/unit/test_tabescape.c
tests_unit_test_tabescape_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_tabescape_LDADD = $(TEST_LDADD)
endif
