/*
 * unix:passwd.byname and unix:group.byname: the system's user and group
 * databases (getpwnam_r(3), getgrnam_r(3), so NSS modules such as SSSD
 * answer too), as in Postfix.  A user's value is its passwd(5) line; a
 * group's value is its members, comma-separated.
 */

#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/str.h"
#include "lib/xalloc.h"
#include "maps/drivers.h"

enum unix_db { UNIX_PASSWD = 1, UNIX_GROUP = 2 };

/* Accept the two database names Postfix knows. */
static int
unix_open(struct map *map, char **error_r)
{
	static enum unix_db passwd = UNIX_PASSWD, group = UNIX_GROUP;

	if (strcmp(map->name, "passwd.byname") == 0)
		map->ctx = &passwd;
	else if (strcmp(map->name, "group.byname") == 0)
		map->ctx = &group;
	else {
		*error_r = xasprintf("unix:%s: unknown database (known: "
		    "passwd.byname, group.byname)", map->name);
		return -1;
	}
	return 0;
}

/* Look a user up; NSS errors other than "not found" are temporary. */
static int
unix_lookup_passwd(struct map *map, const char *key, char **value_r)
{
	struct passwd pw, *res;
	char buf[4096];
	int err;

	err = getpwnam_r(key, &pw, buf, sizeof(buf), &res);
	if (res == NULL) {
		if (err == 0 || err == ENOENT || err == ESRCH ||
		    err == EBADF || err == EPERM)
			return MAP_NOTFOUND;
		map_set_error(map, "getpwnam(%s): %s", key, strerror(err));
		return MAP_ERROR;
	}
	*value_r = xasprintf("%s:x:%lu:%lu:%s:%s:%s", pw.pw_name,
	    (unsigned long)pw.pw_uid, (unsigned long)pw.pw_gid, pw.pw_gecos,
	    pw.pw_dir, pw.pw_shell);
	return MAP_FOUND;
}

/* Look a group up; the value is its member list. */
static int
unix_lookup_group(struct map *map, const char *key, char **value_r)
{
	struct group gr, *res;
	struct str s = STR_INIT;
	char buf[16384];
	char **m;
	int err;

	err = getgrnam_r(key, &gr, buf, sizeof(buf), &res);
	if (res == NULL) {
		if (err == 0 || err == ENOENT || err == ESRCH ||
		    err == EBADF || err == EPERM)
			return MAP_NOTFOUND;
		map_set_error(map, "getgrnam(%s): %s", key, strerror(err));
		return MAP_ERROR;
	}
	for (m = gr.gr_mem; *m != NULL; m++)
		str_appendf(&s, "%s%s", m == gr.gr_mem ? "" : ",", *m);
	*value_r = xstrdup(str_c(&s));
	str_free(&s);
	return MAP_FOUND;
}

/* Look KEY up in the database MAP names. */
static int
unix_lookup(struct map *map, const char *key, char **value_r)
{
	if (*(enum unix_db *)map->ctx == UNIX_PASSWD)
		return unix_lookup_passwd(map, key, value_r);
	return unix_lookup_group(map, key, value_r);
}

/* Nothing to release. */
static void
unix_close(struct map *map)
{
	map->ctx = NULL;
}

const struct map_driver map_driver_unix = {
	.type = "unix",
	.flags = 0,
	.open = unix_open,
	.lookup = unix_lookup,
	.close = unix_close,
};
