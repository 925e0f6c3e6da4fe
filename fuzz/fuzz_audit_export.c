/*
 * fuzz/fuzz_audit_export: the audit export parser and verifier.
 *
 * Feeds the input to anfu_audit_parse_line() as one line, and, when it
 * holds a newline (a whole export), to anfu_audit_verify_export() against
 * a fixed Ed25519 test key (the seed exports in fuzz/corpus/audit_export/
 * are signed by its private key, which is not kept). Trusts nothing in the
 * input; must never crash or leak.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "crypto/crypto.h"

static const char test_pub_pem[] = "-----BEGIN PUBLIC KEY-----\n"
				   "MCowBQYDK2VwAyEAqrIPrBggCUMjAHv/Vb1QRSlZBLK79cIDeB2AqKzD3Eo=\n"
				   "-----END PUBLIC KEY-----\n";

static struct anfu_sigkey *test_key(void)
{
	static struct anfu_sigkey *key;
	static int tried;

	if (!tried) {
		tried = 1;
		if (anfu_crypto_init() == 0)
			(void)anfu_sigkey_from_pem(test_pub_pem, sizeof(test_pub_pem) - 1, &key);
	}
	return key;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct anfu_audit_line line;
	struct anfu_audit_report rep;
	struct anfu_sigkey *key = test_key();
	FILE *in;

	if (anfu_audit_parse_line((const char *)data, size, &line) == 0)
		anfu_audit_line_free(&line);
	if (!key || size == 0 || !memchr(data, '\n', size))
		return 0;
	in = fmemopen((void *)data, size, "r");
	if (!in)
		return 0;
	(void)anfu_audit_verify_export(in, key, &rep);
	(void)fclose(in);
	return 0;
}
