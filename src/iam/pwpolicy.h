/*
 * iam/pwpolicy: the password and payment-PIN rules (IAM-PWD-01..05, -13,
 * -14). Pure functions: no I/O, no allocation beyond the stack; the word
 * lists are compiled in (share/dict/, scripts/embed_dict.py).
 *
 * A check returns 0, or ANFU_EINVAL with *ret_rule set to the stable code
 * of the first rule that failed (the API reports which one).
 */
#ifndef ANFU_IAM_PWPOLICY_H
#define ANFU_IAM_PWPOLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "base/limits.h"
#include "base/refusal.h"

struct anfu_config_password;

/* Longest password accepted (Argon2 input is bounded; 128 is far above any
 * memorable password). */
#define ANFU_PASSWORD_MAX 128
/* The handlers decode a password field further than any password may go,
 * so that the policy answers an over-long one (base/limits.h). */
_Static_assert(ANFU_LIMIT_IAM_PASSWORD_FIELD > ANFU_PASSWORD_MAX,
	       "a password field must be decoded past the longest password");

/* Rule codes: ANFU_PW_* in base/refusal.h (docs/errors.md). */

/* The user's own data a password must not contain (IAM-PWD-04). Any field
 * may be NULL; fields shorter than 3 characters are ignored. */
struct anfu_pw_personal {
	const char *login; /* username, or the login phone/email */
	const char *name;  /* real name (pinyin forms are not derived) */
	const char *nickname;
	const char *phone;     /* 11 digits: the number and its last 6 / 4 are checked */
	const char *email;     /* the local part is checked */
	const char *id_number; /* the number and its last 6 */
	const char *birthday;  /* YYYYMMDD: also YYMMDD, MMDD, YYYY */
};

/* Checks pw (len bytes) against the policy: length, character classes
 * (upper, lower, digit, other), digits only, dictionary words and their
 * leetspeak forms (p@ssw0rd), runs of 3+ sequential or keyboard-adjacent or
 * repeated characters, personal data, default passwords. Case-insensitive
 * where it matters. */
int anfu_pwpolicy_check(const struct anfu_config_password *pol, const char *pw, size_t len,
			const struct anfu_pw_personal *pd, const char **ret_rule);

/* A 0..4 strength score for the indicator shown while typing (IAM-PWD-13). */
int anfu_pwpolicy_strength(const char *pw, size_t len);

/* Digits of a payment PIN (a format, not a limit). */
#define ANFU_PIN_LEN 6

/* Payment PIN rules (IAM-PWD-14): exactly 6 digits; refuses one digit
 * repeated (111111), ascending or descending runs (123456, 654321), two-
 * or three-digit patterns repeated (121212, 123123), and the birthday in
 * YYMMDD or MMDD form when birthday (YYYYMMDD) is known. Rule codes:
 * ANFU_PIN_* in base/refusal.h. */
int anfu_pin_check(const char *pin, size_t len, const char *birthday, const char **ret_rule);

/* True when word (lower case, ASCII) is in the compiled word lists. */
bool anfu_pwpolicy_is_word(const char *word, size_t len);

#endif
