# imapd: the IMAP server.  The login side is src/mra (libmra); the IMAP
# engine that runs in each mail process adds its sources below.
dirmaillibexec_PROGRAMS += src/imapd/imapd
src_imapd_imapd_SOURCES = src/imapd/imapd.c src/mra/engine_stub.c
src_imapd_imapd_LDADD = src/mra/libmra.a $(DM_LIBS) $(DM_EXTLIBS)
