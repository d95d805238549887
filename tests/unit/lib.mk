if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_cfg
TESTS += tests/unit/test_cfg
tests_unit_test_cfg_SOURCES = tests/unit/test_cfg.c
tests_unit_test_cfg_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_cfg_LDADD = $(TEST_LDADD)
endif
