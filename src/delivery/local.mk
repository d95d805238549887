# local: the delivery agent of the local and virtual transports
# (doc/delivery-protocol.md).  The Maildir, mbox, alias and userdb parts
# are a library of their own for the unit tests.
noinst_LIBRARIES += src/delivery/libdeliver.a
src_delivery_libdeliver_a_SOURCES = \
	src/delivery/maildir.c src/delivery/maildir.h \
	src/delivery/mbox.c src/delivery/mbox.h \
	src/delivery/alias.c src/delivery/alias.h \
	src/delivery/userdb.c src/delivery/userdb.h \
	src/delivery/local_msg.c src/delivery/local_msg.h \
	src/delivery/local_id.c src/delivery/local_id.h
DELIVER_LIBS = src/delivery/libdeliver.a

dirmaillibexec_PROGRAMS += src/delivery/local
src_delivery_local_SOURCES = \
	src/delivery/local.c src/delivery/local.h \
	src/delivery/local_deliver.c \
	src/delivery/local_command.c \
	src/delivery/local_virtual.c \
	src/delivery/local_user.c
src_delivery_local_LDADD = $(DELIVER_LIBS) $(QUEUE_LIBS) $(DM_LIBS) \
	$(DM_EXTLIBS)
src_delivery_local_LDFLAGS = $(AM_LDFLAGS) -pthread
