# The Dovecot auth-client protocol client (smtpd, imapd, pop3d).
src_global_libglobal_a_SOURCES += \
	src/global/auth_client.c src/global/auth_client.h
