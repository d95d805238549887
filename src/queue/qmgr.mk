# qmgr, the queue manager: scans the queue, routes recipients and hands
# them to the delivery agents, defers, bounces.
dirmaillibexec_PROGRAMS += src/queue/qmgr
src_queue_qmgr_SOURCES = \
	src/queue/qmgr.c src/queue/qmgr.h \
	src/queue/qmgr_message.c \
	src/queue/qmgr_result.c \
	src/queue/qmgr_deliver.c \
	src/queue/qmgr_transport.c src/queue/qmgr_transport.h
src_queue_qmgr_LDADD = src/queue/libqueue.a $(DM_LIBS) $(DM_EXTLIBS)
src_queue_qmgr_LDFLAGS = $(AM_LDFLAGS) $(QUEUE_LDFLAGS)
