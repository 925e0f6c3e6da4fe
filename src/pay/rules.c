/*
 * pay/rules: the pure rules of orders (docs/payments.md): the fee and its
 * rounding, the merchant order number's and the URLs' formats, the bill
 * lines' arithmetic. Owns nothing; trusts nothing (every argument is
 * checked).
 */
#include <stddef.h>
#include <string.h>

#include "base/err.h"
#include "base/json.h"
#include "base/refusal.h"
#include "pay/pay.h"

int anfu_pay_fee(int64_t amount, int64_t bps, int64_t *ret)
{
	__int128 num;

	if (!ret || amount < 0 || bps < 0 || bps > 10000)
		return ANFU_EINVAL;
	/* Half up: (amount * bps + 5000) / 10000; the product of an int64
	 * and at most 10^4 fits 128 bits, and the quotient is at most
	 * amount. */
	num = (__int128)amount * bps + 5000;
	*ret = (int64_t)(num / 10000);
	return 0;
}

bool anfu_pay_out_trade_no_ok(const char *s, size_t len)
{
	if (!s || len == 0 || len > ANFU_LIMIT_PAY_OUT_TRADE_NO)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return false;
	}
	return true;
}

bool anfu_pay_url_ok(const char *s, size_t len)
{
	static const char scheme[] = "https://";
	const size_t sl = sizeof(scheme) - 1;

	if (!s || len <= sl || len > ANFU_LIMIT_PAY_URL_BYTES || memcmp(s, scheme, sl) != 0)
		return false;
	/* A host: something before the first '/', '?' or '#' after the scheme. */
	if (s[sl] == '/' || s[sl] == '?' || s[sl] == '#' || s[sl] == ':' || s[sl] == '@')
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\'' || c == '<' || c == '>' ||
		    c == '\\' || c == '`')
			return false;
	}
	return true;
}

const char *anfu_pay_lines_check(const struct anfu_pay_line *lines, size_t n, int64_t amount,
				 int *ret_index)
{
	int64_t sum = 0, prod;

	*ret_index = -1;
	if (!lines || n < 1 || n > ANFU_LIMIT_PAY_LINES)
		return ANFU_JERR_OUT_OF_RANGE;
	for (size_t i = 0; i < n; i++) {
		const struct anfu_pay_line *l = &lines[i];

		if (l->quantity < 1 || l->quantity > ANFU_LIMIT_PAY_LINE_QUANTITY ||
		    l->unit_amount < 1 || l->amount < 1 ||
		    __builtin_mul_overflow(l->quantity, l->unit_amount, &prod) ||
		    prod != l->amount || __builtin_add_overflow(sum, l->amount, &sum)) {
			*ret_index = (int)i;
			return ANFU_R_PAY_LINES_MISMATCH;
		}
	}
	return sum == amount ? NULL : ANFU_R_PAY_LINES_MISMATCH;
}
