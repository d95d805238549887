# The MIME parser and the IMAP structures built from it (BODYSTRUCTURE,
# ENVELOPE, sections, SEARCH helpers), and IMAP string quoting.
noinst_LIBRARIES += src/mailstore/libmime.a
src_mailstore_libmime_a_SOURCES = \
	src/mailstore/mime.h src/mailstore/mime_int.h \
	src/mailstore/mime_ctype.h \
	src/mailstore/mime_lex.c \
	src/mailstore/mime_ctype.c \
	src/mailstore/mime_parse.c \
	src/mailstore/mime_struct.c \
	src/mailstore/mime_envelope.c \
	src/mailstore/mime_section.c \
	src/mailstore/mime_search.c \
	src/mailstore/mime_date.c \
	src/mailstore/imapstr.h src/mailstore/imapstr.c
MIME_LIBS = src/mailstore/libmime.a
