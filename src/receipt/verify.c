/*
 * receipt/verify: checking a receipt document offline (`anfu receipts
 * verify`, the unit tests): the named key id and algorithm, then the
 * signature over the canonical form of the parsed body, the same steps
 * tools/verify_receipt.py takes.
 *
 * Owns nothing; trusts nothing in the document (size-capped, parsed by
 * jansson with duplicate keys refused).
 */
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "receipt/receipt.h"

static const char *member(const json_t *doc, const char *name)
{
	const json_t *v = json_object_get(doc, name);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Exactly the four members, of the right types. */
static bool shape_ok(const json_t *doc)
{
	return json_is_object(doc) && json_object_size(doc) == 4 && member(doc, "alg") &&
	       member(doc, "kid") && member(doc, "sig") &&
	       json_is_object(json_object_get(doc, "body"));
}

int anfu_receipt_verify(const char *doc, size_t len, const struct anfu_sigkey *key, const char *kid,
			json_t **ret_body)
{
	const char *sig_b64;
	uint8_t *sig = NULL;
	size_t siglen = 0;
	struct anfu_buf b;
	json_t *d = NULL;
	int r;

	if (!doc || !key || !kid || !ret_body)
		return ANFU_EINVAL;
	if (len > ANFU_LIMIT_RECEIPT_BYTES)
		return ANFU_EINVAL;
	anfu_buf_init(&b, ANFU_LIMIT_RECEIPT_BYTES);
	d = json_loadb(doc, len, JSON_REJECT_DUPLICATES, NULL);
	if (!d || !shape_ok(d)) {
		r = ANFU_EINVAL;
		goto out;
	}
	if (strcmp(member(d, "kid"), kid) != 0 ||
	    strcmp(member(d, "alg"), anfu_sig_name(anfu_sigkey_alg(key))) != 0) {
		r = ANFU_ENOTFOUND;
		goto out;
	}
	sig_b64 = member(d, "sig");
	if (anfu_base64_decode(sig_b64, strlen(sig_b64), &sig, &siglen) < 0) {
		r = ANFU_ECRYPTO;
		goto out;
	}
	r = anfu_receipt_canonical(json_object_get(d, "body"), &b);
	if (r < 0)
		goto out;
	if (anfu_verify(key, b.data, b.len, sig, siglen) < 0) {
		r = ANFU_ECRYPTO;
		goto out;
	}
	*ret_body = json_incref(json_object_get(d, "body"));
	r = 0;
out:
	free(sig);
	anfu_buf_free(&b);
	json_decref(d);
	return r;
}
