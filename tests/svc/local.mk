# testsvc: a stand-in service the master's integration tests run in place
# of the real ones.  Built by "make check", never installed.
check_PROGRAMS += tests/svc/testsvc
tests_svc_testsvc_SOURCES = tests/svc/testsvc.c
tests_svc_testsvc_LDADD = $(DM_LIBS) $(DM_EXTLIBS)
