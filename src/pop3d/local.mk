# pop3d: the POP3 server.  The login side is src/mra (libmra); the POP3
# engine that runs in each mail process adds its sources below.
dirmaillibexec_PROGRAMS += src/pop3d/pop3d
src_pop3d_pop3d_SOURCES = src/pop3d/pop3d.c
src_pop3d_pop3d_LDADD = src/mra/libmra.a $(DM_LIBS) $(DM_EXTLIBS)
# The POP3 engine, in pop3d and, as a library, in its unit tests.
src_pop3d_pop3d_SOURCES += \
	src/pop3d/pop3.h src/pop3d/pop3_int.h src/pop3d/pop3_engine.c \
	src/pop3d/pop3_mailbox.c \
	src/pop3d/pop3_text.h src/pop3d/pop3_text.c
src_pop3d_pop3d_LDADD += src/mailstore/libmailstore.a $(DM_LIBS)
noinst_LIBRARIES += src/pop3d/libpop3.a
src_pop3d_libpop3_a_SOURCES = \
	src/pop3d/pop3.h src/pop3d/pop3_int.h src/pop3d/pop3_engine.c \
	src/pop3d/pop3_mailbox.c \
	src/pop3d/pop3_text.h src/pop3d/pop3_text.c
