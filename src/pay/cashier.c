/*
 * pay/cashier: what the hosted cashier page (/pay/{order}, pay/api/cashier.c)
 * needs of the service that is not HTTP: an amount in Chinese capital
 * numerals (大写金额), as on a bill (docs/payments.md, "Cashier page").
 *
 * Pure; trusts nothing in the amount (a negative or too large one is
 * refused).
 */
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "pay/pay.h"

/* Yuan shown in words: below 10^16 (four groups of four digits). */
#define WORDS_MAX_DIGITS 16

int anfu_pay_amount_words_zh(int64_t fen, struct anfu_buf *out)
{
	static const char *const digit[] = { "零", "壹", "贰", "叁", "肆",
					     "伍", "陆", "柒", "捌", "玖" };
	static const char *const unit[] = { "", "拾", "佰", "仟" };
	static const char *const group[] = { "", "万", "亿", "万亿" };
	int d[WORDS_MAX_DIGITS] = { 0 };
	int64_t yuan, v;
	int n = 0, jiao, f, r = 0;
	int zero = 0;

	if (fen < 0 || !out)
		return ANFU_EINVAL;
	yuan = fen / 100;
	jiao = (int)(fen / 10 % 10);
	f = (int)(fen % 10);
	for (v = yuan; v > 0; v /= 10) {
		if (n == WORDS_MAX_DIGITS)
			return ANFU_EINVAL;
		d[n++] = (int)(v % 10);
	}
	if (fen == 0)
		return anfu_buf_appends(out, "零元整");
	for (int i = n - 1; i >= 0 && r == 0; i--) {
		if (d[i] == 0) {
			zero = 1;
		} else {
			if (zero)
				r = anfu_buf_appends(out, digit[0]);
			zero = 0;
			if (r == 0)
				r = anfu_buf_appends(out, digit[d[i]]);
			if (r == 0)
				r = anfu_buf_appends(out, unit[i % 4]);
		}
		/* The end of a group of four: its unit when any digit of it
		 * is not zero. */
		if (r == 0 && i % 4 == 0 && (d[i] || d[i + 1] || d[i + 2] || d[i + 3]))
			r = anfu_buf_appends(out, group[i / 4]);
	}
	if (r == 0 && yuan > 0)
		r = anfu_buf_appends(out, "元");
	if (r == 0 && jiao == 0 && f == 0)
		return anfu_buf_appends(out, "整");
	if (r == 0 && jiao > 0)
		r = anfu_buf_appendf(out, "%s角", digit[jiao]);
	else if (r == 0 && yuan > 0)
		r = anfu_buf_appends(out, digit[0]);
	if (r == 0 && f > 0)
		r = anfu_buf_appendf(out, "%s分", digit[f]);
	return r;
}
