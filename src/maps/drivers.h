#ifndef DIRMAIL_MAPS_DRIVERS_H
#define DIRMAIL_MAPS_DRIVERS_H

/* The table drivers; maps.c lists them in its registry. */

#include "maps/maps.h"

extern const struct map_driver map_driver_texthash;
extern const struct map_driver map_driver_lmdb;
extern const struct map_driver map_driver_cidr;
extern const struct map_driver map_driver_regexp;
extern const struct map_driver map_driver_ldap;
extern const struct map_driver map_driver_unix;

#endif
