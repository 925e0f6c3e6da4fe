/*
 * iam/pwpolicy: the password and payment-PIN rules (IAM-PWD-01..05, -13,
 * -14).
 *
 * Owns the order in which the rules are reported (empty, invalid
 * characters, too long, too short, digits only, classes, default,
 * dictionary, personal data, sequence, keyboard run, repeated), the
 * leetspeak folding, the keyboard model and the strength score. Trusts the
 * compiled word table (iam/dict.h: sorted, deduplicated, lower case) and
 * nothing about the password, PIN or personal-data bytes. Pure functions:
 * no allocation, no I/O, only bounded stack use; thread-safe.
 *
 * Dictionary: every substring of the lower-cased password, with each
 * character also read as its leetspeak letter (@ 4 -> a, 3 -> e, 1 -> i or
 * l, ! -> i, 0 -> o, $ 5 -> s, 7 -> t), is looked up by walking the sorted
 * table as a trie (each character narrows the range of words sharing the
 * prefix by two binary searches), so a check costs O(len * longest word *
 * log(words)) whatever the table size.
 *
 * Keyboard model (US QWERTY, shifted symbols read as their key, letters
 * case-insensitive): three keys in a row are "adjacent" when they follow
 * each other, forwards or backwards, in one of the four rows
 * `1234567890-= qwertyuiop[]\ asdfghjkl;' zxcvbnm,./ or one of the ten
 * diagonal columns 1qaz 2wsx 3edc 4rfv 5tgb 6yhn 7ujm 8ik, 9ol. 0p;/.
 *
 * Personal data (IAM-PWD-04): case-insensitive containment of the login
 * (and an email login's local part), name, nickname, email local part,
 * the ID number and its last 6, the phone number and its last 6 and last 4
 * digits (deliberately strict: four digits of one's own number are the
 * first thing a guesser tries), and the birthday as YYYYMMDD, YYMMDD, MMDD
 * and YYYY (taken from an 18-character resident ID when no birthday is
 * given). Fields shorter than 3 characters are ignored.
 *
 * Strength (IAM-PWD-13), 0..4 (very weak, weak, fair, good, strong): 0 for
 * anything invalid, shorter than 6 characters or a listed common password;
 * otherwise +1 each for >= 8, >= 12 and >= 16 characters, +1 for 3 classes
 * or +2 for 4, -1 for each weakness found (dictionary word, sequence,
 * keyboard run, repetition); capped at 2 when there is any weakness (the
 * policy would refuse it) and at 1 for digits only or fewer than 8
 * characters; clamped to 0..4. Personal data is not considered (the score
 * is shown while typing, before the server knows whose password it is).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/limits.h"
#include "base/str.h"
#include "base/validate.h"
#include "iam/config.h"
#include "iam/dict.h"
#include "iam/pwpolicy.h"

#define CAND_MAX 3	  /* a character and its leetspeak readings */
#define DICT_MIN_LEN 4	  /* shortest listed word that counts inside a password */
#define FIELD_MIN_CHARS 3 /* personal fields shorter than this are ignored */
#define CLASS_UPPER 0x1u
#define CLASS_LOWER 0x2u
#define CLASS_DIGIT 0x4u
#define CLASS_OTHER 0x8u

/* A password decoded once (only for inputs of at most ANFU_PASSWORD_MAX
 * bytes of valid, control-free UTF-8). */
struct pw {
	const char *bytes;
	size_t len;			/* bytes */
	uint32_t cp[ANFU_PASSWORD_MAX]; /* code points */
	size_t nchars;
};

/* What the analysis found; the check reports it in rule order. */
struct pw_facts {
	unsigned classes;
	bool digits_only;
	bool common; /* the whole password is a listed common/default one */
	bool word;   /* contains a listed word of >= DICT_MIN_LEN */
	bool sequence;
	bool keyboard;
	bool repeated;
};

/* ---- characters ------------------------------------------------------ */

static uint32_t fold(uint32_t c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static bool is_digit(uint32_t c)
{
	return c >= '0' && c <= '9';
}

static bool is_lower(uint32_t c)
{
	return c >= 'a' && c <= 'z';
}

/* Decodes the code point at s[*i] of text already known to be valid UTF-8
 * and advances *i past it. */
static uint32_t next_cp(const char *s, size_t len, size_t *i)
{
	const unsigned char *u = (const unsigned char *)s + *i;
	size_t n = u[0] < 0x80 ? 1 : u[0] < 0xe0 ? 2 : u[0] < 0xf0 ? 3 : 4;
	uint32_t c = n == 1 ? u[0] : n == 2 ? u[0] & 0x1fu : n == 3 ? u[0] & 0x0fu : u[0] & 0x07u;

	if (n > len - *i)
		n = len - *i;
	for (size_t k = 1; k < n; k++)
		c = (c << 6) | (u[k] & 0x3fu);
	*i += n;
	return c;
}

static bool is_control(uint32_t c)
{
	return c < 0x20 || (c >= 0x7f && c <= 0x9f);
}

/* Well-formed UTF-8 without NUL, C0, DEL or C1 controls. */
static bool chars_ok(const char *s, size_t len)
{
	size_t i = 0;

	if (!anfu_utf8_valid(s, len))
		return false;
	while (i < len)
		if (is_control(next_cp(s, len, &i)))
			return false;
	return true;
}

/* Decodes pw (valid, control-free, <= ANFU_PASSWORD_MAX bytes). */
static void pw_decode(struct pw *p, const char *s, size_t len)
{
	size_t i = 0;

	p->bytes = s;
	p->len = len;
	p->nchars = 0;
	while (i < len && p->nchars < ANFU_PASSWORD_MAX)
		p->cp[p->nchars++] = next_cp(s, len, &i);
}

static unsigned class_of(uint32_t c)
{
	if (c >= 'A' && c <= 'Z')
		return CLASS_UPPER;
	if (is_lower(c))
		return CLASS_LOWER;
	if (is_digit(c))
		return CLASS_DIGIT;
	return CLASS_OTHER;
}

static int popcount4(unsigned v)
{
	return (int)((v & 1u) + ((v >> 1) & 1u) + ((v >> 2) & 1u) + ((v >> 3) & 1u));
}

/* ---- dictionary -------------------------------------------------------- */

/* The byte at depth of table entry i, 0 past its end. */
static unsigned char dict_at(size_t i, size_t depth)
{
	return depth < anfu_dict_words[i].len ? (unsigned char)anfu_dict_words[i].word[depth] : 0;
}

/* First index in [lo, hi) whose byte at depth is >= c (above: > c). The
 * range shares a prefix of length depth, so it is sorted on that byte. */
static size_t dict_bound(size_t lo, size_t hi, size_t depth, unsigned char c, bool above)
{
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		unsigned char m = dict_at(mid, depth);

		if (m < c || (above && m == c))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* One dictionary lookup: candidate bytes per position, from a start. */
struct dict_query {
	unsigned char (*cand)[CAND_MAX + 1]; /* 0-terminated per position */
	size_t n;			     /* positions left from the start */
	unsigned flags;			     /* lists that count */
	size_t min_len;			     /* shortest entry that counts */
	bool whole;			     /* the entry must cover all n */
};

/* Walks the table as a trie: range [lo, hi) holds the entries that start
 * with the depth characters read so far. Each live branch is a distinct
 * listed prefix, which bounds the work. */
static bool dict_walk(const struct dict_query *q, size_t depth, size_t lo, size_t hi)
{
	if (depth >= q->n || depth >= ANFU_DICT_WORD_MAX)
		return false;
	for (size_t k = 0; k < CAND_MAX && q->cand[depth][k]; k++) {
		unsigned char c = q->cand[depth][k];
		size_t l = dict_bound(lo, hi, depth, c, false);
		size_t h = dict_bound(l, hi, depth, c, true);
		const struct anfu_dict_word *w;

		if (l == h)
			continue;
		/* The entry that ends here, if any, sorts first in its range. */
		w = &anfu_dict_words[l];
		if (w->len == depth + 1 && (w->flags & q->flags) && w->len >= q->min_len &&
		    (!q->whole || depth + 1 == q->n))
			return true;
		if (dict_walk(q, depth + 1, l, h))
			return true;
	}
	return false;
}

/* The byte itself (lower-cased) and what it stands for in leetspeak. */
static void leet_candidates(unsigned char b, unsigned char out[CAND_MAX + 1])
{
	static const char *const leet[] = {
		"@a", "4a", "3e", "1il", "!i", "0o", "$s", "5s", "7t",
	};
	size_t n = 0;

	memset(out, 0, CAND_MAX + 1);
	out[n++] = (unsigned char)fold(b);
	for (size_t i = 0; i < sizeof(leet) / sizeof(leet[0]); i++) {
		if ((unsigned char)leet[i][0] != b)
			continue;
		for (const char *r = leet[i] + 1; *r && n < CAND_MAX; r++)
			out[n++] = (unsigned char)*r;
	}
}

/* Dictionary facts: the whole password a common one, or a listed word of
 * >= DICT_MIN_LEN anywhere inside it. */
static void dict_facts(const struct pw *p, struct pw_facts *f)
{
	unsigned char cand[ANFU_PASSWORD_MAX][CAND_MAX + 1];
	struct dict_query q = { .cand = cand, .n = p->len };

	for (size_t i = 0; i < p->len; i++)
		leet_candidates((unsigned char)p->bytes[i], cand[i]);
	q.flags = ANFU_DICT_COMMON;
	q.min_len = 1;
	q.whole = true;
	f->common = dict_walk(&q, 0, 0, anfu_dict_count);
	q.flags = ANFU_DICT_COMMON | ANFU_DICT_WORD;
	q.min_len = DICT_MIN_LEN;
	q.whole = false;
	f->word = false;
	for (size_t s = 0; s + DICT_MIN_LEN <= p->len && !f->word; s++) {
		q.cand = cand + s;
		q.n = p->len - s;
		f->word = dict_walk(&q, 0, 0, anfu_dict_count);
	}
}

/* Byte-wise comparison for bsearch of one exact word. */
static int dict_cmp(const void *key, const void *elem)
{
	const struct anfu_dict_word *w = elem;

	return strcmp(key, w->word);
}

/* True when word (lower case, ASCII, len bytes) is an entry of the compiled
 * lists. Exact, case-sensitive match; thread-safe. */
bool anfu_pwpolicy_is_word(const char *word, size_t len)
{
	char key[ANFU_DICT_WORD_MAX + 1];

	if (!word || len == 0 || len > ANFU_DICT_WORD_MAX || memchr(word, '\0', len))
		return false;
	memcpy(key, word, len);
	key[len] = '\0';
	return bsearch(key, anfu_dict_words, anfu_dict_count, sizeof(anfu_dict_words[0]),
		       dict_cmp) != NULL;
}

/* ---- runs ---------------------------------------------------------------- */

/* abc, cba, 123, 321 (letters case-insensitive). */
static bool sequence3(uint32_t a, uint32_t b, uint32_t c)
{
	int d1, d2;

	a = fold(a);
	b = fold(b);
	c = fold(c);
	if (!(is_lower(a) && is_lower(b) && is_lower(c)) &&
	    !(is_digit(a) && is_digit(b) && is_digit(c)))
		return false;
	d1 = (int)b - (int)a;
	d2 = (int)c - (int)b;
	return d1 == d2 && (d1 == 1 || d1 == -1);
}

/* The unshifted US QWERTY key of a character, 0 for none. */
static char key_of(uint32_t c)
{
	static const char shifted[] = "~!@#$%^&*()_+{}|:\"<>?";
	static const char base[] = "`1234567890-=[]\\;',./";
	const char *p;

	_Static_assert(sizeof(shifted) == sizeof(base), "one base key per shifted symbol");
	c = fold(c);
	if (c < 0x21 || c > 0x7e)
		return 0;
	p = strchr(shifted, (int)c);
	return p ? base[p - shifted] : (char)c;
}

/* Three keys following each other in one keyboard line, either way. */
static bool keyboard3(uint32_t a, uint32_t b, uint32_t c)
{
	static const char *const lines[] = {
		"`1234567890-=", "qwertyuiop[]\\", "asdfghjkl;'", "zxcvbnm,./", "1qaz",
		"2wsx",		 "3edc",	   "4rfv",	  "5tgb",	"6yhn",
		"7ujm",		 "8ik,",	   "9ol.",	  "0p;/",
	};
	char ka = key_of(a), kb = key_of(b), kc = key_of(c);

	if (!ka || !kb || !kc)
		return false;
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		const char *p = strchr(lines[i], ka);

		if (!p)
			continue;
		if (p[1] == kb && kb && p[2] == kc)
			return true;
		if (p - lines[i] >= 2 && p[-1] == kb && p[-2] == kc)
			return true;
	}
	return false;
}

static void run_facts(const struct pw *p, struct pw_facts *f)
{
	f->sequence = f->keyboard = f->repeated = false;
	for (size_t i = 0; i + 2 < p->nchars; i++) {
		uint32_t a = p->cp[i], b = p->cp[i + 1], c = p->cp[i + 2];

		f->sequence = f->sequence || sequence3(a, b, c);
		f->keyboard = f->keyboard || keyboard3(a, b, c);
		f->repeated = f->repeated || (fold(a) == fold(b) && fold(b) == fold(c));
	}
}

static void analyse(const struct pw *p, struct pw_facts *f)
{
	f->classes = 0;
	f->digits_only = p->nchars > 0;
	for (size_t i = 0; i < p->nchars; i++) {
		f->classes |= class_of(p->cp[i]);
		f->digits_only = f->digits_only && is_digit(p->cp[i]);
	}
	dict_facts(p, f);
	run_facts(p, f);
}

/* ---- personal data ------------------------------------------------------- */

static unsigned char lower_byte(char c)
{
	return (unsigned char)fold((unsigned char)c);
}

/* ASCII case-insensitive containment of needle (nlen > 0) in p. */
static bool contains_ci(const struct pw *p, const char *needle, size_t nlen)
{
	for (size_t s = 0; nlen <= p->len && s + nlen <= p->len; s++) {
		size_t k = 0;

		while (k < nlen && lower_byte(p->bytes[s + k]) == lower_byte(needle[k]))
			k++;
		if (k == nlen)
			return true;
	}
	return false;
}

/* A field of at least FIELD_MIN_CHARS characters found inside p. */
static bool has_field(const struct pw *p, const char *f, size_t flen)
{
	if (!f || flen == 0 || flen > ANFU_LIMIT_IAM_PERSONAL_FIELD || !anfu_utf8_valid(f, flen) ||
	    anfu_utf8_count(f, flen) < FIELD_MIN_CHARS)
		return false;
	return contains_ci(p, f, flen);
}

static bool has_cstr(const struct pw *p, const char *f)
{
	return f && has_field(p, f, strnlen(f, ANFU_LIMIT_IAM_PERSONAL_FIELD + 1));
}

/* The part of an email address before its last '@'. */
static bool has_local_part(const struct pw *p, const char *email)
{
	const char *at;
	size_t n;

	if (!email)
		return false;
	n = strnlen(email, ANFU_LIMIT_IAM_PERSONAL_FIELD + 1);
	at = memrchr(email, '@', n);
	return at && has_field(p, email, (size_t)(at - email));
}

/* A phone number's digits (the last 11 when longer, dropping a +86), and
 * their last 6 and last 4. */
static bool has_phone(const struct pw *p, const char *phone)
{
	char d[ANFU_LIMIT_IAM_PERSONAL_FIELD] = { 0 };
	size_t nd = 0, n;

	if (!phone)
		return false;
	n = strnlen(phone, ANFU_LIMIT_IAM_PERSONAL_FIELD);
	for (size_t i = 0; i < n; i++)
		if (is_digit((unsigned char)phone[i]))
			d[nd++] = phone[i];
	if (nd > 11) {
		memmove(d, d + nd - 11, 11);
		nd = 11;
	}
	return has_field(p, d, nd) || (nd > 6 && has_field(p, d + nd - 6, 6)) ||
	       (nd > 4 && has_field(p, d + nd - 4, 4));
}

static bool has_id_number(const struct pw *p, const char *id)
{
	size_t n;

	if (!id)
		return false;
	n = strnlen(id, ANFU_LIMIT_IAM_PERSONAL_FIELD + 1);
	return has_field(p, id, n) ||
	       (n > 6 && n <= ANFU_LIMIT_IAM_PERSONAL_FIELD && has_field(p, id + n - 6, 6));
}

static bool is_date8(const char *s)
{
	if (!s || strnlen(s, 9) != 8)
		return false;
	for (size_t i = 0; i < 8; i++)
		if (!is_digit((unsigned char)s[i]))
			return false;
	return true;
}

/* The birthday (YYYYMMDD, or taken from a resident ID) as YYYYMMDD,
 * YYMMDD, MMDD and YYYY. */
static bool has_birthday(const struct pw *p, const struct anfu_pw_personal *pd)
{
	char from_id[9];
	const char *b = pd->birthday;

	if (!is_date8(b) && pd->id_number &&
	    anfu_resident_id_birth(pd->id_number,
				   strnlen(pd->id_number, ANFU_LIMIT_IAM_PERSONAL_FIELD),
				   from_id) == 0)
		b = from_id;
	if (!is_date8(b))
		return has_cstr(p, pd->birthday);
	return has_field(p, b, 8) || has_field(p, b + 2, 6) || has_field(p, b + 4, 4) ||
	       has_field(p, b, 4);
}

/* True when the login consists of digits (and '+', ' ', '-') only. */
static bool looks_like_phone(const char *s)
{
	size_t n = strnlen(s, ANFU_LIMIT_IAM_PERSONAL_FIELD);

	for (size_t i = 0; i < n; i++)
		if (!is_digit((unsigned char)s[i]) && !strchr("+ -", s[i]))
			return false;
	return n > 0;
}

static bool has_personal(const struct pw *p, const struct anfu_pw_personal *pd)
{
	if (!pd)
		return false;
	if (has_cstr(p, pd->login) || has_local_part(p, pd->login) ||
	    (pd->login && looks_like_phone(pd->login) && has_phone(p, pd->login)))
		return true;
	return has_cstr(p, pd->name) || has_cstr(p, pd->nickname) || has_phone(p, pd->phone) ||
	       has_local_part(p, pd->email) || has_id_number(p, pd->id_number) ||
	       has_birthday(p, pd);
}

/* ---- the checks ------------------------------------------------------------ */

/* The rules that need no decoding: empty, characters, length in bytes. */
static const char *shape_rule(const char *pw, size_t len)
{
	if (!pw || len == 0)
		return ANFU_PW_EMPTY;
	if (!chars_ok(pw, len))
		return ANFU_PW_INVALID_CHARS;
	if (len > ANFU_PASSWORD_MAX)
		return ANFU_PW_TOO_LONG;
	return NULL;
}

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static const char *policy_rule(const struct anfu_config_password *pol, const struct pw *p,
			       const struct pw_facts *f, const struct anfu_pw_personal *pd)
{
	/* Without a policy the catalog defaults apply (length 8, 4 classes). */
	int64_t min_len = clamp64(pol ? pol->min_length : 8, 1, ANFU_PASSWORD_MAX);
	int64_t classes = clamp64(pol ? pol->classes_required : 4, 1, 4);

	if ((int64_t)p->nchars < min_len)
		return ANFU_PW_TOO_SHORT;
	if (f->digits_only)
		return ANFU_PW_DIGITS_ONLY;
	if (popcount4(f->classes) < classes)
		return ANFU_PW_CLASSES;
	if (f->common)
		return ANFU_PW_DEFAULT;
	if (f->word)
		return ANFU_PW_DICTIONARY;
	if (has_personal(p, pd))
		return ANFU_PW_PERSONAL;
	if (f->sequence)
		return ANFU_PW_SEQUENCE;
	if (f->keyboard)
		return ANFU_PW_KEYBOARD;
	if (f->repeated)
		return ANFU_PW_REPEATED;
	return NULL;
}

/* Checks pw (len bytes, borrowed) against pol (NULL: catalog defaults) and
 * the user's own data pd (may be NULL). Returns 0 when every rule passes,
 * otherwise ANFU_EINVAL with *ret_rule (if not NULL) set to the static code
 * of the first failing rule, in the order documented at the top of this
 * file. *ret_rule is written only on failure. Thread-safe. */
int anfu_pwpolicy_check(const struct anfu_config_password *pol, const char *pw, size_t len,
			const struct anfu_pw_personal *pd, const char **ret_rule)
{
	struct pw p;
	struct pw_facts f;
	const char *rule = shape_rule(pw, len);

	if (!rule) {
		pw_decode(&p, pw, len);
		analyse(&p, &f);
		rule = policy_rule(pol, &p, &f, pd);
	}
	if (!rule)
		return 0;
	if (ret_rule)
		*ret_rule = rule;
	return ANFU_EINVAL;
}

/* A 0..4 strength score for pw (len bytes, borrowed), computed as described
 * at the top of this file; 0 for empty or invalid input. Thread-safe. */
int anfu_pwpolicy_strength(const char *pw, size_t len)
{
	struct pw p;
	struct pw_facts f;
	int score = 0, classes, weak;

	if (shape_rule(pw, len))
		return 0;
	pw_decode(&p, pw, len);
	analyse(&p, &f);
	if (p.nchars < 6 || f.common)
		return 0;
	classes = popcount4(f.classes);
	score += (p.nchars >= 8) + (p.nchars >= 12) + (p.nchars >= 16);
	score += classes >= 4 ? 2 : classes == 3 ? 1 : 0;
	weak = f.word + f.sequence + f.keyboard + f.repeated;
	score -= weak;
	if (weak && score > 2)
		score = 2;
	if ((f.digits_only || p.nchars < 8) && score > 1)
		score = 1;
	return score < 0 ? 0 : score > 4 ? 4 : score;
}

/* ---- payment PIN ------------------------------------------------------------- */

/* Every step +1 or every step -1, digits on a ring (890123 counts). */
static bool pin_run(const char *pin)
{
	bool up = true, down = true;

	for (size_t i = 1; i < ANFU_PIN_LEN; i++) {
		int d = (pin[i] - pin[i - 1] + 10) % 10;

		up = up && d == 1;
		down = down && d == 9;
	}
	return up || down;
}

static bool pin_period(const char *pin, size_t period)
{
	for (size_t i = period; i < ANFU_PIN_LEN; i++)
		if (pin[i] != pin[i - period])
			return false;
	return true;
}

/* YYMMDD equal to the PIN, or MMDD anywhere in it. */
static bool pin_birthday(const char *pin, const char *birthday)
{
	if (!is_date8(birthday))
		return false;
	return memcmp(pin, birthday + 2, ANFU_PIN_LEN) == 0 ||
	       memmem(pin, ANFU_PIN_LEN, birthday + 4, 4);
}

/* Checks a payment PIN (len bytes, borrowed) against IAM-PWD-14's rules,
 * in this order: exactly 6 ASCII digits, one digit repeated, an ascending
 * or descending run (wrapping 9 -> 0), a two- or three-digit pattern
 * repeated, the birthday (YYYYMMDD, may be NULL or malformed: then
 * skipped) as YYMMDD or MMDD. Returns 0, or ANFU_EINVAL with *ret_rule (if
 * not NULL) set to the static code of the failing rule. Thread-safe. */
int anfu_pin_check(const char *pin, size_t len, const char *birthday, const char **ret_rule)
{
	const char *rule = NULL;

	if (!pin || len != ANFU_PIN_LEN)
		rule = ANFU_PIN_FORMAT;
	for (size_t i = 0; !rule && i < ANFU_PIN_LEN; i++)
		if (!is_digit((unsigned char)pin[i]))
			rule = ANFU_PIN_FORMAT;
	if (!rule && pin_period(pin, 1))
		rule = ANFU_PIN_REPEATED;
	else if (!rule && pin_run(pin))
		rule = ANFU_PIN_SEQUENCE;
	else if (!rule && (pin_period(pin, 2) || pin_period(pin, 3)))
		rule = ANFU_PIN_PATTERN;
	else if (!rule && pin_birthday(pin, birthday))
		rule = ANFU_PIN_BIRTHDAY;
	if (!rule)
		return 0;
	if (ret_rule)
		*ret_rule = rule;
	return ANFU_EINVAL;
}
