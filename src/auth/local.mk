# authd, the auth broker: the Dovecot auth-client and auth-userdb
# protocols over the passdb/userdb drivers.
dirmaillibexecdir = $(libexecdir)/dirmail
dirmaillibexec_PROGRAMS = src/auth/authd
src_auth_authd_SOURCES = \
	src/auth/authd.c src/auth/auth.h \
	src/auth/client.c \
	src/auth/request.c \
	src/auth/master.c \
	src/auth/mech.c \
	src/auth/penalty.c \
	src/auth/username.c \
	src/auth/userdb_conn.c \
	src/auth/lineconn.c src/auth/lineconn.h \
	src/auth/fields.c src/auth/fields.h \
	src/auth/db.c src/auth/db.h \
	src/auth/cache.c src/auth/cache.h \
	src/auth/db_passwd_file.c \
	src/auth/db_static.c \
	src/auth/db_pam.c
src_auth_authd_LDADD = src/auth/libauthldap.a src/auth/libpamworker.a \
	src/auth/libauthutil.a \
	$(DM_LIBS) $(DM_EXTLIBS)

if HAVE_CMOCKA
check_PROGRAMS += src/auth/test_fields
TESTS += src/auth/test_fields
src_auth_test_fields_SOURCES = src/auth/test_fields.c src/auth/fields.c \
	src/auth/fields.h
src_auth_test_fields_CFLAGS = $(TEST_CFLAGS)
src_auth_test_fields_LDADD = $(TEST_LDADD)
endif
