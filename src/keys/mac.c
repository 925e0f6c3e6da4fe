/*
 * keys/mac: keyed MACs and blind indexes under keys derived from the
 * master key.
 *
 * Owns the per-purpose MAC key rule: K_purpose = HKDF(master,
 * info = "anfu mac v1 " + purpose), 32 bytes, then HMAC with the profile's
 * hash (HMAC-SHA256, or HMAC-SM3 under crypto=gm). A blind index is the
 * lower-case hex of that MAC, so the same purpose must not be used both
 * for blind indexes and for tokens handed to clients. Purposes are short
 * printable names chosen by our code; values are untrusted bytes.
 */
#include <string.h>

#include "base/err.h"
#include "base/limits.h"
#include "base/mem.h"
#include "keys/keys_impl.h"

#define MAC_INFO_PREFIX "anfu mac v1 "

/* 1..ANFU_LIMIT_MAC_PURPOSE_BYTES visible ASCII characters (no spaces or controls). */
static bool purpose_ok(const char *purpose, size_t *ret_len)
{
	size_t n;

	if (!purpose)
		return false;
	n = strnlen(purpose, ANFU_LIMIT_MAC_PURPOSE_BYTES + 1);
	if (n == 0 || n > ANFU_LIMIT_MAC_PURPOSE_BYTES)
		return false;
	for (size_t i = 0; i < n; i++)
		if (purpose[i] < 0x21 || purpose[i] > 0x7e)
			return false;
	*ret_len = n;
	return true;
}

/* MAC of msg under K_purpose; out is written only on success. ANFU_EINVAL
 * for a bad purpose, ANFU_ECRYPTO from the library. */
int anfu_keys_mac(const struct anfu_keys *k, const char *purpose, const void *msg, size_t len,
		  uint8_t out[ANFU_HASH_LEN])
{
	char info[sizeof(MAC_INFO_PREFIX) - 1 + ANFU_LIMIT_MAC_PURPOSE_BYTES];
	uint8_t key[ANFU_HASH_LEN];
	size_t plen = 0, ilen = sizeof(MAC_INFO_PREFIX) - 1;
	int r;

	if (!k || !purpose_ok(purpose, &plen) || (!msg && len) || !out)
		return ANFU_EINVAL;
	memcpy(info, MAC_INFO_PREFIX, ilen);
	memcpy(info + ilen, purpose, plen);
	r = anfu_keys_derive(k, info, ilen + plen, key, sizeof(key));
	if (r == 0)
		r = anfu_hmac(anfu_keys_profile_hash(k->cp), key, sizeof(key), msg, len, out);
	anfu_wipe(key, sizeof(key));
	return r;
}

/* Hex of anfu_keys_mac(); out is written only on success. */
int anfu_keys_blind_index(const struct anfu_keys *k, const char *purpose, const void *value,
			  size_t len, char out[2 * ANFU_HASH_LEN + 1])
{
	uint8_t mac[ANFU_HASH_LEN];
	int r;

	if (!out)
		return ANFU_EINVAL;
	r = anfu_keys_mac(k, purpose, value, len, mac);
	if (r < 0)
		return r;
	anfu_hex_encode(mac, sizeof(mac), out);
	anfu_wipe(mac, sizeof(mac));
	return 0;
}
