# Unit tests (cmocka) run by "make check"; integration tests (pytest) are
# run by ./dev test against the built tree.
TEST_LDADD = $(DM_LIBS) $(DM_EXTLIBS) $(CMOCKA_LIBS)
TEST_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)

include tests/unit/lib.mk
include tests/unit/maps.mk
include tests/unit/ldap.mk
include tests/unit/addr.mk
include tests/unit/authc.mk
include tests/unit/queue.mk
include tests/unit/check.mk
include tests/unit/tabescape.mk
include tests/unit/dproto.mk
include tests/unit/qmgr.mk
include tests/unit/bounce.mk
include tests/unit/delivery.mk
include tests/unit/smtpc.mk
include tests/unit/sendmail.mk
include tests/unit/mailstore.mk
include tests/unit/mime.mk
include tests/unit/mra.mk
include tests/unit/imapd.mk
include tests/unit/pop3d.mk
include tests/svc/local.mk
