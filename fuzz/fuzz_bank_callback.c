/*
 * fuzz/fuzz_bank_callback: the bank callback body parser (bank/wire.c,
 * anfu_bank_callback_parse) on arbitrary bytes, and the signed bytes of a
 * callback built from what parsed.
 *
 * Owns nothing across inputs. Trusts nothing in the input; it must neither
 * crash nor leak, and whatever parses must obey the parser's contract
 * (a positive amount, a final status, NUL-terminated serial and bank_ref).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bank/bank.h"
#include "base/assert.h"
#include "base/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct anfu_bank_callback cb;
	char *bytes = NULL;
	size_t len = 0;

	if (anfu_bank_callback_parse((const char *)data, size, &cb) != 0)
		return 0;
	ANFU_ASSERT(cb.amount > 0);
	ANFU_ASSERT(cb.status == ANFU_BANK_ST_SUCCEEDED || cb.status == ANFU_BANK_ST_FAILED);
	ANFU_ASSERT(memchr(cb.serial, '\0', sizeof(cb.serial)) != NULL);
	ANFU_ASSERT(memchr(cb.bank_ref, '\0', sizeof(cb.bank_ref)) != NULL);
	if (anfu_bank_wire_signed_bytes("POST", "/bank/v1/callbacks/sim", 1,
					"0123456789abcdef0123456789abcdef", (const char *)data,
					size, &bytes, &len) == 0)
		free(bytes);
	return 0;
}
