# smtp, the SMTP and LMTP delivery agent (doc/delivery-protocol.md).
dirmaillibexec_PROGRAMS += src/delivery/smtp
src_delivery_smtp_SOURCES = \
	src/delivery/smtp.c src/delivery/smtp.h \
	src/delivery/smtp_deliver.c \
	src/delivery/smtp_session.c src/delivery/smtp_session.h \
	src/delivery/smtp_xact.c \
	src/delivery/smtp_tls.c \
	src/delivery/smtp_sasl.c \
	src/delivery/smtp_proto.c src/delivery/smtp_proto.h \
	src/delivery/dns.c src/delivery/dns.h
src_delivery_smtp_LDADD = $(QUEUE_LIBS) $(DM_LIBS) $(DM_EXTLIBS) -lresolv
src_delivery_smtp_LDFLAGS = $(AM_LDFLAGS) $(QUEUE_LDFLAGS)
