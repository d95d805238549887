# The login side shared by imapd and pop3d: listeners, TLS, the protocol
# before login, authentication, the spawner and the proxy.
noinst_LIBRARIES += src/mra/libmra.a
src_mra_libmra_a_SOURCES = \
	src/mra/mra.h \
	src/mra/main.c
