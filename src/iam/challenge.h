/*
 * iam/challenge (private to src/iam/): what service.c needs from
 * challenge.c besides the public functions of iam.h, and the table of
 * helpers challenge.c calls the service through.
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

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

struct anfu_db;
struct anfu_iam;
struct anfu_iam_ctx;
struct anfu_principal;
struct anfu_tx;
struct iam_user;

/* What challenge.c needs of the rest of the service: the helpers of
 * iam/internal.h with their contracts there. The caller owns the table
 * (struct anfu_iam.challenge): anfu_iam_new() sets iam_challenge_helpers, the
 * real helpers; a unit test may hand its own, so challenge.c stands
 * alone (it calls nothing of the service but through this table). */
struct iam_challenge_ops {
	int (*audit)(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *ctx,
		     const struct anfu_principal *p, const char *actor_id, const char *action,
		     const char *object_type, const char *object_id, const char *outcome,
		     const json_t *details);
	int (*notice)(struct anfu_iam *iam, struct anfu_tx *tx, const struct iam_user *u,
		      unsigned channels, const char *tmpl, const char *const *args, int nargs);
	int (*notice_to)(struct anfu_iam *iam, struct anfu_tx *tx, const char *user_id,
			 const char *channel, const char *target, const char *lang,
			 const char *tmpl, const char *const *args, int nargs);
	int (*user_load)(struct anfu_db *db, const char *id, struct iam_user *ret);
	int (*user_reveal)(struct anfu_iam *iam, struct anfu_db *db, const struct iam_user *u,
			   const char *field, char **ret);
	void (*user_clear)(struct iam_user *u);
	bool (*stepped_up)(const struct anfu_iam *iam, const struct anfu_principal *p,
			   int64_t now_ms);
};

/* The real helpers (iam/service.c). */
extern const struct iam_challenge_ops iam_challenge_helpers;

#ifdef ANFU_TEST_HOOKS
struct iam_test_captcha;

/* Creates the empty table; *ret is owned by the caller (free with
 * iam_test_captchas_free). Returns 0 or ANFU_EINTERNAL. */
int iam_test_captchas_new(struct iam_test_captcha **ret);
/* Wipes and frees the table; NULL-safe. */
void iam_test_captchas_free(struct iam_test_captcha *t);
#endif

#endif
