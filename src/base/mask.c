/*
 * base/mask: the one rule set for showing personal data masked
 * (DATA-MASK-01..07 and real names).
 *
 * Owns the shapes each rule accepts and the masked forms. Trusts nothing
 * about the input bytes: anything not of the expected shape (wrong
 * characters, invalid UTF-8, control characters, wrong length) is
 * ANFU_EINVAL. Each result is built in a stack buffer of ANFU_MASK_MAX
 * bytes and copied to out only when it fits, so out is written only on
 * success. Pure functions; thread-safe.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "base/err.h"
#include "base/mask.h"
#include "base/str.h"

#define MOBILE_MIN 7   /* digits, after separators and a leading '+' */
#define MOBILE_MAX 15  /* E.164 */
#define LANDLINE_MIN 5 /* subscriber number digits */
#define LANDLINE_MAX 8
#define ID_MIN 2
#define CARD_MIN 12 /* bank cards are 12..19; payment accounts up to 32 */
#define CARD_MAX 32
#define STARS "****"

/* The masked result under construction. */
struct mout {
	char b[ANFU_MASK_MAX];
	size_t n;
	bool over; /* did not fit in ANFU_MASK_MAX - 1 bytes */
};

static void put(struct mout *o, const char *s, size_t n)
{
	if (o->over || n >= sizeof(o->b) - o->n) {
		o->over = true;
		return;
	}
	memcpy(o->b + o->n, s, n);
	o->n += n;
}

static void put_stars(struct mout *o, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put(o, "*", 1);
}

/* Copies the result to out (cap bytes) with its NUL, or ANFU_ELIMIT. */
static int finish(const struct mout *o, char *out, size_t cap)
{
	if (o->over || !out || cap < o->n + 1)
		return ANFU_ELIMIT;
	memcpy(out, o->b, o->n);
	out[o->n] = '\0';
	return 0;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alnum(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Byte length of the UTF-8 character at s[i] of valid text. */
static size_t char_len(const char *s, size_t len, size_t i)
{
	unsigned char c = (unsigned char)s[i];
	size_t n = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;

	return n > len - i ? len - i : n;
}

/* Offset of the last character of valid, non-empty UTF-8 text. */
static size_t last_char(const char *s, size_t len)
{
	size_t i = len - 1;

	while (i > 0 && ((unsigned char)s[i] & 0xc0) == 0x80)
		i--;
	return i;
}

/* Valid, non-empty UTF-8 with no C0, DEL or C1 control character (C1
 * controls are encoded as 0xc2 0x80..0x9f). */
static bool text_ok(const char *s, size_t len)
{
	if (!s || len == 0 || !anfu_utf8_valid(s, len))
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			return false;
		if (c == 0xc2 && i + 1 < len && (unsigned char)s[i + 1] < 0xa0)
			return false;
	}
	return true;
}

/* Collects the digits of s, skipping ' ' and '-' (and one leading '+' when
 * plus is set). False on any other byte or more than cap digits. */
static bool collect_digits(const char *s, size_t len, bool plus, char *d, size_t cap, size_t *ret_n)
{
	size_t n = 0;

	if (!s)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (is_digit(s[i])) {
			if (n == cap)
				return false;
			d[n++] = s[i];
		} else if (!(s[i] == ' ' || s[i] == '-' || (plus && i == 0 && s[i] == '+'))) {
			return false;
		}
	}
	*ret_n = n;
	return true;
}

/* "****" + the last 4 digits of a mobile number of 7..15 digits, written
 * with optional '+', spaces and hyphens ("+86 138-0000-1050" ->
 * "****1050"). Returns 0, ANFU_EINVAL, or ANFU_ELIMIT (out untouched).
 * DATA-MASK-01. */
int anfu_mask_mobile(const char *s, size_t len, char *out, size_t cap)
{
	struct mout o = { .n = 0 };
	char d[MOBILE_MAX];
	size_t n;

	if (!collect_digits(s, len, true, d, sizeof(d), &n) || n < MOBILE_MIN)
		return ANFU_EINVAL;
	put(&o, STARS, 4);
	put(&o, d + n - 4, 4);
	return finish(&o, out, cap);
}

static bool all_digits(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!is_digit(s[i]))
			return false;
	return true;
}

/* Finds where the subscriber number starts (after the area code and its
 * separator; 0 without an area code). Without a separator, a leading 0 starts an area
 * code of 3 digits (010, 02x) or 4 (all others). */
static bool landline_split(const char *s, size_t len, size_t *ret_num)
{
	const char *sep = memchr(s, '-', len);
	size_t area, num;

	if (!sep)
		sep = memchr(s, ' ', len);
	if (sep) {
		area = (size_t)(sep - s);
		num = area + 1;
		if (area < 3 || area > 4 || s[0] != '0' || !all_digits(s, area))
			return false;
	} else if (len > 0 && s[0] == '0') {
		area = len > 1 && (s[1] == '1' || s[1] == '2') ? 3 : 4;
		num = area;
		if (area > len || !all_digits(s, area))
			return false;
	} else {
		area = num = 0;
	}
	if (len - num < LANDLINE_MIN || len - num > LANDLINE_MAX || !all_digits(s + num, len - num))
		return false;
	*ret_num = num;
	return true;
}

/* Area code (as written, with its '-' or ' ') + "****" + the last 3
 * digits ("0571-87654123" -> "0571-****123", "87654123" -> "****123").
 * Returns 0, ANFU_EINVAL, or ANFU_ELIMIT (out untouched). DATA-MASK-02. */
int anfu_mask_landline(const char *s, size_t len, char *out, size_t cap)
{
	struct mout o = { .n = 0 };
	size_t num;

	if (!s || !landline_split(s, len, &num))
		return ANFU_EINVAL;
	put(&o, s, num);
	put(&o, STARS, 4);
	put(&o, s + len - 3, 3);
	return finish(&o, out, cap);
}

/* The first n characters of valid UTF-8 text (or all of it). */
static size_t prefix_chars(const char *s, size_t len, size_t n)
{
	size_t i = 0;

	while (i < len && n-- > 0)
		i += char_len(s, len, i);
	return i;
}

/* Local part's first 3 characters (or all) + "**@", the domain's first
 * character + "**", then the domain's last '.' and what follows
 * ("tt@163.com" -> "tt**@1**.com"). The address needs exactly one '@', a
 * non-empty local part, and a domain with a character before its last '.'
 * and one after it; no spaces or controls. Returns 0, ANFU_EINVAL, or
 * ANFU_ELIMIT (out untouched). DATA-MASK-03. */
int anfu_mask_email(const char *s, size_t len, char *out, size_t cap)
{
	struct mout o = { .n = 0 };
	const char *at, *dom, *dot;
	size_t local, dlen;

	if (!text_ok(s, len) || memchr(s, ' ', len))
		return ANFU_EINVAL;
	at = memchr(s, '@', len);
	if (!at || memchr(at + 1, '@', len - (size_t)(at - s) - 1))
		return ANFU_EINVAL;
	local = (size_t)(at - s);
	dom = at + 1;
	dlen = len - local - 1;
	dot = dlen ? memrchr(dom, '.', dlen) : NULL;
	if (local == 0 || !dot || dot == dom || (size_t)(dot - dom) + 1 >= dlen)
		return ANFU_EINVAL;
	put(&o, s, prefix_chars(s, local, 3));
	put(&o, "**@", 3);
	put(&o, dom, char_len(dom, dlen, 0));
	put(&o, "**", 2);
	put(&o, dot, dlen - (size_t)(dot - dom));
	return finish(&o, out, cap);
}

/* First and last character with "**" between ("alice1" -> "a**1"); one
 * character becomes that character + "**". UTF-8 aware. Returns 0,
 * ANFU_EINVAL, or ANFU_ELIMIT (out untouched). DATA-MASK-04. */
int anfu_mask_nickname(const char *s, size_t len, char *out, size_t cap)
{
	struct mout o = { .n = 0 };
	size_t first, last;

	if (!text_ok(s, len))
		return ANFU_EINVAL;
	first = char_len(s, len, 0);
	last = last_char(s, len);
	put(&o, s, first);
	put(&o, "**", 2);
	if (last > 0)
		put(&o, s + last, len - last);
	return finish(&o, out, cap);
}

/* True when the text ending at offset end (exclusive) ends with suffix. */
static bool ends_with(const char *s, size_t end, const char *suffix)
{
	size_t n = strlen(suffix);

	return end >= n && memcmp(s + end - n, suffix, n) == 0;
}

/* A 区 that is not a district: the province-level 自治区 and 特别行政区,
 * the prefecture-level 地区, and the sub-district 小区 and 社区. */
static bool not_a_district(const char *s, size_t at)
{
	static const char *const before[] = { "自治", "行政", "地", "小", "社" };

	for (size_t i = 0; i < sizeof(before) / sizeof(before[0]); i++)
		if (ends_with(s, at, before[i]))
			return true;
	return false;
}

/* Offset just past the first district-level marker (区 县 旗), or else
 * the first 市; 0 when there is neither. */
static size_t address_cut(const char *s, size_t len)
{
	size_t city = 0;

	for (size_t i = 0; i < len; i += char_len(s, len, i)) {
		size_t n = char_len(s, len, i);

		if ((n == 3 && memcmp(s + i, "区", 3) == 0 && !not_a_district(s, i)) ||
		    (n == 3 && memcmp(s + i, "县", 3) == 0) ||
		    (n == 3 && memcmp(s + i, "旗", 3) == 0))
			return i + n;
		if (!city && n == 3 && memcmp(s + i, "市", 3) == 0)
			city = i + n;
	}
	return city;
}

/* Province, city and district/county, then "****": everything up to and
 * including the first 区, 县 or 旗 (or, failing those, the first 市)
 * ("浙江省杭州市西湖区文三路90号" -> "浙江省杭州市西湖区****"). A 区 of
 * 自治区, 特别行政区, 地区, 小区 or 社区 is not a district and is skipped.
 * ANFU_EINVAL when there is no marker. Returns 0, ANFU_EINVAL, or
 * ANFU_ELIMIT (out untouched). DATA-MASK-05. */
int anfu_mask_address(const char *s, size_t len, char *out, size_t cap)
{
	struct mout o = { .n = 0 };
	size_t cut;

	if (!text_ok(s, len))
		return ANFU_EINVAL;
	cut = address_cut(s, len);
	if (cut == 0)
		return ANFU_EINVAL;
	put(&o, s, cut);
	put(&o, STARS, 4);
	return finish(&o, out, cap);
}

/* First and last character, '*' for each between
 * ("11010519491231002X" -> "1****************X"). The number is 2 or more
 * ASCII letters and digits. Returns 0, ANFU_EINVAL, or ANFU_ELIMIT (out
 * untouched). DATA-MASK-06. */
int anfu_mask_id_number(const char *s, size_t len, char *out, size_t cap)
{
	struct mout o = { .n = 0 };

	if (!s || len < ID_MIN)
		return ANFU_EINVAL;
	for (size_t i = 0; i < len; i++)
		if (!is_alnum(s[i]))
			return ANFU_EINVAL;
	put(&o, s, 1);
	put_stars(&o, len - 2);
	put(&o, s + len - 1, 1);
	return finish(&o, out, cap);
}

/* First 6 and last 4 digits, '*' for each between
 * ("6222021234567890123" -> "622202*********0123"); 12..32 digits, spaces
 * and hyphens between them dropped. Returns 0, ANFU_EINVAL, or ANFU_ELIMIT
 * (out untouched). DATA-MASK-07. */
int anfu_mask_bank_card(const char *s, size_t len, char *out, size_t cap)
{
	struct mout o = { .n = 0 };
	char d[CARD_MAX];
	size_t n;

	if (!collect_digits(s, len, false, d, sizeof(d), &n) || n < CARD_MIN)
		return ANFU_EINVAL;
	put(&o, d, 6);
	put_stars(&o, n - 10);
	put(&o, d + n - 4, 4);
	return finish(&o, out, cap);
}

/* '*' for every character but the last ("张三" -> "*三"; UTF-8 aware).
 * Returns 0, ANFU_EINVAL, or ANFU_ELIMIT (out untouched). */
int anfu_mask_name(const char *s, size_t len, char *out, size_t cap)
{
	struct mout o = { .n = 0 };
	size_t last;

	if (!text_ok(s, len))
		return ANFU_EINVAL;
	last = last_char(s, len);
	put_stars(&o, anfu_utf8_count(s, last));
	put(&o, s + last, len - last);
	return finish(&o, out, cap);
}
