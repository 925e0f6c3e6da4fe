/*
 * iam/challenge (private to src/iam/): what service.c needs from
 * challenge.c besides the public functions of iam.h.
 *
 * In test-hook builds the service keeps the answers of live captchas in a
 * small bounded table (struct anfu_iam.test_captchas) so that
 * anfu_iam_test_captcha_answer() can hand them to API tests. service.c
 * creates it in anfu_iam_new() and frees it in anfu_iam_free():
 *
 *	#ifdef ANFU_TEST_HOOKS
 *	r = iam_test_captchas_new(&iam->test_captchas);
 *	...
 *	iam_test_captchas_free(iam->test_captchas);
 *	#endif
 *
 * Without the table (NULL) captchas still work; the hook then finds no
 * answers. Production builds contain none of this.
 */
#ifndef ANFU_IAM_CHALLENGE_H
#define ANFU_IAM_CHALLENGE_H

#ifdef ANFU_TEST_HOOKS
struct iam_test_captcha;

/* Creates the empty table; *ret is owned by the caller (free with
 * iam_test_captchas_free). Returns 0 or ANFU_EINTERNAL. */
int iam_test_captchas_new(struct iam_test_captcha **ret);
/* Wipes and frees the table; NULL-safe. */
void iam_test_captchas_free(struct iam_test_captcha *t);
#endif

#endif
