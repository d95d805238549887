# The mail store: Maildir++ folders, the UID index, flags and keywords,
# as imapd and pop3d see them (doc/mailstore.md).
noinst_LIBRARIES += src/mailstore/libmailstore.a
src_mailstore_libmailstore_a_SOURCES = \
	src/mailstore/mailstore.h src/mailstore/ms_int.h \
	src/mailstore/msutil.c \
	src/mailstore/msname.c \
	src/mailstore/msscan.c \
	src/mailstore/msindex.c \
	src/mailstore/mskeywords.c \
	src/mailstore/mbox.c \
	src/mailstore/mbox_ops.c \
	src/mailstore/msappend.c \
	src/mailstore/msfolder.c \
	src/mailstore/mslist.c \
	src/mailstore/cache_int.h src/mailstore/cache.c \
	src/mailstore/cache_file.c
MAILSTORE_LIBS = src/mailstore/libmailstore.a
