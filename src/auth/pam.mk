# PAM worker pool: authd's pam: passdb runs PAM conversations in worker
# processes forked by a small helper, never in the event loop.
noinst_LIBRARIES += src/auth/libpamworker.a
src_auth_libpamworker_a_SOURCES = src/auth/pam_worker.c \
	src/auth/pam_worker.h src/auth/pam_helper.c src/auth/pam_proto.c \
	src/auth/pam_proto.h

# pamcheck: drives the pool from a libevent loop for the integration tests.
check_PROGRAMS += tests/svc/pamcheck
tests_svc_pamcheck_SOURCES = tests/svc/pamcheck.c
tests_svc_pamcheck_LDADD = src/auth/libpamworker.a $(DM_LIBS) $(DM_EXTLIBS)
