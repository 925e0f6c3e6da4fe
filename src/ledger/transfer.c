/*
 * ledger/transfer: the rules of one transfer and the chains of a request,
 * applied inside the writer's transaction (docs/ledger.md, "Transfers").
 *
 * Owns the rows of ledger_transfer and ledger_hold. A transfer is checked
 * whole before anything is written: idempotency first (the same caller
 * and key: the same content is the earlier result, other content is
 * refused), then the amount, the accounts, their assets and states, the
 * hold it posts or voids, balancing, checked arithmetic on every balance
 * and the accounts' flags; only then the journal row, the two balance
 * rows, the hold and the audit record. A refused transfer writes nothing
 * and is not stored (its retry is evaluated again). A chain runs in one
 * step of the transaction: a refused member undoes the members before it.
 * Trusts ledger_request_check() to have run on the request.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "base/assert.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/refusal.h"
#include "base/str.h"
#include "ledger/chain.h"
#include "ledger/internal.h"
#include "store/store.h"
#include "tx/tx.h"

#define F_LINKED ANFU_LEDGER_TRF_LINKED
#define F_PENDING ANFU_LEDGER_TRF_PENDING
#define F_POST ANFU_LEDGER_TRF_POST_PENDING
#define F_VOID ANFU_LEDGER_TRF_VOID_PENDING
#define F_BAL_DEBIT ANFU_LEDGER_TRF_BALANCING_DEBIT
#define F_BAL_CREDIT ANFU_LEDGER_TRF_BALANCING_CREDIT

/* ---- the request's shape ------------------------------------------------ */

/* 1..max bytes, each printable ASCII (space too when space). */
static bool text_ok(const char *s, size_t min, size_t max, bool space)
{
	size_t n = s ? strnlen(s, max + 1) : 0;

	if (!s || n < min || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < (space ? 0x20 : 0x21) || s[i] > 0x7e)
			return false;
	return true;
}

bool anfu_ledger_code_ok(const char *s)
{
	size_t n = s ? strnlen(s, ANFU_LIMIT_LEDGER_CODE_BYTES + 1) : 0;

	if (n == 0 || n > ANFU_LIMIT_LEDGER_CODE_BYTES)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '_'))
			return false;
	return true;
}

static bool asset_ok(const char *s)
{
	return s && (strcmp(s, "CNY") == 0 || strcmp(s, "POINTS") == 0);
}

static bool transfer_ok(const struct anfu_ledger_transfer *t)
{
	uint32_t phase = t->flags & (F_PENDING | F_POST | F_VOID);
	bool closes = (t->flags & (F_POST | F_VOID)) != 0;

	if (!text_ok(t->idem_key, 1, ANFU_LIMIT_LEDGER_IDEM_BYTES, false) ||
	    !text_ok(t->debit_account, 1, ANFU_ID_MAX - 1, false) ||
	    !text_ok(t->credit_account, 1, ANFU_ID_MAX - 1, false) || !asset_ok(t->asset) ||
	    !anfu_ledger_code_ok(t->code) ||
	    (t->ref && !text_ok(t->ref, 0, ANFU_LIMIT_LEDGER_REF_BYTES, true)))
		return false;
	if ((t->flags & ~(uint32_t)ANFU_LEDGER_TRF_ALL) != 0)
		return false;
	/* At most one phase; balancing only for a new transfer or hold. */
	if (phase != 0 && (phase & (phase - 1)) != 0)
		return false;
	if (closes && (t->flags & (F_BAL_DEBIT | F_BAL_CREDIT)))
		return false;
	if (closes != (t->pending_id != NULL))
		return false;
	if (closes && !text_ok(t->pending_id, 1, ANFU_ID_MAX - 1, false))
		return false;
	if (t->flags & F_PENDING) {
		if (t->timeout_ms < 0 || t->timeout_ms > ANFU_LIMIT_LEDGER_HOLD_TIMEOUT_MS)
			return false;
		if (t->on_timeout && strcmp(t->on_timeout, "void") != 0 &&
		    strcmp(t->on_timeout, "post") != 0)
			return false;
	} else if (t->timeout_ms != 0 || (t->on_timeout && t->on_timeout[0])) {
		return false;
	}
	return true;
}

int ledger_request_check(const char *caller, const struct anfu_ledger_transfer *t, size_t n)
{
	if (!text_ok(caller, 1, ANFU_LIMIT_LEDGER_CALLER_BYTES, false) || !t || n == 0 ||
	    n > ANFU_LIMIT_LEDGER_REQUEST)
		return ANFU_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!transfer_ok(&t[i]))
			return ANFU_EINVAL;
	if (t[n - 1].flags & F_LINKED)
		return ANFU_EINVAL; /* a chain left open */
	return 0;
}

/* ---- one transfer ----------------------------------------------------- */

static const char *on_timeout_of(const struct anfu_ledger_transfer *t)
{
	if (!(t->flags & F_PENDING))
		return "";
	return t->on_timeout ? t->on_timeout : "void";
}

static int put_field(struct anfu_buf *b, const char *s, bool null)
{
	size_t len = null ? 0 : strlen(s);
	uint32_t l = null ? 0xFFFFFFFFu : (uint32_t)len;
	uint8_t be[4] = { (uint8_t)(l >> 24), (uint8_t)(l >> 16), (uint8_t)(l >> 8), (uint8_t)l };
	int r = anfu_buf_append(b, be, sizeof(be));

	if (r == 0 && len)
		r = anfu_buf_append(b, s, len);
	return r;
}

static int put_int(struct anfu_buf *b, int64_t v)
{
	char num[24];

	snprintf(num, sizeof(num), "%" PRId64, v);
	return put_field(b, num, false);
}

/* The hash of the request's content (what idempotency compares): every
 * field a client sets, length-prefixed, in struct order. */
static int content_hash(enum anfu_hash_alg alg, const struct anfu_ledger_transfer *t,
			char out[LEDGER_HASH_HEX + 1])
{
	struct anfu_buf b;
	uint8_t h[ANFU_HASH_LEN];
	int r;

	anfu_buf_init(&b, ANFU_LIMIT_LEDGER_TRANSFER_ENC_BYTES);
	r = put_field(&b, t->idem_key, false);
	if (r == 0)
		r = put_field(&b, t->debit_account, false);
	if (r == 0)
		r = put_field(&b, t->credit_account, false);
	if (r == 0)
		r = put_int(&b, t->amount);
	if (r == 0)
		r = put_field(&b, t->asset, false);
	if (r == 0)
		r = put_field(&b, t->code, false);
	if (r == 0)
		r = put_field(&b, t->ref ? t->ref : "", false);
	if (r == 0)
		r = put_int(&b, (int64_t)t->flags);
	if (r == 0)
		r = put_field(&b, t->pending_id ? t->pending_id : "", !t->pending_id);
	if (r == 0)
		r = put_int(&b, t->timeout_ms);
	if (r == 0)
		r = put_field(&b, on_timeout_of(t), false);
	if (r == 0)
		r = anfu_hash(alg, b.data, b.len, h);
	anfu_buf_free(&b);
	if (r == 0)
		anfu_hex_encode(h, sizeof(h), out);
	return r;
}

struct earlier {
	bool found;
	char hash[LEDGER_HASH_HEX + 1];
	struct anfu_ledger_result res;
};

static int earlier_row(void *ud, const struct anfu_row *row)
{
	struct earlier *e = ud;
	const char *id = anfu_row_text(row, 0, NULL), *h = anfu_row_text(row, 4, NULL);

	if (!id || !h || anfu_strlcpy(e->res.id, id, sizeof(e->res.id)) < 0 ||
	    anfu_strlcpy(e->hash, h, sizeof(e->hash)) < 0)
		return ANFU_ESCHEMA;
	e->res.seq = anfu_row_int(row, 1);
	e->res.ts_us = anfu_row_int(row, 2);
	e->res.amount = anfu_row_int(row, 3);
	e->found = true;
	return 1;
}

/* What a request reads before its first transfer, in one round trip
 * (with the writes of the command before): the rows of its idempotency
 * keys and its accounts (into its struct moved). */
struct prefetch {
	const struct anfu_ledger_transfer *t;
	size_t n;
	struct anfu_ledger_result *results; /* the request's, filled as it goes */
	struct earlier *e;		    /* [n]: the table's row of t[i]'s key */
	char (*hash)[LEDGER_HASH_HEX + 1];  /* [n]: t[i]'s content hash */
};

/* A row of the keys' read: the earlier row of every transfer with its key. */
static int prefetch_row(void *ud, const struct anfu_row *row)
{
	struct prefetch *pf = ud;
	const char *key = anfu_row_text(row, 5, NULL);

	if (!key)
		return ANFU_ESCHEMA;
	for (size_t i = 0; i < pf->n; i++)
		if (strcmp(pf->t[i].idem_key, key) == 0 && earlier_row(&pf->e[i], row) < 0)
			return ANFU_ESCHEMA;
	return 0;
}

/* The earlier row of transfer g by its key: a transfer before it in the
 * request that stands (written after the read), else the table's. */
static void prefetch_earlier(const struct prefetch *pf, size_t g, struct earlier *out)
{
	*out = pf->e[g];
	for (size_t j = g; j-- > 0;) {
		const struct anfu_ledger_result *r = &pf->results[j];

		if (strcmp(pf->t[j].idem_key, pf->t[g].idem_key) != 0 || r->code || r->existed)
			continue;
		out->found = true;
		out->res = *r;
		memcpy(out->hash, pf->hash[j], sizeof(out->hash));
		return;
	}
}

struct hold {
	bool found;
	enum ledger_hold_state state;
	bool post_on_timeout; /* on_timeout 'post' (else 'void') */
	int64_t amount, expires_ms;
	char debit[ANFU_ID_MAX], credit[ANFU_ID_MAX], asset[ANFU_LEDGER_ASSET_MAX];
};

static int hold_row(void *ud, const struct anfu_row *row)
{
	struct hold *h = ud;
	const char *st = anfu_row_text(row, 0, NULL), *d = anfu_row_text(row, 2, NULL),
		   *c = anfu_row_text(row, 3, NULL), *a = anfu_row_text(row, 4, NULL);

	if (ledger_hold_state_parse(st, &h->state) < 0 || !d || !c || !a ||
	    anfu_strlcpy(h->debit, d, sizeof(h->debit)) < 0 ||
	    anfu_strlcpy(h->credit, c, sizeof(h->credit)) < 0 ||
	    anfu_strlcpy(h->asset, a, sizeof(h->asset)) < 0)
		return ANFU_ESCHEMA;
	h->amount = anfu_row_int(row, 1);
	h->expires_ms = anfu_row_int(row, 5);
	h->post_on_timeout =
		anfu_row_text(row, 6, NULL) && strcmp(anfu_row_text(row, 6, NULL), "post") == 0;
	ANFU_ASSERT(h->amount > 0);
	h->found = true;
	return 1;
}

/* What one transfer will do, worked out before anything is written. */
struct plan {
	struct anfu_ledger_account dr, cr; /* their balances after it */
	int64_t amount;			   /* as applied */
	struct hold hold;		   /* post / void: the hold it closes */
	enum ledger_hold_state next;	   /* and the state it leads the hold to */
	char hash[LEDGER_HASH_HEX + 1];
};

static int state_of(const struct anfu_ledger_account *a, enum ledger_acc_state *ret)
{
	return ledger_acc_state_parse(a->state, ret) < 0 ? ANFU_ESCHEMA : 0;
}

/* v += d with the overflow refused (false). */
static bool add(int64_t *v, int64_t d)
{
	return !__builtin_add_overflow(*v, d, v);
}

/* What the account holds to give: credits_posted - debits_posted -
 * debits_pending (0 when it owes more than it holds). */
static int64_t can_give(const struct anfu_ledger_account *a)
{
	int64_t v;

	if (__builtin_sub_overflow(a->credits_posted, a->debits_posted, &v) ||
	    __builtin_sub_overflow(v, a->debits_pending, &v) || v < 0)
		return 0;
	return v;
}

/* What the account may still take: debits_posted - credits_posted -
 * credits_pending (0 when none). */
static int64_t can_take(const struct anfu_ledger_account *a)
{
	int64_t v;

	if (__builtin_sub_overflow(a->debits_posted, a->credits_posted, &v) ||
	    __builtin_sub_overflow(v, a->credits_pending, &v) || v < 0)
		return 0;
	return v;
}

/* The event a transfer is for a hold: a caller's post or void, or (expiry)
 * the timeout's own outcome: a post, or the expiry of a hold voided on
 * timeout. */
static enum ledger_hold_event hold_event(const struct anfu_ledger_transfer *t, bool expiry)
{
	if (t->flags & F_POST)
		return LEDGER_HOLD_POST;
	return expiry ? LEDGER_HOLD_EXPIRE : LEDGER_HOLD_VOID;
}

/* The hold rules of a post or a void at now_ms; *code its refusal. A
 * hold whose timeout has passed is no longer pending, even before the
 * expiry job moved it: only the timeout's own outcome may close it
 * (expiry: the job's transfer, which must be that outcome, of a hold that
 * is due). */
static int plan_hold(struct anfu_db *db, int64_t now_ms, const struct anfu_ledger_transfer *t,
		     bool expiry, struct plan *p, const char **code)
{
	bool due;

	const struct anfu_param q[] = { ANFU_PS(t->pending_id) };
	int r;

	memset(&p->hold, 0, sizeof(p->hold));
	r = anfu_db_exec(db,
			 "SELECT h.state, h.amount, t.debit_account, t.credit_account, t.asset, "
			 "h.expires_ms, h.on_timeout "
			 "FROM ledger_hold h JOIN ledger_transfer t ON t.id = h.transfer_id "
			 "WHERE h.transfer_id = $1",
			 q, 1, hold_row, &p->hold, NULL);
	if (r < 0)
		return r;
	due = p->hold.found && p->hold.expires_ms != 0 && now_ms >= p->hold.expires_ms;
	if (!p->hold.found)
		*code = ANFU_R_LEDGER_PENDING_NOT_FOUND;
	else if (strcmp(p->hold.debit, t->debit_account) != 0 ||
		 strcmp(p->hold.credit, t->credit_account) != 0 ||
		 strcmp(p->hold.asset, t->asset) != 0)
		*code = ANFU_R_LEDGER_PENDING_MISMATCH;
	else if (ledger_hold_next(p->hold.state, hold_event(t, expiry), &p->next) < 0)
		*code = ANFU_R_LEDGER_PENDING_NOT_PENDING;
	else if (due != expiry)
		*code = ANFU_R_LEDGER_PENDING_NOT_PENDING;
	else if (expiry && p->hold.post_on_timeout != ((t->flags & F_POST) != 0))
		*code = ANFU_R_LEDGER_PENDING_MISMATCH;
	else if ((t->flags & F_POST) && t->amount > p->hold.amount)
		*code = ANFU_R_LEDGER_PENDING_AMOUNT_EXCEEDED;
	else if ((t->flags & F_VOID) && t->amount != 0 && t->amount != p->hold.amount)
		*code = ANFU_R_LEDGER_PENDING_MISMATCH;
	else if (t->flags & F_POST)
		p->amount = t->amount == 0 ? p->hold.amount : t->amount;
	else
		p->amount = p->hold.amount;
	return 0;
}

/* The balances after the transfer, with every rule of the arithmetic and
 * the flags; *code its refusal. */
static void plan_balances(const struct anfu_ledger_transfer *t, struct plan *p, const char **code)
{
	struct anfu_ledger_account *dr = &p->dr, *cr = &p->cr;
	int64_t a = p->amount, dsum, csum;
	bool ok = true;

	if (t->flags & (F_POST | F_VOID)) {
		/* The hold is inside the pending balances (the writer put it
		 * there), so releasing it cannot go below zero. */
		ANFU_ASSERT(dr->debits_pending >= p->hold.amount);
		ANFU_ASSERT(cr->credits_pending >= p->hold.amount);
		dr->debits_pending -= p->hold.amount;
		cr->credits_pending -= p->hold.amount;
	}
	if (t->flags & F_PENDING)
		ok = add(&dr->debits_pending, a) && add(&cr->credits_pending, a);
	else if (!(t->flags & F_VOID))
		ok = add(&dr->debits_posted, a) && add(&cr->credits_posted, a);
	if (ok)
		ok = !__builtin_add_overflow(dr->debits_pending, dr->debits_posted, &dsum) &&
		     !__builtin_add_overflow(cr->credits_pending, cr->credits_posted, &csum);
	if (!ok) {
		*code = ANFU_R_LEDGER_OVERFLOW;
		return;
	}
	if ((dr->flags & ANFU_LEDGER_ACC_DEBITS_MUST_NOT_EXCEED_CREDITS) &&
	    dsum > dr->credits_posted)
		*code = ANFU_R_LEDGER_INSUFFICIENT_FUNDS;
	else if ((cr->flags & ANFU_LEDGER_ACC_CREDITS_MUST_NOT_EXCEED_DEBITS) &&
		 csum > cr->debits_posted)
		*code = ANFU_R_LEDGER_CREDIT_LIMIT_EXCEEDED;
}

/* An amount a transfer may carry: a post or void 0 (the whole hold) or
 * more, anything else more than 0. */
static bool amount_ok(const struct anfu_ledger_transfer *t)
{
	return (t->flags & (F_POST | F_VOID)) ? t->amount >= 0 : t->amount > 0;
}

/* Every rule of one transfer, nothing written; *code its refusal (NULL:
 * it may be applied as p says). p->dr and p->cr: the two accounts as
 * apply_one read them (an empty id: not found). */
static int plan_transfer(struct anfu_db *db, int64_t now_ms, const struct anfu_ledger_transfer *t,
			 bool expiry, struct plan *p, const char **code)
{
	enum ledger_acc_state ds, cs;
	bool closes = (t->flags & (F_POST | F_VOID)) != 0;
	int r;

	if (!amount_ok(t)) {
		*code = ANFU_R_LEDGER_AMOUNT_INVALID;
		return 0;
	}
	if (strcmp(t->debit_account, t->credit_account) == 0) {
		*code = ANFU_R_LEDGER_SAME_ACCOUNT;
		return 0;
	}
	if (!ledger_account_sent_ok(&p->dr) || !ledger_account_sent_ok(&p->cr)) {
		*code = ANFU_R_LEDGER_ACCOUNT_NOT_FOUND;
		return 0;
	}
	if (strcmp(p->dr.asset, t->asset) != 0 || strcmp(p->cr.asset, t->asset) != 0) {
		*code = ANFU_R_LEDGER_ASSET_MISMATCH;
		return 0;
	}
	r = state_of(&p->dr, &ds);
	if (r == 0)
		r = state_of(&p->cr, &cs);
	if (r < 0)
		return r;
	/* A void only gives back what a hold took: a frozen account may
	 * have its holds released; a closed one has none. */
	if (!(t->flags & F_VOID) || ds == LEDGER_ACC_CLOSED || cs == LEDGER_ACC_CLOSED) {
		*code = ledger_acc_debit_refusal(ds);
		if (!*code)
			*code = ledger_acc_credit_refusal(cs);
		if (*code)
			return 0;
	}
	p->amount = t->amount;
	if (closes) {
		r = plan_hold(db, now_ms, t, expiry, p, code);
		if (r < 0 || *code)
			return r;
	}
	if (t->flags & F_BAL_DEBIT) {
		int64_t give = can_give(&p->dr);

		p->amount = p->amount < give ? p->amount : give;
		if (p->amount == 0)
			*code = ANFU_R_LEDGER_INSUFFICIENT_FUNDS;
	}
	if (!*code && (t->flags & F_BAL_CREDIT)) {
		int64_t take = can_take(&p->cr);

		p->amount = p->amount < take ? p->amount : take;
		if (p->amount == 0)
			*code = ANFU_R_LEDGER_CREDIT_LIMIT_EXCEEDED;
	}
	if (!*code)
		plan_balances(t, p, code);
	return 0;
}

/* The journal row of a transfer as planned. */
static int insert_row(struct anfu_db *db, const struct ledger_batch_ctx *b, const char *caller,
		      const struct anfu_ledger_transfer *t, const struct plan *p, const char *id,
		      int64_t seq, int64_t ts)
{
	const struct anfu_param q[] = {
		ANFU_PI(seq),
		ANFU_PS(id),
		ANFU_PS(caller),
		ANFU_PS(t->idem_key),
		ANFU_PSN(p->hash, strlen(p->hash)),
		ANFU_PS(t->debit_account),
		ANFU_PS(t->credit_account),
		ANFU_PI(p->amount),
		ANFU_PS(t->asset),
		ANFU_PS(t->code),
		ANFU_PS(t->ref ? t->ref : ""),
		ANFU_PI(t->flags),
		ANFU_PS(t->pending_id),
		ANFU_PI(t->timeout_ms),
		ANFU_PS(on_timeout_of(t)),
		ANFU_PI(ts),
		ANFU_PI(b->batch_seq),
	};

	int r = anfu_db_send(
		db,
		ANFU_DB_APPEND_SQL(
			db, "INTO ledger_transfer (seq, id, caller, idem_key, content_hash, "
			    "debit_account, credit_account, amount, asset, code, ref, flags, "
			    "pending_id, timeout_ms, on_timeout, ts_us, batch_seq) VALUES ($1, $2, "
			    "$3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"),
		q, 17, NULL, NULL, 1);

	if (r == 0 && b->seal) {
		const struct ledger_row row = {
			.seq = seq,
			.id = id,
			.caller = caller,
			.idem_key = t->idem_key,
			.content_hash = p->hash,
			.debit_account = t->debit_account,
			.credit_account = t->credit_account,
			.amount = p->amount,
			.asset = t->asset,
			.code = t->code,
			.ref = t->ref ? t->ref : "",
			.flags = t->flags,
			.pending_id = t->pending_id,
			.timeout_ms = t->timeout_ms,
			.on_timeout = on_timeout_of(t),
			.ts_us = ts,
			.batch_seq = b->batch_seq,
		};

		ledger_seal_add(b->seal, &row);
	}
	return r;
}

/* The hold a pending transfer opens, or the move of the hold a post or
 * void closes (to the state plan_hold found in the table); sent without
 * waiting, as the rest of the transfer's writes. */
static int write_hold(struct anfu_db *db, const struct ledger_batch_ctx *b,
		      const struct anfu_ledger_transfer *t, const struct plan *p, const char *id)
{
	if (t->flags & F_PENDING) {
		int64_t expires = t->timeout_ms > 0 ? b->now_ms + t->timeout_ms : 0;
		const struct anfu_param q[] = {
			ANFU_PS(id),
			ANFU_PS(ledger_hold_state_name(LEDGER_HOLD_PENDING)),
			ANFU_PI(p->amount),
			ANFU_PI(expires),
			ANFU_PS(on_timeout_of(t)),
		};

		return anfu_db_send(
			db,
			"INSERT INTO ledger_hold (transfer_id, state, amount, expires_ms, "
			"on_timeout) VALUES ($1, $2, $3, $4, $5)",
			q, 5, NULL, NULL, 1);
	}
	if (!(t->flags & (F_POST | F_VOID)))
		return 0;
	{
		const struct anfu_param q[] = {
			ANFU_PS(ledger_hold_state_name(p->next)),
			ANFU_PS(id),
			ANFU_PS(t->pending_id),
			ANFU_PS(ledger_hold_state_name(p->hold.state)),
		};

		/* One row: plan_hold read it in that state. */
		return anfu_db_send(db,
				    "UPDATE ledger_hold SET state = $1, closed_by = $2 "
				    "WHERE transfer_id = $3 AND state = $4",
				    q, 4, NULL, NULL, 1);
	}
}

/* The accounts a request moved, as they stand after its transfers so far:
 * their balances are written once, at the request's end
 * (ledger_account_write_many), and a later transfer of the request takes
 * them from here, not from the table (whose rows are older). */
#define MOVED_MAX (2 * ANFU_LIMIT_LEDGER_REQUEST)

struct moved {
	struct anfu_ledger_account a[MOVED_MAX];
	bool dirty[MOVED_MAX]; /* moved (else only read) */
	size_t n;
};

static struct anfu_ledger_account *moved_find(struct moved *m, const char *id)
{
	for (size_t i = 0; m && i < m->n; i++)
		if (strcmp(m->a[i].id, id) == 0)
			return &m->a[i];
	return NULL;
}

/* a as it stands now; dirty: a transfer moved it (else: as read). */
static void moved_put(struct moved *m, const struct anfu_ledger_account *a, bool dirty)
{
	struct anfu_ledger_account *e = moved_find(m, a->id);

	if (!e) {
		ANFU_ASSERT(m->n < MOVED_MAX); /* two accounts a transfer */
		m->dirty[m->n] = false;
		e = &m->a[m->n++];
	}
	*e = *a;
	m->dirty[e - m->a] |= dirty;
}

/* An account the request's read found (ledger_account_send_reads). */
static void moved_take(void *ud, const struct anfu_ledger_account *a)
{
	moved_put(ud, a, false);
}

/* Writes what the plan says: the journal row, both balances (into *m:
 * the request writes them at its end), the hold, the audit record; moves
 * the cursor and fills *res. */
static int write_transfer(struct anfu_tx *tx, struct ledger_batch_ctx *b, const char *caller,
			  const struct anfu_ledger_transfer *t, const struct plan *p,
			  struct moved *m, struct anfu_ledger_result *res)
{
	struct anfu_db *db = anfu_tx_db(tx);
	int64_t seq = b->cur.last_transfer + 1, ts = b->now_ms * 1000;
	char id[ANFU_ID_MAX];
	int r;

	if (ts <= b->cur.last_ts_us)
		ts = b->cur.last_ts_us + 1;
	/* Time-ordered: the journal's id index grows at its end (one page a
	 * batch dirtied there, not one per transfer). */
	r = anfu_id_new_ordered("trf", b->now_ms, id, sizeof(id));
	if (r == 0)
		r = insert_row(db, b, caller, t, p, id, seq, ts);
	if (r == 0) {
		moved_put(m, &p->dr, true);
		moved_put(m, &p->cr, true);
	}
	if (r == 0)
		r = write_hold(db, b, t, p, id);
	if (r == 0) {
		/* Keys in byte order: the text jansson would make of them. */
		const struct anfu_audit_kv d[] = {
			{ .key = "amount", .i = p->amount, .is_int = true },
			{ .key = "asset", .s = t->asset },
			{ .key = "code", .s = t->code },
			{ .key = "credit_account", .s = t->credit_account },
			{ .key = "debit_account", .s = t->debit_account },
			{ .key = "flags", .i = t->flags, .is_int = true },
			{ .key = "pending_id", .s = t->pending_id }, /* null when none */
		};

		r = anfu_tx_audit_kv(tx, "ledger.transfer", "ledger_transfer", id, "success", d,
				     sizeof(d) / sizeof(d[0]));
	}
	if (r < 0)
		return r;
	b->cur.last_transfer = seq;
	b->cur.last_ts_us = ts;
	memset(res, 0, sizeof(*res));
	memcpy(res->id, id, sizeof(id));
	res->seq = seq;
	res->ts_us = ts;
	res->amount = p->amount;
	return 0;
}

/* One transfer of a request: replayed, refused (*code) or applied.
 * expiry: the expiry job's transfer closing a due hold (plan_hold). m: the
 * accounts the request read and moved so far; pf: what the request read,
 * g the transfer's place in it. */
static int apply_one(struct anfu_tx *tx, struct ledger_batch_ctx *b, const char *caller,
		     const struct anfu_ledger_transfer *t, bool expiry, struct moved *m,
		     const struct prefetch *pf, size_t g, struct anfu_ledger_result *res,
		     const char **code)
{
	const struct anfu_ledger_account *mdr = moved_find(m, t->debit_account),
					 *mcr = moved_find(m, t->credit_account);
	struct earlier e;
	struct plan p;
	int r;

	/* Read before the request's first transfer: its accounts are in m
	 * or do not exist. */
	ANFU_ASSERT(m && pf && g < pf->n && t == &pf->t[g]);
	memset(&p, 0, sizeof(p));
	*code = NULL;
	memcpy(p.hash, pf->hash[g], sizeof(p.hash));
	prefetch_earlier(pf, g, &e);
	/* What the request moved stands over the table's older rows. */
	if (mdr)
		p.dr = *mdr;
	if (mcr)
		p.cr = *mcr;
	if (e.found) {
		if (strcmp(e.hash, p.hash) != 0) {
			*code = ANFU_R_LEDGER_IDEMPOTENCY_CONFLICT;
			return 0;
		}
		*res = e.res;
		res->existed = true;
		res->code = NULL;
		return 0;
	}
	r = plan_transfer(anfu_tx_db(tx), b->now_ms, t, expiry, &p, code);
	if (r < 0 || *code)
		return r;
	return write_transfer(tx, b, caller, t, &p, m, res);
}

/* ---- chains ------------------------------------------------------------- */

struct chain {
	struct ledger_batch_ctx *b;
	struct moved *m;
	const struct prefetch *pf;
	size_t base; /* the chain's first in the request */
	bool expiry; /* the expiry job's transfers */
	const char *caller;
	const struct anfu_ledger_transfer *t; /* the chain's first */
	size_t n;
	struct anfu_ledger_result *res;
	size_t failed;	  /* the refused member */
	const char *code; /* its refusal, or NULL */
};

/* The chain's members in order; the first refusal undoes the chain (the
 * step's savepoint). */
static int chain_step(struct anfu_tx *tx, void *ud)
{
	struct chain *c = ud;

	for (size_t k = 0; k < c->n; k++) {
		int r = apply_one(tx, c->b, c->caller, &c->t[k], c->expiry, c->m, c->pf,
				  c->base + k, &c->res[k], &c->code);

		if (r < 0)
			return r;
		if (c->code) {
			c->failed = k;
			return ANFU_ECONFLICT;
		}
	}
	return 0;
}

/* Sends the request's reads: the rows of its keys (into pf) and its
 * accounts (into m), and waits for them (one round trip). */
static int prefetch(struct anfu_db *db, enum anfu_hash_alg alg, const char *caller,
		    const struct anfu_ledger_transfer *t, size_t n,
		    struct anfu_ledger_result *results, struct moved *m, struct prefetch *pf)
{
	const char *ids[MOVED_MAX];
	struct anfu_param p[1 + ANFU_LIMIT_LEDGER_REQUEST];
	char sql[256 + ANFU_LIMIT_LEDGER_REQUEST * 8];
	struct ledger_reads rd = { moved_take, m };
	size_t nids = 0, w = 1;
	int r = 0;

	_Static_assert(1 + ANFU_LIMIT_LEDGER_REQUEST <= ANFU_LIMIT_SQL_PARAMS,
		       "a request's keys in one statement");
	ANFU_ASSERT(n >= 1 && n <= ANFU_LIMIT_LEDGER_REQUEST);
	*pf = (struct prefetch){ t, n, results, anfu_xcalloc(n, sizeof(*pf->e)),
				 anfu_xcalloc(n, sizeof(*pf->hash)) };
	for (size_t i = 0; i < n && r == 0; i++) {
		const char *acc[2] = { t[i].debit_account, t[i].credit_account };

		r = content_hash(alg, &t[i], pf->hash[i]);
		for (int k = 0; k < 2; k++) {
			size_t j = 0;

			while (j < nids && strcmp(ids[j], acc[k]) != 0)
				j++;
			if (j == nids)
				ids[nids++] = acc[k];
		}
	}
	/* Key lists of 1, 2, 4 ... 64 (the last repeated to fill): a few
	 * statements to prepare, not one per length. */
	while (w < n)
		w *= 2;
	p[0] = ANFU_PS(caller);
	for (size_t j = 0; j < w; j++)
		p[1 + j] = ANFU_PS(t[j < n ? j : n - 1].idem_key);
	ledger_sql_in_list(sql, sizeof(sql),
			   "SELECT id, seq, ts_us, amount, content_hash, idem_key FROM "
			   "ledger_transfer WHERE caller = $1 AND idem_key IN (",
			   2, w, ")");
	if (r == 0)
		r = anfu_db_send(db, sql, p, 1 + w, prefetch_row, pf, -1);
	if (r == 0)
		r = ledger_account_send_reads(db, ids, nids, &rd);
	if (r == 0)
		r = anfu_db_flush(db);
	return r;
}

/* The request t[0..n): its reads in one round trip, its chains in order,
 * the balances it moved written at its end. expiry: the expiry job's
 * transfers (ledger_expire_pass), each closing a due hold. */
static int request_run(struct anfu_tx *tx, struct ledger_batch_ctx *b, const char *caller,
		       const struct anfu_ledger_transfer *t, size_t n, bool expiry,
		       struct anfu_ledger_result *results)
{
	struct moved *m = anfu_xmalloc(sizeof(*m)), *before = NULL;
	struct prefetch pf = { 0 };
	size_t i = 0, nd = 0;
	int r;

	ANFU_ASSERT(n <= ANFU_LIMIT_LEDGER_REQUEST);
	m->n = 0;
	r = prefetch(anfu_tx_db(tx), b->hash, caller, t, n, results, m, &pf);
	while (r == 0 && i < n) {
		size_t j = i;
		struct ledger_cursor saved = b->cur;
		struct chain c = { b, m, &pf, i, expiry, caller, &t[i], 0, &results[i], 0, NULL };

		while (j + 1 < n && (t[j].flags & F_LINKED))
			j++;
		c.n = j - i + 1;
		/* A lone transfer needs no savepoint of its own: it is refused
		 * only before it writes (idempotency and plan_transfer decide;
		 * write_transfer fails only with the store's errors, which the
		 * request's savepoint in the batch undoes). A chain's later
		 * member can be refused after the earlier ones wrote. */
		if (c.n == 1) {
			r = chain_step(tx, &c);
		} else {
			/* The step's savepoint undoes a refused chain's rows;
			 * the copy, what it moved. */
			if (!before)
				before = anfu_xmalloc(sizeof(*before));
			before->n = m->n;
			memcpy(before->a, m->a, m->n * sizeof(m->a[0]));
			memcpy(before->dirty, m->dirty, m->n * sizeof(m->dirty[0]));
			r = anfu_tx_step(tx, chain_step, &c);
			if (c.code) {
				m->n = before->n;
				memcpy(m->a, before->a, m->n * sizeof(m->a[0]));
				memcpy(m->dirty, before->dirty, m->n * sizeof(m->dirty[0]));
			}
		}
		ANFU_ASSERT(c.n > 1 || !c.code || b->cur.last_transfer == saved.last_transfer);
		if (r < 0 && (!c.code || r != ANFU_ECONFLICT))
			goto out;
		r = 0;
		if (c.code) {
			b->cur = saved;
			for (size_t k = 0; k < c.n; k++) {
				memset(&c.res[k], 0, sizeof(c.res[k]));
				c.res[k].code =
					k == c.failed ? c.code : ANFU_R_LEDGER_LINKED_EVENT_FAILED;
			}
		}
		i = j + 1;
	}
	/* Every balance the request moved, in one statement per
	 * LEDGER_BALANCE_ROWS accounts (their outcome read with the
	 * command's: its savepoint undoes the request on a failure). */
	for (size_t x = 0; r == 0 && x < m->n; x++)
		if (m->dirty[x])
			m->a[nd++] = m->a[x];
	if (r == 0)
		r = ledger_account_write_many(anfu_tx_db(tx), m->a, nd);
out:
	free(pf.e);
	free(pf.hash);
	free(before);
	free(m);
	return r;
}

int ledger_request_apply(struct anfu_tx *tx, struct ledger_batch_ctx *b, const char *caller,
			 const struct anfu_ledger_transfer *t, size_t n,
			 struct anfu_ledger_result *results)
{
	return request_run(tx, b, caller, t, n, false, results);
}

/* ---- hold expiry ------------------------------------------------------ */

_Static_assert(sizeof("expiry.") - 1 + ANFU_ID_MAX - 1 <= ANFU_LIMIT_LEDGER_IDEM_BYTES,
	       "an expiry's idempotency key holds the whole hold id");

/* One due hold, as the pass read it. */
struct due {
	char id[ANFU_ID_MAX], debit[ANFU_ID_MAX], credit[ANFU_ID_MAX];
	char asset[ANFU_LEDGER_ASSET_MAX];
	int64_t expires_ms;
	bool post;
};

struct due_list {
	struct due *d;
	size_t n, cap;
};

static int due_row(void *ud, const struct anfu_row *row)
{
	struct due_list *l = ud;
	struct due *d;
	const char *id = anfu_row_text(row, 0, NULL), *ot = anfu_row_text(row, 2, NULL),
		   *dr = anfu_row_text(row, 3, NULL), *cr = anfu_row_text(row, 4, NULL),
		   *as = anfu_row_text(row, 5, NULL);

	ANFU_ASSERT(l->n < l->cap); /* the query's LIMIT */
	d = &l->d[l->n];
	if (!id || !ot || !dr || !cr || !as || anfu_strlcpy(d->id, id, sizeof(d->id)) < 0 ||
	    anfu_strlcpy(d->debit, dr, sizeof(d->debit)) < 0 ||
	    anfu_strlcpy(d->credit, cr, sizeof(d->credit)) < 0 ||
	    anfu_strlcpy(d->asset, as, sizeof(d->asset)) < 0)
		return ANFU_ESCHEMA;
	d->expires_ms = anfu_row_int(row, 1);
	d->post = strcmp(ot, "post") == 0;
	l->n++;
	return 0;
}

int ledger_expire_pass(struct anfu_tx *tx, struct ledger_batch_ctx *b, struct ledger_expire *e)
{
	struct anfu_db *db = anfu_tx_db(tx);
	struct due_list l = { NULL, 0, e->max };
	int r;

	ANFU_ASSERT(e->max > 0 && e->max <= ANFU_LIMIT_LEDGER_EXPIRY_PASS);
	e->expired = e->posted = e->refused = 0;
	e->more = false;
	l.d = anfu_xcalloc(e->max, sizeof(*l.d));
	{
		const struct anfu_param q[] = {
			ANFU_PS(ledger_hold_state_name(LEDGER_HOLD_PENDING)),
			ANFU_PI(b->now_ms),
			ANFU_PI(e->after_expires_ms),
			ANFU_PS(e->after_id),
			ANFU_PI((int64_t)e->max),
		};

		/* Due holds after the run's cursor, oldest first (the index
		 * ledger_hold_due). */
		r = anfu_db_exec(
			db,
			"SELECT h.transfer_id, h.expires_ms, h.on_timeout, "
			"t.debit_account, t.credit_account, t.asset "
			"FROM ledger_hold h JOIN ledger_transfer t ON t.id = h.transfer_id "
			"WHERE h.state = $1 AND h.expires_ms > 0 AND h.expires_ms <= $2 "
			"AND (h.expires_ms > $3 OR (h.expires_ms = $3 AND "
			"h.transfer_id > $4)) "
			"ORDER BY h.expires_ms, h.transfer_id LIMIT $5",
			q, 5, due_row, &l, NULL);
	}
	/* The closings as requests of the expiry caller, at most a request's
	 * worth at a time: each request reads its keys and accounts once and
	 * writes the balances it moved once (as a caller's would). */
	for (size_t i = 0; r == 0 && i < l.n; i += ANFU_LIMIT_LEDGER_REQUEST) {
		size_t n =
			l.n - i < ANFU_LIMIT_LEDGER_REQUEST ? l.n - i : ANFU_LIMIT_LEDGER_REQUEST;
		char keys[ANFU_LIMIT_LEDGER_REQUEST][ANFU_LIMIT_LEDGER_IDEM_BYTES + 1];
		struct anfu_ledger_transfer t[ANFU_LIMIT_LEDGER_REQUEST];
		struct anfu_ledger_result res[ANFU_LIMIT_LEDGER_REQUEST];

		memset(t, 0, n * sizeof(t[0]));
		for (size_t k = 0; k < n; k++) {
			const struct due *d = &l.d[i + k];

			snprintf(keys[k], sizeof(keys[k]), "expiry.%s", d->id);
			t[k].idem_key = keys[k];
			t[k].debit_account = d->debit;
			t[k].credit_account = d->credit;
			t[k].amount = 0; /* the whole hold */
			t[k].asset = d->asset;
			t[k].code = LEDGER_EXPIRY_CODE;
			t[k].ref = "";
			t[k].flags = d->post ? F_POST : F_VOID;
			t[k].pending_id = d->id;
			ANFU_ASSERT(transfer_ok(&t[k]));
		}
		r = request_run(tx, b, LEDGER_EXPIRY_CALLER, t, n, true, res);
		for (size_t k = 0; r == 0 && k < n; k++) {
			const struct due *d = &l.d[i + k];

			if (res[k].code) {
				/* A post into an account frozen since: the hold
				 * stays pending and the next run tries again. */
				anfu_log_warn("ledger.expiry", "hold %s not closed on timeout: %s",
					      d->id, res[k].code);
				e->refusals[e->refused++] = res[k].code;
			} else if (d->post) {
				e->posted++;
			} else {
				e->expired++;
			}
			e->after_expires_ms = d->expires_ms;
			memcpy(e->after_id, d->id, sizeof(e->after_id));
		}
	}
	if (r == 0)
		e->more = l.n == e->max;
	free(l.d);
	return r;
}
