#ifndef DIRMAIL_GLOBAL_PARAMS_H
#define DIRMAIL_GLOBAL_PARAMS_H

/*
 * dirmail's parameter table: every parameter with its type, default and
 * help.  The code, "dirmailctl config -d", doc/dirmail.cf.5 and the
 * sample conf/dirmail.cf all come from this one table.
 */

#include <stdbool.h>
#include <stddef.h>

#include "lib/cfg.h"

extern const struct cfg_param dirmail_params[];
extern const size_t dirmail_params_count;

/* The default configuration file: SYSCONFDIR/dirmail/dirmail.cf. */
#define DIRMAIL_CONFIG_FILE	SYSCONFDIR "/dirmail/dirmail.cf"

/*
 * Load the configuration a dirmail program should use: PATH_OPT (-c),
 * $DIRMAIL_CONFIG, or the default file; OVERRIDES as in cfg_load().
 * Returns 0, or -1 with a "file:line: name: reason" message in *ERROR_R.
 */
int dirmail_config_load(const char *path_opt, char *const *overrides,
    struct cfg **cfg_r, char **error_r);

/* As dirmail_config_load(); a missing file reads as all defaults when
   ALLOW_MISSING is true ("dirmailctl config -d"). */
int dirmail_config_load_ex(const char *path_opt, char *const *overrides,
    bool allow_missing, struct cfg **cfg_r, char **error_r);

#endif
