/*
 * base/money: checked arithmetic on int64 minor units; parsing and
 * formatting of decimal amounts. No floating point.
 */
#include <stdbool.h>
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

static const char *const zh_digit[10] = {
	"零", "壹", "贰", "叁", "肆", "伍", "陆", "柒", "捌", "玖"
};
/* Units inside a group of four digits (thousands first), and the unit of
 * each group from the lowest (a uint64 of yuan has at most five). */
static const char *const zh_unit4[4] = { "仟", "佰", "拾", "" };
static const char *const zh_group[5] = { "", "万", "亿", "万亿", "亿亿" };

static int words_put(char *buf, size_t cap, size_t *len, const char *s)
{
	size_t n = strlen(s);

	if (*len + n >= cap)
		return ANFU_ELIMIT;
	memcpy(buf + *len, s, n);
	*len += n;
	buf[*len] = '\0';
	return 0;
}

/* The yuan part (> 0): groups of four digits, highest first; a run of
 * zeros (inside a group, a whole group, or a group that does not start
 * with its thousands after a higher one) reads as one 零. */
static int words_yuan(uint64_t yuan, char *buf, size_t cap, size_t *len)
{
	unsigned group[5];
	int ngroups = 0, r = 0;
	bool zero = false, started = false;

	while (yuan > 0 && ngroups < 5) {
		group[ngroups++] = (unsigned)(yuan % 10000);
		yuan /= 10000;
	}
	for (int g = ngroups - 1; g >= 0 && r == 0; g--) {
		unsigned d[4] = { group[g] / 1000, group[g] / 100 % 10, group[g] / 10 % 10,
				  group[g] % 10 };

		if (group[g] == 0) {
			zero = started;
			continue;
		}
		for (int i = 0; i < 4 && r == 0; i++) {
			if (d[i] == 0) {
				zero = started;
				continue;
			}
			if (zero)
				r = words_put(buf, cap, len, zh_digit[0]);
			zero = false;
			started = true;
			if (r == 0)
				r = words_put(buf, cap, len, zh_digit[d[i]]);
			if (r == 0)
				r = words_put(buf, cap, len, zh_unit4[i]);
		}
		if (r == 0)
			r = words_put(buf, cap, len, zh_group[g]);
		/* The next group's leading zeros are a gap after this unit. */
		zero = false;
	}
	return r;
}

int anfu_money_words_zh(int64_t fen, char *out, size_t cap)
{
	char buf[ANFU_MONEY_WORDS_MAX];
	size_t len = 0;
	uint64_t mag, yuan;
	unsigned jiao, cent;
	int r = 0;

	if (!out)
		return ANFU_EINVAL;
	buf[0] = '\0';
	mag = fen < 0 ? (uint64_t)0 - (uint64_t)fen : (uint64_t)fen;
	yuan = mag / 100;
	jiao = (unsigned)(mag / 10 % 10);
	cent = (unsigned)(mag % 10);
	if (fen < 0)
		r = words_put(buf, sizeof(buf), &len, "负");
	if (r == 0 && yuan > 0)
		r = words_yuan(yuan, buf, sizeof(buf), &len);
	if (r == 0 && (yuan > 0 || mag == 0))
		r = words_put(buf, sizeof(buf), &len, yuan > 0 ? "元" : "零元");
	if (r == 0 && jiao == 0 && cent == 0)
		r = words_put(buf, sizeof(buf), &len, "整");
	if (r == 0 && jiao > 0)
		r = words_put(buf, sizeof(buf), &len, zh_digit[jiao]);
	if (r == 0 && jiao > 0)
		r = words_put(buf, sizeof(buf), &len, "角");
	if (r == 0 && jiao == 0 && cent > 0 && yuan > 0)
		r = words_put(buf, sizeof(buf), &len, zh_digit[0]);
	if (r == 0 && cent > 0)
		r = words_put(buf, sizeof(buf), &len, zh_digit[cent]);
	if (r == 0 && cent > 0)
		r = words_put(buf, sizeof(buf), &len, "分");
	if (r < 0)
		return r;
	if (len >= cap)
		return ANFU_ELIMIT;
	memcpy(out, buf, len + 1);
	return 0;
}
