/*
 * The TLS settings of a connection.  With a client certificate, its file
 * and its key are read once, when the settings are checked, into one TLS
 * context that every connection shares: later connections need no
 * access to the files, which may be readable only before the program
 * drops its privileges, and libldap (with GnuTLS) does not leak a
 * context with a certificate per connection.
 */

#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldap.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "ldap/ldapc.h"
#include "ldap/ldapc_int.h"
#include "lib/xalloc.h"

/* Never ask for a passphrase: an encrypted key is an error. */
static int
no_passphrase(char *buf, int size, int rwflag, void *ctx)
{
	(void)buf, (void)size, (void)rwflag, (void)ctx;
	return -1;
}

/* Set the DER of LEN bytes at DER as the option OPT of LD; wipe it. */
static int
set_der(LDAP *ld, int opt, unsigned char *der, int len)
{
	struct berval bv;
	int rc;

	if (len <= 0)
		return -1;
	bv.bv_val = (char *)der;
	bv.bv_len = (ber_len_t)len;
	rc = ldap_set_option(ld, opt, &bv);
	OPENSSL_clear_free(der, (size_t)len);
	return rc == LDAP_OPT_SUCCESS ? 0 : -1;
}

/* Give LD the certificate X and the key KEY, in DER. */
static int
set_pair(LDAP *ld, X509 *x, EVP_PKEY *key)
{
	unsigned char *der = NULL;
	int len;

	len = i2d_X509(x, &der);
	if (set_der(ld, LDAP_OPT_X_TLS_CERT, der, len) < 0)
		return -1;
	der = NULL;
	len = i2d_PrivateKey(key, &der);
	return set_der(ld, LDAP_OPT_X_TLS_KEY, der, len);
}

/* Make TLS's shared context: a handle with TLS's options and X, KEY. */
static int
make_shared(struct ldapc_tls *tls, X509 *x, EVP_PKEY *key,
    const char *cert_file, char **error_r)
{
	LDAP *ld = NULL;
	const char *what;
	int rc, is_server = 0;

	if (ldap_initialize(&ld, NULL) != LDAP_SUCCESS) {
		*error_r = xstrdup("cannot make an LDAP handle");
		return -1;
	}
	/* Not shared yet: ldapc_apply_tls() only sets the options. */
	if (ldapc_apply_tls(ld, tls, &what, &rc) < 0 ||
	    set_pair(ld, x, key) < 0 ||
	    ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &is_server) !=
	    LDAP_OPT_SUCCESS) {
		ldap_unbind_ext_s(ld, NULL, NULL);
		*error_r = xasprintf("TLS client certificate %s: cannot make "
		    "a TLS context with it (or with the CA settings)",
		    cert_file);
		return -1;
	}
	tls->shared = ld;
	return 0;
}

/* Open the file PATH of the TLS client WHAT; NULL with a reason. */
static FILE *
open_pem(const char *path, const char *what, char **error_r)
{
	FILE *fp = fopen(path, "r");

	if (fp == NULL)
		*error_r = xasprintf("TLS client %s %s: %s", what, path,
		    strerror(errno));
	return fp;
}

/* Close FP after reading the TLS client WHAT from PATH; OK says if it
   was read, else *ERROR_R says it holds no GOOD. */
static int
close_pem(FILE *fp, bool ok, const char *path, const char *what,
    const char *good, char **error_r)
{
	fclose(fp);
	ERR_clear_error();
	if (ok)
		return 0;
	*error_r = xasprintf("TLS client %s %s: no %s", what, path, good);
	return -1;
}

/* Read the first certificate of the PEM file PATH into *X_R. */
static int
read_cert(const char *path, X509 **x_r, char **error_r)
{
	FILE *fp;

	if ((fp = open_pem(path, "certificate", error_r)) == NULL)
		return -1;
	*x_r = PEM_read_X509(fp, NULL, no_passphrase, NULL);
	return close_pem(fp, *x_r != NULL, path, "certificate",
	    "PEM certificate", error_r);
}

/* Read the unencrypted PEM private key file PATH into *KEY_R. */
static int
read_key(const char *path, EVP_PKEY **key_r, char **error_r)
{
	FILE *fp;

	if ((fp = open_pem(path, "key", error_r)) == NULL)
		return -1;
	*key_r = PEM_read_PrivateKey(fp, NULL, no_passphrase, NULL);
	return close_pem(fp, *key_r != NULL, path, "key",
	    "unencrypted PEM private key", error_r);
}

/* Read the certificate CERT_FILE and its key KEY_FILE into TLS. */
static int
read_pair(struct ldapc_tls *tls, const char *cert_file, const char *key_file,
    char **error_r)
{
	X509 *x = NULL;
	EVP_PKEY *key = NULL;
	int r = -1;

	if (read_cert(cert_file, &x, error_r) < 0 ||
	    read_key(key_file, &key, error_r) < 0)
		goto out;
	if (X509_check_private_key(x, key) != 1) {
		ERR_clear_error();
		*error_r = xasprintf("TLS client key %s does not belong to the "
		    "certificate %s", key_file, cert_file);
		goto out;
	}
	r = make_shared(tls, x, key, cert_file, error_r);
out:
	X509_free(x);
	EVP_PKEY_free(key);
	return r;
}

/* Copy the TLS settings of SET into TLS, reading the client pair. */
int
ldapc_tls_init(struct ldapc_tls *tls, const struct ldapc_settings *set,
    char **error_r)
{
	bool has_cert = set->tls_cert_file != NULL &&
	    *set->tls_cert_file != '\0';
	bool has_key = set->tls_key_file != NULL &&
	    *set->tls_key_file != '\0';

	memset(tls, 0, sizeof(*tls));
	if (has_cert != has_key) {
		*error_r = xstrdup("a TLS client certificate needs both the "
		    "certificate and the key file");
		return -1;
	}
	tls->require = set->tls_require_cert;
	tls->ca_file = ldapc_dup_nonempty(set->tls_ca_file);
	tls->ca_dir = ldapc_dup_nonempty(set->tls_ca_dir);
	if (has_cert && read_pair(tls, set->tls_cert_file,
	    set->tls_key_file, error_r) < 0) {
		ldapc_tls_clear(tls);
		return -1;
	}
	return 0;
}

/* Free what TLS holds, wiping the key. */
void
ldapc_tls_clear(struct ldapc_tls *tls)
{
	if (tls->shared != NULL)
		ldap_unbind_ext_s(tls->shared, NULL, NULL);
	free(tls->ca_file);
	free(tls->ca_dir);
	memset(tls, 0, sizeof(*tls));
}
