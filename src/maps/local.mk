noinst_LIBRARIES += src/maps/libmaps.a
src_maps_libmaps_a_SOURCES = \
	src/maps/maps.c src/maps/maps.h src/maps/drivers.h \
	src/maps/mapfile.c src/maps/mapfile.h \
	src/maps/aliases.c src/maps/aliases.h \
	src/maps/map_texthash.c \
	src/maps/map_lmdb.c \
	src/maps/map_cidr.c \
	src/maps/map_regexp.c \
	src/maps/map_unix.c \
	src/maps/map_ldap.c src/maps/map_ldap_conf.c src/maps/map_ldap_conf.h
