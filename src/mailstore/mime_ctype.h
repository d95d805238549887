#ifndef DIRMAIL_MAILSTORE_MIME_CTYPE_H
#define DIRMAIL_MAILSTORE_MIME_CTYPE_H

/*
 * Content-Type and Content-Disposition values (RFC 2045, 2183, 2231).
 * Internal to src/mailstore/mime*.c.
 */

#include <stdbool.h>
#include <stddef.h>

struct mime_lex;
struct mime_param;

/* The most parameters kept from one field. */
#define MIME_MAX_PARAMS	64

/* Parse the unfolded Content-Type VALUE: false when there is no valid
   type/subtype (the caller keeps its defaults).  Parameters are joined
   as mime.h describes; free them with mime_params_free(). */
bool mime_ctype_parse(const char *value, char **type_r, char **subtype_r,
    struct mime_param **params_r, size_t *n_r);

/* Parse the unfolded Content-Disposition VALUE; false without a
   disposition token. */
bool mime_disposition_parse(const char *value, char **disp_r,
    struct mime_param **params_r, size_t *n_r);

/* Read ";name=value" parameters from LX to its end. */
void mime_params_parse(struct mime_lex *lx, struct mime_param **params_r,
    size_t *n_r);

void mime_params_free(struct mime_param *params, size_t n);

#endif
