/* The authentication cache: a hash table of entries on an LRU list. */

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "auth/cache.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/xalloc.h"

#define CACHE_SALT_LEN		32
#define CACHE_HASH_LEN		32
#define CACHE_MIN_BUCKETS	64
#define CACHE_MAX_BUCKETS	65536

enum cache_kind {
	CACHE_PASS = 'P',
	CACHE_USER = 'U',
};

struct cache_entry {
	struct cache_entry *hnext;		/* bucket chain */
	struct cache_entry *prev, *next;	/* LRU: head is newest */
	char kind;
	char *user;
	enum db_result result;
	const char *backend;
	struct auth_fields fields;
	unsigned char hash[CACHE_HASH_LEN];
	long long expires_ms;
	size_t bytes;
};

static struct {
	uint64_t max_bytes, bytes;
	long long ttl_ms, neg_ttl_ms;
	struct cache_entry **buckets;
	size_t n_buckets;
	struct cache_entry *head, *tail;
	unsigned char salt[CACHE_SALT_LEN];
} cache;

/* The bucket of KIND and USER (FNV-1a). */
static size_t
cache_bucket(char kind, const char *user)
{
	uint32_t h = 2166136261u ^ (unsigned char)kind;

	h *= 16777619u;
	for (; *user != '\0'; user++) {
		h ^= (unsigned char)*user;
		h *= 16777619u;
	}
	return h & (cache.n_buckets - 1);
}

/* SHA-256 of the salt and PASSWORD into OUT. */
static void
cache_hash(const char *password, unsigned char *out)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned int len = CACHE_HASH_LEN;

	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(md, cache.salt, sizeof(cache.salt)) != 1 ||
	    EVP_DigestUpdate(md, password, strlen(password)) != 1 ||
	    EVP_DigestFinal_ex(md, out, &len) != 1)
		log_fatal("auth cache: SHA-256 failed");
	EVP_MD_CTX_free(md);
}

/* Set the cache up. */
void
auth_cache_init(uint64_t max_bytes, long long ttl, long long neg_ttl)
{
	size_t n = CACHE_MIN_BUCKETS;

	memset(&cache, 0, sizeof(cache));
	if (max_bytes == 0)
		return;
	if (RAND_bytes(cache.salt, sizeof(cache.salt)) != 1)
		log_fatal("auth cache: no random bytes for the salt");
	while (n < CACHE_MAX_BUCKETS && n * 512 < max_bytes)
		n *= 2;
	cache.n_buckets = n;
	cache.buckets = xcalloc(n, sizeof(*cache.buckets));
	cache.max_bytes = max_bytes;
	cache.ttl_ms = ttl * 1000;
	cache.neg_ttl_ms = neg_ttl * 1000;
}

/* Take E off its bucket chain and the LRU list, and free it. */
static void
cache_remove(struct cache_entry *e)
{
	struct cache_entry **pp = &cache.buckets[cache_bucket(e->kind,
	    e->user)];

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		cache.head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		cache.tail = e->prev;
	cache.bytes -= e->bytes;
	fields_clear(&e->fields);
	free(e->user);
	free(e);
}

/* Free every entry. */
void
auth_cache_deinit(void)
{
	while (cache.head != NULL)
		cache_remove(cache.head);
	free(cache.buckets);
	memset(&cache, 0, sizeof(cache));
}

/* The live entry of KIND for USER, made the newest; NULL when none. */
static struct cache_entry *
cache_find(char kind, const char *user)
{
	struct cache_entry *e;

	if (cache.max_bytes == 0)
		return NULL;
	for (e = cache.buckets[cache_bucket(kind, user)]; e != NULL;
	    e = e->hnext)
		if (e->kind == kind && strcmp(e->user, user) == 0)
			break;
	if (e == NULL)
		return NULL;
	if (e->expires_ms <= clock_now_ms()) {
		cache_remove(e);
		return NULL;
	}
	if (e->prev != NULL) {
		e->prev->next = e->next;
		if (e->next != NULL)
			e->next->prev = e->prev;
		else
			cache.tail = e->prev;
		e->prev = NULL;
		e->next = cache.head;
		cache.head->prev = e;
		cache.head = e;
	}
	return e;
}

/* Hand the answer of E out. */
static int
cache_hit(const struct cache_entry *e, enum db_result *result_r,
    const char **backend_r, struct auth_fields *fields_r)
{
	*result_r = e->result;
	*backend_r = e->backend;
	fields_copy(fields_r, &e->fields);
	return 1;
}

/* Look a passdb answer up. */
int
auth_cache_pass_get(const char *user, const char *password,
    enum db_result *result_r, const char **backend_r,
    struct auth_fields *fields_r)
{
	struct cache_entry *e;
	unsigned char hash[CACHE_HASH_LEN];

	if (password == NULL || (e = cache_find(CACHE_PASS, user)) == NULL)
		return 0;
	if (e->result == DB_NOTFOUND)
		return cache_hit(e, result_r, backend_r, fields_r);
	cache_hash(password, hash);
	if (CRYPTO_memcmp(hash, e->hash, sizeof(hash)) != 0)
		return 0;
	return cache_hit(e, result_r, backend_r, fields_r);
}

/* The memory E takes, roughly. */
static size_t
cache_entry_bytes(const struct cache_entry *e)
{
	size_t bytes = sizeof(*e) + strlen(e->user) + 1, i;

	for (i = 0; i < e->fields.count; i++)
		bytes += strlen(e->fields.names[i]) +
		    strlen(e->fields.values[i]) + 2 + 2 * sizeof(char *);
	return bytes;
}

/* Add a new entry of KIND for USER, evicting the oldest as needed. */
static struct cache_entry *
cache_add(char kind, const char *user, enum db_result result,
    const char *backend, const struct auth_fields *fields)
{
	struct cache_entry *e, *old;
	size_t b;
	long long ttl = result == DB_OK ? cache.ttl_ms : cache.neg_ttl_ms;

	if ((old = cache_find(kind, user)) != NULL)
		cache_remove(old);
	if (ttl <= 0)
		return NULL;
	e = xcalloc(1, sizeof(*e));
	e->kind = kind;
	e->user = xstrdup(user);
	e->result = result;
	e->backend = backend;
	if (result == DB_OK)
		fields_copy(&e->fields, fields);
	e->expires_ms = clock_now_ms() + ttl;
	e->bytes = cache_entry_bytes(e);
	while (cache.tail != NULL && cache.bytes + e->bytes > cache.max_bytes)
		cache_remove(cache.tail);
	b = cache_bucket(kind, user);
	e->hnext = cache.buckets[b];
	cache.buckets[b] = e;
	e->next = cache.head;
	if (cache.head != NULL)
		cache.head->prev = e;
	cache.head = e;
	if (cache.tail == NULL)
		cache.tail = e;
	cache.bytes += e->bytes;
	return e;
}

/* Remember a passdb answer. */
void
auth_cache_pass_put(const char *user, const char *password,
    enum db_result result, const char *backend,
    const struct auth_fields *fields)
{
	struct cache_entry *e;

	if (cache.max_bytes == 0 || password == NULL || result == DB_TEMPFAIL)
		return;
	/* A wrong guess does not push a good password out. */
	if (result == DB_MISMATCH && (e = cache_find(CACHE_PASS, user)) !=
	    NULL && e->result == DB_OK)
		return;
	if ((e = cache_add(CACHE_PASS, user, result, backend, fields)) != NULL)
		cache_hash(password, e->hash);
}

/* Look a userdb answer up. */
int
auth_cache_user_get(const char *user, enum db_result *result_r,
    const char **backend_r, struct auth_fields *fields_r)
{
	struct cache_entry *e = cache_find(CACHE_USER, user);

	return e == NULL ? 0 : cache_hit(e, result_r, backend_r, fields_r);
}

/* Remember a userdb answer. */
void
auth_cache_user_put(const char *user, enum db_result result,
    const char *backend, const struct auth_fields *fields)
{
	if (cache.max_bytes == 0 || result == DB_TEMPFAIL ||
	    result == DB_MISMATCH)
		return;
	(void)cache_add(CACHE_USER, user, result, backend, fields);
}

/* Drop the entries of USER, or all. */
unsigned int
auth_cache_flush(const char *user)
{
	struct cache_entry *e, *next;
	unsigned int n = 0;

	for (e = cache.head; e != NULL; e = next) {
		next = e->next;
		if (user == NULL || strcmp(e->user, user) == 0) {
			cache_remove(e);
			n++;
		}
	}
	return n;
}
