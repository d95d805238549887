noinst_LIBRARIES += src/lib/libdirmail.a
src_lib_libdirmail_a_SOURCES = \
	src/lib/cidr.c src/lib/cidr.h \
	src/lib/cfg.c src/lib/cfg.h \
	src/lib/clock.c src/lib/clock.h \
	src/lib/fdio.c src/lib/fdio.h \
	src/lib/listen.c src/lib/listen.h \
	src/lib/log.c src/lib/log.h \
	src/lib/priv.c src/lib/priv.h \
	src/lib/str.c src/lib/str.h \
	src/lib/tabescape.c src/lib/tabescape.h \
	src/lib/tls.c src/lib/tls.h \
	src/lib/worker.c src/lib/worker.h \
	src/lib/xalloc.c src/lib/xalloc.h
