/*
 * iam/service: the service object — anfu_iam_new() and anfu_iam_free().
 * The helpers the iam files share are in iam/common.c, the scheduled jobs
 * in iam/jobs.c.
 *
 * Owns struct anfu_iam's lifetime. Trusts its dependencies (config, store,
 * keys, audit, vault, notify) to be open and to outlive it; trusts nothing
 * a caller passes in a context beyond it being NUL-terminated strings.
 */
#include <stdlib.h>

#include "base/err.h"
#include "base/mem.h"
#include "iam/challenge.h"
#include "iam/config.h"
#include "iam/core.h"
#include "iam/internal.h"
#include "iam/pwhash.h"

const struct iam_challenge_ops iam_challenge_helpers = {
	.audit = iam_audit,
	.notice = iam_notice,
	.notice_to = iam_notice_to,
	.user_load = iam_user_load,
	.user_reveal = iam_user_reveal,
	.user_clear = iam_user_clear,
	.stepped_up = iam_stepped_up,
};

int anfu_iam_new(const struct anfu_iam_deps *d, struct anfu_iam **ret)
{
	struct anfu_iam *iam = NULL;
	int r;

	if (!d || !ret || !d->cfg || !d->platform || !d->store || !d->audit || !d->tx || !d->vault)
		return ANFU_EINVAL;
	iam = anfu_xcalloc(1, sizeof(*iam));
	iam->cfg = d->cfg;
	iam->platform = d->platform;
	iam->store = d->store;
	iam->keys = d->keys;
	iam->audit = d->audit;
	iam->tx = d->tx;
	iam->vault = d->vault;
	iam->notify = d->notify;
	iam->challenge = &iam_challenge_helpers;
	r = anfu_pwhash_new(d->cfg->argon2.opslimit, d->cfg->argon2.memlimit_kib,
			    d->cfg->argon2.max_concurrent, &iam->pwhash);
	if (r == 0)
		r = iam_reserved_limiter_new(&iam->reserved_limiter);
#ifdef ANFU_TEST_HOOKS
	if (r == 0)
		r = iam_test_captchas_new(&iam->test_captchas);
#endif
	if (r < 0)
		goto out;
	*ret = iam;
	iam = NULL;
	r = 0;
out:
	anfu_iam_free(iam);
	return r;
}

void anfu_iam_free(struct anfu_iam *iam)
{
	if (!iam)
		return;
	anfu_pwhash_free(iam->pwhash);
	iam_reserved_limiter_free(iam->reserved_limiter);
#ifdef ANFU_TEST_HOOKS
	iam_test_captchas_free(iam->test_captchas);
#endif
	free(iam);
}
#ifdef ANFU_TEST_HOOKS
uint64_t anfu_iam_test_pwhash_total(struct anfu_iam *iam)
{
	return iam ? anfu_pwhash_total(iam->pwhash) : 0;
}
#endif
