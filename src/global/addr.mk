# SMTP address parsing and recipient resolution.
src_global_libglobal_a_SOURCES += \
	src/global/addr.c src/global/addr.h \
	src/global/resolve.c src/global/resolve.h
