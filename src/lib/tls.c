/* TLS server contexts. */

#include "config.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "lib/tls.h"
#include "lib/xalloc.h"

/* The last OpenSSL error as text, or WHAT when there is none. */
static const char *
tls_error(const char *what)
{
	static char buf[256];
	unsigned long e = ERR_get_error();

	if (e == 0)
		return what;
	ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return buf;
}

/* Make a server context from CERT_FILE and KEY_FILE. */
SSL_CTX *
tls_server_ctx(const char *cert_file, const char *key_file, char **error_r)
{
	SSL_CTX *ctx;

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		*error_r = xasprintf("SSL_CTX_new: %s", tls_error("failed"));
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
		*error_r = xasprintf("%s: cannot load the certificate: %s",
		    cert_file, tls_error("unknown error"));
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		*error_r = xasprintf("%s: cannot load the private key: %s",
		    key_file, tls_error("it does not match the certificate"));
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* Describe the protocol and cipher of SSL. */
char *
tls_describe(SSL *ssl)
{
	const SSL_CIPHER *c = SSL_get_current_cipher(ssl);
	int alg = 0, bits;

	if (c == NULL)
		return xstrdup(SSL_get_version(ssl));
	bits = SSL_CIPHER_get_bits(c, &alg);
	return xasprintf("%s with cipher %s (%d/%d bits)", SSL_get_version(ssl),
	    SSL_CIPHER_get_name(c), bits, alg);
}
