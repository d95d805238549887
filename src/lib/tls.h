#ifndef DIRMAIL_LIB_TLS_H
#define DIRMAIL_LIB_TLS_H

/*
 * TLS server contexts (OpenSSL 3): the certificate chain and key of a
 * service, TLS 1.2 at least, the library's default ciphers.
 */

#include <openssl/ssl.h>

/*
 * A server context with the PEM certificate chain CERT_FILE and the key
 * KEY_FILE (the same file may hold both).  Returns the context, or NULL
 * with a message naming the file in *ERROR_R (allocated).
 */
SSL_CTX *tls_server_ctx(const char *cert_file, const char *key_file,
    char **error_r);

/* "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)" for SSL,
   as Postfix writes it in Received: headers and logs.  Allocated. */
char *tls_describe(SSL *ssl);

#endif
