/*
 * base/text: strict UTF-8, refusal of Cc / Cf / Zl / Zp characters and NFC
 * normalisation of names and free text (base/text.h), on libunistring.
 *
 * Trusts nothing of its input: every byte sequence is checked by u8_check
 * before it is decoded.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <unictype.h>
#include <unistr.h>
#include <uninorm.h>

#include "base/err.h"
#include "base/json.h"
#include "base/mem.h"
#include "base/text.h"

static enum anfu_text_fault fault_of(ucs4_t uc)
{
	if (uc_is_general_category(uc, UC_CATEGORY_Cc))
		return ANFU_TEXT_CONTROL;
	if (uc_is_general_category(uc, UC_CATEGORY_Cf))
		return ANFU_TEXT_FORMAT;
	if (uc_is_general_category(uc, UC_CATEGORY_Zl) ||
	    uc_is_general_category(uc, UC_CATEGORY_Zp))
		return ANFU_TEXT_SEPARATOR;
	return ANFU_TEXT_OK;
}

enum anfu_text_fault anfu_text_check(const char *s, size_t len, size_t *ret_at)
{
	const uint8_t *u = (const uint8_t *)s;
	const uint8_t *bad;
	size_t i = 0;

	if (len == 0)
		return ANFU_TEXT_OK;
	if (!s)
		return ANFU_TEXT_INVALID_UTF8;
	bad = u8_check(u, len);
	if (bad) {
		if (ret_at)
			*ret_at = (size_t)(bad - u);
		return ANFU_TEXT_INVALID_UTF8;
	}
	while (i < len) {
		ucs4_t uc;
		int n = u8_mbtouc_unsafe(&uc, u + i, len - i);
		enum anfu_text_fault f = fault_of(uc);

		if (f != ANFU_TEXT_OK) {
			if (ret_at)
				*ret_at = i;
			return f;
		}
		i += (size_t)n;
	}
	return ANFU_TEXT_OK;
}

int anfu_text_normalize(const char *s, size_t len, char **ret, size_t *ret_len,
			enum anfu_text_fault *ret_fault)
{
	enum anfu_text_fault f;
	uint8_t *nfc = NULL;
	size_t n = 0;
	char *out;

	if (!ret || !ret_len)
		return ANFU_EINVAL;
	f = anfu_text_check(s, len, NULL);
	if (f != ANFU_TEXT_OK) {
		if (ret_fault)
			*ret_fault = f;
		return ANFU_EINVAL;
	}
	if (len > 0) {
		nfc = u8_normalize(UNINORM_NFC, (const uint8_t *)s, len, NULL, &n);
		if (!nfc)
			abort(); /* only ENOMEM: the input was checked above */
	}
	out = anfu_xmalloc(n + 1);
	if (n > 0)
		memcpy(out, nfc, n);
	out[n] = '\0';
	free(nfc);
	*ret = out;
	*ret_len = n;
	return 0;
}

const char *anfu_text_fault_name(enum anfu_text_fault f)
{
	switch (f) {
	case ANFU_TEXT_OK: return "ok";
	case ANFU_TEXT_INVALID_UTF8: return ANFU_JERR_INVALID_UTF8;
	case ANFU_TEXT_CONTROL: return "control";
	case ANFU_TEXT_FORMAT: return "format";
	case ANFU_TEXT_SEPARATOR: return "separator";
	}
	return "unknown";
}
