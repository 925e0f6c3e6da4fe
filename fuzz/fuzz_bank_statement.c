/*
 * fuzz/fuzz_bank_statement: the bank statement file parser (bank/recon.c,
 * anfu_bank_statement_parse) on arbitrary bytes.
 *
 * Owns nothing across inputs. Trusts nothing in the input; it must neither
 * crash nor leak, and whatever parses must obey the parser's contract
 * (a "bsn_" serial, NUL-terminated, seen once; debit or credit; a positive
 * amount; a final status; one line per '\n'), and whatever fails names a
 * line within the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bank/recon.h"
#include "base/assert.h"
#include "base/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct anfu_bank_stmt_line *l = NULL;
	size_t n = 0, bad = 0, newlines = 0;
	int r = anfu_bank_statement_parse((const char *)data, size, &l, &n, &bad);

	for (size_t i = 0; i < size; i++)
		newlines += data[i] == '\n';
	if (r != 0) {
		ANFU_ASSERT(r == ANFU_EINVAL || r == ANFU_ELIMIT);
		ANFU_ASSERT(l == NULL && bad <= newlines + 1);
		return 0;
	}
	ANFU_ASSERT(n == newlines && (n == 0) == (l == NULL));
	for (size_t i = 0; i < n; i++) {
		ANFU_ASSERT(memchr(l[i].serial, '\0', sizeof(l[i].serial)) != NULL);
		ANFU_ASSERT(strncmp(l[i].serial, "bsn_", 4) == 0 && strlen(l[i].serial) > 4);
		ANFU_ASSERT(strcmp(l[i].kind, "debit") == 0 || strcmp(l[i].kind, "credit") == 0);
		ANFU_ASSERT(l[i].amount > 0);
		ANFU_ASSERT(l[i].status == ANFU_BANK_ST_SUCCEEDED ||
			    l[i].status == ANFU_BANK_ST_FAILED);
		for (size_t j = 0; j < i; j++)
			ANFU_ASSERT(strcmp(l[i].serial, l[j].serial) != 0);
	}
	free(l);
	return 0;
}
