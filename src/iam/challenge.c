/*
 * iam/challenge: the service side of captchas and one-time codes —
 * anfu_iam_captcha_new() and anfu_iam_send_code() (IAM-CAP-01, -02,
 * IAM-MFA-07, -08), plus the test-hook table of captcha answers.
 *
 * Owns the rules for who may get a code where: anonymous callers only
 * register codes, after a captcha, to a valid mainland mobile number or
 * email address; login and step-up codes go only to the phone or email
 * bound to the principal; bind codes to the new target, and only after a
 * recent step-up (IAM-MFA-02). A register request
 * for a number or address that already has an account gets the same answer
 * and the same database rows (a code nobody learns), but the owner is told
 * that someone tried instead of receiving a code, so the response does not
 * reveal the account. The code, its notice and the "code.sent" audit
 * record commit in one transaction. Captcha issuance is not audited (it
 * changes nothing anyone relies on, and is frequent).
 *
 * Trusts: the principal from anfu_iam_authenticate(), the helpers of
 * iam/internal.h, the vault and the configuration. Request fields are
 * untrusted and validated here.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/json.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/mask.h"
#include "base/mem.h"
#include "base/refusal.h"
#include "base/str.h"
#include "base/validate.h"
#include "iam/challenge.h"
#include "iam/config.h"
#include "iam/factors.h"
#include "iam/internal.h"
#include "store/store.h"
#include "tx/tx.h"
#include "vault/vault.h"

#define HASH_HEX (2 * ANFU_HASH_LEN + 1)
#define TARGET_MAX 254 /* longest email address (RFC 5321 path) */

/* ---- test hook: answers of live captchas ----------------------------------- */

#ifdef ANFU_TEST_HOOKS

struct test_captcha_slot {
	char id[ANFU_ID_MAX];
	char answer[16];
	int64_t expires_ms;
};

struct iam_test_captcha {
	pthread_mutex_t mu;
	unsigned next;
	struct test_captcha_slot slot[ANFU_LIMIT_IAM_TEST_CAPTCHAS];
};

/* Creates the empty table; see challenge.h. */
int iam_test_captchas_new(struct iam_test_captcha **ret)
{
	struct iam_test_captcha *t;

	if (!ret)
		return ANFU_EINVAL;
	t = anfu_xcalloc(1, sizeof(*t));
	if (pthread_mutex_init(&t->mu, NULL) != 0) {
		free(t);
		return ANFU_EINTERNAL;
	}
	*ret = t;
	return 0;
}

/* Wipes and frees the table; NULL-safe. */
void iam_test_captchas_free(struct iam_test_captcha *t)
{
	if (!t)
		return;
	(void)pthread_mutex_destroy(&t->mu);
	anfu_wipe(t, sizeof(*t));
	free(t);
}

static void test_captcha_put(struct iam_test_captcha *t, const char *id, const char *answer,
			     int64_t expires_ms)
{
	struct test_captcha_slot *s;

	if (!t)
		return;
	(void)pthread_mutex_lock(&t->mu);
	s = &t->slot[t->next];
	t->next = (t->next + 1) % ANFU_LIMIT_IAM_TEST_CAPTCHAS;
	(void)anfu_strlcpy(s->id, id, sizeof(s->id));
	(void)anfu_strlcpy(s->answer, answer, sizeof(s->answer));
	s->expires_ms = expires_ms;
	(void)pthread_mutex_unlock(&t->mu);
}

/* Test hook: the answer of a captcha that exists in the table and has not
 * expired. 0 with out filled, ANFU_ENOTFOUND otherwise. Thread-safe. */
int anfu_iam_test_captcha_answer(struct anfu_iam *iam, const char *id, char out[16])
{
	struct iam_test_captcha *t;
	int64_t now = anfu_clock_now_ms();
	int r = ANFU_ENOTFOUND;

	if (!iam || !id || !out)
		return ANFU_EINVAL;
	t = iam->test_captchas;
	if (!t || !*id)
		return ANFU_ENOTFOUND;
	(void)pthread_mutex_lock(&t->mu);
	for (unsigned i = 0; i < ANFU_LIMIT_IAM_TEST_CAPTCHAS; i++) {
		const struct test_captcha_slot *s = &t->slot[i];

		if (strcmp(s->id, id) == 0 && s->expires_ms > now) {
			memcpy(out, s->answer, sizeof(s->answer));
			r = 0;
			break;
		}
	}
	(void)pthread_mutex_unlock(&t->mu);
	return r;
}
#endif

/* ---- captchas ------------------------------------------------------------------ */

static int expires_fn(void *ud, const struct anfu_row *row)
{
	*(int64_t *)ud = anfu_row_int(row, 0);
	return 1;
}

/* A new captcha's transaction and what it made. */
struct captcha_new {
	struct anfu_iam *iam;
	struct anfu_captcha_use use;
	char id[ANFU_ID_MAX], answer[16];
	unsigned char *png;
	size_t png_len;
	int64_t expires_ms;
};

static int captcha_new_tx(struct anfu_tx *tx, void *ud)
{
	struct captcha_new *c = ud;
	struct anfu_iam *iam = c->iam;
	int r;

	r = anfu_captcha_create(anfu_tx_db(tx), iam->vault, &c->use, (int)iam->cfg->captcha.length,
				iam->cfg->captcha.ttl_s * 1000, c->id, &c->png, &c->png_len,
				c->answer);
	if (r == 0) {
		const struct anfu_param p[] = { ANFU_PSN(c->id, strlen(c->id)) };

		r = anfu_db_exec(anfu_tx_db(tx), "SELECT expires_ms FROM iam_captcha WHERE id = $1",
				 p, 1, expires_fn, &c->expires_ms, NULL);
	}
	return r;
}

/* Creates and stores a captcha in a transaction of its own. ret is
 * written only on success; its png is malloc'd (free with
 * anfu_captcha_clear). Not audited: see the file comment. Thread-safe. */
int anfu_iam_captcha_new(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx, const char *purpose,
			 struct anfu_captcha *ret, struct anfu_iam_err *err)
{
	struct captcha_new c;
	int r;

	if (!iam || !ret)
		return ANFU_EINVAL;
	memset(&c, 0, sizeof(c));
	c.iam = iam;
	c.use = (struct anfu_captcha_use){ purpose, ctx && ctx->admin };
	if (!anfu_captcha_purpose_ok(purpose, c.use.admin)) {
		if (err)
			*err = (struct anfu_iam_err){ ANFU_JERR_INVALID_FIELD, "purpose" };
		return ANFU_EINVAL;
	}
	r = anfu_tx_run(iam->tx, NULL, captcha_new_tx, &c);
	if (r < 0) {
		anfu_log_error("iam.captcha", "captcha not created: %s", anfu_strerror(r));
		goto out;
	}
#ifdef ANFU_TEST_HOOKS
	test_captcha_put(iam->test_captchas, c.id, c.answer, c.expires_ms);
#endif
	memcpy(ret->id, c.id, sizeof(ret->id));
	ret->png = c.png;
	ret->png_len = c.png_len;
	ret->expires_ms = c.expires_ms;
	c.png = NULL;
out:
	free(c.png);
	anfu_wipe(c.answer, sizeof(c.answer));
	return r;
}

/* Frees the image of c and zeroes it; NULL-safe. */
void anfu_captcha_clear(struct anfu_captcha *c)
{
	if (!c)
		return;
	free(c->png);
	memset(c, 0, sizeof(*c));
}

/* The PNG of a live captcha made on the listener of ctx (the main one when
 * ctx is NULL), for GET /api/v1/captcha/{id}/image: *ret_png malloc'd
 * (caller frees). ANFU_ENOTFOUND for any captcha that cannot be shown
 * (unknown, used, expired, the other listener's). Reads only. */
int anfu_iam_captcha_image(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx, const char *id,
			   unsigned char **ret_png, size_t *ret_len)
{
	struct anfu_db *db = NULL;
	int r;

	if (!iam || !ret_png || !ret_len)
		return ANFU_EINVAL;
	r = iam_db(iam, &db);
	if (r == 0)
		r = anfu_captcha_image(db, id, ctx && ctx->admin, anfu_clock_now_ms(), ret_png,
				       ret_len);
	return r;
}

/* True when every password login asks for a captcha before its first
 * attempt (captcha.mode always, or after_failures with after_failures 0),
 * so that a login page shows one at once. */
bool anfu_iam_captcha_always(const struct anfu_iam *iam)
{
	return !iam || strcmp(iam->cfg->captcha.mode, "after_failures") != 0 ||
	       iam->cfg->captcha.after_failures <= 0;
}

/* ---- one-time codes --------------------------------------------------------------- */

/* What a send-code request resolves to. */
struct send_plan {
	const char *purpose; /* one of the ANFU_CODE_* literals */
	const char *channel; /* "sms" / "email" */
	bool sms;
	char target[TARGET_MAX + 1]; /* normalised, in clear (wiped) */
	char index[HASH_HEX];	     /* blind index of target */
	char context[ANFU_ID_MAX + 1 + HASH_HEX];
	char masked[64];
	bool bound;		    /* login/step_up: to the user's channel */
	struct iam_user user;	    /* bound: the principal's record */
	bool registered;	    /* register: target has an account */
	char owner_id[ANFU_ID_MAX]; /* registered: that account */
	char owner_lang[4];
};

static int refuse(struct anfu_iam_err *err, int r, const char *code, const char *field)
{
	if (err) {
		err->code = code;
		err->field = field;
	}
	return r;
}

static const char *known_purpose(const char *s)
{
	static const char *const purposes[] = { ANFU_CODE_REGISTER, ANFU_CODE_LOGIN,
						ANFU_CODE_STEP_UP, ANFU_CODE_BIND };

	for (size_t i = 0; s && i < sizeof(purposes) / sizeof(purposes[0]); i++)
		if (strcmp(s, purposes[i]) == 0)
			return purposes[i];
	return NULL;
}

/* Normalises a target typed by the client: a mainland mobile number to
 * 11 digits (sms), an email address to lower case (email). */
static int normalise_target(bool sms, const char *in, char out[TARGET_MAX + 1])
{
	size_t n;

	if (!in)
		return ANFU_EINVAL;
	n = strnlen(in, TARGET_MAX + 1);
	if (n > TARGET_MAX)
		return ANFU_EINVAL;
	if (sms) {
		if (!anfu_valid_mobile_cn(in, n))
			return ANFU_EINVAL;
		return anfu_mobile_normalize(in, n, out, TARGET_MAX + 1);
	}
	if (!anfu_valid_email(in, n))
		return ANFU_EINVAL;
	for (size_t i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	out[n] = '\0';
	return 0;
}

/* Checks the request's shape and who may ask for what, and normalises an
 * explicit target. Nothing touches the database here. */
static int plan_request(const struct anfu_principal *p, const struct anfu_code_req *req,
			struct send_plan *plan, struct anfu_iam_err *err)
{
	plan->purpose = known_purpose(req->purpose);
	if (!plan->purpose)
		return refuse(err, ANFU_EINVAL, ANFU_JERR_INVALID_FIELD, "purpose");
	if (!req->channel ||
	    (strcmp(req->channel, "sms") != 0 && strcmp(req->channel, "email") != 0))
		return refuse(err, ANFU_EINVAL, ANFU_JERR_INVALID_FIELD, "channel");
	plan->sms = req->channel[0] == 's';
	plan->channel = plan->sms ? "sms" : "email";
	if (!p && strcmp(plan->purpose, ANFU_CODE_REGISTER) != 0)
		return refuse(err, ANFU_EAUTH, ANFU_R_UNAUTHORIZED, NULL);
	plan->bound = strcmp(plan->purpose, ANFU_CODE_LOGIN) == 0 ||
		      strcmp(plan->purpose, ANFU_CODE_STEP_UP) == 0;
	if (plan->bound)
		return 0;
	if (normalise_target(plan->sms, req->target, plan->target) < 0)
		return refuse(err, ANFU_EINVAL, ANFU_JERR_INVALID_FIELD, "target");
	if (strcmp(plan->purpose, ANFU_CODE_REGISTER) == 0 &&
	    (!req->captcha_id || !*req->captcha_id || !req->captcha_answer ||
	     !*req->captcha_answer))
		return refuse(err, ANFU_EINVAL, ANFU_R_CAPTCHA_REQUIRED, "captcha_answer");
	return 0;
}

/* True when p proved a second factor within mfa.stepup_window. */
static bool stepped_up(const struct anfu_iam *iam, const struct anfu_principal *p)
{
	return p && iam->challenge->stepped_up(iam, p, anfu_clock_now_ms());
}

/* A captcha check's transaction: the verdict in check. */
struct captcha_use {
	struct anfu_iam *iam;
	const struct anfu_code_req *req;
	int check;
};

static int consume_tx(struct anfu_tx *tx, void *ud)
{
	struct captcha_use *c = ud;

	c->check = anfu_captcha_check(
		anfu_tx_db(tx), c->iam->vault, c->req->captcha_id, c->req->captcha_answer,
		&(const struct anfu_captcha_use){ ANFU_CAPTCHA_REGISTER, false });
	/* A wrong answer uses the captcha up too: committed. */
	return c->check < 0 && c->check != ANFU_EAUTH ? c->check : 0;
}

/* Checks the captcha in a transaction of its own, so that it is used up
 * by this attempt whatever happens next (IAM-CAP-02). */
static int consume_captcha(struct anfu_iam *iam, const struct anfu_code_req *req,
			   struct anfu_iam_err *err)
{
	struct captcha_use c = { iam, req, 0 };
	int r = anfu_tx_run(iam->tx, NULL, consume_tx, &c);

	if (r < 0)
		return r;
	if (c.check < 0)
		return refuse(err, ANFU_EAUTH, ANFU_R_CAPTCHA_INVALID, "captcha_answer");
	return 0;
}

/* login / step_up: the principal's bound phone or email. */
static int resolve_bound(struct anfu_iam *iam, struct anfu_db *db, const struct anfu_principal *p,
			 struct send_plan *plan, struct anfu_iam_err *err)
{
	char *clear = NULL;
	int r;

	r = iam->challenge->user_load(db, p->user_id, &plan->user);
	if (r == ANFU_ENOTFOUND)
		return refuse(err, ANFU_EAUTH, ANFU_R_UNAUTHORIZED, NULL);
	if (r < 0)
		return r;
	if (!(plan->sms ? plan->user.phone_enc : plan->user.email_enc))
		return refuse(err, ANFU_ECONFLICT, ANFU_R_METHOD_UNAVAILABLE, "channel");
	r = iam->challenge->user_reveal(iam, db, &plan->user, plan->sms ? "phone" : "email",
					&clear);
	if (r < 0)
		return r;
	if (!clear)
		return refuse(err, ANFU_ECONFLICT, ANFU_R_METHOD_UNAVAILABLE, "channel");
	r = anfu_strlcpy(plan->target, clear, sizeof(plan->target));
	anfu_free_secret(clear);
	return r;
}

static int owner_fn(void *ud, const struct anfu_row *row)
{
	struct send_plan *plan = ud;
	const char *id = anfu_row_text(row, 0, NULL);
	const char *lang = anfu_row_text(row, 1, NULL);

	if (!id)
		return ANFU_ECORRUPT;
	plan->registered = true;
	(void)anfu_strlcpy(plan->owner_id, id, sizeof(plan->owner_id));
	(void)anfu_strlcpy(plan->owner_lang, lang ? lang : "zh", sizeof(plan->owner_lang));
	return 1;
}

/* register: whether the target is already some account's login name or
 * bound phone or email (blind indexes of distinct kinds never collide). */
static int find_owner(struct anfu_iam *iam, struct anfu_db *db, struct send_plan *plan)
{
	char login_index[HASH_HEX];
	int r;

	r = anfu_vault_index(iam->vault, "login", plan->target, strlen(plan->target), login_index);
	if (r < 0)
		return r;
	{
		const struct anfu_param p[] = { ANFU_PSN(login_index, strlen(login_index)),
						ANFU_PSN(plan->index, strlen(plan->index)) };

		return anfu_db_exec(db,
				    "SELECT id, lang FROM iam_user WHERE login_index = $1 "
				    "OR phone_index = $2 OR email_index = $2 LIMIT 1",
				    p, 2, owner_fn, plan, NULL);
	}
}

/* The target's blind index, the code's context and the masked target. */
static int bind_plan(struct anfu_iam *iam, const struct anfu_principal *p, struct send_plan *plan)
{
	const char *ctx_text = plan->index;
	int r, n;

	r = anfu_vault_index(iam->vault, plan->sms ? "phone" : "email", plan->target,
			     strlen(plan->target), plan->index);
	if (r < 0)
		return r;
	if (plan->bound)
		ctx_text = p->session_id;
	if (strcmp(plan->purpose, ANFU_CODE_BIND) == 0) {
		n = snprintf(plan->context, sizeof(plan->context), "%s:%s", p->user_id,
			     plan->index);
		if (n < 0 || (size_t)n >= sizeof(plan->context))
			return ANFU_EINVAL;
	} else if (anfu_strlcpy(plan->context, ctx_text, sizeof(plan->context)) < 0) {
		return ANFU_EINVAL;
	}
	r = plan->sms ? anfu_mask_mobile(plan->target, strlen(plan->target), plan->masked,
					 sizeof(plan->masked))
		      : anfu_mask_email(plan->target, strlen(plan->target), plan->masked,
					sizeof(plan->masked));
	if (r < 0)
		(void)anfu_strlcpy(plan->masked, "***", sizeof(plan->masked));
	return 0;
}

/* Queues the code, or (register, taken target) the notice to its owner.
 * Code texts take (code, purpose, minutes): the purpose picks the wording,
 * so the recipient sees what the code is for. */
static int queue_message(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_principal *p,
			 const struct anfu_iam_ctx *ctx, const struct send_plan *plan,
			 const char *code)
{
	char minutes[24];
	const char *args[] = { code, plan->purpose, minutes };
	const char *lang = ctx && ctx->lang && *ctx->lang ? ctx->lang : "zh";

	(void)snprintf(minutes, sizeof(minutes), "%lld",
		       (long long)((iam->cfg->mfa.code_ttl_s + 59) / 60));
	if (plan->registered)
		return iam->challenge->notice_to(iam, tx, plan->owner_id, plan->channel,
						 plan->target, plan->owner_lang, "register_attempt",
						 NULL, 0);
	if (plan->bound)
		return iam->challenge->notice(iam, tx, &plan->user,
					      plan->sms ? ANFU_MFA_SMS : ANFU_MFA_EMAIL, "code",
					      args, 3);
	return iam->challenge->notice_to(iam, tx, p ? p->user_id : NULL, plan->channel,
					 plan->target, lang, "code", args, 3);
}

static int audit_sent(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *ctx,
		      const struct anfu_principal *p, const struct send_plan *plan,
		      const char *code_id)
{
	json_t *d;
	int r;

	d = json_pack("{s:s, s:s, s:s, s:s}", "purpose", plan->purpose, "channel", plan->channel,
		      "target", plan->masked, "delivered", plan->registered ? "notice" : "code");
	if (!d)
		return ANFU_EINTERNAL;
	r = iam->challenge->audit(iam, tx, ctx, p, NULL, "code.sent", "code", code_id, "success",
				  d);
	json_decref(d);
	return r;
}

/* A send's write transaction. */
struct send {
	struct anfu_iam *iam;
	const struct anfu_iam_ctx *ctx;
	const struct anfu_principal *p;
	struct send_plan *plan;
	struct anfu_code_sent out;
	struct anfu_iam_err *err;
};

/* The write transaction of a send: code row, message, audit record. */
static int send_tx(struct anfu_tx *tx, void *ud)
{
	struct send *s = ud;
	struct anfu_iam *iam = s->iam;
	struct anfu_db *db = anfu_tx_db(tx);
	const struct anfu_iam_ctx *ctx = s->ctx;
	const struct anfu_principal *p = s->p;
	struct send_plan *plan = s->plan;
	struct anfu_code_sent *out = &s->out;
	struct anfu_iam_err *err = s->err;
	struct anfu_code_issue ci = {
		.purpose = plan->purpose,
		.channel = plan->channel,
		.target_index = plan->index,
		.user_id = p ? p->user_id : NULL,
		.context = plan->context,
		.ttl_ms = iam->cfg->mfa.code_ttl_s * 1000,
		.resend_ms = iam->cfg->mfa.code_resend_s * 1000,
	};
	char code[8] = "";
	int r;

	if (plan->bound) {
		r = resolve_bound(iam, db, p, plan, err);
		if (r < 0)
			goto out;
	}
	r = bind_plan(iam, p, plan);
	if (r == 0 && strcmp(plan->purpose, ANFU_CODE_REGISTER) == 0)
		r = find_owner(iam, db, plan);
	if (r < 0)
		goto out;
	if (plan->registered)
		ci.user_id = NULL;
	r = anfu_code_issue(db, iam->vault, &ci, out->id, code, &out->expires_ms);
	if (r == ANFU_ERATE)
		r = refuse(err, ANFU_ERATE, ANFU_R_CODE_TOO_SOON, NULL);
	if (r == 0)
		r = queue_message(iam, tx, p, ctx, plan, code);
	if (r == 0)
		r = audit_sent(iam, tx, ctx, p, plan, out->id);
	if (r == 0)
		(void)anfu_strlcpy(out->masked_target, plan->masked, sizeof(out->masked_target));
out:
	anfu_wipe(code, sizeof(code));
	return r;
}

int64_t anfu_iam_code_resend_s(const struct anfu_iam *iam)
{
	return iam ? iam->cfg->mfa.code_resend_s : 0;
}

/* Sends a 6-digit code (IAM-MFA-07, -08): see iam.h and the file comment.
 * ret is written only on success. Refusals set err: invalid_field
 * (purpose, channel, target), unauthorized, captcha_required,
 * captcha_invalid, method_unavailable, code_too_soon, step_up_required
 * (bind without a recent second factor). A register captcha
 * is used up by the attempt even when the send is refused later. */
int anfu_iam_send_code(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
		       const struct anfu_principal *p, const struct anfu_code_req *req,
		       struct anfu_code_sent *ret, struct anfu_iam_err *err)
{
	struct send_plan *plan = NULL;
	struct send s;
	int r;

	if (!iam || !req || !ret)
		return ANFU_EINVAL;
	plan = anfu_xcalloc(1, sizeof(*plan));
	r = plan_request(p, req, plan, err);
	/* Binding a phone or email is a sensitive change (IAM-MFA-02), and its
	 * code goes to a target the caller names with no captcha in front: it
	 * takes a second factor proved within mfa.stepup_window. */
	if (r == 0 && strcmp(plan->purpose, ANFU_CODE_BIND) == 0 && !stepped_up(iam, p))
		r = refuse(err, ANFU_EPERM, ANFU_R_STEP_UP_REQUIRED, NULL);
	if (r < 0)
		goto out;
	if (strcmp(plan->purpose, ANFU_CODE_REGISTER) == 0) {
		r = consume_captcha(iam, req, err);
		if (r < 0)
			goto out;
	}
	s = (struct send){ .iam = iam, .ctx = ctx, .p = p, .plan = plan, .err = err };
	r = anfu_tx_run(iam->tx, NULL, send_tx, &s);
	if (r == 0)
		*ret = s.out;
out:
	if (r < 0 && r != ANFU_EINVAL && r != ANFU_EAUTH && r != ANFU_ERATE &&
	    r != ANFU_ECONFLICT && r != ANFU_EPERM)
		anfu_log_error("iam.send_code", "code not sent: %s", anfu_strerror(r));
	iam->challenge->user_clear(&plan->user);
	anfu_wipe(plan, sizeof(*plan));
	free(plan);
	return r;
}
