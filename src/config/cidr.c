/*
 * config/cidr: address ranges ("10.0.0.0/8", "::1/128") and matching a
 * client address against them (admin.allow, IAM-ADM-02).
 *
 * Owns nothing. Trusts nothing in the text it parses; trusts callers to
 * pass raw address bytes of the size their family implies (4 or 16).
 * IPv4-mapped IPv6 (::ffff:a.b.c.d) is folded to IPv4 on both sides, so a
 * dual-stack socket's peer matches the IPv4 ranges an operator wrote.
 */
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "base/err.h"
#include "base/str.h"
#include "config/config.h"

/* Longest text form: an IPv6 address with an embedded IPv4 plus "/128". */
#define CIDR_TEXT_MAX (INET6_ADDRSTRLEN + 4)

static const uint8_t mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

static bool is_v4_mapped(const uint8_t *a16)
{
	return memcmp(a16, mapped_prefix, sizeof(mapped_prefix)) == 0;
}

/* Clears the bits after prefix in addr (nbytes long). */
static void clear_host_bits(uint8_t *addr, size_t nbytes, int prefix)
{
	for (size_t i = 0; i < nbytes; i++) {
		int keep = prefix - (int)(i * 8);

		if (keep <= 0)
			addr[i] = 0;
		else if (keep < 8)
			addr[i] &= (uint8_t)(0xff << (8 - keep));
	}
}

/* True when the first prefix bits of a and b are equal. */
static bool prefix_equal(const uint8_t *a, const uint8_t *b, int prefix)
{
	int full = prefix / 8, rest = prefix % 8;

	if (full > 0 && memcmp(a, b, (size_t)full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((a[full] ^ b[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

int anfu_cidr_parse(const char *s, struct anfu_cidr *ret)
{
	char text[CIDR_TEXT_MAX + 1];
	struct anfu_cidr c = { 0 };
	const char *slash;
	long long prefix = -1;
	size_t len;
	int max;

	if (!s || !ret)
		return ANFU_EINVAL;
	len = strlen(s);
	if (len == 0 || len > CIDR_TEXT_MAX)
		return ANFU_EINVAL;
	slash = strchr(s, '/');
	memcpy(text, s, slash ? (size_t)(slash - s) : len);
	text[slash ? (size_t)(slash - s) : len] = '\0';
	if (inet_pton(AF_INET, text, c.addr) == 1)
		c.family = AF_INET;
	else if (inet_pton(AF_INET6, text, c.addr) == 1)
		c.family = AF_INET6;
	else
		return ANFU_EINVAL;
	max = c.family == AF_INET ? 32 : 128;
	/* Digits only: no sign, no spaces. */
	if (slash && (slash[1] < '0' || slash[1] > '9' ||
		      anfu_parse_i64(anfu_str_c(slash + 1), &prefix) < 0))
		return ANFU_EINVAL;
	if (!slash)
		prefix = max;
	if (prefix < 0 || prefix > max)
		return ANFU_EINVAL;
	c.prefix = (int)prefix;
	if (c.family == AF_INET6 && c.prefix >= 96 && is_v4_mapped(c.addr)) {
		memmove(c.addr, c.addr + 12, 4);
		memset(c.addr + 4, 0, 12);
		c.family = AF_INET;
		c.prefix -= 96;
	}
	clear_host_bits(c.addr, sizeof(c.addr), c.prefix);
	*ret = c;
	return 0;
}

bool anfu_cidr_match(const struct anfu_cidr *cidrs, int n, int family, const uint8_t *addr)
{
	if (!cidrs || !addr || (family != AF_INET && family != AF_INET6))
		return false;
	if (family == AF_INET6 && is_v4_mapped(addr)) {
		family = AF_INET;
		addr += 12;
	}
	for (int i = 0; i < n; i++) {
		const struct anfu_cidr *c = &cidrs[i];

		if (c->family == family && prefix_equal(c->addr, addr, c->prefix))
			return true;
	}
	return false;
}
