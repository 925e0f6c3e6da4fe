/*
 * crypto/otp: the arithmetic of one-time passwords (HOTP, RFC 4226) and
 * the base32 of their secrets (RFC 4648), liboath's.
 *
 * Owns liboath's one-time initialisation (oath_init is not safe to call
 * concurrently). Trusts liboath; checks every length it is given. The
 * TOTP rules (step, window, replay) are iam/totp.c's.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <liboath/oath.h>

#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "crypto/crypto.h"

static pthread_once_t oath_once = PTHREAD_ONCE_INIT;
static int oath_status = OATH_OK;

static void oath_setup(void)
{
	oath_status = oath_init();
}

static int oath_ready(void)
{
	(void)pthread_once(&oath_once, oath_setup);
	if (oath_status != OATH_OK) {
		anfu_log_error("totp.init", "liboath failed to initialise: %d", oath_status);
		return ANFU_EINTERNAL;
	}
	return 0;
}

int anfu_base32_encode(const void *in, size_t len, char *out, size_t cap)
{
	char *b32 = NULL;
	size_t n = 0;
	int r;

	if (!in || !out || cap == 0)
		return ANFU_EINVAL;
	r = oath_ready();
	if (r < 0)
		return r;
	r = ANFU_EINTERNAL;
	if (oath_base32_encode(in, len, &b32, &n) != OATH_OK || !b32)
		goto out;
	r = ANFU_ELIMIT;
	if (n == 0 || n >= cap)
		goto out;
	memcpy(out, b32, n + 1);
	r = 0;
out:
	if (b32) {
		anfu_wipe(b32, n);
		free(b32);
	}
	return r;
}

int anfu_base32_decode(const char *b32, size_t len, char **ret, size_t *ret_len)
{
	char *raw = NULL;
	size_t n = 0;
	int r;

	if (!b32 || !ret || !ret_len)
		return ANFU_EINVAL;
	r = oath_ready();
	if (r < 0)
		return r;
	if (oath_base32_decode(b32, len, &raw, &n) != OATH_OK || !raw)
		return ANFU_EINVAL;
	*ret = raw;
	*ret_len = n;
	return 0;
}

int anfu_hotp(const void *key, size_t len, uint64_t counter, unsigned digits, char *out)
{
	int r;

	if (!key || !out || digits < 6 || digits > 8)
		return ANFU_EINVAL;
	r = oath_ready();
	if (r < 0)
		return r;
	if (oath_hotp_generate(key, len, counter, digits, false, OATH_HOTP_DYNAMIC_TRUNCATION,
			       out) != OATH_OK)
		return ANFU_EINTERNAL;
	return 0;
}
