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
 *
 * Also owns the payment PIN key (keys.h): the purpose "payment_pin" is
 * reserved for it, and its inputs are tagged ("mac\0" for a record's
 * MAC, "kid\0" for the key id) so that no record's MAC equals the id's.
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

/* ---- the payment PIN key ---------------------------------------------- */

/* K_pin is anfu_keys_mac's key for this purpose (the same HKDF info). */
#define PIN_INFO MAC_INFO_PREFIX "payment_pin"
#define PIN_KID_PREFIX "pin-"
#define PIN_TAG_MAC "mac" /* "mac\0" || msg: a record's MAC */
#define PIN_TAG_KID "kid" /* "kid\0": the key's id, never a record's input */

/* HMAC(key, tag || '\0' || msg); out written only on success. */
static int pin_hmac(const struct anfu_keys *k, const uint8_t key[ANFU_HASH_LEN], const char *tag,
		    const void *msg, size_t len, uint8_t out[ANFU_HASH_LEN])
{
	uint8_t buf[sizeof(PIN_TAG_MAC) + ANFU_LIMIT_PIN_MAC_MSG_BYTES];
	size_t tlen = strlen(tag) + 1;
	int r;

	if (len > ANFU_LIMIT_PIN_MAC_MSG_BYTES || tlen > sizeof(PIN_TAG_MAC))
		return ANFU_ELIMIT;
	memcpy(buf, tag, tlen);
	if (len)
		memcpy(buf + tlen, msg, len);
	r = anfu_hmac(anfu_keys_profile_hash(k->cp), key, ANFU_HASH_LEN, buf, tlen + len, out);
	anfu_wipe(buf, sizeof(buf));
	return r;
}

/* K_pin and its id ("pin-" + 16 hex of HMAC(K_pin, "kid\0")). Both are
 * written only on success; the caller wipes key. Derived on every call
 * (anfu_keys_derive remembers K_pin, so that is one HKDF per key set). */
static int pin_key(const struct anfu_keys *k, uint8_t key[ANFU_HASH_LEN], char kid[ANFU_KID_MAX])
{
	uint8_t tmp[ANFU_HASH_LEN], mac[ANFU_HASH_LEN];
	size_t n = sizeof(PIN_KID_PREFIX) - 1;
	int r = anfu_keys_derive(k, PIN_INFO, sizeof(PIN_INFO) - 1, tmp, sizeof(tmp));

	_Static_assert(sizeof(PIN_KID_PREFIX) - 1 + KEYS_KID_HEX == ANFU_PIN_KID_LEN,
		       "ANFU_PIN_KID_LEN is the prefix and the hex");
	_Static_assert(ANFU_PIN_KID_LEN < ANFU_KID_MAX, "a PIN key id fits a kid buffer");
	if (r == 0)
		r = pin_hmac(k, tmp, PIN_TAG_KID, NULL, 0, mac);
	if (r == 0) {
		memcpy(key, tmp, sizeof(tmp));
		memcpy(kid, PIN_KID_PREFIX, n);
		anfu_hex_encode(mac, KEYS_KID_HEX / 2, kid + n);
		kid[n + KEYS_KID_HEX] = '\0';
	}
	anfu_wipe(tmp, sizeof(tmp));
	anfu_wipe(mac, sizeof(mac));
	return r;
}

int anfu_keys_pin_kid(const struct anfu_keys *k, char kid[ANFU_KID_MAX])
{
	uint8_t key[ANFU_HASH_LEN];
	int r;

	if (!k || !kid)
		return ANFU_EINVAL;
	r = pin_key(k, key, kid);
	anfu_wipe(key, sizeof(key));
	return r;
}

int anfu_keys_pin_mac(const struct anfu_keys *k, const char *kid, const void *msg, size_t len,
		      uint8_t out[ANFU_HASH_LEN])
{
	uint8_t key[ANFU_HASH_LEN];
	char cur[ANFU_KID_MAX];
	int r;

	if (!k || !kid || (!msg && len) || !out)
		return ANFU_EINVAL;
	r = pin_key(k, key, cur);
	/* The id is public; comparing it in variable time tells nothing. */
	if (r == 0 && (strnlen(kid, ANFU_KID_MAX) != ANFU_PIN_KID_LEN || strcmp(kid, cur) != 0))
		r = ANFU_ENOTFOUND;
	if (r == 0)
		r = pin_hmac(k, key, PIN_TAG_MAC, msg, len, out);
	anfu_wipe(key, sizeof(key));
	return r;
}
