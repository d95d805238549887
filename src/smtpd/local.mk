# smtpd, the SMTP server of the 25, 587 and 465 listeners and of the
# local pickup socket.
dirmaillibexec_PROGRAMS += src/smtpd/smtpd
src_smtpd_smtpd_SOURCES = \
	src/smtpd/smtpd.c src/smtpd/smtpd.h \
	src/smtpd/session.c \
	src/smtpd/commands.c \
	src/smtpd/esmtp.c \
	src/smtpd/data.c \
	src/smtpd/sasl.c \
	src/smtpd/lookup.c \
	src/smtpd/pickup.c
src_smtpd_smtpd_LDADD = src/smtpd/libcheck.a src/queue/libqueue.a \
	$(DM_LIBS) $(DM_EXTLIBS)
src_smtpd_smtpd_LDFLAGS = $(AM_LDFLAGS) $(QUEUE_LDFLAGS)
