# pop3d: the POP3 server.  The login side is src/mra (libmra); the POP3
# engine that runs in each mail process adds its sources below.
dirmaillibexec_PROGRAMS += src/pop3d/pop3d
src_pop3d_pop3d_SOURCES = src/pop3d/pop3d.c src/mra/engine_stub.c
src_pop3d_pop3d_LDADD = src/mra/libmra.a $(DM_LIBS) $(DM_EXTLIBS)
