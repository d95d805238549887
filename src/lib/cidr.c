/* IPv4 and IPv6 addresses and networks. */

#include "config.h"

#include <arpa/inet.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cidr.h"

int
cidr_parse_addr(const char *s, int *family_r, uint8_t addr_r[16])
{
	char buf[INET6_ADDRSTRLEN + 2];
	size_t len = strlen(s);

	if (len >= sizeof(buf))
		return -1;
	if (s[0] == '[') {
		if (len < 3 || s[len - 1] != ']')
			return -1;
		memcpy(buf, s + 1, len - 2);
		buf[len - 2] = '\0';
	} else {
		memcpy(buf, s, len + 1);
	}
	memset(addr_r, 0, 16);
	if (inet_pton(AF_INET, buf, addr_r) == 1 && s[0] != '[') {
		*family_r = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, buf, addr_r) == 1) {
		*family_r = AF_INET6;
		return 0;
	}
	return -1;
}

/* True when the bits of ADDR past PREFIX are all zero. */
static bool
host_bits_clear(const uint8_t *addr, unsigned prefix, unsigned bits)
{
	unsigned i;

	for (i = prefix; i < bits; i++)
		if (addr[i / 8] & (0x80 >> (i % 8)))
			return false;
	return true;
}

int
cidr_parse(const char *s, struct cidr *cidr_r, const char **error_r)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash = strrchr(s, '/');
	unsigned bits;
	char *end;
	long prefix = -1;

	if (slash == NULL)
		slash = s + strlen(s);
	if ((size_t)(slash - s) >= sizeof(buf)) {
		*error_r = "not an address or network";
		return -1;
	}
	memcpy(buf, s, (size_t)(slash - s));
	buf[slash - s] = '\0';
	if (cidr_parse_addr(buf, &cidr_r->family, cidr_r->addr) < 0) {
		*error_r = "not an address or network";
		return -1;
	}
	bits = cidr_r->family == AF_INET ? 32 : 128;
	if (*slash == '/') {
		prefix = strtol(slash + 1, &end, 10);
		if (slash[1] == '\0' || *end != '\0' || prefix < 0 ||
		    prefix > (long)bits) {
			*error_r = "bad network prefix length";
			return -1;
		}
	}
	cidr_r->prefix = prefix < 0 ? bits : (unsigned)prefix;
	if (!host_bits_clear(cidr_r->addr, cidr_r->prefix, bits)) {
		*error_r = "address has bits set outside the network mask";
		return -1;
	}
	return 0;
}

bool
cidr_match(const struct cidr *cidr, int family, const uint8_t *addr)
{
	static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };
	unsigned i;

	if (family == AF_INET6 && cidr->family == AF_INET &&
	    memcmp(addr, v4mapped, 12) == 0) {
		family = AF_INET;
		addr += 12;
	}
	if (family != cidr->family)
		return false;
	for (i = 0; i < cidr->prefix; i++)
		if ((addr[i / 8] ^ cidr->addr[i / 8]) & (0x80 >> (i % 8)))
			return false;
	return true;
}

bool
cidr_match_text(const struct cidr *cidr, const char *addr)
{
	uint8_t bytes[16];
	int family;

	if (cidr_parse_addr(addr, &family, bytes) < 0)
		return false;
	return cidr_match(cidr, family, bytes);
}
