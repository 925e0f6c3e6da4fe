/*
 * crypto/encode: hex and base64 with exactly one encoding per byte string.
 *
 * Owns the canonical text forms of binary values. Decoders are strict
 * because signed exports and stored ciphertexts are compared as text: hex
 * is lower case only, base64 is the standard alphabet with padding and
 * zero pad bits, so no two strings decode to the same bytes. Decoding runs
 * in time that depends only on the length (the input may be a key). Trusts
 * nothing about the input text.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"
#include "crypto/crypto.h"

#define B64_VARIANT sodium_base64_VARIANT_ORIGINAL

/* Value of a lower-case hex digit, with bit 8 set when c is not one.
 * Branch-free, so the time does not depend on the (possibly secret) text. */
static unsigned hex_value(unsigned char c)
{
	int d = (int)c - '0';
	int a = (int)c - 'a';
	unsigned d_ok = ((unsigned)(d | (9 - d)) >> 31) ^ 1U; /* 1 for '0'..'9' */
	unsigned a_ok = ((unsigned)(a | (5 - a)) >> 31) ^ 1U; /* 1 for 'a'..'f' */
	unsigned v = ((unsigned)d & -d_ok) | ((unsigned)(a + 10) & -a_ok);

	return v | (((d_ok | a_ok) ^ 1U) << 8);
}

void anfu_hex_encode(const void *in, size_t len, char *out)
{
	(void)sodium_bin2hex(out, 2 * len + 1, in, len);
}

/* Decodes exactly 2*outlen lower-case hex digits. out is written only on
 * success; ANFU_EINVAL for a wrong length or any other character. */
int anfu_hex_decode(const char *hex, size_t hexlen, void *out, size_t outlen)
{
	const unsigned char *h = (const unsigned char *)hex;
	unsigned char *o = out;
	unsigned bad = 0;
	size_t need;

	if (__builtin_mul_overflow(outlen, (size_t)2, &need) || hexlen != need)
		return ANFU_EINVAL;
	if (outlen == 0)
		return 0;
	if (!hex || !out)
		return ANFU_EINVAL;
	for (size_t i = 0; i < hexlen; i++)
		bad |= hex_value(h[i]);
	if (bad & ~0xfU)
		return ANFU_EINVAL;
	for (size_t i = 0; i < outlen; i++)
		o[i] = (unsigned char)((hex_value(h[2 * i]) << 4) | hex_value(h[2 * i + 1]));
	return 0;
}

/* Padded standard base64 of len bytes as a malloc'd string (abort on OOM).
 * in is borrowed. */
char *anfu_base64_encode(const void *in, size_t len)
{
	size_t cap = sodium_base64_ENCODED_LEN(len, B64_VARIANT);
	char *s = anfu_xmalloc(cap);

	(void)sodium_bin2base64(s, cap, in, len, B64_VARIANT);
	return s;
}

/* Decodes len characters of canonical base64 (padding required, no white
 * space, zero pad bits). *ret (malloc'd, at least 1 byte) and *ret_len are
 * written only on success; ANFU_EINVAL otherwise. */
int anfu_base64_decode(const char *b64, size_t len, uint8_t **ret, size_t *ret_len)
{
	uint8_t *bin = NULL;
	char *again = NULL;
	const char *end = NULL;
	size_t cap, n = 0;
	int r = ANFU_EINVAL;

	if ((!b64 && len) || !ret || !ret_len || len % 4 != 0)
		return ANFU_EINVAL;
	cap = len / 4 * 3;
	bin = anfu_xmalloc(cap ? cap : 1);
	if (len && (sodium_base642bin(bin, cap, b64, len, NULL, &n, &end, B64_VARIANT) != 0 ||
		    end != b64 + len))
		goto out;
	/* Canonical form: re-encoding must give back exactly the input. */
	again = anfu_base64_encode(bin, n);
	if (strlen(again) != len || !anfu_crypto_equal(again, b64, len))
		goto out;
	*ret = bin;
	*ret_len = n;
	bin = NULL;
	r = 0;
out:
	if (bin) {
		anfu_wipe(bin, cap);
		free(bin);
	}
	anfu_free_secret(again);
	return r;
}
