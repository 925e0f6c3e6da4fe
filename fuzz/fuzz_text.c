/*
 * fuzz/fuzz_text: the text rule of names and free text (base/text.c:
 * strict UTF-8, no Cc / Cf / Zl / Zp, NFC) on arbitrary bytes.
 *
 * Owns the normalised copy of each input, freed before returning. Trusts
 * nothing in the input; it must neither crash nor leak, and what it
 * accepts must keep the rule's promises: the check and the normaliser
 * agree, the NFC form passes the check again and is its own NFC form.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/text.h"

/* Inputs beyond the default JSON string limit never reach the rule. */
#define FUZZ_TEXT_MAX 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	enum anfu_text_fault f = ANFU_TEXT_OK, f2 = ANFU_TEXT_OK;
	char *nfc = NULL, *again = NULL;
	size_t n = 0, n2 = 0, at = 0;
	int r;

	if (size > FUZZ_TEXT_MAX)
		return 0;
	f = anfu_text_check(s, size, &at);
	if (f != ANFU_TEXT_OK && at >= size)
		abort(); /* the fault lies inside the input */
	r = anfu_text_normalize(s, size, &nfc, &n, &f2);
	if ((r == 0) != (f == ANFU_TEXT_OK) || (r < 0 && (r != ANFU_EINVAL || f2 != f)))
		abort(); /* check and normaliser disagree */
	if (r < 0)
		return 0;
	if (nfc[n] != '\0' || memchr(nfc, '\0', n) || anfu_text_check(nfc, n, NULL) != ANFU_TEXT_OK)
		abort(); /* the stored form breaks the rule */
	if (anfu_text_normalize(nfc, n, &again, &n2, NULL) != 0 || n2 != n ||
	    memcmp(again, nfc, n) != 0)
		abort(); /* NFC is idempotent */
	free(again);
	free(nfc);
	return 0;
}
