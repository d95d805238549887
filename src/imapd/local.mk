# imapd: the IMAP server.  The login side is src/mra (libmra); the IMAP
# engine that runs in each mail process adds its sources below.
dirmaillibexec_PROGRAMS += src/imapd/imapd
src_imapd_imapd_SOURCES = src/imapd/imapd.c
src_imapd_imapd_LDADD = src/mra/libmra.a $(DM_LIBS) $(DM_EXTLIBS)
# The IMAP engine (imap.h) that runs in each mail process.
src_imapd_imapd_SOURCES += \
	src/imapd/imap.h src/imapd/imap_int.h \
	src/imapd/imap_parse.h src/imapd/imap_parse.c \
	src/imapd/imap_client.c \
	src/imapd/imap_mailbox.c \
	src/imapd/imap_list.c \
	src/imapd/imap_fetch.c \
	src/imapd/imap_store.c \
	src/imapd/imap_search.h src/imapd/imap_search.c \
	src/imapd/imap_idle.c
src_imapd_imapd_LDADD += src/mailstore/libmailstore.a src/mailstore/libmime.a \
	$(DM_LIBS) $(DM_EXTLIBS)
