/*
 * base/money: checked arithmetic on int64 minor units; parsing and
 * formatting of decimal amounts. No floating point.
 */
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/money.h"

int anfu_money_add(int64_t a, int64_t b, int64_t *ret)
{
	int64_t r;

	if (__builtin_add_overflow(a, b, &r))
		return ANFU_ERANGE;
	*ret = r;
	return 0;
}

int anfu_money_sub(int64_t a, int64_t b, int64_t *ret)
{
	int64_t r;

	if (__builtin_sub_overflow(a, b, &r))
		return ANFU_ERANGE;
	*ret = r;
	return 0;
}

int anfu_money_mul(int64_t a, int64_t factor, int64_t *ret)
{
	int64_t r;

	if (__builtin_mul_overflow(a, factor, &r))
		return ANFU_ERANGE;
	*ret = r;
	return 0;
}

int anfu_money_muldiv(int64_t a, int64_t num, int64_t den, int64_t *ret)
{
	__int128 p, q, rem;

	if (den <= 0)
		return ANFU_EINVAL;
	p = (__int128)a * num;
	q = p / den;
	rem = p % den;
	/* Half away from zero: |rem| * 2 >= den rounds the magnitude up. */
	if (rem < 0)
		rem = -rem;
	if (rem * 2 >= den)
		q += p < 0 ? -1 : 1;
	if (q > INT64_MAX || q < INT64_MIN)
		return ANFU_ERANGE;
	*ret = (int64_t)q;
	return 0;
}

int anfu_money_add_m(const struct anfu_money *a, const struct anfu_money *b, struct anfu_money *ret)
{
	int64_t sum;
	int r;

	if (strcmp(a->currency, b->currency) != 0)
		return ANFU_EINVAL;
	r = anfu_money_add(a->minor, b->minor, &sum);
	if (r < 0)
		return r;
	*ret = *a;
	ret->minor = sum;
	return 0;
}

static const struct {
	const char *code;
	int exponent;
} currencies[] = {
	{ "CNY", 2 }, { "HKD", 2 }, { "USD", 2 }, { "EUR", 2 }, { "GBP", 2 },
	{ "JPY", 0 }, { "KRW", 0 }, { "MOP", 2 }, { "TWD", 2 }, { "SGD", 2 },
};

int anfu_currency_exponent(struct anfu_str code)
{
	for (size_t i = 0; i < sizeof(currencies) / sizeof(currencies[0]); i++)
		if (anfu_str_eqc(code, currencies[i].code))
			return currencies[i].exponent;
	return ANFU_EINVAL;
}

int anfu_money_parse(struct anfu_str s, int exponent, int64_t *ret_minor)
{
	int64_t v = 0;
	bool neg = false, dot = false;
	int decimals = 0, int_digits = 0;
	size_t i = 0;

	if (!s.ptr || s.len == 0 || exponent < 0 || exponent > 6)
		return ANFU_EINVAL;
	if (s.ptr[0] == '-') {
		neg = true;
		i = 1;
	}
	for (; i < s.len; i++) {
		char c = s.ptr[i];

		if (c == '.') {
			if (dot || int_digits == 0)
				return ANFU_EINVAL;
			dot = true;
			continue;
		}
		if (c < '0' || c > '9')
			return ANFU_EINVAL;
		if (dot) {
			if (++decimals > exponent)
				return ANFU_EINVAL;
		} else {
			/* No leading zeros ("007"), but "0.5" is fine. */
			if (int_digits == 1 && v == 0)
				return ANFU_EINVAL;
			int_digits++;
		}
		/* Accumulate toward the sign so INT64_MIN, which has no
		 * positive counterpart, still parses. */
		if (__builtin_mul_overflow(v, 10, &v) ||
		    (neg ? __builtin_sub_overflow(v, c - '0', &v)
			 : __builtin_add_overflow(v, c - '0', &v)))
			return ANFU_ERANGE;
	}
	if (int_digits == 0 || (dot && decimals == 0))
		return ANFU_EINVAL;
	for (; decimals < exponent; decimals++)
		if (__builtin_mul_overflow(v, 10, &v))
			return ANFU_ERANGE;
	*ret_minor = v;
	return 0;
}

int anfu_money_format(int64_t minor, int exponent, char *out, size_t cap)
{
	unsigned long long mag, scale = 1;
	char tmp[32]; /* "-" + 20 digits + "." + NUL at most */
	int n;

	if (exponent < 0 || exponent > 6)
		return ANFU_EINVAL;
	for (int i = 0; i < exponent; i++)
		scale *= 10;
	mag = minor < 0 ? (unsigned long long)0 - (unsigned long long)minor
			: (unsigned long long)minor;
	/* Format aside so out is left untouched when it is too small. */
	if (exponent == 0)
		n = snprintf(tmp, sizeof(tmp), "%s%llu", minor < 0 ? "-" : "", mag);
	else
		n = snprintf(tmp, sizeof(tmp), "%s%llu.%0*llu", minor < 0 ? "-" : "", mag / scale,
			     exponent, mag % scale);
	if (n < 0 || (size_t)n >= sizeof(tmp) || (size_t)n >= cap)
		return ANFU_ELIMIT;
	memcpy(out, tmp, (size_t)n + 1);
	return 0;
}
