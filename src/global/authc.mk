# The Dovecot auth-client protocol client (smtpd, imapd, pop3d), and the
# line framing it shares with authd.
src_global_libglobal_a_SOURCES += \
	src/global/auth_client.c src/global/auth_client.h \
	src/global/auth_client_connect.c src/global/auth_client_connect.h \
	src/global/authproto.c src/global/authproto.h
