/* Loading dirmail's configuration with its run-time defaults. */

#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "global/params.h"
#include "lib/xalloc.h"

int
dirmail_config_load(const char *path_opt, char *const *overrides,
    struct cfg **cfg_r, char **error_r)
{
	return dirmail_config_load_ex(path_opt, overrides, false, cfg_r,
	    error_r);
}

int
dirmail_config_load_ex(const char *path_opt, char *const *overrides,
    bool allow_missing, struct cfg **cfg_r, char **error_r)
{
	char host[HOST_NAME_MAX + 1] = "localhost";
	const char *dot;
	char *defaults[3];
	int ret;

	if (gethostname(host, sizeof(host)) < 0 || host[0] == '\0')
		strcpy(host, "localhost");
	host[sizeof(host) - 1] = '\0';
	dot = strchr(host, '.');
	defaults[0] = xasprintf("myhostname=%s", host);
	defaults[1] = xasprintf("mydomain=%s",
	    dot != NULL && dot[1] != '\0' ? dot + 1 : "localdomain");
	defaults[2] = NULL;
	ret = cfg_load(dirmail_params, dirmail_params_count,
	    cfg_default_path(path_opt, DIRMAIL_CONFIG_FILE), defaults,
	    overrides, allow_missing, cfg_r, error_r);
	free(defaults[0]);
	free(defaults[1]);
	return ret;
}
