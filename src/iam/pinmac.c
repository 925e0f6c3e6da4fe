/*
 * iam/pinmac: payment PIN records as keyed MACs (iam/pinmac.h).
 *
 * Owns the record format and the message the MAC covers; the key and the
 * MAC are src/keys' (anfu_keys_pin_mac), the Argon2id check of old records
 * is iam/pwhash's. Trusts nothing in a stored record: every field is
 * checked for length and alphabet before use, and a record that does not
 * parse can never match.
 */
#include <string.h>

#include "base/err.h"
#include "base/limits.h"
#include "base/mem.h"
#include "base/rand.h"
#include "base/str.h"
#include "crypto/crypto.h"
#include "iam/pinmac.h"
#include "iam/pwhash.h"
#include "iam/pwpolicy.h"
#include "keys/keys.h"

#define ARGON2_PREFIX "$argon2id$"
#define SALT_HEX (2 * IAM_PIN_SALT_LEN)
#define MAC_HEX (2 * ANFU_HASH_LEN)
/* prefix, kid, '$', salt, '$', MAC */
#define RECORD_LEN \
	(sizeof(IAM_PIN_RECORD_PREFIX) - 1 + ANFU_PIN_KID_LEN + 1 + SALT_HEX + 1 + MAC_HEX)
_Static_assert(RECORD_LEN < ANFU_LIMIT_PIN_RECORD_BYTES, "a record and its NUL fit");
_Static_assert(ANFU_ID_MAX + IAM_PIN_SALT_LEN + ANFU_PIN_LEN <= ANFU_LIMIT_PIN_MAC_MSG_BYTES,
	       "a MAC's message fits src/keys' limit");

/* A parsed record: views into the stored text and the decoded salt/MAC. */
struct rec {
	char kid[ANFU_PIN_KID_LEN + 1];
	uint8_t salt[IAM_PIN_SALT_LEN];
	uint8_t mac[ANFU_HASH_LEN];
};

static bool six_digits(const char *pin, size_t len)
{
	if (!pin || len != ANFU_PIN_LEN)
		return false;
	for (size_t i = 0; i < len; i++)
		if (pin[i] < '0' || pin[i] > '9')
			return false;
	return true;
}

/* MAC over user_id || '\0' || salt || pin; out written only on success. */
static int rec_mac(const struct anfu_keys *keys, const char *kid, const char *user_id,
		   const uint8_t salt[IAM_PIN_SALT_LEN], const char *pin,
		   uint8_t out[ANFU_HASH_LEN])
{
	uint8_t msg[ANFU_LIMIT_PIN_MAC_MSG_BYTES];
	size_t ulen = strnlen(user_id, ANFU_ID_MAX);
	size_t n = 0;
	int r;

	if (ulen == 0 || ulen >= ANFU_ID_MAX)
		return ANFU_EINVAL;
	memcpy(msg, user_id, ulen + 1); /* with its NUL: ids cannot run into the salt */
	n = ulen + 1;
	memcpy(msg + n, salt, IAM_PIN_SALT_LEN);
	n += IAM_PIN_SALT_LEN;
	memcpy(msg + n, pin, ANFU_PIN_LEN);
	n += ANFU_PIN_LEN;
	r = anfu_keys_pin_mac(keys, kid, msg, n, out);
	anfu_wipe(msg, sizeof(msg));
	return r;
}

static bool lower_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* Parses a MAC record; ANFU_ECORRUPT unless it has exactly the format. */
static int rec_parse(const char *s, struct rec *ret)
{
	size_t plen = sizeof(IAM_PIN_RECORD_PREFIX) - 1;
	const char *kid, *salt, *mac;

	if (strnlen(s, RECORD_LEN + 1) != RECORD_LEN ||
	    strncmp(s, IAM_PIN_RECORD_PREFIX, plen) != 0)
		return ANFU_ECORRUPT;
	kid = s + plen;
	salt = kid + ANFU_PIN_KID_LEN + 1;
	mac = salt + SALT_HEX + 1;
	if (kid[ANFU_PIN_KID_LEN] != '$' || salt[SALT_HEX] != '$' || !lower_hex(salt, SALT_HEX) ||
	    !lower_hex(mac, MAC_HEX))
		return ANFU_ECORRUPT;
	for (size_t i = 0; i < ANFU_PIN_KID_LEN; i++)
		if (kid[i] < 0x21 || kid[i] > 0x7e || kid[i] == '$')
			return ANFU_ECORRUPT;
	memcpy(ret->kid, kid, ANFU_PIN_KID_LEN);
	ret->kid[ANFU_PIN_KID_LEN] = '\0';
	if (anfu_hex_decode(salt, SALT_HEX, ret->salt, sizeof(ret->salt)) < 0 ||
	    anfu_hex_decode(mac, MAC_HEX, ret->mac, sizeof(ret->mac)) < 0)
		return ANFU_ECORRUPT;
	return 0;
}

int iam_pin_record(const struct anfu_keys *keys, const char *user_id, const char *pin, size_t len,
		   char out[ANFU_LIMIT_PIN_RECORD_BYTES])
{
	struct rec rc;
	char text[ANFU_LIMIT_PIN_RECORD_BYTES], kid[ANFU_KID_MAX];
	size_t plen = sizeof(IAM_PIN_RECORD_PREFIX) - 1, n;
	int r;

	if (!keys || !user_id || !out || !six_digits(pin, len))
		return ANFU_EINVAL;
	anfu_crypto_random(rc.salt, sizeof(rc.salt));
	r = anfu_keys_pin_kid(keys, kid);
	if (r == 0)
		(void)anfu_strlcpy(rc.kid, kid, sizeof(rc.kid));
	if (r == 0)
		r = rec_mac(keys, rc.kid, user_id, rc.salt, pin, rc.mac);
	if (r < 0)
		goto out;
	memcpy(text, IAM_PIN_RECORD_PREFIX, plen);
	n = plen;
	memcpy(text + n, rc.kid, ANFU_PIN_KID_LEN);
	n += ANFU_PIN_KID_LEN;
	text[n++] = '$';
	anfu_hex_encode(rc.salt, sizeof(rc.salt), text + n);
	n += SALT_HEX;
	text[n++] = '$';
	anfu_hex_encode(rc.mac, sizeof(rc.mac), text + n);
	n += MAC_HEX;
	text[n] = '\0';
	memcpy(out, text, n + 1);
out:
	anfu_wipe(&rc, sizeof(rc));
	anfu_wipe(text, sizeof(text));
	return r;
}

bool iam_pin_is_argon2(const char *stored)
{
	return stored && strncmp(stored, ARGON2_PREFIX, sizeof(ARGON2_PREFIX) - 1) == 0;
}

int iam_pin_check(const struct anfu_keys *keys, struct anfu_pwhash *pwh, const char *user_id,
		  const char *stored, const char *pin, size_t len)
{
	struct rec rc;
	uint8_t mac[ANFU_HASH_LEN];
	int r;

	if (!keys || !pwh || !user_id || !stored)
		return ANFU_EINVAL;
	if (iam_pin_is_argon2(stored))
		return anfu_pwhash_check(pwh, len == ANFU_PIN_LEN ? stored : NULL, pin ? pin : "",
					 len);
	r = rec_parse(stored, &rc);
	if (r == 0 && !six_digits(pin, len))
		r = ANFU_EAUTH;
	if (r == 0)
		r = rec_mac(keys, rc.kid, user_id, rc.salt, pin, mac);
	if (r == 0 && !anfu_crypto_equal(mac, rc.mac, sizeof(mac)))
		r = ANFU_EAUTH;
	anfu_wipe(&rc, sizeof(rc));
	anfu_wipe(mac, sizeof(mac));
	return r;
}

bool iam_pin_outdated(const struct anfu_keys *keys, const char *stored)
{
	struct rec rc;
	char kid[ANFU_KID_MAX];
	bool current;

	if (!keys || !stored || rec_parse(stored, &rc) < 0)
		return true;
	/* Without the current id, "outdated": a rewrite would fail the same way. */
	current = anfu_keys_pin_kid(keys, kid) == 0 && strcmp(rc.kid, kid) == 0;
	anfu_wipe(&rc, sizeof(rc));
	return !current;
}
