/*
 * base/validate: format and check-digit validation of identifiers.
 */
#include <string.h>

#include "base/err.h"
#include "base/validate.h"

static bool all_digits(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return len > 0;
}

static int num(const char *s, size_t n)
{
	int v = 0;

	for (size_t i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

static bool valid_date(int y, int m, int d)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int max;

	if (y < 1900 || y > 2099 || m < 1 || m > 12 || d < 1)
		return false;
	max = mdays[m - 1];
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		max = 29;
	return d <= max;
}

bool anfu_valid_resident_id(const char *s, size_t len)
{
	static const int weight[17] = { 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2 };
	static const char check[11] = { '1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2' };
	int sum = 0;

	if (!s || len != 18 || !all_digits(s, 17))
		return false;
	if (!valid_date(num(s + 6, 4), num(s + 10, 2), num(s + 12, 2)))
		return false;
	for (int i = 0; i < 17; i++)
		sum += (s[i] - '0') * weight[i];
	return s[17] == check[sum % 11];
}

int anfu_resident_id_birth(const char *s, size_t len, char out[9])
{
	if (!anfu_valid_resident_id(s, len))
		return ANFU_EINVAL;
	memcpy(out, s + 6, 8);
	out[8] = '\0';
	return 0;
}

bool anfu_valid_bank_card(const char *s, size_t len)
{
	int sum = 0;

	if (!s || len < 12 || len > 19 || !all_digits(s, len))
		return false;
	for (size_t i = 0; i < len; i++) {
		int d = s[len - 1 - i] - '0';

		if (i % 2 == 1) {
			d *= 2;
			if (d > 9)
				d -= 9;
		}
		sum += d;
	}
	return sum % 10 == 0;
}

/* Strips an optional +86 / 86 prefix from a 13/14-char number. */
static void strip_cc(const char **s, size_t *len)
{
	if (*len == 14 && memcmp(*s, "+86", 3) == 0) {
		*s += 3;
		*len -= 3;
	} else if (*len == 13 && memcmp(*s, "86", 2) == 0) {
		*s += 2;
		*len -= 2;
	}
}

bool anfu_valid_mobile_cn(const char *s, size_t len)
{
	if (!s)
		return false;
	strip_cc(&s, &len);
	return len == 11 && all_digits(s, len) && s[0] == '1' && s[1] >= '3' && s[1] <= '9';
}

int anfu_mobile_normalize(const char *s, size_t len, char *out, size_t cap)
{
	if (!anfu_valid_mobile_cn(s, len) || cap < 12)
		return ANFU_EINVAL;
	strip_cc(&s, &len);
	memcpy(out, s, 11);
	out[11] = '\0';
	return 0;
}

static bool email_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       strchr("!#$%&'*+/=?^_`{|}~.-", c) != NULL;
}

bool anfu_valid_email(const char *s, size_t len)
{
	const char *at;
	size_t local, i, last_dot = 0;

	if (!s || len < 5 || len > 254 || memchr(s, '\0', len))
		return false;
	at = memchr(s, '@', len);
	if (!at)
		return false;
	local = (size_t)(at - s);
	if (local == 0 || local > 64 || s[0] == '.' || s[local - 1] == '.')
		return false;
	for (i = 0; i < local; i++)
		if (!email_char(s[i]) || (s[i] == '.' && s[i + 1] == '.'))
			return false;
	/* Domain: labels of [A-Za-z0-9-], at least one dot, no empty labels,
	 * none starting or ending with '-'. */
	for (i = local + 1; i < len; i++) {
		char c = s[i];

		if (c == '.') {
			if (i == local + 1 || s[i - 1] == '.' || s[i - 1] == '-' || i + 1 == len)
				return false;
			last_dot = i;
		} else if (c == '-' && (i == local + 1 || s[i - 1] == '.')) {
			return false; /* a label may not start with a hyphen */
		} else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9') || c == '-')) {
			return false;
		}
	}
	return last_dot != 0 && len - last_dot - 1 >= 2 && s[len - 1] != '-';
}

bool anfu_valid_username(const char *s, size_t len)
{
	if (!s || len < 3 || len > 32)
		return false;
	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return false;
	for (size_t i = 1; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}
