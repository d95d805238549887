# The login side shared by imapd and pop3d: listeners, TLS, the protocol
# before login, authentication, the spawner, the mail processes' start
# and the proxy.
noinst_LIBRARIES += src/mra/libmra.a
src_mra_libmra_a_SOURCES = \
	src/mra/mra.h src/mra/login.h src/mra/spawner.h \
	src/mra/main.c \
	src/mra/conn.c \
	src/mra/login.c \
	src/mra/imap_login.c \
	src/mra/pop3_login.c \
	src/mra/proxy.c \
	src/mra/spawner.c \
	src/mra/mailproc.c
