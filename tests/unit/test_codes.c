/*
 * tests/unit/test_codes: one-time codes (src/iam/codes.c) and the
 * challenge service that issues captchas and sends codes
 * (src/iam/challenge.c).
 *
 * Each test gets a fresh data directory with real keys, a migrated SQLite
 * database, a vault and the default configuration. Time rules are crossed
 * by moving the injectable clock (test-hook builds), never by sleeping.
 *
 * challenge.c is tested as a unit: it calls the rest of the service only
 * through the table of iam/challenge.h (struct iam_challenge_ops), and the
 * service handed to it here carries a table of stand-ins (audit, notices,
 * user records) that record what they were asked to do, so the tests see
 * exactly which message went to which target and what was audited. The
 * real helpers are tested with the whole service in test_iam.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "base/clock.h"
#include "base/err.h"
#include "config/config.h"
#include "crypto/crypto.h"
#include "iam/challenge.h"
#include "iam/config.h"
#include "iam/core.h"
#include "iam/factors.h"
#include "iam/iam.h"
#include "iam/internal.h"
#include "store/store.h"
#include "tx/tx.h"
#include "vault/vault.h"

#include "fixture.h"

#define TTL_MS 300000 /* 5 minutes, the default code validity */
#define RESEND_MS 60000
#define MAX_ATTEMPTS 5
#define HASH_HEX (2 * ANFU_HASH_LEN + 1)

/* ---- stand-ins for the helpers challenge.c calls (struct iam_challenge_ops) - */

struct sent_msg {
	char how[16]; /* "notice" (bound channels) or "notice_to" */
	char user_id[ANFU_ID_MAX];
	unsigned channels;
	char channel[8];
	char target[256];
	char lang[4];
	char tmpl[32];
	char args[3][32];
	int nargs;
};

struct audited {
	char action[32];
	char object_id[ANFU_ID_MAX];
	char actor[ANFU_ID_MAX];
	char details[512];
};

struct stub_user {
	const char *id;
	const char *phone;
	const char *email;
};

#define MAX_RECORDS 8
static struct sent_msg sent[MAX_RECORDS];
static int nsent;
static struct audited audited[MAX_RECORDS];
static int naudited;
static int npokes;
/* The service challenge.c is handed: only the fixture's pieces it reads. */
static struct anfu_iam service;
static const struct stub_user stub_users[] = {
	{ "usr_phoneonly0000000000000", "13900001234", NULL },
	{ "usr_emailonly0000000000000", NULL, "carol@example.com" },
};

static int stub_audit(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *ctx,
		      const struct anfu_principal *p, const char *actor_id, const char *action,
		      const char *object_type, const char *object_id, const char *outcome,
		      const json_t *details)
{
	struct audited *a;
	char *d;

	(void)iam;
	(void)ctx;
	(void)object_type;
	(void)outcome;
	assert_true(naudited < MAX_RECORDS);
	assert_true(anfu_tx_db(tx)->tx_depth > 0);
	a = &audited[naudited++];
	(void)snprintf(a->action, sizeof(a->action), "%s", action);
	(void)snprintf(a->object_id, sizeof(a->object_id), "%s", object_id ? object_id : "");
	(void)snprintf(a->actor, sizeof(a->actor), "%s",
		       p	  ? p->user_id
		       : actor_id ? actor_id
				  : "anonymous");
	d = details ? json_dumps(details, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
	(void)snprintf(a->details, sizeof(a->details), "%s", d ? d : "");
	free(d);
	return 0;
}

static void record_msg(const char *how, const char *user_id, unsigned channels, const char *channel,
		       const char *target, const char *lang, const char *tmpl,
		       const char *const *args, int nargs)
{
	struct sent_msg *m;

	assert_true(nsent < MAX_RECORDS);
	m = &sent[nsent++];
	memset(m, 0, sizeof(*m));
	(void)snprintf(m->how, sizeof(m->how), "%s", how);
	(void)snprintf(m->user_id, sizeof(m->user_id), "%s", user_id ? user_id : "");
	m->channels = channels;
	(void)snprintf(m->channel, sizeof(m->channel), "%s", channel ? channel : "");
	(void)snprintf(m->target, sizeof(m->target), "%s", target ? target : "");
	(void)snprintf(m->lang, sizeof(m->lang), "%s", lang ? lang : "");
	(void)snprintf(m->tmpl, sizeof(m->tmpl), "%s", tmpl);
	m->nargs = nargs;
	for (int i = 0; i < nargs && i < 3; i++)
		(void)snprintf(m->args[i], sizeof(m->args[i]), "%s", args[i]);
}

/* Delivery is woken only once the notices are committed: the notifier's
 * wake-up is a post-commit hook of the transaction that queued them, which
 * runs (once) after the commit. */
static void poke(void *ud)
{
	struct anfu_iam *iam = ud;
	struct anfu_db *db = NULL;

	assert_int_equal(anfu_store_db(iam->store, &db), 0);
	assert_int_equal(db->tx_depth, 0);
	npokes++;
}

static int stub_notice(struct anfu_iam *iam, struct anfu_tx *tx, const struct iam_user *u,
		       unsigned channels, const char *tmpl, const char *const *args, int nargs)
{
	assert_true(anfu_tx_db(tx)->tx_depth > 0);
	record_msg("notice", u->id, channels, NULL, NULL, NULL, tmpl, args, nargs);
	return anfu_tx_after_commit(tx, poke, iam);
}

static int stub_notice_to(struct anfu_iam *iam, struct anfu_tx *tx, const char *user_id,
			  const char *channel, const char *target, const char *lang,
			  const char *tmpl, const char *const *args, int nargs)
{
	assert_true(anfu_tx_db(tx)->tx_depth > 0);
	record_msg("notice_to", user_id, 0, channel, target, lang, tmpl, args, nargs);
	return anfu_tx_after_commit(tx, poke, iam);
}

static void stub_user_clear(struct iam_user *u)
{
	if (!u)
		return;
	free(u->phone_enc);
	free(u->email_enc);
	memset(u, 0, sizeof(*u));
}

/* The stand-in "encrypts" nothing: phone_enc and email_enc hold the clear
 * value, which iam_user_reveal hands back. */
static int stub_user_load(struct anfu_db *db, const char *id, struct iam_user *ret)
{
	(void)db;
	for (size_t i = 0; i < sizeof(stub_users) / sizeof(stub_users[0]); i++) {
		if (strcmp(stub_users[i].id, id) != 0)
			continue;
		memset(ret, 0, sizeof(*ret));
		(void)snprintf(ret->id, sizeof(ret->id), "%s", id);
		ret->phone_enc = stub_users[i].phone ? strdup(stub_users[i].phone) : NULL;
		ret->email_enc = stub_users[i].email ? strdup(stub_users[i].email) : NULL;
		(void)snprintf(ret->lang, sizeof(ret->lang), "en");
		return 0;
	}
	return ANFU_ENOTFOUND;
}

static int stub_user_reveal(struct anfu_iam *iam, struct anfu_db *db, const struct iam_user *u,
			    const char *field, char **ret)
{
	const char *v = NULL;

	(void)iam;
	(void)db;
	if (strcmp(field, "phone") == 0)
		v = u->phone_enc;
	else if (strcmp(field, "email") == 0)
		v = u->email_enc;
	*ret = v ? strdup(v) : NULL;
	return 0;
}

/* The table challenge.c is handed: the stand-ins above; step-up is the
 * service's own rule (iam/session.c). */
static const struct iam_challenge_ops stub_ops = {
	.audit = stub_audit,
	.notice = stub_notice,
	.notice_to = stub_notice_to,
	.user_load = stub_user_load,
	.user_reveal = stub_user_reveal,
	.user_clear = stub_user_clear,
	.stepped_up = iam_stepped_up,
};

/* ---- fixture ------------------------------------------------------------------ */

static int setup(void **state)
{
	static const struct anfu_fixture_opts opts = { .name = "codes", .frozen_clock = true };
	struct anfu_fixture *f = NULL;

	assert_int_equal(fixture_open(FIXTURE_VAULT | FIXTURE_CONFIG, &opts, &f), 0);
	memset(&service, 0, sizeof(service));
	service.cfg = f->iam_cfg;
	service.platform = f->cfg;
	service.store = f->store;
	service.tx = f->tx;
	service.keys = f->keys;
	service.vault = f->vault;
	service.challenge = &stub_ops;
#ifdef ANFU_TEST_HOOKS
	assert_int_equal(iam_test_captchas_new(&service.test_captchas), 0);
#endif
	nsent = 0;
	naudited = 0;
	npokes = 0;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
#ifdef ANFU_TEST_HOOKS
	iam_test_captchas_free(service.test_captchas);
#endif
	fixture_close(*state);
	return 0;
}

/* ---- helpers ------------------------------------------------------------------ */

static const char *const TARGET =
	"a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";
static const char *const OTHER_TARGET =
	"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";

static struct anfu_code_issue issue_req(const char *purpose, const char *target,
					const char *context)
{
	return (struct anfu_code_issue){
		.purpose = purpose,
		.channel = "sms",
		.target_index = target,
		.user_id = NULL,
		.context = context,
		.ttl_ms = TTL_MS,
		.resend_ms = RESEND_MS,
	};
}

static int issue(struct anfu_fixture *f, const struct anfu_code_issue *ci, char code[8])
{
	char id[ANFU_ID_MAX];
	int64_t exp = 0;
	int r;

	assert_int_equal(anfu_db_begin(f->db), 0);
	r = anfu_code_issue(f->db, f->vault, ci, id, code, &exp);
	assert_int_equal(anfu_db_commit(f->db), 0);
	return r;
}

/* One verification in its own transaction, committed whatever the result
 * (a wrong attempt must count). */
static int verify(struct anfu_fixture *f, const char *purpose, const char *target,
		  const char *context, const char *code)
{
	int r;

	assert_int_equal(anfu_db_begin(f->db), 0);
	r = anfu_code_verify(f->db, f->vault, purpose, target, context, code, MAX_ATTEMPTS);
	assert_int_equal(anfu_db_commit(f->db), 0);
	return r;
}

/* A 6-digit code that differs from code. */
static void other_code(const char *code, char out[8])
{
	memcpy(out, code, 7);
	out[5] = out[5] == '9' ? '0' : (char)(out[5] + 1);
	out[6] = '\0';
}

/* ---- codes: issue ------------------------------------------------------------- */

/* req: IAM-MFA-07 */
static void test_issue_gives_six_digits_and_stores_only_a_hash(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_code_issue ci = issue_req(ANFU_CODE_LOGIN, TARGET, "ses_x");
	char id[ANFU_ID_MAX], code[8];
	int64_t exp = 0, now = anfu_clock_now_ms();

	assert_int_equal(anfu_db_begin(f->db), 0);
	assert_int_equal(anfu_code_issue(f->db, f->vault, &ci, id, code, &exp), 0);
	assert_int_equal(anfu_db_commit(f->db), 0);
	assert_int_equal(strlen(code), 6);
	assert_int_equal(strspn(code, "0123456789"), 6);
	assert_memory_equal(id, "code_", 5);
#ifdef ANFU_TEST_HOOKS
	assert_int_equal(exp, now + TTL_MS);
#else
	assert_true(exp >= now + TTL_MS);
#endif
	{
		const struct anfu_param p[] = { ANFU_PSN(id, strlen(id)), ANFU_PSN(code, 6) };
		int64_t n = -1;

		assert_int_equal(
			anfu_db_query_int(f->db,
					  "SELECT COUNT(*) FROM iam_code WHERE id = $1 AND "
					  "length(code_hash) = 64 AND code_hash <> $2 AND "
					  "instr(code_hash, $2) = 0 AND attempts = 0 AND "
					  "used_ms IS NULL AND channel = 'sms'",
					  p, 2, &n),
			0);
		assert_int_equal(n, 1);
	}
}

/* req: IAM-MFA-07 */
static void test_issue_codes_are_random(void **state)
{
	struct anfu_fixture *f = *state;
	char first[8], code[8];
	bool differs = false;

	for (int i = 0; i < 12; i++) {
		char ctx[16];
		struct anfu_code_issue ci;

		(void)snprintf(ctx, sizeof(ctx), "c%d", i);
		ci = issue_req(ANFU_CODE_LOGIN, TARGET, ctx);
		ci.resend_ms = 0;
		assert_int_equal(issue(f, &ci, i == 0 ? first : code), 0);
		if (i > 0 && strcmp(first, code) != 0)
			differs = true;
	}
	assert_true(differs);
}

/* Every digit of a code is random: over 40 codes each of the six
 * positions shows at least two different digits (all equal by chance:
 * probability 6 * 10 * 10^-40). req: IAM-MFA-07 */
static void test_issue_codes_vary_in_every_digit(void **state)
{
	struct anfu_fixture *f = *state;
	char first[8], code[8];
	bool differs[6] = { false };

	for (int i = 0; i < 40; i++) {
		char ctx[16];
		struct anfu_code_issue ci;

		(void)snprintf(ctx, sizeof(ctx), "d%d", i);
		ci = issue_req(ANFU_CODE_LOGIN, TARGET, ctx);
		ci.resend_ms = 0;
		assert_int_equal(issue(f, &ci, i == 0 ? first : code), 0);
		for (int k = 0; i > 0 && k < 6; k++)
			differs[k] = differs[k] || code[k] != first[k];
	}
	for (int k = 0; k < 6; k++)
		if (!differs[k])
			fail_msg("digit %d of 40 codes was always %c", k + 1, first[k]);
}

static void test_issue_rejects_bad_arguments(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_code_issue ci;
	char code[8] = "keep";

	ci = issue_req(ANFU_CODE_LOGIN, TARGET, "ses_x");
	ci.ttl_ms = 600001; /* IAM-MFA-07: at most 10 minutes */
	assert_int_equal(issue(f, &ci, code), ANFU_EINVAL);
	ci.ttl_ms = 0;
	assert_int_equal(issue(f, &ci, code), ANFU_EINVAL);
	ci = issue_req(ANFU_CODE_LOGIN, TARGET, "ses_x");
	ci.channel = "fax";
	assert_int_equal(issue(f, &ci, code), ANFU_EINVAL);
	ci = issue_req("", TARGET, "ses_x");
	assert_int_equal(issue(f, &ci, code), ANFU_EINVAL);
	ci = issue_req(ANFU_CODE_LOGIN, "", "ses_x");
	assert_int_equal(issue(f, &ci, code), ANFU_EINVAL);
	ci = issue_req(ANFU_CODE_LOGIN, TARGET, NULL);
	assert_int_equal(issue(f, &ci, code), ANFU_EINVAL);
	assert_string_equal(code, "keep");
	assert_int_equal(fixture_count(f->db, "SELECT COUNT(*) FROM iam_code", NULL), 0);
	ci = issue_req(ANFU_CODE_LOGIN, TARGET, "ses_x");
	ci.ttl_ms = 600000;
	assert_int_equal(issue(f, &ci, code), 0);
}

/* req: IAM-MFA-07 */
static void test_issue_refuses_resend_within_interval(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_code_issue ci = issue_req(ANFU_CODE_REGISTER, TARGET, TARGET);
	char code[8];

	assert_int_equal(issue(f, &ci, code), 0);
	assert_int_equal(issue(f, &ci, code), ANFU_ERATE);
	assert_int_equal(fixture_count(f->db, "SELECT COUNT(*) FROM iam_code", NULL), 1);
	/* Other purposes and other targets are not held back. */
	ci = issue_req(ANFU_CODE_BIND, TARGET, "u:x");
	assert_int_equal(issue(f, &ci, code), 0);
	ci = issue_req(ANFU_CODE_REGISTER, OTHER_TARGET, OTHER_TARGET);
	assert_int_equal(issue(f, &ci, code), 0);
}

/* A code its owner used up does not hold the next one back (log in with
 * a code, log out, log in again). */
static void test_issue_after_used_code_is_not_held_back(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_code_issue ci = issue_req(ANFU_CODE_LOGIN, TARGET, "ses_a");
	char code[8];

	assert_int_equal(issue(f, &ci, code), 0);
	assert_int_equal(anfu_db_begin(f->db), 0);
	assert_int_equal(anfu_code_verify(f->db, f->vault, ANFU_CODE_LOGIN, TARGET, "ses_a", code,
					  MAX_ATTEMPTS),
			 0);
	assert_int_equal(anfu_db_commit(f->db), 0);
	ci.context = "ses_b";
	assert_int_equal(issue(f, &ci, code), 0);
	/* The new code is open, so it holds the next one back. */
	assert_int_equal(issue(f, &ci, code), ANFU_ERATE);
}

#ifdef ANFU_TEST_HOOKS
/* req: IAM-MFA-07 */
static void test_issue_resend_allowed_exactly_at_interval(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_code_issue ci = issue_req(ANFU_CODE_REGISTER, TARGET, TARGET);
	char code[8];

	assert_int_equal(issue(f, &ci, code), 0);
	anfu_clock_advance_ms(RESEND_MS - 1);
	assert_int_equal(issue(f, &ci, code), ANFU_ERATE);
	anfu_clock_advance_ms(1);
	assert_int_equal(issue(f, &ci, code), 0);
	assert_int_equal(fixture_count(f->db, "SELECT COUNT(*) FROM iam_code", NULL), 2);
}
#endif

/* ---- codes: verify ------------------------------------------------------------ */

/* req: IAM-MFA-07 */
static void test_verify_accepts_right_code_once(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_code_issue ci = issue_req(ANFU_CODE_LOGIN, TARGET, "ses_a");
	char code[8];

	assert_int_equal(issue(f, &ci, code), 0);
	assert_int_equal(verify(f, ANFU_CODE_LOGIN, TARGET, "ses_a", code), 0);
	assert_int_equal(fixture_count(f->db,
				       "SELECT COUNT(*) FROM iam_code WHERE used_ms IS NOT NULL",
				       NULL),
			 1);
	assert_int_equal(verify(f, ANFU_CODE_LOGIN, TARGET, "ses_a", code), ANFU_EAUTH);
}

#ifdef ANFU_TEST_HOOKS
/* "A code valid at 4:59 and refused at 5:00". req: IAM-MFA-07, IAM-MFA-08 */
static void test_verify_valid_just_before_expiry(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_code_issue ci = issue_req(ANFU_CODE_LOGIN, TARGET, "ses_a");
	char code[8];

	assert_int_equal(issue(f, &ci, code), 0);
	anfu_clock_advance_ms(TTL_MS - 1000);
	anfu_clock_advance_ms(999);
	assert_int_equal(verify(f, ANFU_CODE_LOGIN, TARGET, "ses_a", code), 0);
}

/* req: IAM-MFA-07, IAM-MFA-08 */
static void test_verify_refused_at_expiry(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_code_issue ci = issue_req(ANFU_CODE_LOGIN, TARGET, "ses_a");
	char code[8];

	assert_int_equal(issue(f, &ci, code), 0);
	anfu_clock_advance_ms(TTL_MS);
	assert_int_equal(verify(f, ANFU_CODE_LOGIN, TARGET, "ses_a", code), ANFU_EEXPIRED);
	/* An expired code does not count attempts and stays unused. */
	assert_int_equal(fixture_count(f->db, "SELECT attempts FROM iam_code", NULL), 0);
	assert_int_equal(
		fixture_count(f->db, "SELECT COUNT(*) FROM iam_code WHERE used_ms IS NULL", NULL),
		1);
}
#endif

/* req: IAM-MFA-07 */
static void test_verify_counts_wrong_attempts_then_voids(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_code_issue ci = issue_req(ANFU_CODE_STEP_UP, TARGET, "ses_a");
	char code[8], wrong[8];

	assert_int_equal(issue(f, &ci, code), 0);
	other_code(code, wrong);
	for (int i = 0; i < MAX_ATTEMPTS; i++)
		assert_int_equal(verify(f, ANFU_CODE_STEP_UP, TARGET, "ses_a", wrong), ANFU_EAUTH);
	assert_int_equal(fixture_count(f->db, "SELECT attempts FROM iam_code", NULL), MAX_ATTEMPTS);
	assert_int_equal(verify(f, ANFU_CODE_STEP_UP, TARGET, "ses_a", code), ANFU_EAUTH);
	assert_int_equal(fixture_count(f->db, "SELECT attempts FROM iam_code", NULL), MAX_ATTEMPTS);
}

/* req: IAM-MFA-07 */
static void test_verify_accepts_after_fewer_wrong_attempts(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_code_issue ci = issue_req(ANFU_CODE_STEP_UP, TARGET, "ses_a");
	char code[8], wrong[8];

	assert_int_equal(issue(f, &ci, code), 0);
	other_code(code, wrong);
	for (int i = 0; i < MAX_ATTEMPTS - 1; i++)
		assert_int_equal(verify(f, ANFU_CODE_STEP_UP, TARGET, "ses_a", wrong), ANFU_EAUTH);
	assert_int_equal(verify(f, ANFU_CODE_STEP_UP, TARGET, "ses_a", code), 0);
}

static void test_verify_malformed_codes_count_as_attempts(void **state)
{
	static const char *const bad[] = { "", "12345", "1234567", "12a456", " 12345" };
	struct anfu_fixture *f = *state;
	struct anfu_code_issue ci = issue_req(ANFU_CODE_LOGIN, TARGET, "ses_a");
	char code[8];

	assert_int_equal(issue(f, &ci, code), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(verify(f, ANFU_CODE_LOGIN, TARGET, "ses_a", bad[i]), ANFU_EAUTH);
	assert_int_equal(fixture_count(f->db, "SELECT attempts FROM iam_code", NULL), 5);
	assert_int_equal(verify(f, ANFU_CODE_LOGIN, TARGET, "ses_a", NULL), ANFU_EINVAL);
}

/* A code is bound to its purpose, target and context (IAM-MFA-08). */
static void test_verify_binds_purpose_target_and_context(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_code_issue ci = issue_req(ANFU_CODE_LOGIN, TARGET, "ses_a");
	char code[8];

	assert_int_equal(issue(f, &ci, code), 0);
	assert_int_equal(verify(f, ANFU_CODE_STEP_UP, TARGET, "ses_a", code), ANFU_EAUTH);
	assert_int_equal(verify(f, ANFU_CODE_REGISTER, TARGET, "ses_a", code), ANFU_EAUTH);
	assert_int_equal(verify(f, ANFU_CODE_LOGIN, OTHER_TARGET, "ses_a", code), ANFU_EAUTH);
	assert_int_equal(verify(f, ANFU_CODE_LOGIN, TARGET, "ses_b", code), ANFU_EAUTH);
	assert_int_equal(verify(f, ANFU_CODE_LOGIN, TARGET, "", code), ANFU_EAUTH);
	/* None of those touched the code. */
	assert_int_equal(fixture_count(f->db, "SELECT attempts FROM iam_code", NULL), 0);
	assert_int_equal(verify(f, ANFU_CODE_LOGIN, TARGET, "ses_a", code), 0);
}

#ifdef ANFU_TEST_HOOKS
/* Only the newest code of a (purpose, target, context) counts. */
static void test_verify_newer_code_voids_older(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_code_issue ci = issue_req(ANFU_CODE_LOGIN, TARGET, "ses_a");
	char older[8], newer[8];

	assert_int_equal(issue(f, &ci, older), 0);
	anfu_clock_advance_ms(RESEND_MS);
	assert_int_equal(issue(f, &ci, newer), 0);
	if (strcmp(older, newer) != 0)
		assert_int_equal(verify(f, ANFU_CODE_LOGIN, TARGET, "ses_a", older), ANFU_EAUTH);
	assert_int_equal(verify(f, ANFU_CODE_LOGIN, TARGET, "ses_a", newer), 0);
}
#endif

static void test_verify_without_code_is_refused(void **state)
{
	struct anfu_fixture *f = *state;

	assert_int_equal(verify(f, ANFU_CODE_LOGIN, TARGET, "ses_a", "123456"), ANFU_EAUTH);
}

/* A hash copied to another row does not match there. */
static void test_verify_hash_is_bound_to_its_row(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_code_issue a = issue_req(ANFU_CODE_LOGIN, TARGET, "ses_a");
	struct anfu_code_issue b = issue_req(ANFU_CODE_LOGIN, OTHER_TARGET, "ses_a");
	char ca[8], cb[8];

	assert_int_equal(issue(f, &a, ca), 0);
	assert_int_equal(issue(f, &b, cb), 0);
	{
		const struct anfu_param p[] = { ANFU_PS(TARGET), ANFU_PS(OTHER_TARGET) };

		assert_int_equal(anfu_db_exec(f->db,
					      "UPDATE iam_code SET code_hash = (SELECT code_hash "
					      "FROM iam_code WHERE target_index = $1) "
					      "WHERE target_index = $2",
					      p, 2, NULL, NULL, NULL),
				 0);
	}
	if (strcmp(ca, cb) != 0)
		assert_int_equal(verify(f, ANFU_CODE_LOGIN, OTHER_TARGET, "ses_a", ca), ANFU_EAUTH);
}

/* ---- challenge: captchas ---------------------------------------------------------- */

/* req: IAM-CAP-02 */
static void test_captcha_new_gives_png_and_expiry_without_audit(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_captcha c = { 0 };
	int64_t now = anfu_clock_now_ms();

	assert_int_equal(anfu_iam_captcha_new(&service, NULL, "register", &c, NULL), 0);
	assert_memory_equal(c.id, "cap_", 4);
	assert_non_null(c.png);
	assert_true(c.png_len > 8);
	assert_memory_equal(c.png, "\x89PNG", 4);
#ifdef ANFU_TEST_HOOKS
	assert_int_equal(c.expires_ms, now + f->iam_cfg->captcha.ttl_s * 1000);
#else
	assert_true(c.expires_ms >= now + f->iam_cfg->captcha.ttl_s * 1000);
#endif
	assert_int_equal(naudited, 0);
	assert_int_equal(fixture_count(f->db, "SELECT COUNT(*) FROM iam_captcha", NULL), 1);
	assert_int_equal(f->db->tx_depth, 0);
	anfu_captcha_clear(&c);
	assert_null(c.png);
	anfu_captcha_clear(&c);
	anfu_captcha_clear(NULL);
}

#ifdef ANFU_TEST_HOOKS
/* The test hook knows the answer of a live captcha, and it is right. */
static void test_captcha_hook_answer_solves_captcha(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_captcha c = { 0 };
	char answer[16];

	assert_int_equal(anfu_iam_captcha_new(&service, NULL, "register", &c, NULL), 0);
	assert_int_equal(anfu_iam_test_captcha_answer(&service, c.id, answer), 0);
	assert_int_equal(strlen(answer), (size_t)f->iam_cfg->captcha.length);
	assert_int_equal(anfu_db_begin(f->db), 0);
	assert_int_equal(anfu_captcha_check(f->db, f->vault, c.id, answer,
					    &(const struct anfu_captcha_use){ "register", false }),
			 0);
	assert_int_equal(anfu_db_commit(f->db), 0);
	anfu_captcha_clear(&c);
}

static void test_captcha_hook_forgets_expired_and_unknown(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_captcha c = { 0 };
	char answer[16] = "keep";
	struct iam_test_captcha *t = service.test_captchas;

	assert_int_equal(anfu_iam_captcha_new(&service, NULL, "register", &c, NULL), 0);
	assert_int_equal(anfu_iam_test_captcha_answer(&service, "cap_unknown", answer),
			 ANFU_ENOTFOUND);
	assert_int_equal(anfu_iam_test_captcha_answer(&service, "", answer), ANFU_ENOTFOUND);
	anfu_clock_advance_ms(f->iam_cfg->captcha.ttl_s * 1000 - 1);
	assert_int_equal(anfu_iam_test_captcha_answer(&service, c.id, answer), 0);
	anfu_clock_advance_ms(1);
	assert_int_equal(anfu_iam_test_captcha_answer(&service, c.id, answer), ANFU_ENOTFOUND);
	/* Without a table the hook finds nothing. */
	service.test_captchas = NULL;
	assert_int_equal(anfu_iam_test_captcha_answer(&service, c.id, answer), ANFU_ENOTFOUND);
	service.test_captchas = t;
	anfu_captcha_clear(&c);
}

/* The table is bounded: the oldest answers make room for new ones. */
static void test_captcha_hook_table_is_bounded(void **state)
{
	struct anfu_captcha first = { 0 }, c = { 0 };
	char answer[16];

	(void)state;
	assert_int_equal(anfu_iam_captcha_new(&service, NULL, "register", &first, NULL), 0);
	for (int i = 0; i < 256; i++) {
		assert_int_equal(anfu_iam_captcha_new(&service, NULL, "register", &c, NULL), 0);
		anfu_captcha_clear(&c);
	}
	assert_int_equal(anfu_iam_test_captcha_answer(&service, first.id, answer), ANFU_ENOTFOUND);
	anfu_captcha_clear(&first);
}
#endif

/* ---- challenge: send codes ---------------------------------------------------------- */

static const struct anfu_iam_ctx test_ctx = { "203.0.113.9", "test-agent", "dev-1",
					      "req-1",	     "en",	   false };

/* A fresh captcha (made directly, so its answer is known). */
static void solved_captcha(struct anfu_fixture *f, char id[ANFU_ID_MAX], char answer[16])
{
	unsigned char *png = NULL;
	size_t len = 0;

	assert_int_equal(anfu_db_begin(f->db), 0);
	assert_int_equal(anfu_captcha_create(
				 f->db, f->vault,
				 &(const struct anfu_captcha_use){ ANFU_CAPTCHA_REGISTER, false },
				 5, 120000, id, &png, &len, answer),
			 0);
	assert_int_equal(anfu_db_commit(f->db), 0);
	free(png);
}

static int send_code(struct anfu_fixture *f, const struct anfu_principal *p,
		     const struct anfu_code_req *req, struct anfu_code_sent *out,
		     struct anfu_iam_err *err)
{
	int r;

	memset(err, 0, sizeof(*err));
	r = anfu_iam_send_code(&service, &test_ctx, p, req, out, err);
	assert_int_equal(f->db->tx_depth, 0);
	return r;
}

static void index_of(struct anfu_fixture *f, const char *kind, const char *value,
		     char out[HASH_HEX])
{
	assert_int_equal(anfu_vault_index(f->vault, kind, value, strlen(value), out), 0);
}

/* req: IAM-MFA-07, IAM-MFA-08, IAM-CAP-01 */
static void test_send_register_code_to_new_mobile(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_code_req req = { ANFU_CODE_REGISTER, "sms", "+8613800001050", NULL, NULL };
	struct anfu_code_sent out;
	struct anfu_iam_err err;
	char cid[ANFU_ID_MAX], answer[16], idx[HASH_HEX];

	solved_captcha(f, cid, answer);
	req.captcha_id = cid;
	req.captcha_answer = answer;
	assert_int_equal(send_code(f, NULL, &req, &out, &err), 0);
	assert_memory_equal(out.id, "code_", 5);
	assert_string_equal(out.masked_target, "****1050");
	assert_int_equal(nsent, 1);
	assert_string_equal(sent[0].how, "notice_to");
	assert_string_equal(sent[0].channel, "sms");
	assert_string_equal(sent[0].target, "13800001050");
	assert_string_equal(sent[0].tmpl, "code");
	assert_string_equal(sent[0].lang, "en");
	assert_string_equal(sent[0].user_id, "");
	/* Code texts take (code, purpose, minutes). */
	assert_int_equal(sent[0].nargs, 3);
	assert_string_equal(sent[0].args[1], "register");
	assert_string_equal(sent[0].args[2], "5");
	/* The code is bound to purpose register, the target index and, as
	 * context, the target index again. */
	index_of(f, "phone", "13800001050", idx);
	assert_int_equal(verify(f, ANFU_CODE_REGISTER, idx, idx, sent[0].args[0]), 0);
	assert_int_equal(naudited, 1);
	assert_string_equal(audited[0].action, "code.sent");
	assert_string_equal(audited[0].object_id, out.id);
	assert_string_equal(audited[0].actor, "anonymous");
	assert_string_equal(audited[0].details,
			    "{\"channel\":\"sms\",\"delivered\":\"code\",\"purpose\":\"register\","
			    "\"target\":\"****1050\"}");
	assert_int_equal(npokes, 1);
}

/* req: IAM-MFA-08, DATA-MASK-03 */
static void test_send_register_code_to_email_lower_cases_it(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_code_req req = { ANFU_CODE_REGISTER, "email", "Dave.Smith@Example.COM", NULL,
				     NULL };
	struct anfu_code_sent out;
	struct anfu_iam_err err;
	char cid[ANFU_ID_MAX], answer[16], idx[HASH_HEX];

	solved_captcha(f, cid, answer);
	req.captcha_id = cid;
	req.captcha_answer = answer;
	assert_int_equal(send_code(f, NULL, &req, &out, &err), 0);
	assert_int_equal(nsent, 1);
	assert_string_equal(sent[0].channel, "email");
	assert_string_equal(sent[0].target, "dave.smith@example.com");
	assert_null(strstr(out.masked_target, "smith"));
	assert_non_null(strchr(out.masked_target, '@'));
	assert_null(strstr(audited[0].details, "smith"));
	index_of(f, "email", "dave.smith@example.com", idx);
	assert_int_equal(verify(f, ANFU_CODE_REGISTER, idx, idx, sent[0].args[0]), 0);
}

/* req: IAM-CAP-01 */
static void test_send_register_needs_captcha(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_code_req req = { ANFU_CODE_REGISTER, "sms", "13800001050", NULL, NULL };
	struct anfu_code_sent out = { .id = "untouched" };
	struct anfu_iam_err err;

	assert_int_equal(send_code(f, NULL, &req, &out, &err), ANFU_EINVAL);
	assert_string_equal(err.code, "captcha_required");
	req.captcha_id = "cap_x";
	req.captcha_answer = "";
	assert_int_equal(send_code(f, NULL, &req, &out, &err), ANFU_EINVAL);
	assert_string_equal(err.code, "captcha_required");
	assert_string_equal(out.id, "untouched");
	assert_int_equal(nsent, 0);
	assert_int_equal(naudited, 0);
	assert_int_equal(fixture_count(f->db, "SELECT COUNT(*) FROM iam_code", NULL), 0);
}

/* A wrong captcha is refused and used up. req: IAM-CAP-02 */
static void test_send_register_wrong_captcha_uses_it_up(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_code_req req = { ANFU_CODE_REGISTER, "sms", "13800001050", NULL, "WRONG" };
	struct anfu_code_sent out;
	struct anfu_iam_err err;
	char cid[ANFU_ID_MAX], answer[16];

	solved_captcha(f, cid, answer);
	req.captcha_id = cid;
	if (strcmp(answer, "WRONG") == 0)
		req.captcha_answer = "WRANG";
	assert_int_equal(send_code(f, NULL, &req, &out, &err), ANFU_EAUTH);
	assert_string_equal(err.code, "captcha_invalid");
	assert_int_equal(fixture_count(f->db, "SELECT COUNT(*) FROM iam_code", NULL), 0);
	assert_int_equal(nsent, 0);
	req.captcha_answer = answer;
	assert_int_equal(send_code(f, NULL, &req, &out, &err), ANFU_EAUTH);
	assert_string_equal(err.code, "captcha_invalid");
}

static void test_send_register_refuses_bad_target_before_captcha(void **state)
{
	static const struct {
		const char *channel, *target;
	} bad[] = {
		{ "sms", "12800001050" },	{ "sms", "1380000105" },
		{ "sms", "alice@example.com" }, { "email", "13800001050" },
		{ "email", "not-an-address" },	{ "sms", NULL },
	};
	struct anfu_fixture *f = *state;
	struct anfu_code_sent out;
	struct anfu_iam_err err;
	char cid[ANFU_ID_MAX], answer[16];

	solved_captcha(f, cid, answer);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct anfu_code_req req = { ANFU_CODE_REGISTER, bad[i].channel, bad[i].target, cid,
					     answer };

		assert_int_equal(send_code(f, NULL, &req, &out, &err), ANFU_EINVAL);
		assert_string_equal(err.code, "invalid_field");
		assert_string_equal(err.field, "target");
	}
	/* The captcha was not spent on those. */
	assert_int_equal(fixture_count(f->db,
				       "SELECT COUNT(*) FROM iam_captcha WHERE used_ms IS NULL",
				       NULL),
			 1);
}

static void test_send_refuses_unknown_purpose_and_channel(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_code_req req = { "reset", "sms", "13800001050", "cap_x", "ABCDE" };
	struct anfu_code_sent out;
	struct anfu_iam_err err;

	assert_int_equal(send_code(f, NULL, &req, &out, &err), ANFU_EINVAL);
	assert_string_equal(err.code, "invalid_field");
	assert_string_equal(err.field, "purpose");
	req.purpose = NULL;
	assert_int_equal(send_code(f, NULL, &req, &out, &err), ANFU_EINVAL);
	assert_string_equal(err.field, "purpose");
	req.purpose = ANFU_CODE_REGISTER;
	req.channel = "voice";
	assert_int_equal(send_code(f, NULL, &req, &out, &err), ANFU_EINVAL);
	assert_string_equal(err.field, "channel");
}

/* Anonymous callers get register codes only. req: IAM-MFA-08 */
static void test_send_anonymous_only_register(void **state)
{
	static const char *const purposes[] = { ANFU_CODE_LOGIN, ANFU_CODE_STEP_UP,
						ANFU_CODE_BIND };
	struct anfu_fixture *f = *state;
	struct anfu_code_sent out;
	struct anfu_iam_err err;

	for (size_t i = 0; i < sizeof(purposes) / sizeof(purposes[0]); i++) {
		struct anfu_code_req req = { purposes[i], "sms", "13800001050", NULL, NULL };

		assert_int_equal(send_code(f, NULL, &req, &out, &err), ANFU_EAUTH);
		assert_string_equal(err.code, "unauthorized");
	}
	assert_int_equal(nsent, 0);
}

/* req: RISK-RN-03 */
static void test_send_register_too_soon_still_spends_captcha(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_code_req req = { ANFU_CODE_REGISTER, "sms", "13800001050", NULL, NULL };
	struct anfu_code_sent out;
	struct anfu_iam_err err;
	char cid[ANFU_ID_MAX], answer[16];

	solved_captcha(f, cid, answer);
	req.captcha_id = cid;
	req.captcha_answer = answer;
	assert_int_equal(send_code(f, NULL, &req, &out, &err), 0);
	solved_captcha(f, cid, answer);
	assert_int_equal(send_code(f, NULL, &req, &out, &err), ANFU_ERATE);
	assert_string_equal(err.code, "code_too_soon");
	assert_int_equal(fixture_count(f->db, "SELECT COUNT(*) FROM iam_code", NULL), 1);
	assert_int_equal(fixture_count(f->db,
				       "SELECT COUNT(*) FROM iam_captcha WHERE used_ms IS NULL",
				       NULL),
			 0);
	assert_int_equal(nsent, 1);
	assert_int_equal(naudited, 1);
}

static void insert_user(struct anfu_fixture *f, const char *id, const char *login_index,
			const char *phone_index)
{
	const struct anfu_param p[] = { ANFU_PS(id), ANFU_PS(login_index), ANFU_PS(phone_index) };

	assert_int_equal(
		anfu_db_exec(f->db,
			     "INSERT INTO iam_user (id, kind, login_kind, login_index, "
			     "login_enc, status, created_ms, created_by, phone_index, lang) "
			     "VALUES ($1, 'customer', 'username', $2, 'x', 'active', 1, $1, "
			     "$3, 'en')",
			     p, 3, NULL, NULL, NULL),
		0);
}

/* A taken number gets the same answer, but its owner is told instead of
 * getting a code. req: IAM-ACCT-02 */
static void test_send_register_to_taken_phone_tells_owner(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_code_req req = { ANFU_CODE_REGISTER, "sms", "13800001050", NULL, NULL };
	struct anfu_code_sent out;
	struct anfu_iam_err err;
	char cid[ANFU_ID_MAX], answer[16], idx[HASH_HEX], lidx[HASH_HEX];

	index_of(f, "phone", "13800001050", idx);
	index_of(f, "login", "alice", lidx);
	insert_user(f, "usr_owner000000000000000000", lidx, idx);
	solved_captcha(f, cid, answer);
	req.captcha_id = cid;
	req.captcha_answer = answer;
	assert_int_equal(send_code(f, NULL, &req, &out, &err), 0);
	assert_memory_equal(out.id, "code_", 5);
	assert_string_equal(out.masked_target, "****1050");
	assert_int_equal(nsent, 1);
	assert_string_equal(sent[0].how, "notice_to");
	assert_string_equal(sent[0].tmpl, "register_attempt");
	assert_string_equal(sent[0].user_id, "usr_owner000000000000000000");
	assert_string_equal(sent[0].target, "13800001050");
	assert_string_equal(sent[0].lang, "en");
	assert_int_equal(sent[0].nargs, 0);
	/* The same rows as for a new number: a code row (nobody knows it). */
	assert_int_equal(fixture_count(f->db,
				       "SELECT COUNT(*) FROM iam_code WHERE purpose = 'register' "
				       "AND user_id IS NULL",
				       NULL),
			 1);
	assert_string_equal(audited[0].action, "code.sent");
	assert_non_null(strstr(audited[0].details, "\"delivered\":\"notice\""));
}

/* An email that is some account's login name counts as taken too. */
static void test_send_register_to_taken_login_tells_owner(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_code_req req = { ANFU_CODE_REGISTER, "email", "erin@example.com", NULL, NULL };
	struct anfu_code_sent out;
	struct anfu_iam_err err;
	char cid[ANFU_ID_MAX], answer[16], lidx[HASH_HEX];

	index_of(f, "login", "erin@example.com", lidx);
	insert_user(f, "usr_erin0000000000000000000", lidx, NULL);
	solved_captcha(f, cid, answer);
	req.captcha_id = cid;
	req.captcha_answer = answer;
	assert_int_equal(send_code(f, NULL, &req, &out, &err), 0);
	assert_int_equal(nsent, 1);
	assert_string_equal(sent[0].tmpl, "register_attempt");
	assert_string_equal(sent[0].user_id, "usr_erin0000000000000000000");
}

static struct anfu_principal principal(const char *user_id, const char *session_id)
{
	struct anfu_principal p;

	memset(&p, 0, sizeof(p));
	(void)snprintf(p.user_id, sizeof(p.user_id), "%s", user_id);
	(void)snprintf(p.session_id, sizeof(p.session_id), "%s", session_id);
	p.state = ANFU_SESSION_MFA_PENDING;
	return p;
}

/* Login codes go to the bound phone only, bound to the session.
 * req: IAM-MFA-08 */
static void test_send_login_code_to_bound_phone(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_principal p = principal("usr_phoneonly0000000000000", "ses_one");
	/* A target in the request is not where a login code goes. */
	struct anfu_code_req req = { ANFU_CODE_LOGIN, "sms", "13800009999", NULL, NULL };
	struct anfu_code_sent out;
	struct anfu_iam_err err;
	char idx[HASH_HEX];

	assert_int_equal(send_code(f, &p, &req, &out, &err), 0);
	assert_string_equal(out.masked_target, "****1234");
	assert_int_equal(nsent, 1);
	assert_string_equal(sent[0].how, "notice");
	assert_string_equal(sent[0].user_id, "usr_phoneonly0000000000000");
	assert_int_equal(sent[0].channels, ANFU_MFA_SMS);
	assert_string_equal(sent[0].tmpl, "code");
	assert_string_equal(sent[0].args[1], "login");
	assert_string_equal(audited[0].actor, "usr_phoneonly0000000000000");
	index_of(f, "phone", "13900001234", idx);
	assert_int_equal(verify(f, ANFU_CODE_LOGIN, idx, "ses_other", sent[0].args[0]), ANFU_EAUTH);
	assert_int_equal(verify(f, ANFU_CODE_STEP_UP, idx, "ses_one", sent[0].args[0]), ANFU_EAUTH);
	assert_int_equal(verify(f, ANFU_CODE_LOGIN, idx, "ses_one", sent[0].args[0]), 0);
	assert_int_equal(fixture_count(f->db,
				       "SELECT COUNT(*) FROM iam_code WHERE user_id = "
				       "'usr_phoneonly0000000000000'",
				       NULL),
			 1);
}

/* req: IAM-MFA-02, IAM-MFA-08 */
static void test_send_step_up_code_to_bound_email(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_principal p = principal("usr_emailonly0000000000000", "ses_two");
	struct anfu_code_req req = { ANFU_CODE_STEP_UP, "email", NULL, NULL, NULL };
	struct anfu_code_sent out;
	struct anfu_iam_err err;
	char idx[HASH_HEX];

	assert_int_equal(send_code(f, &p, &req, &out, &err), 0);
	assert_int_equal(sent[0].channels, ANFU_MFA_EMAIL);
	assert_string_equal(sent[0].args[1], "step_up");
	index_of(f, "email", "carol@example.com", idx);
	assert_int_equal(verify(f, ANFU_CODE_STEP_UP, idx, "ses_two", sent[0].args[0]), 0);
}

static void test_send_to_unbound_channel_is_unavailable(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_principal p = principal("usr_emailonly0000000000000", "ses_two");
	struct anfu_code_req req = { ANFU_CODE_LOGIN, "sms", NULL, NULL, NULL };
	struct anfu_code_sent out = { .id = "untouched" };
	struct anfu_iam_err err;

	assert_int_equal(send_code(f, &p, &req, &out, &err), ANFU_ECONFLICT);
	assert_string_equal(err.code, "method_unavailable");
	p = principal("usr_phoneonly0000000000000", "ses_one");
	req.purpose = ANFU_CODE_STEP_UP;
	req.channel = "email";
	assert_int_equal(send_code(f, &p, &req, &out, &err), ANFU_ECONFLICT);
	assert_string_equal(err.code, "method_unavailable");
	assert_string_equal(out.id, "untouched");
	assert_int_equal(nsent, 0);
	assert_int_equal(naudited, 0);
	assert_int_equal(npokes, 0);
	assert_int_equal(fixture_count(f->db, "SELECT COUNT(*) FROM iam_code", NULL), 0);
}

/* An active session that proved a second factor just now. */
static struct anfu_principal stepped_up(const char *user_id, const char *session_id)
{
	struct anfu_principal p = principal(user_id, session_id);

	p.state = ANFU_SESSION_ACTIVE;
	p.mfa_ms = anfu_clock_now_ms();
	return p;
}

/* Bind codes go to the new target, bound to the user and that target. */
static void test_send_bind_code_to_new_target(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_principal p = stepped_up("usr_phoneonly0000000000000", "ses_one");
	struct anfu_code_req req = { ANFU_CODE_BIND, "email", "New@Example.com", NULL, NULL };
	struct anfu_code_sent out;
	struct anfu_iam_err err;
	char idx[HASH_HEX], ctx[ANFU_ID_MAX + HASH_HEX + 2];

	assert_int_equal(send_code(f, &p, &req, &out, &err), 0);
	assert_int_equal(nsent, 1);
	assert_string_equal(sent[0].how, "notice_to");
	assert_string_equal(sent[0].user_id, "usr_phoneonly0000000000000");
	assert_string_equal(sent[0].target, "new@example.com");
	assert_string_equal(sent[0].args[1], "bind");
	index_of(f, "email", "new@example.com", idx);
	(void)snprintf(ctx, sizeof(ctx), "usr_phoneonly0000000000000:%s", idx);
	assert_int_equal(verify(f, ANFU_CODE_BIND, idx, idx, sent[0].args[0]), ANFU_EAUTH);
	assert_int_equal(verify(f, ANFU_CODE_BIND, idx, ctx, sent[0].args[0]), 0);
	req.target = NULL;
	assert_int_equal(send_code(f, &p, &req, &out, &err), ANFU_EINVAL);
	assert_string_equal(err.field, "target");
}

/* A bind code goes to a target the caller names with no captcha in front:
 * it takes a second factor within mfa.stepup_window, never a password
 * alone (a pending session) nor an old one; nothing is stored or sent.
 * req: IAM-MFA-02 */
static void test_send_bind_code_needs_a_recent_step_up(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_principal pending = principal("usr_phoneonly0000000000000", "ses_one");
	struct anfu_principal old = stepped_up("usr_phoneonly0000000000000", "ses_one");
	struct anfu_code_req req = { ANFU_CODE_BIND, "sms", "13800009999", NULL, NULL };
	struct anfu_code_sent out = { .id = "untouched" };
	struct anfu_iam_err err;

	assert_int_equal(send_code(f, &pending, &req, &out, &err), ANFU_EPERM);
	assert_string_equal(err.code, "step_up_required");
#ifdef ANFU_TEST_HOOKS
	anfu_clock_advance_ms(f->iam_cfg->mfa.stepup_window_s * 1000 + 1);
	assert_int_equal(send_code(f, &old, &req, &out, &err), ANFU_EPERM);
	assert_string_equal(err.code, "step_up_required");
#endif
	assert_string_equal(out.id, "untouched");
	assert_int_equal(nsent, 0);
	assert_int_equal(naudited, 0);
	assert_int_equal(fixture_count(f->db, "SELECT COUNT(*) FROM iam_code", NULL), 0);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_issue_gives_six_digits_and_stores_only_a_hash),
		T(test_issue_codes_are_random),
		T(test_issue_codes_vary_in_every_digit),
		T(test_issue_rejects_bad_arguments),
		T(test_issue_refuses_resend_within_interval),
		T(test_issue_after_used_code_is_not_held_back),
#ifdef ANFU_TEST_HOOKS
		T(test_issue_resend_allowed_exactly_at_interval),
#endif
		T(test_verify_accepts_right_code_once),
#ifdef ANFU_TEST_HOOKS
		T(test_verify_valid_just_before_expiry),
		T(test_verify_refused_at_expiry),
#endif
		T(test_verify_counts_wrong_attempts_then_voids),
		T(test_verify_accepts_after_fewer_wrong_attempts),
		T(test_verify_malformed_codes_count_as_attempts),
		T(test_verify_binds_purpose_target_and_context),
#ifdef ANFU_TEST_HOOKS
		T(test_verify_newer_code_voids_older),
#endif
		T(test_verify_without_code_is_refused),
		T(test_verify_hash_is_bound_to_its_row),
		T(test_captcha_new_gives_png_and_expiry_without_audit),
#ifdef ANFU_TEST_HOOKS
		T(test_captcha_hook_answer_solves_captcha),
		T(test_captcha_hook_forgets_expired_and_unknown),
		T(test_captcha_hook_table_is_bounded),
#endif
		T(test_send_register_code_to_new_mobile),
		T(test_send_register_code_to_email_lower_cases_it),
		T(test_send_register_needs_captcha),
		T(test_send_register_wrong_captcha_uses_it_up),
		T(test_send_register_refuses_bad_target_before_captcha),
		T(test_send_refuses_unknown_purpose_and_channel),
		T(test_send_anonymous_only_register),
		T(test_send_register_too_soon_still_spends_captcha),
		T(test_send_register_to_taken_phone_tells_owner),
		T(test_send_register_to_taken_login_tells_owner),
		T(test_send_login_code_to_bound_phone),
		T(test_send_step_up_code_to_bound_email),
		T(test_send_to_unbound_channel_is_unavailable),
		T(test_send_bind_code_to_new_target),
		T(test_send_bind_code_needs_a_recent_step_up),
	};
#undef T

	return cmocka_run_group_tests(tests, fixture_group_setup, NULL);
}
