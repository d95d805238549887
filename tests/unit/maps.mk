# Unit tests of the lookup-table framework and its file drivers.
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_maps tests/unit/test_maps_pattern
TESTS += tests/unit/test_maps tests/unit/test_maps_pattern
tests_unit_test_maps_SOURCES = tests/unit/test_maps.c \
	tests/unit/testdir.c tests/unit/testdir.h
tests_unit_test_maps_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_maps_LDADD = $(TEST_LDADD)
tests_unit_test_maps_pattern_SOURCES = tests/unit/test_maps_pattern.c \
	tests/unit/testdir.c tests/unit/testdir.h
tests_unit_test_maps_pattern_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_maps_pattern_LDADD = $(TEST_LDADD)
endif
