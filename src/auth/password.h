#ifndef DIRMAIL_AUTH_PASSWORD_H
#define DIRMAIL_AUTH_PASSWORD_H

/*
 * Password hashes in Dovecot's "{SCHEME}hash" notation, as found in
 * passwd-files and in LDAP userPassword attributes.
 *
 * Schemes: PLAIN, CLEAR, CLEARTEXT; SHA, SSHA, SHA256, SSHA256, SHA512,
 * SSHA512, SMD5, PLAIN-MD5, LDAP-MD5 (digest or digest+salt, base64 or,
 * with a ".HEX" suffix or when the length says so, hexadecimal; ".B64"
 * and ".BASE64" force base64); CRYPT, MD5-CRYPT (alias MD5),
 * SHA256-CRYPT, SHA512-CRYPT, BLF-CRYPT through crypt_r(3), which also
 * takes bare "$1$", "$5$", "$6$", "$2b$"/"$2y$" and "$y$" hashes under
 * CRYPT.  Scheme names are case-insensitive.
 */

/*
 * Check PLAIN against STORED.  STORED may start with "{SCHEME}"; without
 * one, DEFAULT_SCHEME is used (NULL means CRYPT, as in Dovecot).
 * Returns 1 when they match, 0 when they do not (an empty STORED hash or
 * an empty PLAIN never matches), or -1 when STORED is malformed or its
 * scheme unknown, with a static reason in *ERROR_R that never holds the
 * password or the hash.  Comparisons take constant time.
 */
int password_verify(const char *plain, const char *stored,
    const char *default_scheme, const char **error_r);

/*
 * Hash PLAIN with SCHEME (SSHA, SSHA256, SSHA512, SHA256-CRYPT,
 * SHA512-CRYPT, BLF-CRYPT or PLAIN) and a fresh random salt.  Returns
 * "{SCHEME}hash" (allocated; the caller frees it), or NULL with a
 * static reason in *ERROR_R for an unknown scheme or a failure of the
 * random source.
 */
char *password_generate(const char *scheme, const char *plain,
    const char **error_r);

#endif
