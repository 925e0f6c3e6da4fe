/*
 * wallet/transfer: transfers between customers in two steps (docs/wallet.md):
 * the preview stores a confirmation bound to what the payer is shown
 * (TX-CONFIRM-01); the confirmation runs the transfer as one ledger writer
 * command (its confirmation marked used, the day's limit usage, its row,
 * the ledger transfer, its audit record and the notices commit together or
 * not at all).
 *
 * Trusts its callers for the payer's identity and PIN (the handler
 * verified them with iam) and for mfa_ms (the session's); everything a
 * client sent is checked here against the stored confirmation.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "audit/audit.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/money.h"
#include "base/refusal.h"
#include "base/str.h"
#include "crypto/crypto.h"
#include "ledger/ledger.h"
#include "store/store.h"
#include "tx/tx.h"
#include "wallet/internal.h"
#include "wallet/wallet.h"

#define HASH_HEX (2 * ANFU_HASH_LEN + 1)

/* The hash binding a confirmation's values (TX-CONFIRM-01). */
static int confirmation_hash(const char *id, const char *payer, const char *payee, int64_t amount,
			     const char *memo, int64_t created_ms, int64_t expires_ms,
			     int second_factor, bool sms, char out[HASH_HEX])
{
	char buf[1024];
	uint8_t h[ANFU_HASH_LEN];
	int n = snprintf(buf, sizeof(buf),
			 "wallet.confirmation.v1|%s|%s|%s|%" PRId64 "|CNY|%" PRId64 "|%" PRId64
			 "|%d|%s",
			 id, payer, payee, amount, created_ms, expires_ms, second_factor, memo);
	int r;

	if (n < 0 || (size_t)n >= sizeof(buf))
		return ANFU_ELIMIT;
	/* Appended only when set: the hashes of older rows stay as they were. */
	if (sms) {
		int m = snprintf(buf + n, sizeof(buf) - (size_t)n, "|sms");

		if (m < 0 || (size_t)m >= sizeof(buf) - (size_t)n)
			return ANFU_ELIMIT;
		n += m;
	}
	r = anfu_hash(ANFU_HASH_SHA256, buf, (size_t)n, h);
	if (r == 0)
		anfu_hex_encode(h, sizeof(h), out);
	return r;
}

/* "2026-12-06 20:00" in Asia/Shanghai. */
static void time_cn(int64_t ms, char out[32])
{
	char date[16], tod[16];

	anfu_clock_format_cn(ms, date, tod);
	if (!date[0])
		(void)anfu_strlcpy(out, "-", 32);
	else
		(void)snprintf(out, 32, "%s %.5s", date, tod);
}

/* The refusal of an account state for a transfer's side (debit: the
 * payer's), or NULL. */
static const char *state_refusal(const char *state, bool debit)
{
	if (strcmp(state, "closed") == 0)
		return ANFU_R_LEDGER_ACCOUNT_CLOSED;
	if (strcmp(state, "frozen") == 0 ||
	    strcmp(state, debit ? "frozen_debit" : "frozen_credit") == 0)
		return ANFU_R_LEDGER_ACCOUNT_FROZEN;
	return NULL;
}

static int store_db(struct anfu_wallet *w, struct anfu_db **ret)
{
	return anfu_store_db(anfu_tx_exec_store(w->tx), ret);
}

/* ---- preview ---- */

struct preview_tx {
	const struct anfu_wallet_preview_req *req;
	const char *payee_id;
	const struct anfu_wallet_preview *p;
	const char *hash;
	struct anfu_wallet *w;
	bool no_phone; /* the SMS code could not be sent: no bound phone */
};

/* The SMS code of a large transfer (IAM-MFA-11, TX-CONFIRM-02): bound to
 * the confirmation by iam, its text names the amount and the masked
 * payee. */
static int sms_code_send(struct anfu_tx *tx, struct preview_tx *c)
{
	const struct anfu_wallet_preview *p = c->p;
	const char *payee = p->payee_name[0] ? p->payee_name : p->payee_login;
	char zh[768], en[768];
	struct anfu_iam_notice n = { "code.tx", "转账验证码", zh, "Transfer code", en };
	int r;

	(void)snprintf(zh, sizeof(zh), "【安付】您正在向 %s 转账 %s 元（%s）。", payee, p->figures,
		       p->words);
	(void)snprintf(en, sizeof(en), "[anfu] You are sending CNY %s to %s.", p->figures, payee);
	r = anfu_iam_tx_code_send(c->w->iam, tx, c->req->payer_id, p->confirmation_id,
				  (p->expires_ms - p->created_ms), &n);
	if (r == ANFU_ENOTFOUND)
		c->no_phone = true;
	return r;
}

static int preview_fn(struct anfu_tx *tx, void *ud)
{
	struct preview_tx *c = ud;
	const struct anfu_wallet_preview *p = c->p;
	const char *memo = c->req->memo ? c->req->memo : "";
	struct anfu_param v[13] = {
		ANFU_PS(p->confirmation_id),
		ANFU_PS(c->req->payer_id),
		ANFU_PS(c->payee_id),
		ANFU_PI(p->amount),
		ANFU_PS(memo),
		ANFU_PS(p->payee_name),
		ANFU_PS(p->payee_login),
		ANFU_PI(p->created_ms),
		ANFU_PI(p->expires_ms),
		ANFU_PI(p->second_factor),
		ANFU_PS(c->hash),
		ANFU_PS(wallet_auth_name(p->auth)),
		ANFU_PI(p->sms_code),
	};
	int r = anfu_db_exec(
		anfu_tx_db(tx),
		"INSERT INTO wallet_confirmation (id, payer_id, payee_id, amount, currency,"
		" memo, payee_name, payee_login, created_ms, expires_ms, second_factor,"
		" hash, auth, sms_code) VALUES ($1, $2, $3, $4, 'CNY', $5, $6, $7, $8, $9,"
		" $10, $11, $12, $13)",
		v, 13, NULL, NULL, NULL);

	if (r == 0 && p->sms_code)
		r = sms_code_send(tx, c);
	if (r == 0)
		r = anfu_tx_audit(tx, "wallet.transfer.previewed", "wallet_confirmation",
				  p->confirmation_id, "success",
				  json_pack("{s:s, s:I, s:s, s:b, s:s}", "payee", c->payee_id,
					    "amount", (json_int_t)p->amount, "currency", "CNY",
					    "second_factor", p->second_factor, "auth",
					    wallet_auth_name(p->auth)));
	return r;
}

/* The limits: the weakest method that allows amount, else the strongest
 * method's refusal. */
static void preview_limits(struct anfu_wallet *w, int64_t used,
			   const struct anfu_wallet_own_limits *own, struct anfu_wallet_preview *p)
{
	const char *limit = NULL;

	p->used_today = used;
	for (int a = 0; a < ANFU_WALLET_AUTH_N; a++) {
		(void)anfu_wallet_limit_of(w, (enum anfu_wallet_auth)a, &p->limit);
		anfu_wallet_limit_lower(&p->limit, own);
		p->auth = (enum anfu_wallet_auth)a;
		p->code = anfu_wallet_limits_decide(&p->limit, used, p->amount, &limit);
		if (!p->code)
			break;
	}
	/* Refused even by the strongest method: name the limit of the
	 * weakest method that is as high (a stronger factor would not help;
	 * with the default TOTP limits equal to the OTP ones: otp_*). */
	for (int a = 0; p->code && a < ANFU_WALLET_AUTH_N - 1; a++) {
		struct anfu_wallet_limit l;
		const char *n = NULL, *code;
		bool single = strcmp(p->code, ANFU_R_WALLET_LIMIT_SINGLE) == 0;

		(void)anfu_wallet_limit_of(w, (enum anfu_wallet_auth)a, &l);
		anfu_wallet_limit_lower(&l, own);
		code = anfu_wallet_limits_decide(&l, used, p->amount, &n);
		if (code && strcmp(code, p->code) == 0 &&
		    (single ? l.single_max == p->limit.single_max
			    : l.daily_max == p->limit.daily_max)) {
			limit = n;
			break;
		}
	}
	p->field = p->code ? limit : NULL;
	p->second_factor = p->auth != ANFU_WALLET_AUTH_PIN;
}

/* The checks of a preview on the calling thread's view: payee, accounts,
 * balance, limits. p->code set on a refusal. */
static int preview_check(struct anfu_wallet *w, struct anfu_db *db,
			 const struct anfu_wallet_preview_req *req, struct anfu_iam_party *payee,
			 struct anfu_wallet_preview *p)
{
	struct anfu_ledger_account from, to;
	struct anfu_wallet_own_limits own;
	int64_t used = 0;
	int r = wallet_payee_find(w, req->to, payee);

	if (r == ANFU_ENOTFOUND) {
		p->code = ANFU_R_WALLET_PAYEE_NOT_FOUND;
		p->field = "to";
		return 0;
	}
	if (r < 0)
		return r;
	if (strcmp(payee->id, req->payer_id) == 0) {
		p->code = ANFU_R_WALLET_TRANSFER_TO_SELF;
		p->field = "to";
		return 0;
	}
	r = wallet_account(w, req->payer_id, &from);
	if (r == ANFU_ENOTFOUND) {
		p->code = ANFU_R_LEDGER_ACCOUNT_NOT_FOUND;
		return 0;
	}
	if (r == 0)
		r = wallet_account(w, payee->id, &to);
	if (r == ANFU_ENOTFOUND) {
		p->code = ANFU_R_WALLET_PAYEE_NOT_FOUND;
		p->field = "to";
		return 0;
	}
	if (r < 0)
		return r;
	p->available = from.credits_posted - from.debits_posted - from.debits_pending;
	p->code = state_refusal(from.state, true);
	if (!p->code && (p->code = state_refusal(to.state, false)) != NULL)
		p->field = "to";
	if (!p->code && p->amount > p->available)
		p->code = ANFU_R_LEDGER_INSUFFICIENT_FUNDS;
	if (p->code)
		return 0;
	r = anfu_wallet_limits_used(db, req->payer_id, anfu_clock_day_cn(p->created_ms), &used);
	if (r == 0)
		r = anfu_wallet_own_limits_get(db, req->payer_id, &own);
	if (r == 0)
		preview_limits(w, used, &own, p);
	return r;
}

int anfu_wallet_preview(struct anfu_wallet *w, const struct anfu_actor *actor,
			const struct anfu_wallet_preview_req *req, struct anfu_wallet_preview *ret)
{
	struct anfu_wallet_preview *p = NULL;
	struct anfu_iam_party payee;
	struct anfu_db *db = NULL;
	char hash[HASH_HEX];
	int r;

	if (!w || !actor || !req || !req->payer_id || !req->to || !ret || req->amount <= 0 ||
	    req->amount > ANFU_LIMIT_WALLET_AMOUNT)
		return ANFU_EINVAL;
	memset(&payee, 0, sizeof(payee));
	p = anfu_xcalloc(1, sizeof(*p));
	p->amount = req->amount;
	p->created_ms = anfu_clock_now_ms();
	p->expires_ms = p->created_ms + w->cfg.confirm_ttl_s * 1000;
	r = store_db(w, &db);
	if (r == 0)
		r = preview_check(w, db, req, &payee, p);
	if (r < 0 || p->code)
		goto out;
	(void)anfu_strlcpy(p->payee_name, payee.real_name, sizeof(p->payee_name));
	(void)anfu_strlcpy(p->payee_login, payee.login, sizeof(p->payee_login));
	p->sms_code = p->amount > w->cfg.sms_confirm_over;
	r = anfu_money_words_zh(p->amount, p->words, sizeof(p->words));
	if (r == 0)
		r = anfu_money_format(p->amount, 2, p->figures, sizeof(p->figures));
	if (r == 0)
		r = anfu_id_new("wcf", p->confirmation_id, sizeof(p->confirmation_id));
	if (r == 0)
		r = confirmation_hash(p->confirmation_id, req->payer_id, payee.id, p->amount,
				      req->memo ? req->memo : "", p->created_ms, p->expires_ms,
				      (int)p->auth, p->sms_code, hash);
	if (r == 0) {
		struct preview_tx c = { req, payee.id, p, hash, w, false };

		/* Through the ledger writer, though no money moves: it commits
		 * with the other commands of its batch (one fsync for many),
		 * not on its own (docs/benchmarks.md §8). Weight: one audit. */
		r = anfu_ledger_run_weighted(w->ledger, actor, preview_fn, &c, 1,
					     anfu_clock_mono_us() / 1000 + WALLET_DEADLINE_MS);
		/* Nowhere to send the code: refused, nothing written. */
		if (r == ANFU_ENOTFOUND && c.no_phone) {
			p->code = ANFU_R_NO_DELIVERY_CHANNEL;
			p->field = "sms_code";
			r = 0;
		}
	}
out:
	if (r == 0)
		*ret = *p;
	free(p);
	return r;
}

/* ---- confirmation ---- */

struct conf_row {
	bool found;
	char payer[ANFU_ID_MAX], payee[ANFU_ID_MAX];
	int64_t amount, created_ms, expires_ms;
	int second_factor;
	enum anfu_wallet_auth auth; /* the weakest method the preview found enough */
	char memo[ANFU_LIMIT_WALLET_MEMO_BYTES + 1];
	char payee_name[ANFU_MASK_MAX], payee_login[ANFU_MASK_MAX];
	char hash[HASH_HEX];
	bool used;
	bool sms; /* the preview sent an SMS code for it */
};

static void col_copy(const struct anfu_row *r, int col, char *out, size_t cap)
{
	const char *s = anfu_row_text(r, col, NULL);

	(void)anfu_strlcpy(out, s ? s : "", cap);
}

static int conf_row_fn(void *ud, const struct anfu_row *r)
{
	struct conf_row *c = ud;

	c->found = true;
	col_copy(r, 0, c->payer, sizeof(c->payer));
	col_copy(r, 1, c->payee, sizeof(c->payee));
	c->amount = anfu_row_int(r, 2);
	col_copy(r, 3, c->memo, sizeof(c->memo));
	col_copy(r, 4, c->payee_name, sizeof(c->payee_name));
	col_copy(r, 5, c->payee_login, sizeof(c->payee_login));
	c->created_ms = anfu_row_int(r, 6);
	c->expires_ms = anfu_row_int(r, 7);
	c->second_factor = (int)anfu_row_int(r, 8);
	col_copy(r, 9, c->hash, sizeof(c->hash));
	c->used = !anfu_row_is_null(r, 10);
	c->auth = wallet_auth_of_name(anfu_row_text(r, 11, NULL));
	c->sms = anfu_row_int(r, 12) != 0;
	return 1;
}

static int conf_load(struct anfu_db *db, const char *id, struct conf_row *ret)
{
	struct anfu_param p[1] = { ANFU_PS(id) };

	memset(ret, 0, sizeof(*ret));
	return anfu_db_exec(
		db,
		"SELECT payer_id, payee_id, amount, memo, payee_name, payee_login,"
		" created_ms, expires_ms, second_factor, hash, transfer_id, auth, sms_code"
		" FROM wallet_confirmation WHERE id = $1",
		p, 1, conf_row_fn, ret, NULL);
}

/* The method the payer confirms with: the PIN and, when the session
 * presented a second factor after the preview, that factor's (asked for
 * or not: the stronger method's limits apply). */
static enum anfu_wallet_auth confirm_auth(const struct anfu_wallet_confirm_req *req,
					  const struct conf_row *conf)
{
	if (req->mfa_ms <= conf->created_ms)
		return ANFU_WALLET_AUTH_PIN;
	return anfu_wallet_auth_of_factor(req->mfa_method);
}

/* A transfer row as the idempotency check and the answer need it. */
struct trf_row {
	bool found;
	char id[ANFU_ID_MAX], confirmation_id[ANFU_ID_MAX], ledger_id[ANFU_ID_MAX];
	char payee_name[ANFU_MASK_MAX], payee_login[ANFU_MASK_MAX], auth[12];
	int64_t amount, created_ms;
};

static int trf_row_fn(void *ud, const struct anfu_row *r)
{
	struct trf_row *t = ud;

	t->found = true;
	col_copy(r, 0, t->id, sizeof(t->id));
	col_copy(r, 1, t->confirmation_id, sizeof(t->confirmation_id));
	col_copy(r, 2, t->ledger_id, sizeof(t->ledger_id));
	col_copy(r, 3, t->payee_name, sizeof(t->payee_name));
	col_copy(r, 4, t->payee_login, sizeof(t->payee_login));
	col_copy(r, 5, t->auth, sizeof(t->auth));
	t->amount = anfu_row_int(r, 6);
	t->created_ms = anfu_row_int(r, 7);
	return 1;
}

static int trf_by_request(struct anfu_db *db, const char *payer, const char *request_id,
			  struct trf_row *ret)
{
	struct anfu_param p[2] = { ANFU_PS(payer), ANFU_PS(request_id) };

	memset(ret, 0, sizeof(*ret));
	return anfu_db_exec(db,
			    "SELECT id, confirmation_id, ledger_id, payee_name, payee_login, auth,"
			    " amount, created_ms FROM wallet_transfer"
			    " WHERE payer_id = $1 AND request_id = $2",
			    p, 2, trf_row_fn, ret, NULL);
}

/* The answer of an earlier transfer of the same request, or its
 * idempotency conflict. */
static void replay(const struct trf_row *t, const struct anfu_wallet_confirm_req *req,
		   struct anfu_wallet_transfer *out)
{
	if (strcmp(t->confirmation_id, req->confirmation_id) != 0 || t->amount != req->amount) {
		out->code = ANFU_R_LEDGER_IDEMPOTENCY_CONFLICT;
		out->field = "request_id";
		return;
	}
	out->existed = true;
	(void)anfu_strlcpy(out->id, t->id, sizeof(out->id));
	(void)anfu_strlcpy(out->ledger_id, t->ledger_id, sizeof(out->ledger_id));
	(void)anfu_strlcpy(out->payee_name, t->payee_name, sizeof(out->payee_name));
	(void)anfu_strlcpy(out->payee_login, t->payee_login, sizeof(out->payee_login));
	out->amount = t->amount;
	out->created_ms = t->created_ms;
	out->auth = wallet_auth_name(wallet_auth_of_name(t->auth));
}

/* Everything the writer command needs, prepared on the caller's thread. */
struct confirm_cmd {
	struct anfu_wallet *w;
	const struct anfu_wallet_confirm_req *req;
	const struct conf_row *conf;
	enum anfu_wallet_auth auth;
	const struct anfu_iam_party *payer;
	char payer_acc[ANFU_ID_MAX], payee_acc[ANFU_ID_MAX];
	char id[ANFU_ID_MAX];
	char idem[ANFU_ID_MAX + 8];
	struct anfu_wallet_transfer *out; /* the answer (code on a refusal) */
};

/* The notice of one party, in both languages: iam sends it on the
 * user's bound channels in the user's language (none bound: nothing). */
static int notice(struct anfu_wallet *w, struct anfu_tx *tx, const char *user_id, const char *kind,
		  bool incoming, const char *other, int64_t amount, int64_t ms)
{
	char figures[32], words[ANFU_MONEY_WORDS_MAX], when[32], zh[768], en[768];
	struct anfu_iam_notice n = { kind, "转账通知", zh, "Transfer notice", en };
	int r = anfu_money_format(amount, 2, figures, sizeof(figures));

	if (r == 0)
		r = anfu_money_words_zh(amount, words, sizeof(words));
	if (r < 0)
		return r;
	time_cn(ms, when);
	if (incoming) {
		(void)snprintf(zh, sizeof(zh),
			       "【安付】%s 于 %s 向您转账 %s 元（%s），已入账余额。", other, when,
			       figures, words);
		(void)snprintf(
			en, sizeof(en),
			"[anfu] %s sent you CNY %s at %s (Beijing time); it is in your balance.",
			other, figures, when);
	} else {
		(void)snprintf(
			zh, sizeof(zh),
			"【安付】您于 %s 向 %s 转账 %s 元（%s）。如非本人操作，请立即联系客服。",
			when, other, figures, words);
		(void)snprintf(en, sizeof(en),
			       "[anfu] You sent CNY %s to %s at %s (Beijing time). If this was not "
			       "you, contact support now.",
			       figures, other, when);
	}
	return anfu_iam_notify_user(w->iam, tx, user_id, &n);
}

/* What a party is called in the other's notice and history: the masked
 * real name, else the masked login. */
static const char *shown(const char *name, const char *login)
{
	return name[0] ? name : login;
}

/* Marks the confirmation used by this transfer, once and in time. */
static int conf_take(struct anfu_db *db, const struct confirm_cmd *c, int64_t now, bool *ret_ok)
{
	struct anfu_param p[3] = { ANFU_PS(c->id), ANFU_PS(c->req->confirmation_id), ANFU_PI(now) };
	int64_t changes = 0;
	int r = anfu_db_exec(db,
			     "UPDATE wallet_confirmation SET transfer_id = $1"
			     " WHERE id = $2 AND transfer_id IS NULL AND expires_ms > $3",
			     p, 3, NULL, NULL, &changes);

	if (r == 0)
		*ret_ok = changes == 1;
	return r;
}

static int trf_insert(struct anfu_db *db, const struct confirm_cmd *c, const char *ledger_id,
		      int64_t now)
{
	struct anfu_param p[15] = {
		ANFU_PS(c->id),
		ANFU_PS(c->req->payer_id),
		ANFU_PS(c->conf->payee),
		ANFU_PI(c->conf->amount),
		ANFU_PS(c->conf->memo),
		ANFU_PS(c->conf->payee_name),
		ANFU_PS(c->conf->payee_login),
		ANFU_PS(c->payer->real_name),
		ANFU_PS(c->payer->login),
		ANFU_PS(c->req->confirmation_id),
		ANFU_PS(c->req->request_id),
		ANFU_PS(wallet_auth_name(c->auth)),
		ANFU_PS(ledger_id),
		ANFU_PI(now),
	};

	return anfu_db_exec(
		db,
		"INSERT INTO wallet_transfer (id, payer_id, payee_id, amount, currency, memo,"
		" payee_name, payee_login, payer_name, payer_login, confirmation_id,"
		" request_id, auth, ledger_id, created_ms) VALUES ($1, $2, $3, $4, 'CNY',"
		" $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
		p, 14, NULL, NULL, NULL);
}

/* A refusal of the command: the answer's code, and a negative result
 * that undoes what the command wrote. */
static int refuse(struct confirm_cmd *c, const char *code, const char *field)
{
	c->out->code = code;
	c->out->field = field;
	return ANFU_ECONFLICT;
}

/* Posts the ledger transfer; a ledger refusal becomes the command's. */
static int post(struct anfu_tx *tx, struct confirm_cmd *c, struct anfu_ledger_result *res)
{
	const struct anfu_ledger_transfer t = {
		.idem_key = c->idem,
		.debit_account = c->payer_acc,
		.credit_account = c->payee_acc,
		.amount = c->conf->amount,
		.asset = "CNY",
		.code = "transfer",
		.ref = c->id,
	};
	int r = anfu_ledger_submit_in(tx, WALLET_CALLER, &t, 1, res);

	if (r < 0)
		return r;
	if (res->code)
		return refuse(c, res->code, NULL);
	return 0;
}

static int confirm_fn(struct anfu_tx *tx, void *ud)
{
	struct confirm_cmd *c = ud;
	struct anfu_db *db = anfu_tx_db(tx);
	struct anfu_ledger_result res;
	struct anfu_ledger_account acc;
	struct trf_row earlier;
	const char *refusal = NULL, *limit = NULL;
	int64_t now = anfu_clock_now_ms();
	bool ok = false;
	int r = anfu_iam_pin_ok_record_in(c->w->iam, tx, c->req->pin);

	/* A wrong entry on another request locked payments since the PIN. */
	if (r == ANFU_ELOCKED)
		return refuse(c, ANFU_R_PAYMENT_LOCKED, "pin");
	if (r == 0)
		r = trf_by_request(db, c->req->payer_id, c->req->request_id, &earlier);
	if (r == 0 && earlier.found) {
		/* The same request raced this one to the writer. */
		replay(&earlier, c->req, c->out);
		return c->out->code ? ANFU_ECONFLICT : 0;
	}
	if (r == 0)
		r = conf_take(db, c, now, &ok);
	if (r == 0 && !ok)
		return refuse(c, ANFU_R_WALLET_CONFIRMATION_USED, "confirmation_id");
	if (r == 0)
		r = anfu_wallet_limits_check_in(c->w, tx, c->req->payer_id, c->auth,
						c->conf->amount, now, &refusal, &limit);
	if (r == 0 && refusal)
		return refuse(c, refusal, limit);
	if (r == 0)
		r = post(tx, c, &res);
	if (r == 0)
		r = trf_insert(db, c, res.id, now);
	if (r == 0)
		r = anfu_tx_audit(tx, "wallet.transfer", "wallet_transfer", c->id, "success",
				  json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:s}", "payer",
					    c->req->payer_id, "payee", c->conf->payee, "amount",
					    (json_int_t)c->conf->amount, "currency", "CNY", "auth",
					    wallet_auth_name(c->auth), "ledger_transfer", res.id,
					    "confirmation", c->req->confirmation_id));
	if (r == 0)
		r = notice(c->w, tx, c->req->payer_id, "wallet.transfer_out", false,
			   shown(c->conf->payee_name, c->conf->payee_login), c->conf->amount, now);
	if (r == 0)
		r = notice(c->w, tx, c->conf->payee, "wallet.transfer_in", true,
			   shown(c->payer->real_name, c->payer->login), c->conf->amount, now);
	if (r == 0)
		r = anfu_ledger_account_get(c->w->ledger, c->payer_acc, &acc);
	if (r < 0)
		return r;
	(void)anfu_strlcpy(c->out->id, c->id, sizeof(c->out->id));
	(void)anfu_strlcpy(c->out->ledger_id, res.id, sizeof(c->out->ledger_id));
	(void)anfu_strlcpy(c->out->payee_name, c->conf->payee_name, sizeof(c->out->payee_name));
	(void)anfu_strlcpy(c->out->payee_login, c->conf->payee_login, sizeof(c->out->payee_login));
	c->out->amount = c->conf->amount;
	c->out->created_ms = now;
	c->out->auth = wallet_auth_name(c->auth);
	c->out->balance = acc.credits_posted - acc.debits_posted;
	return 0;
}

/* The checks of a confirmation before the writer: the stored values, the
 * request's idempotency, the second factor. out->code set on a refusal. */
static int confirm_check(struct anfu_db *db, const struct anfu_wallet_confirm_req *req,
			 const struct conf_row *conf, struct anfu_wallet_transfer *out)
{
	struct trf_row earlier;
	char hash[HASH_HEX];
	int r;

	if (!conf->found || strcmp(conf->payer, req->payer_id) != 0) {
		out->code = ANFU_R_WALLET_CONFIRMATION_NOT_FOUND;
		out->field = "confirmation_id";
		return 0;
	}
	r = trf_by_request(db, req->payer_id, req->request_id, &earlier);
	if (r < 0)
		return r;
	if (earlier.found) {
		replay(&earlier, req, out);
		return 0;
	}
	if (conf->used) {
		out->code = ANFU_R_WALLET_CONFIRMATION_USED;
		out->field = "confirmation_id";
	} else if (req->amount != conf->amount) {
		out->code = ANFU_R_CONFIRMATION_MISMATCH;
		out->field = "amount";
	} else if (anfu_clock_now_ms() >= conf->expires_ms) {
		out->code = ANFU_R_WALLET_CONFIRMATION_EXPIRED;
		out->field = "confirmation_id";
	} else if (confirm_auth(req, conf) < conf->auth) {
		/* No factor after the preview, or a weaker one than it asked
		 * for (an SMS code where the amount needs TOTP). */
		out->code = ANFU_R_STEP_UP_REQUIRED;
		out->field = conf->auth == ANFU_WALLET_AUTH_PIN_TOTP ? "totp" : NULL;
	} else if (conf->sms && (!req->sms_code || !req->sms_code[0])) {
		/* Missing: refused before the code is touched (no attempt). */
		out->code = ANFU_R_CODE_INVALID;
		out->field = "sms_code";
	}
	if (out->code)
		return 0;
	r = confirmation_hash(req->confirmation_id, conf->payer, conf->payee, conf->amount,
			      conf->memo, conf->created_ms, conf->expires_ms, (int)conf->auth,
			      conf->sms, hash);
	if (r == 0 && strcmp(hash, conf->hash) != 0) {
		anfu_log_error("wallet.confirmation_altered",
			       "confirmation %s does not match its hash", req->confirmation_id);
		r = ANFU_ECORRUPT;
	}
	return r;
}

/* The SMS code's check, a writer command of its own: a wrong code's
 * attempt must count though the transfer is refused. */
struct code_cmd {
	struct anfu_wallet *w;
	const struct anfu_wallet_confirm_req *req;
	int result; /* 0, ANFU_EAUTH or ANFU_EEXPIRED */
};

static int code_fn(struct anfu_tx *tx, void *ud)
{
	struct code_cmd *c = ud;
	int r = anfu_iam_tx_code_check(c->w->iam, tx, c->req->payer_id, c->req->confirmation_id,
				       c->req->sms_code);

	if (r != 0 && r != ANFU_EAUTH && r != ANFU_EEXPIRED)
		return r;
	c->result = r;
	return 0;
}

/* Uses up the confirmation's SMS code; out->code set when it is wrong,
 * used or expired. */
static int sms_code_check(struct anfu_wallet *w, const struct anfu_actor *actor,
			  const struct anfu_wallet_confirm_req *req,
			  struct anfu_wallet_transfer *out)
{
	struct code_cmd c = { w, req, 0 };
	/* weight: no transfer, no audit record; 1, the least a command is. */
	int r = anfu_ledger_run_weighted(w->ledger, actor, code_fn, &c, 1,
					 anfu_clock_mono_us() / 1000 + WALLET_DEADLINE_MS);

	if (r < 0)
		return r;
	if (c.result != 0) {
		out->code = c.result == ANFU_EEXPIRED ? ANFU_R_CODE_EXPIRED : ANFU_R_CODE_INVALID;
		out->field = "sms_code";
	}
	return 0;
}

/* Prepares and runs the writer command of a checked confirmation. */
static int confirm_run(struct anfu_wallet *w, const struct anfu_actor *actor,
		       const struct anfu_wallet_confirm_req *req, const struct conf_row *conf,
		       struct anfu_wallet_transfer *out)
{
	struct anfu_iam_party payer;
	struct anfu_ledger_account a;
	struct confirm_cmd c;
	int r;

	bool pin_pending = req->pin && req->pin->pending;

	memset(&payer, 0, sizeof(payer));
	memset(&c, 0, sizeof(c));
	c.w = w;
	c.req = req;
	c.conf = conf;
	c.out = out;
	c.payer = &payer;
	/* A second factor after the preview is this transfer's, asked for
	 * or not: the stronger method's limits apply. */
	c.auth = confirm_auth(req, conf);
	r = wallet_party_get(w, req->payer_id, &payer);
	if (r == 0)
		r = wallet_account(w, req->payer_id, &a);
	if (r == 0)
		(void)anfu_strlcpy(c.payer_acc, a.id, sizeof(c.payer_acc));
	if (r == 0)
		r = wallet_account(w, conf->payee, &a);
	if (r == 0)
		(void)anfu_strlcpy(c.payee_acc, a.id, sizeof(c.payee_acc));
	if (r == 0)
		r = anfu_id_new("wtr", c.id, sizeof(c.id));
	if (r == 0 && snprintf(c.idem, sizeof(c.idem), "trf.%s", c.id) >= (int)sizeof(c.idem))
		r = ANFU_ELIMIT;
	/* weight: the transfer, its audit record and the PIN's. */
	if (r == 0)
		r = anfu_ledger_run_weighted(w->ledger, actor, confirm_fn, &c, 3,
					     anfu_clock_mono_us() / 1000 + WALLET_DEADLINE_MS);
	/* The PIN's record went with a command that did not commit. */
	if (r < 0 && req->pin)
		req->pin->pending = pin_pending;
	/* A refusal of the command is an answer, not an error. */
	if (r == ANFU_ECONFLICT && out->code)
		r = 0;
	return r;
}

int anfu_wallet_confirm(struct anfu_wallet *w, const struct anfu_actor *actor,
			const struct anfu_wallet_confirm_req *req, struct anfu_wallet_transfer *ret)
{
	struct anfu_wallet_transfer out;
	struct conf_row conf;
	struct anfu_db *db = NULL;
	int r;

	if (!w || !actor || !req || !req->payer_id || !req->confirmation_id || !req->request_id ||
	    !req->request_id[0] || !ret)
		return ANFU_EINVAL;
	memset(&out, 0, sizeof(out));
	r = store_db(w, &db);
	if (r == 0)
		r = conf_load(db, req->confirmation_id, &conf);
	if (r == 0)
		r = confirm_check(db, req, &conf, &out);
	if (r == 0 && !out.code && !out.existed && conf.sms)
		r = sms_code_check(w, actor, req, &out);
	if (r == 0 && !out.code && !out.existed)
		r = confirm_run(w, actor, req, &conf, &out);
	if (r == 0 && out.existed) {
		struct anfu_ledger_account a;

		r = wallet_account(w, req->payer_id, &a);
		if (r == 0)
			out.balance = a.credits_posted - a.debits_posted;
	}
	/* No command kept the PIN's record: it still gets one. */
	if (req->pin && req->pin->pending) {
		int pr = anfu_iam_pin_ok_record(w->iam, req->pin);

		if (r == 0)
			r = pr;
	}
	if (r == 0)
		*ret = out;
	return r;
}
