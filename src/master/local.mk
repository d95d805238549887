sbin_PROGRAMS += src/master/dirmaild
src_master_dirmaild_SOURCES = \
	src/master/master.h \
	src/master/dirmaild.c \
	src/master/conf.c \
	src/master/services.c \
	src/master/children.c
src_master_dirmaild_LDADD = $(DM_LIBS) $(DM_EXTLIBS)
