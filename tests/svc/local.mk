# testsvc: a stand-in service the master's integration tests run in place
# of the real ones.  Built by "make check", never installed.
check_PROGRAMS += tests/svc/testsvc
tests_svc_testsvc_SOURCES = tests/svc/testsvc.c
tests_svc_testsvc_LDADD = $(DM_LIBS) $(DM_EXTLIBS)

# Unit tests of the listener specs the master opens (src/lib/listen.c).
if HAVE_CMOCKA
check_PROGRAMS += tests/svc/test_listen
TESTS += tests/svc/test_listen
tests_svc_test_listen_SOURCES = tests/svc/test_listen.c
tests_svc_test_listen_CFLAGS = $(TEST_CFLAGS)
tests_svc_test_listen_LDADD = $(TEST_LDADD)
endif

# mra_test: imapd and pop3d with a test engine, for the tests of the
# login side (test_mra*.py).
check_PROGRAMS += tests/svc/mra_test
tests_svc_mra_test_SOURCES = tests/svc/mra_test.c
tests_svc_mra_test_LDADD = src/mra/libmra.a $(DM_LIBS) $(DM_EXTLIBS)
