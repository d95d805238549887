# Delivery status notifications and forwarded copies, written by qmgr as
# new queue files, and the blocking commit they use.  bounce.c quotes
# addresses with src/global/addr.c: a program linking it also links
# src/global/libglobal.a.
src_queue_libqueue_a_SOURCES += src/queue/bounce.h src/queue/bounce_int.h \
	src/queue/bounce.c src/queue/bounce_text.c \
	src/queue/qsync.c
