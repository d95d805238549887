# The queue: file format, group-committed writer, reader, directories.
# A program that links QUEUE_LIBS adds QUEUE_LDFLAGS (-pthread) to its
# PROG_LDFLAGS: the committer runs worker threads.
noinst_LIBRARIES += src/queue/libqueue.a
src_queue_libqueue_a_SOURCES = \
	src/queue/queue.h src/queue/queue_int.h \
	src/queue/qfile.c \
	src/queue/qread.c \
	src/queue/qcommit.c \
	src/queue/qdir.c \
	src/queue/qspare.c
src_queue_libqueue_a_CFLAGS = $(AM_CFLAGS) -pthread
QUEUE_LIBS = src/queue/libqueue.a
QUEUE_LDFLAGS = -pthread
