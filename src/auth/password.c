/*
 * Dovecot password schemes: checking a password against a stored hash,
 * and making new hashes (see password.h).
 */

#include "config.h"

#include <crypt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "auth/password.h"
#include "lib/xalloc.h"

/* The longest decoded digest+salt accepted, in bytes. */
#define RAW_MAX		512
/* The longest scheme name accepted, suffix included. */
#define SCHEME_MAX	32
/* Salt bytes of the hashes we make. */
#define SALT_LEN	8

enum scheme_kind {
	K_PLAIN,	/* the password itself */
	K_DIGEST,	/* digest(password) */
	K_SALTED,	/* digest(password + salt) + salt */
	K_CRYPT,	/* crypt(3) */
};

enum encoding {
	ENC_AUTO,	/* base64, or hex when the length says so */
	ENC_BASE64,
	ENC_HEX,
};

struct scheme {
	const char *name;
	enum scheme_kind kind;
	const EVP_MD *(*md)(void);	/* K_DIGEST, K_SALTED */
	const char *prefix;		/* K_CRYPT: hash prefix, or NULL */
};

/* The schemes we know, with their aliases. */
static const struct scheme schemes[] = {
	{ "PLAIN", K_PLAIN, NULL, NULL },
	{ "CLEAR", K_PLAIN, NULL, NULL },
	{ "CLEARTEXT", K_PLAIN, NULL, NULL },
	{ "SHA", K_DIGEST, EVP_sha1, NULL },
	{ "SHA1", K_DIGEST, EVP_sha1, NULL },
	{ "SHA256", K_DIGEST, EVP_sha256, NULL },
	{ "SHA512", K_DIGEST, EVP_sha512, NULL },
	{ "PLAIN-MD5", K_DIGEST, EVP_md5, NULL },
	{ "LDAP-MD5", K_DIGEST, EVP_md5, NULL },
	{ "SSHA", K_SALTED, EVP_sha1, NULL },
	{ "SSHA256", K_SALTED, EVP_sha256, NULL },
	{ "SSHA512", K_SALTED, EVP_sha512, NULL },
	{ "SMD5", K_SALTED, EVP_md5, NULL },
	{ "CRYPT", K_CRYPT, NULL, NULL },
	{ "MD5", K_CRYPT, NULL, "$1$" },
	{ "MD5-CRYPT", K_CRYPT, NULL, "$1$" },
	{ "SHA256-CRYPT", K_CRYPT, NULL, "$5$" },
	{ "SHA512-CRYPT", K_CRYPT, NULL, "$6$" },
	{ "BLF-CRYPT", K_CRYPT, NULL, "$2" },
};

#define NSCHEMES	(sizeof(schemes) / sizeof(schemes[0]))

/* Return the scheme named by the LEN bytes at NAME, or NULL. */
static const struct scheme *
scheme_lookup(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < NSCHEMES; i++)
		if (strlen(schemes[i].name) == len &&
		    strncasecmp(schemes[i].name, name, len) == 0)
			return &schemes[i];
	return NULL;
}

/* Find the scheme NAME (LEN bytes) with an optional encoding suffix. */
static const struct scheme *
scheme_find(const char *name, size_t len, enum encoding *enc_r)
{
	static const struct {
		const char *suffix;
		enum encoding enc;
	} suffixes[] = {
		{ ".HEX", ENC_HEX },
		{ ".B64", ENC_BASE64 },
		{ ".BASE64", ENC_BASE64 },
	};
	size_t i, n;

	*enc_r = ENC_AUTO;
	for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		n = strlen(suffixes[i].suffix);
		if (len > n && strncasecmp(name + len - n, suffixes[i].suffix,
		    n) == 0) {
			*enc_r = suffixes[i].enc;
			len -= n;
			break;
		}
	}
	return scheme_lookup(name, len);
}

/*
 * Split STORED into its scheme and hash.  Returns 0, or -1 with a
 * reason in *ERROR_R.
 */
static int
split_stored(const char *stored, const char *default_scheme,
    const struct scheme **scheme_r, enum encoding *enc_r,
    const char **hash_r, const char **error_r)
{
	const char *name = default_scheme != NULL ? default_scheme : "CRYPT";
	const char *end;
	size_t len = strlen(name);

	*hash_r = stored;
	if (*stored == '{') {
		end = strchr(stored, '}');
		if (end == NULL || (size_t)(end - stored) > SCHEME_MAX) {
			*error_r = "malformed {SCHEME} prefix";
			return -1;
		}
		name = stored + 1;
		len = (size_t)(end - name);
		*hash_r = end + 1;
	}
	if ((*scheme_r = scheme_find(name, len, enc_r)) == NULL) {
		*error_r = "unknown password scheme";
		return -1;
	}
	return 0;
}

/* Return the value of the base64 digit C, or -1. */
static int
b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * Decode the strict, padded base64 text S (LEN bytes) into OUT (at
 * least LEN / 4 * 3 bytes).  Returns 0 and the size in *SIZE_R, or -1.
 */
static int
b64_decode(const char *s, size_t len, unsigned char *out, size_t *size_r)
{
	size_t i, j, pad = 0, n = 0;
	unsigned long group;
	int v;

	if (len == 0 || len % 4 != 0)
		return -1;
	pad = (s[len - 1] == '=') + (s[len - 2] == '=');
	for (i = 0; i < len; i += 4) {
		group = 0;
		for (j = 0; j < 4; j++) {
			if (i + j >= len - pad && s[i + j] == '=')
				v = 0;
			else if ((v = b64_value(s[i + j])) < 0)
				return -1;
			group = group << 6 | (unsigned long)v;
		}
		out[n++] = (unsigned char)(group >> 16);
		out[n++] = (unsigned char)(group >> 8);
		out[n++] = (unsigned char)group;
	}
	*size_r = n - pad;
	return 0;
}

/* Return the value of the hex digit C, or -1. */
static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode the hex text S (LEN bytes) into OUT; 0, or -1. */
static int
hex_decode(const char *s, size_t len, unsigned char *out, size_t *size_r)
{
	size_t i;
	int hi, lo;

	if (len == 0 || len % 2 != 0)
		return -1;
	for (i = 0; i < len; i += 2) {
		if ((hi = hex_value(s[i])) < 0 || (lo = hex_value(s[i + 1])) < 0)
			return -1;
		out[i / 2] = (unsigned char)(hi << 4 | lo);
	}
	*size_r = len / 2;
	return 0;
}

/* True when the LEN bytes at S are all hex digits. */
static bool
is_hex(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (hex_value(s[i]) < 0)
			return false;
	return true;
}

/*
 * Decode HASH as ENC into RAW (RAW_MAX bytes); in ENC_AUTO, a hex text
 * of exactly 2 * HEX_SIZE digits is taken as hex.  Returns 0, or -1.
 */
static int
decode_hash(const char *hash, enum encoding enc, size_t hex_size,
    unsigned char *raw, size_t *size_r)
{
	size_t len = strlen(hash);

	if (enc == ENC_AUTO)
		enc = hex_size > 0 && len == 2 * hex_size &&
		    is_hex(hash, len) ? ENC_HEX : ENC_BASE64;
	if (enc == ENC_HEX)
		return len / 2 > RAW_MAX ? -1 :
		    hex_decode(hash, len, raw, size_r);
	return len / 4 * 3 > RAW_MAX ? -1 :
	    b64_decode(hash, len, raw, size_r);
}

/* Compute MD(PLAIN + SALT) into OUT (EVP_MAX_MD_SIZE bytes). */
static void
digest(const EVP_MD *md, const char *plain, const unsigned char *salt,
    size_t salt_len, unsigned char *out)
{
	EVP_MD_CTX *ctx;
	unsigned int len;

	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(ctx, md, NULL) != 1 ||
	    EVP_DigestUpdate(ctx, plain, strlen(plain)) != 1 ||
	    EVP_DigestUpdate(ctx, salt, salt_len) != 1 ||
	    EVP_DigestFinal_ex(ctx, out, &len) != 1)
		abort();
	EVP_MD_CTX_free(ctx);
}

/* Verify a K_DIGEST or K_SALTED hash. */
static int
verify_digest(const struct scheme *scheme, enum encoding enc,
    const char *plain, const char *hash, const char **error_r)
{
	unsigned char raw[RAW_MAX], want[EVP_MAX_MD_SIZE];
	const EVP_MD *md = scheme->md();
	size_t size, dlen = (size_t)EVP_MD_get_size(md);
	bool salted = scheme->kind == K_SALTED;
	int r;

	if (decode_hash(hash, enc, salted ? 0 : dlen, raw, &size) < 0) {
		*error_r = "malformed password hash encoding";
		return -1;
	}
	if (salted ? size <= dlen : size != dlen) {
		*error_r = "password hash has the wrong length";
		return -1;
	}
	digest(md, plain, raw + dlen, size - dlen, want);
	r = CRYPTO_memcmp(want, raw, dlen) == 0;
	OPENSSL_cleanse(want, sizeof(want));
	return r;
}

/* Verify a K_PLAIN password, comparing digests of both in constant time. */
static int
verify_plain(const char *plain, const char *stored)
{
	unsigned char a[EVP_MAX_MD_SIZE], b[EVP_MAX_MD_SIZE];
	int r;

	digest(EVP_sha256(), plain, NULL, 0, a);
	digest(EVP_sha256(), stored, NULL, 0, b);
	r = CRYPTO_memcmp(a, b, 32) == 0;
	OPENSSL_cleanse(a, sizeof(a));
	return r;
}

/* Verify a crypt(3) hash. */
static int
verify_crypt(const struct scheme *scheme, const char *plain,
    const char *hash, const char **error_r)
{
	struct crypt_data *data;
	const char *res;
	size_t len = strlen(hash);
	int r;

	if (scheme->prefix != NULL &&
	    strncmp(hash, scheme->prefix, strlen(scheme->prefix)) != 0) {
		*error_r = "crypt hash does not match its scheme";
		return -1;
	}
	data = xcalloc(1, sizeof(*data));
	res = crypt_r(plain, hash, data);
	if (res == NULL || *res == '*') {
		*error_r = "malformed or unsupported crypt hash";
		r = -1;
	} else
		r = strlen(res) == len && CRYPTO_memcmp(res, hash, len) == 0;
	explicit_bzero(data, sizeof(*data));
	free(data);
	return r;
}

/* Check a password against a stored hash. */
int
password_verify(const char *plain, const char *stored,
    const char *default_scheme, const char **error_r)
{
	const struct scheme *scheme;
	enum encoding enc;
	const char *hash;

	if (split_stored(stored, default_scheme, &scheme, &enc, &hash,
	    error_r) < 0)
		return -1;
	if (*hash == '\0' || *plain == '\0')
		return 0;
	switch (scheme->kind) {
	case K_PLAIN:
		return verify_plain(plain, hash);
	case K_DIGEST:
	case K_SALTED:
		return verify_digest(scheme, enc, plain, hash, error_r);
	case K_CRYPT:
		return verify_crypt(scheme, plain, hash, error_r);
	}
	*error_r = "unknown password scheme";
	return -1;
}

/* Make "{NAME}" + base64(MD(PLAIN + salt) + salt). */
static char *
generate_salted(const struct scheme *scheme, const char *plain,
    const char **error_r)
{
	unsigned char raw[EVP_MAX_MD_SIZE + SALT_LEN];
	unsigned char b64[(sizeof(raw) + 2) / 3 * 4 + 1];
	const EVP_MD *md = scheme->md();
	size_t dlen = (size_t)EVP_MD_get_size(md);
	char *out;

	if (RAND_bytes(raw + dlen, SALT_LEN) != 1) {
		*error_r = "no random bytes for the salt";
		return NULL;
	}
	digest(md, plain, raw + dlen, SALT_LEN, raw);
	EVP_EncodeBlock(b64, raw, (int)(dlen + SALT_LEN));
	out = xasprintf("{%s}%s", scheme->name, (const char *)b64);
	OPENSSL_cleanse(raw, sizeof(raw));
	return out;
}

/* Make "{NAME}" + crypt(PLAIN) with a new salt for the scheme's prefix. */
static char *
generate_crypt(const struct scheme *scheme, const char *plain,
    const char **error_r)
{
	char rbytes[16], setting[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *data;
	const char *prefix = scheme->prefix;
	const char *res;
	char *out = NULL;

	if (strcmp(prefix, "$2") == 0)
		prefix = "$2b$";
	if (RAND_bytes((unsigned char *)rbytes, sizeof(rbytes)) != 1 ||
	    crypt_gensalt_rn(prefix, 0, rbytes, sizeof(rbytes), setting,
	    sizeof(setting)) == NULL) {
		*error_r = "cannot make a crypt salt";
		return NULL;
	}
	data = xcalloc(1, sizeof(*data));
	res = crypt_r(plain, setting, data);
	if (res == NULL || *res == '*')
		*error_r = "crypt(3) does not support this scheme";
	else
		out = xasprintf("{%s}%s", scheme->name, res);
	explicit_bzero(data, sizeof(*data));
	free(data);
	return out;
}

/* Hash a password with a scheme and a random salt. */
char *
password_generate(const char *scheme_name, const char *plain,
    const char **error_r)
{
	const struct scheme *scheme;

	scheme = scheme_lookup(scheme_name, strlen(scheme_name));
	if (scheme == NULL) {
		*error_r = "unknown password scheme";
		return NULL;
	}
	switch (scheme->kind) {
	case K_PLAIN:
		return xasprintf("{%s}%s", scheme->name, plain);
	case K_SALTED:
		return generate_salted(scheme, plain, error_r);
	case K_CRYPT:
		if (scheme->prefix != NULL && strcmp(scheme->prefix, "$1$"))
			return generate_crypt(scheme, plain, error_r);
		break;
	case K_DIGEST:
		break;
	}
	*error_r = "cannot make hashes of this scheme (use SSHA512 or "
	    "SHA512-CRYPT)";
	return NULL;
}
