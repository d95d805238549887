# SMTP restrictions, access tables and client rate limits.
noinst_LIBRARIES += src/smtpd/libcheck.a
src_smtpd_libcheck_a_SOURCES = \
	src/smtpd/anvil.c src/smtpd/anvil.h
