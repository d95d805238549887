noinst_LIBRARIES += src/global/libglobal.a
src_global_libglobal_a_SOURCES = \
	src/global/params.c src/global/params.h \
	src/global/dmconfig.c \
	src/global/daemon_opts.c src/global/daemon_opts.h
# The delivery protocol between qmgr and the delivery agents.
src_global_libglobal_a_SOURCES += src/global/dproto.c src/global/dproto.h
# mail_location expansion, for the local agent and the mail processes.
src_global_libglobal_a_SOURCES += src/global/mail_location.c \
	src/global/mail_location.h
