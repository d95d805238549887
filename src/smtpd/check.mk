# SMTP restrictions, access tables and client rate limits.
noinst_LIBRARIES += src/smtpd/libcheck.a
src_smtpd_libcheck_a_SOURCES = \
	src/smtpd/check.c src/smtpd/check.h \
	src/smtpd/check_access.c \
	src/smtpd/anvil.c src/smtpd/anvil.h
