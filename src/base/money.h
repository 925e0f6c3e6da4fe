/*
 * base/money: money as int64 minor units plus an ISO 4217 code.
 *
 * No floating point anywhere near money. Every operation is overflow
 * checked and returns ANFU_ERANGE instead of wrapping; outputs are written
 * only on success.
 */
#ifndef ANFU_BASE_MONEY_H
#define ANFU_BASE_MONEY_H

#include <stddef.h>
#include <stdint.h>

#include "base/str.h"

struct anfu_money {
	int64_t minor;	  /* amount in minor units (fen for CNY) */
	char currency[4]; /* "CNY", NUL-terminated */
};

int anfu_money_add(int64_t a, int64_t b, int64_t *ret);
int anfu_money_sub(int64_t a, int64_t b, int64_t *ret);
int anfu_money_mul(int64_t a, int64_t factor, int64_t *ret);
/* a * num / den rounded half away from zero (fees, pro-rata refunds);
 * den > 0. */
int anfu_money_muldiv(int64_t a, int64_t num, int64_t den, int64_t *ret);
/* Adds two amounts of the same currency; ANFU_EINVAL when they differ. */
int anfu_money_add_m(const struct anfu_money *a, const struct anfu_money *b,
		     struct anfu_money *ret);

/* Minor-unit exponent of a supported currency (CNY 2, JPY 0, ...), or
 * ANFU_EINVAL for an unknown code. */
int anfu_currency_exponent(struct anfu_str code);

/* Parses a decimal major-unit string ("12.34", "-0.5", "100") into minor
 * units of the given exponent; more decimals than the exponent allows,
 * signs in the wrong place, empty parts or overflow are errors. */
int anfu_money_parse(struct anfu_str s, int exponent, int64_t *ret_minor);
/* Formats minor units as a decimal major-unit string ("12.34"). */
int anfu_money_format(int64_t minor, int exponent, char *out, size_t cap);

/* Bytes that hold the words of any int64 amount (NUL included): at most
 * 17 yuan digits with their units, 零s, 元角分, a sign; 3 bytes each. */
#define ANFU_MONEY_WORDS_MAX 256

/*
 * Writes fen (CNY minor units) in Chinese capital numerals, as on a
 * cheque or a transfer confirmation (大写金额, the rules of the PBOC's
 * 《支付结算办法》 annex on writing amounts): 壹佰元整, 壹仟零伍元叁角,
 * 壹佰元零伍分, 伍角, 零元整; 壹拾 (never a bare 拾); one 零 for a run of
 * zeros inside the yuan part and between 元 and 分; 整 only after 元;
 * 负 in front of a negative amount. UTF-8, NUL-terminated, into out (cap
 * bytes; ANFU_MONEY_WORDS_MAX always suffices). Returns 0, ANFU_EINVAL
 * for NULL out, ANFU_ELIMIT when cap is too small (out untouched).
 */
int anfu_money_words_zh(int64_t fen, char *out, size_t cap);

#endif
