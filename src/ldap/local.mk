# The shared LDAP client (over OpenLDAP's libldap).
noinst_LIBRARIES += src/ldap/libldapc.a
src_ldap_libldapc_a_SOURCES = \
	src/ldap/ldapc.c src/ldap/ldapc.h \
	src/ldap/escape.c \
	src/ldap/ldapc_async.c src/ldap/ldapc_async_int.h \
	src/ldap/ldapc_setup.c src/ldap/ldapc_int.h \
	src/ldap/ldapc_sasl.c src/ldap/ldapc_tls.c
