#ifndef DIRMAIL_LIB_CIDR_H
#define DIRMAIL_LIB_CIDR_H

/*
 * IPv4 and IPv6 addresses and networks: "192.0.2.1", "192.0.2.0/24",
 * "2001:db8::/32", "[2001:db8::]/32", "[::1]".
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

struct cidr {
	int family;		/* AF_INET or AF_INET6 */
	uint8_t addr[16];	/* network byte order, host bits cleared */
	unsigned prefix;	/* 0..32 or 0..128 */
};

/*
 * Parse S.  Without a "/len" suffix the prefix is the full length.  Host
 * bits set under the mask are an error, as in Postfix ("192.0.2.1/24").
 * Returns 0, or -1 with a static reason in *ERROR_R.
 */
int cidr_parse(const char *s, struct cidr *cidr_r, const char **error_r);

/*
 * Parse a bare address (no prefix, brackets allowed) into FAMILY and the
 * 4 or 16 bytes of ADDR.  Returns 0 or -1.
 */
int cidr_parse_addr(const char *s, int *family_r, uint8_t addr_r[16]);

/* True when the address (FAMILY, ADDR) lies inside CIDR.  An IPv4-mapped
   IPv6 address matches IPv4 networks. */
bool cidr_match(const struct cidr *cidr, int family, const uint8_t *addr);

/* True when the text address ADDR lies inside CIDR. */
bool cidr_match_text(const struct cidr *cidr, const char *addr);

#endif
