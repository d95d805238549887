#ifndef DIRMAIL_AUTH_CACHE_H
#define DIRMAIL_AUTH_CACHE_H

/*
 * The authentication cache of authd: passdb and userdb answers kept for
 * auth_cache_ttl (negative ones for auth_cache_negative_ttl), bounded by
 * auth_cache_size bytes with LRU eviction.
 *
 * A passdb entry is keyed by the user name and holds a SHA-256 of a
 * random per-process salt and the password, never the password: a
 * cached success or mismatch answers only the very password it was
 * made with, any other password goes to the backend.  "Unknown user"
 * answers every password.  Userdb entries are keyed by the user name
 * alone.  Temporary failures are never cached.
 */

#include <stdbool.h>
#include <stdint.h>

#include "auth/db.h"
#include "auth/fields.h"

/* Set the cache up; MAX_BYTES 0 turns it off.  TTLs in seconds. */
void auth_cache_init(uint64_t max_bytes, long long ttl, long long neg_ttl);

/* Free every entry. */
void auth_cache_deinit(void);

/*
 * Look up the passdb answer for USER and PASSWORD (NULL: never cached).
 * 1 with the result, the backend name (static) and the fields copied
 * into *FIELDS_R; 0 when the backend must be asked.
 */
int auth_cache_pass_get(const char *user, const char *password,
    enum db_result *result_r, const char **backend_r,
    struct auth_fields *fields_r);

/* Remember a passdb answer (DB_TEMPFAIL and a NULL PASSWORD are not). */
void auth_cache_pass_put(const char *user, const char *password,
    enum db_result result, const char *backend,
    const struct auth_fields *fields);

/* As auth_cache_pass_get() for the userdb answer for USER. */
int auth_cache_user_get(const char *user, enum db_result *result_r,
    const char **backend_r, struct auth_fields *fields_r);

/* Remember a userdb answer (DB_TEMPFAIL is not). */
void auth_cache_user_put(const char *user, enum db_result result,
    const char *backend, const struct auth_fields *fields);

/* Drop the entries of USER (NULL: all); returns how many went. */
unsigned int auth_cache_flush(const char *user);

#endif
