sbin_PROGRAMS += src/tools/dirmailctl
src_tools_dirmailctl_SOURCES = \
	src/tools/dirmailctl.c src/tools/ctl.h \
	src/tools/ctl_config.c \
	src/tools/ctl_map.c \
	src/tools/ctl_queue.c \
	src/tools/ctl_auth.c src/auth/fields.c src/auth/fields.h
src_tools_dirmailctl_LDADD = src/auth/libauthutil.a src/smtpd/libcheck.a \
	src/queue/libqueue.a $(DM_LIBS) $(DM_EXTLIBS)
src_tools_dirmailctl_LDFLAGS = $(AM_LDFLAGS) $(QUEUE_LDFLAGS)
