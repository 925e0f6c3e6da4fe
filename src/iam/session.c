/*
 * iam/session: server-side sessions — creation with the per-user limit,
 * id regeneration, ending, and the authenticator every protected request
 * goes through (idle and absolute expiry, listener separation, binding to
 * IP and device under level=enhanced, CSRF, session state, permission).
 *
 * Owns the SQL on iam_session. Session ids and CSRF tokens are 256-bit
 * random values handed to the client once; the database keeps only their
 * keyed hashes (anfu_vault_token_hash), so a copy of the database opens no
 * session. Trusts nothing in the cookie, CSRF or Origin headers: they are
 * shape-checked, hashed and compared in constant time.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/assert.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/refusal.h"
#include "base/str.h"
#include "config/config.h"
#include "crypto/crypto.h"
#include "iam/config.h"
#include "iam/core.h"
#include "iam/internal.h"
#include "iam/rbac.h"
#include "store/store.h"
#include "vault/vault.h"

#define TOKEN_BYTES (IAM_TOKEN_HEX / 2) /* 256 bits (WEB-SESS-01) */
#define TOKEN_HEX IAM_TOKEN_HEX
/* last_seen is written at most this often per session: each write is a
 * durable commit of its own on the request's path, and a busy customer
 * makes several requests a second. Idle timeouts are whole minutes
 * (IAM-SESS-01), so a session in use ends at most TOUCH_MS before
 * idle_minutes after its true last request (never later); a request
 * TOUCH_MS or more after the recorded one is always recorded. */
#define TOUCH_MS 10000

static const char *state_name(enum anfu_session_state s)
{
	switch (s) {
	case ANFU_SESSION_MFA_PENDING: return "mfa_pending";
	case ANFU_SESSION_REQUIRED_ACTIONS: return "required_actions";
	case ANFU_SESSION_ACTIVE:
	default: return "active";
	}
}

static enum anfu_session_state state_of(const char *s)
{
	if (s && strcmp(s, "active") == 0)
		return ANFU_SESSION_ACTIVE;
	if (s && strcmp(s, "required_actions") == 0)
		return ANFU_SESSION_REQUIRED_ACTIONS;
	return ANFU_SESSION_MFA_PENDING;
}

static bool token_shape_ok(const char *t)
{
	size_t n = 0;

	if (!t)
		return false;
	for (; t[n]; n++) {
		char c = t[n];
		if (n >= TOKEN_HEX || !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	return n == TOKEN_HEX;
}

/* A fresh random token (hex) and its keyed hash for purpose. */
static int token_new(struct anfu_iam *iam, const char *purpose, char tok[TOKEN_HEX + 1],
		     char hash[IAM_HASH_HEX])
{
	unsigned char raw[TOKEN_BYTES];

	anfu_crypto_random(raw, sizeof(raw));
	anfu_hex_encode(raw, sizeof(raw), tok);
	anfu_wipe(raw, sizeof(raw));
	/* What token_shape_ok() accepts back from the client. */
	ANFU_ASSERT(token_shape_ok(tok));
	return anfu_vault_token_hash(iam->vault, purpose, tok, TOKEN_HEX, hash);
}

bool iam_token_shape_ok(const char *t)
{
	return token_shape_ok(t);
}

int iam_token_new(struct anfu_iam *iam, const char *purpose, char tok[IAM_TOKEN_HEX + 1],
		  char hash[IAM_HASH_HEX])
{
	return token_new(iam, purpose, tok, hash);
}

int iam_device_hash(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
		    char out[2 * ANFU_HASH_LEN + 1])
{
	struct anfu_buf b;
	int r;

	if (!iam || !ctx || !out)
		return ANFU_EINVAL;
	anfu_buf_init(&b, 4096);
	r = anfu_buf_appendf(&b, "%s\n%s", ctx->device_id ? ctx->device_id : "",
			     ctx->user_agent ? ctx->user_agent : "");
	if (r == 0)
		r = anfu_vault_token_hash(iam->vault, "device", b.data, b.len, out);
	anfu_buf_free(&b);
	return r;
}

void iam_network_of(const char *ip, char *out, size_t cap)
{
	unsigned char a[16];

	if (!out || cap == 0)
		return;
	if (ip && inet_pton(AF_INET, ip, a) == 1) {
		(void)snprintf(out, cap, "%u.%u.%u.0/24", a[0], a[1], a[2]);
	} else if (ip && inet_pton(AF_INET6, ip, a) == 1) {
		static const unsigned char mapped[12] = {
			0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
		};
		if (memcmp(a, mapped, 12) == 0)
			(void)snprintf(out, cap, "%u.%u.%u.0/24", a[12], a[13], a[14]);
		else
			(void)snprintf(out, cap, "%x:%x:%x::/48", (a[0] << 8) | a[1],
				       (a[2] << 8) | a[3], (a[4] << 8) | a[5]);
	} else {
		(void)anfu_strlcpy(out, "unknown", cap);
	}
}

/* ---- the live sessions of a user ------------------------------------------------ */

struct live {
	char public_id[ANFU_ID_MAX];
	int role_class;
	enum anfu_session_state state;
	int64_t created_ms, last_seen_ms, absolute_ms;
};

struct live_q {
	struct live *v;
	int n;
};

static int live_row(void *ud, const struct anfu_row *r)
{
	struct live_q *q = ud;
	struct live *l;
	const char *pid = anfu_row_text(r, 0, NULL);

	if (!pid || q->n >= ANFU_LIMIT_IAM_LIVE_SESSIONS)
		return 0;
	l = &q->v[q->n++];
	(void)anfu_strlcpy(l->public_id, pid, sizeof(l->public_id));
	l->role_class = (int)anfu_row_int(r, 1);
	l->state = state_of(anfu_row_text(r, 2, NULL));
	l->created_ms = anfu_row_int(r, 3);
	l->last_seen_ms = anfu_row_int(r, 4);
	l->absolute_ms = anfu_row_int(r, 5);
	return 0;
}

/* Why a session is over at now, or NULL while it lives (IAM-SESS-01, -05). */
static const char *expiry_reason(const struct anfu_iam *iam, int role_class, int64_t last_seen,
				 int64_t absolute, int64_t now)
{
	int c = role_class >= 0 && role_class < ANFU_CLASS_COUNT ? role_class : ANFU_CLASS_ADMIN;

	if (now >= absolute)
		return "absolute";
	if (now - last_seen >= iam->cfg->session[c].idle_minutes * IAM_MINUTE_MS)
		return "idle";
	return NULL;
}

static int end_one(struct anfu_db *db, const char *public_id, const char *reason, int64_t now)
{
	struct anfu_param p[3] = { ANFU_PI(now), iam_ps(reason), iam_ps(public_id) };

	return anfu_db_exec(db,
			    "UPDATE iam_session SET revoked_ms = $1, revoke_reason = $2"
			    " WHERE public_id = $3 AND revoked_ms IS NULL",
			    p, 3, NULL, NULL, NULL);
}

static int audit_end(struct anfu_iam *iam, struct anfu_tx *tx, const char *user_id,
		     const char *public_id, const char *reason)
{
	json_t *det = json_pack("{ss}", "reason", reason);
	int r = iam_audit(iam, tx, NULL, NULL, user_id, "session.ended", "session", public_id,
			  "success", det);

	json_decref(det);
	return r;
}

/* Ends the oldest session for the limit: notice and audit (WEB-CONC-02). */
static int end_for_limit(struct anfu_iam *iam, struct anfu_tx *tx, const struct iam_user *u,
			 const struct live *l, bool notify, int64_t now)
{
	char when[32];
	const char *args[1] = { when };
	int r = end_one(anfu_tx_db(tx), l->public_id, ANFU_R_SESSION_LIMIT, now);

	if (r == 0)
		r = audit_end(iam, tx, u->id, l->public_id, ANFU_R_SESSION_LIMIT);
	if (r == 0 && notify) {
		iam_time_text(l->created_ms, when);
		r = iam_notice(iam, tx, u, ANFU_MFA_SMS | ANFU_MFA_EMAIL, "session_ended", args, 1);
	}
	return r;
}

/* Lists u's live sessions of one listener, oldest first, ending (and
 * auditing) the ones already past their limits. */
static int live_sessions(struct anfu_iam *iam, struct anfu_tx *tx, const struct iam_user *u,
			 bool admin, int64_t now, struct live *v, int *ret_n)
{
	struct anfu_db *db = anfu_tx_db(tx);
	struct anfu_param p[2] = { iam_ps(u->id), ANFU_PI(admin ? 1 : 0) };
	struct live_q q = { v, 0 };
	int r, n = 0;

	r = anfu_db_exec(
		db,
		"SELECT public_id, role_class, state, created_ms, last_seen_ms, absolute_ms"
		" FROM iam_session WHERE user_id = $1 AND admin = $2 AND revoked_ms IS NULL"
		" ORDER BY created_ms",
		p, 2, live_row, &q, NULL);
	for (int i = 0; i < q.n && r == 0; i++) {
		const char *why = expiry_reason(iam, v[i].role_class, v[i].last_seen_ms,
						v[i].absolute_ms, now);
		if (why) {
			r = end_one(db, v[i].public_id, why, now);
			if (r == 0)
				r = audit_end(iam, tx, u->id, v[i].public_id, why);
			continue;
		}
		v[n++] = v[i];
	}
	if (r == 0)
		*ret_n = n;
	return r;
}

int iam_session_make_room(struct anfu_iam *iam, struct anfu_tx *tx, const struct iam_user *u,
			  enum anfu_role_class cls, bool admin, const char *except_public_id,
			  char *ended_out)
{
	struct live *v = anfu_xcalloc(ANFU_LIMIT_IAM_LIVE_SESSIONS, sizeof(*v));
	int64_t now = anfu_clock_now_ms(), max = iam->cfg->session[cls].max_sessions;
	int n = 0, counted = 0, r;
	bool refuse = strcmp(iam->cfg->sessions.on_limit, "refuse") == 0;

	r = live_sessions(iam, tx, u, admin, now, v, &n);
	ANFU_ASSERT(n >= 0 && n <= ANFU_LIMIT_IAM_LIVE_SESSIONS);
	for (int i = 0; i < n && r == 0; i++)
		if (v[i].state != ANFU_SESSION_MFA_PENDING &&
		    !(except_public_id && strcmp(v[i].public_id, except_public_id) == 0))
			counted++;
	if (r == 0 && refuse && counted >= max)
		r = ANFU_ECONFLICT;
	for (int i = 0; i < n && r == 0 && counted >= max; i++) {
		if (v[i].state == ANFU_SESSION_MFA_PENDING ||
		    (except_public_id && strcmp(v[i].public_id, except_public_id) == 0))
			continue;
		r = end_for_limit(iam, tx, u, &v[i], true, now);
		if (r == 0 && ended_out)
			(void)anfu_strlcpy(ended_out, v[i].public_id, ANFU_ID_MAX);
		counted--;
	}
	free(v);
	return r;
}

/* Keeps a user's MFA_PENDING sessions under ANFU_LIMIT_IAM_PENDING_SESSIONS, quietly
 * ending the oldest (they never got past the password). */
static int cap_pending(struct anfu_iam *iam, struct anfu_tx *tx, const struct iam_user *u,
		       bool admin)
{
	struct live *v = anfu_xcalloc(ANFU_LIMIT_IAM_LIVE_SESSIONS, sizeof(*v));
	int64_t now = anfu_clock_now_ms();
	int n = 0, pending = 0, r;

	r = live_sessions(iam, tx, u, admin, now, v, &n);
	for (int i = 0; i < n; i++)
		pending += v[i].state == ANFU_SESSION_MFA_PENDING;
	for (int i = 0; i < n && r == 0 && pending >= ANFU_LIMIT_IAM_PENDING_SESSIONS; i++) {
		if (v[i].state != ANFU_SESSION_MFA_PENDING)
			continue;
		r = end_for_limit(iam, tx, u, &v[i], false, now);
		pending--;
	}
	free(v);
	return r;
}

/* ---- create, rotate, end ------------------------------------------------------------ */

static int insert_session(struct anfu_iam *iam, struct anfu_db *db, const struct anfu_iam_ctx *ctx,
			  const struct iam_user *u, enum anfu_role_class cls,
			  enum anfu_session_state state, int64_t mfa_ms, const char *id_hash,
			  const char *csrf_hash, const char *public_id)
{
	static const char sql[] =
		"INSERT INTO iam_session (id_hash, user_id, public_id, admin, role_class, state,"
		" csrf_hash, created_ms, last_seen_ms, absolute_ms, mfa_ms, ip, device_hash,"
		" device_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10, $11, $12, $13)";
	int64_t now = anfu_clock_now_ms();
	char dev[IAM_HASH_HEX];
	int r = iam_device_hash(iam, ctx, dev);

	if (r < 0)
		return r;
	{
		struct anfu_param p[13] = {
			iam_ps(id_hash),
			iam_ps(u->id),
			iam_ps(public_id),
			ANFU_PI(ctx->admin ? 1 : 0),
			ANFU_PI(cls),
			iam_ps(state_name(state)),
			iam_ps(csrf_hash),
			ANFU_PI(now),
			ANFU_PI(now + iam->cfg->session[cls].absolute_minutes * IAM_MINUTE_MS),
			ANFU_PI(mfa_ms),
			ANFU_PSN(ctx->ip ? ctx->ip : "", ctx->ip ? strnlen(ctx->ip, 64) : 0),
			iam_ps(dev),
			ctx->device_id && ctx->device_id[0]
				? ANFU_PSN(ctx->device_id, strnlen(ctx->device_id, 128))
				: ANFU_PNULL,
		};
		r = anfu_db_exec(db, sql, p, 13, NULL, NULL, NULL);
	}
	return r;
}

int iam_session_create(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *ctx,
		       const struct iam_user *u, enum anfu_role_class cls,
		       enum anfu_session_state state, int64_t mfa_ms, struct anfu_login_result *ret,
		       struct anfu_iam_err *err)
{
	struct anfu_db *db = anfu_tx_db(tx);
	char tok[TOKEN_HEX + 1], csrf[TOKEN_HEX + 1], h1[IAM_HASH_HEX], h2[IAM_HASH_HEX];
	char pid[ANFU_ID_MAX], ended[ANFU_ID_MAX] = "";
	int r;

	if (!iam || !db || !ctx || !u || !ret || (int)cls < 0 || cls >= ANFU_CLASS_COUNT)
		return ANFU_EINVAL;
	if (state == ANFU_SESSION_MFA_PENDING)
		r = cap_pending(iam, tx, u, ctx->admin);
	else
		r = iam_session_make_room(iam, tx, u, cls, ctx->admin, NULL, ended);
	if (r == ANFU_ECONFLICT)
		iam_err_set(err, ANFU_R_SESSION_LIMIT, NULL);
	if (r == 0)
		r = token_new(iam, "session", tok, h1);
	if (r == 0)
		r = token_new(iam, "csrf", csrf, h2);
	if (r == 0)
		r = anfu_id_new("ses", pid, sizeof(pid));
	if (r == 0)
		r = insert_session(iam, db, ctx, u, cls, state, mfa_ms, h1, h2, pid);
	if (r == 0) {
		(void)anfu_strlcpy(ret->session, tok, sizeof(ret->session));
		(void)anfu_strlcpy(ret->csrf, csrf, sizeof(ret->csrf));
		(void)anfu_strlcpy(ret->ended_session, ended, sizeof(ret->ended_session));
		ret->state = state;
	}
	anfu_wipe(tok, sizeof(tok));
	anfu_wipe(csrf, sizeof(csrf));
	return r;
}

struct sess_brief {
	bool found;
	bool admin;
	int role_class;
	enum anfu_session_state state;
};

static int brief_row(void *ud, const struct anfu_row *r)
{
	struct sess_brief *b = ud;

	b->found = true;
	b->admin = anfu_row_int(r, 0) != 0;
	b->role_class = (int)anfu_row_int(r, 1);
	b->state = state_of(anfu_row_text(r, 2, NULL));
	return 1;
}

/* Enforces the limit when a session leaves MFA_PENDING. */
static int rotate_limit(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_principal *p,
			const struct sess_brief *b, struct anfu_login_result *ret)
{
	struct iam_user u = { 0 };
	int c = b->role_class >= 0 && b->role_class < ANFU_CLASS_COUNT ? b->role_class
								       : ANFU_CLASS_ADMIN;
	int r = iam_user_load(anfu_tx_db(tx), p->user_id, &u);

	if (r == 0)
		r = iam_session_make_room(iam, tx, &u, (enum anfu_role_class)c, b->admin,
					  p->session_id, ret->ended_session);
	iam_user_clear(&u);
	return r;
}

int iam_session_rotate(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_principal *p,
		       enum anfu_session_state state, const char *mfa_method,
		       struct anfu_login_result *ret)
{
	struct anfu_db *db = anfu_tx_db(tx);
	struct anfu_param q[2] = { iam_ps(p ? p->session_id : NULL),
				   iam_ps(p ? p->user_id : NULL) };
	struct sess_brief b = { 0 };
	char tok[TOKEN_HEX + 1], csrf[TOKEN_HEX + 1], h1[IAM_HASH_HEX], h2[IAM_HASH_HEX];
	int64_t now = anfu_clock_now_ms(), changed = 0;
	int r;

	if (!iam || !db || !p || !ret)
		return ANFU_EINVAL;
	r = anfu_db_exec(db,
			 "SELECT admin, role_class, state FROM iam_session WHERE public_id = $1"
			 " AND user_id = $2 AND revoked_ms IS NULL",
			 q, 2, brief_row, &b, NULL);
	if (r == 0 && !b.found)
		r = ANFU_ENOTFOUND;
	if (r == 0 && b.state == ANFU_SESSION_MFA_PENDING && state != ANFU_SESSION_MFA_PENDING)
		r = rotate_limit(iam, tx, p, &b, ret);
	if (r == 0)
		r = token_new(iam, "session", tok, h1);
	if (r == 0)
		r = token_new(iam, "csrf", csrf, h2);
	if (r == 0) {
		struct anfu_param u[7] = { iam_ps(h1),
					   iam_ps(h2),
					   iam_ps(state_name(state)),
					   ANFU_PI(mfa_method ? now : 0),
					   ANFU_PI(now),
					   iam_ps(p->session_id),
					   iam_ps(mfa_method ? mfa_method : "") };
		r = anfu_db_exec(db,
				 "UPDATE iam_session SET id_hash = $1, csrf_hash = $2, state = $3,"
				 " mfa_ms = CASE WHEN $4 > 0 THEN $4 ELSE mfa_ms END,"
				 " mfa_method = CASE WHEN $4 > 0 THEN $7 ELSE mfa_method END,"
				 " last_seen_ms = $5 WHERE public_id = $6 AND revoked_ms IS NULL",
				 u, 7, NULL, NULL, &changed);
	}
	if (r == 0 && changed == 0)
		r = ANFU_ENOTFOUND;
	if (r == 0) {
		(void)anfu_strlcpy(ret->session, tok, sizeof(ret->session));
		(void)anfu_strlcpy(ret->csrf, csrf, sizeof(ret->csrf));
		ret->state = state;
	}
	anfu_wipe(tok, sizeof(tok));
	anfu_wipe(csrf, sizeof(csrf));
	return r;
}

int iam_session_end(struct anfu_iam *iam, struct anfu_db *db, const char *user_id,
		    const char *public_id, const char *except_public_id, const char *reason)
{
	int64_t now = anfu_clock_now_ms(), changed = 0;
	int r;

	if (!iam || !db || !user_id || !reason)
		return ANFU_EINVAL;
	if (public_id) {
		struct anfu_param p[4] = { ANFU_PI(now), iam_ps(reason), iam_ps(user_id),
					   iam_ps(public_id) };
		r = anfu_db_exec(db,
				 "UPDATE iam_session SET revoked_ms = $1, revoke_reason = $2"
				 " WHERE user_id = $3 AND public_id = $4 AND revoked_ms IS NULL",
				 p, 4, NULL, NULL, &changed);
		if (r == 0 && changed == 0)
			r = ANFU_ENOTFOUND;
		return r;
	}
	{
		struct anfu_param p[4] = { ANFU_PI(now), iam_ps(reason), iam_ps(user_id),
					   iam_ps(except_public_id ? except_public_id : "") };
		return anfu_db_exec(
			db,
			"UPDATE iam_session SET revoked_ms = $1, revoke_reason = $2"
			" WHERE user_id = $3 AND public_id <> $4 AND revoked_ms IS NULL",
			p, 4, NULL, NULL, NULL);
	}
}

/* ---- the authenticator ------------------------------------------------------------------ */

struct sess_row {
	bool found, admin, revoked;
	char user_id[ANFU_ID_MAX];
	char public_id[ANFU_ID_MAX];
	int role_class;
	enum anfu_session_state state;
	char csrf_hash[IAM_HASH_HEX];
	int64_t last_seen_ms, absolute_ms, mfa_ms;
	char mfa_method[ANFU_MFA_METHOD_MAX];
	char ip[72];
	char device_hash[IAM_HASH_HEX];
};

static int sess_row(void *ud, const struct anfu_row *r)
{
	struct sess_row *s = ud;
	const char *t;

	s->found = true;
	(void)anfu_strlcpy(s->user_id, (t = anfu_row_text(r, 0, NULL)) ? t : "",
			   sizeof(s->user_id));
	(void)anfu_strlcpy(s->public_id, (t = anfu_row_text(r, 1, NULL)) ? t : "",
			   sizeof(s->public_id));
	s->admin = anfu_row_int(r, 2) != 0;
	s->role_class = (int)anfu_row_int(r, 3);
	s->state = state_of(anfu_row_text(r, 4, NULL));
	(void)anfu_strlcpy(s->csrf_hash, (t = anfu_row_text(r, 5, NULL)) ? t : "",
			   sizeof(s->csrf_hash));
	s->last_seen_ms = anfu_row_int(r, 6);
	s->absolute_ms = anfu_row_int(r, 7);
	s->mfa_ms = anfu_row_int(r, 8);
	(void)anfu_strlcpy(s->ip, (t = anfu_row_text(r, 9, NULL)) ? t : "", sizeof(s->ip));
	(void)anfu_strlcpy(s->device_hash, (t = anfu_row_text(r, 10, NULL)) ? t : "",
			   sizeof(s->device_hash));
	s->revoked = !anfu_row_is_null(r, 11);
	(void)anfu_strlcpy(s->mfa_method, (t = anfu_row_text(r, 12, NULL)) ? t : "",
			   sizeof(s->mfa_method));
	return 1;
}

static int sess_load(struct anfu_db *db, const char *id_hash, struct sess_row *s)
{
	struct anfu_param p[1] = { iam_ps(id_hash) };

	return anfu_db_exec(db,
			    "SELECT user_id, public_id, admin, role_class, state, csrf_hash,"
			    " last_seen_ms, absolute_ms, mfa_ms, ip, device_hash, revoked_ms,"
			    " mfa_method FROM iam_session WHERE id_hash = $1",
			    p, 1, sess_row, s, NULL);
}

/* What end_refuse's transaction works with. */
struct end_refusal {
	struct anfu_iam *iam;
	const struct anfu_iam_ctx *ctx;
	const struct sess_row *s;
	const char *reason, *action;
};

static int end_refuse_tx(struct anfu_tx *tx, void *ud)
{
	const struct end_refusal *c = ud;
	json_t *det = json_pack("{ss}", "reason", c->reason);
	int r = end_one(anfu_tx_db(tx), c->s->public_id, c->reason, anfu_clock_now_ms());

	if (r == 0)
		r = iam_audit(c->iam, tx, c->ctx, NULL, c->s->user_id, c->action, "session",
			      c->s->public_id, "success", det);
	json_decref(det);
	return r;
}

/* Ends the session on the server in a transaction of its own, audited;
 * the request is then refused as session_expired. */
static int end_refuse(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
		      const struct sess_row *s, const char *reason, const char *action,
		      struct anfu_iam_err *err)
{
	struct end_refusal c = { iam, ctx, s, reason, action };
	int r = iam_tx(iam, end_refuse_tx, &c, NULL);

	iam_err_set(err, ANFU_R_SESSION_EXPIRED, NULL);
	return r < 0 ? r : ANFU_EAUTH;
}

/* The binding rule under level=enhanced (IAM-SESS-06): true when the
 * client IP or device fingerprint moved. */
static int binding_changed(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
			   const struct sess_row *s, bool *ret)
{
	char dev[IAM_HASH_HEX];
	bool moved = false;
	int r;

	if (iam->platform->level == ANFU_LEVEL_ENHANCED) {
		if (iam->cfg->sessions.bind_ip && strcmp(s->ip, ctx->ip ? ctx->ip : "") != 0)
			moved = true;
		if (!moved && iam->cfg->sessions.bind_device) {
			r = iam_device_hash(iam, ctx, dev);
			if (r < 0)
				return r;
			moved = !anfu_crypto_equal(dev, s->device_hash, IAM_HASH_HEX - 1);
		}
	}
	*ret = moved;
	return 0;
}

/* WEB-CSRF-01: the token bound to the session, and a same-origin Origin. */
static int csrf_check(struct anfu_iam *iam, const struct anfu_iam_auth_in *in,
		      const struct sess_row *s)
{
	char h[IAM_HASH_HEX];

	if (!in->state_changing || in->csrf_exempt)
		return 0;
	if (!token_shape_ok(in->csrf) || strlen(s->csrf_hash) != IAM_HASH_HEX - 1)
		return ANFU_EPERM;
	if (anfu_vault_token_hash(iam->vault, "csrf", in->csrf, TOKEN_HEX, h) < 0 ||
	    !anfu_crypto_equal(h, s->csrf_hash, IAM_HASH_HEX - 1))
		return ANFU_EPERM;
	if (in->origin && in->origin[0]) {
		if (!in->host || !in->host[0] || strncmp(in->origin, "https://", 8) != 0 ||
		    strcasecmp(in->origin + 8, in->host) != 0)
			return ANFU_EPERM;
	}
	return 0;
}

/* The principal of a live session: identity, state, roles, permissions. */
static int principal_fill(struct anfu_iam *iam, struct anfu_db *db, const struct sess_row *s,
			  const struct iam_user *u, int64_t now, struct anfu_principal *p)
{
	int c = s->role_class >= 0 && s->role_class < ANFU_CLASS_COUNT ? s->role_class
								       : ANFU_CLASS_ADMIN;
	int r;

	memset(p, 0, sizeof(*p));
	(void)anfu_strlcpy(p->user_id, u->id, sizeof(p->user_id));
	(void)anfu_strlcpy(p->session_id, s->public_id, sizeof(p->session_id));
	(void)anfu_strlcpy(p->merchant_id, u->merchant_id, sizeof(p->merchant_id));
	p->kind = u->kind;
	p->role_class = (enum anfu_role_class)c;
	p->mfa_ms = s->mfa_ms;
	(void)anfu_strlcpy(p->mfa_method, s->mfa_method, sizeof(p->mfa_method));
	r = anfu_rbac_load(db, u->id, p);
	if (r < 0)
		return r;
	/* The session's class sets its timeouts; keep it consistent. */
	p->role_class = (enum anfu_role_class)c;
	p->required = iam_required_actions(iam, u, p->role_class, now);
	if (s->state == ANFU_SESSION_MFA_PENDING)
		p->state = ANFU_SESSION_MFA_PENDING;
	else
		p->state = p->required ? ANFU_SESSION_REQUIRED_ACTIONS : ANFU_SESSION_ACTIVE;
	if (p->state != ANFU_SESSION_REQUIRED_ACTIONS)
		p->required = 0;
	return 0;
}

/* The route's demands on the session state and permission. */
static int route_check(const struct anfu_iam_auth_in *in, const struct anfu_principal *p,
		       struct anfu_iam_err *err)
{
	if (p->state == ANFU_SESSION_MFA_PENDING && !in->allow_mfa_pending) {
		iam_err_set(err, ANFU_R_MFA_REQUIRED, NULL);
		return ANFU_EPERM;
	}
	if (p->state == ANFU_SESSION_REQUIRED_ACTIONS && !in->allow_required) {
		iam_err_set(err,
			    p->required & ANFU_RA_CHANGE_PASSWORD ? ANFU_R_PASSWORD_CHANGE_REQUIRED
								  : ANFU_R_TOTP_ENROLMENT_REQUIRED,
			    NULL);
		return ANFU_EPERM;
	}
	if (!in->permission || !in->permission[0] ||
	    (strcmp(in->permission, ANFU_PERM_SESSION) != 0 &&
	     !anfu_principal_can(p, in->permission))) {
		iam_err_set(err, ANFU_R_FORBIDDEN, NULL);
		return ANFU_EPERM;
	}
	return 0;
}

/* The session's last use, moved forward in a transaction of its own (no
 * audit record: it is the session's clock, not an event). */
struct touch {
	const char *public_id;
	int64_t now;
};

static int touch_tx(struct anfu_tx *tx, void *ud)
{
	const struct touch *t = ud;
	struct anfu_param p[2] = { ANFU_PI(t->now), iam_ps(t->public_id) };

	return anfu_db_exec(anfu_tx_db(tx),
			    "UPDATE iam_session SET last_seen_ms = $1 WHERE public_id = $2"
			    " AND revoked_ms IS NULL AND last_seen_ms < $1",
			    p, 2, NULL, NULL, NULL);
}

static void touch(struct anfu_iam *iam, const char *public_id, int64_t last_seen, int64_t now)
{
	struct touch t = { public_id, now };
	int r;

	if (now - last_seen < TOUCH_MS)
		return;
	r = iam_tx(iam, touch_tx, &t, NULL);
	if (r < 0)
		anfu_log_warn("iam.session", "last_seen of %s not updated: %s", public_id,
			      anfu_strerror(r));
}

/* Loads the session for the cookie and checks what makes it alive. */
static int session_live(struct anfu_iam *iam, struct anfu_db *db, const struct anfu_iam_ctx *ctx,
			const struct anfu_iam_auth_in *in, struct sess_row *s, struct iam_user *u,
			int64_t now, struct anfu_iam_err *err)
{
	char h[IAM_HASH_HEX];
	const char *why;
	bool moved = false;
	int r;

	iam_err_set(err, ANFU_R_UNAUTHORIZED, NULL);
	if (!token_shape_ok(in->cookie))
		return ANFU_EAUTH;
	r = anfu_vault_token_hash(iam->vault, "session", in->cookie, TOKEN_HEX, h);
	if (r == 0)
		r = sess_load(db, h, s);
	if (r < 0)
		return r;
	if (!s->found || s->admin != ctx->admin)
		return ANFU_EAUTH;
	iam_err_set(err, ANFU_R_SESSION_EXPIRED, NULL);
	if (s->revoked)
		return ANFU_EAUTH;
	why = expiry_reason(iam, s->role_class, s->last_seen_ms, s->absolute_ms, now);
	if (why)
		return end_refuse(iam, ctx, s, why, "session.ended", err);
	r = iam_user_load(db, s->user_id, u);
	if (r < 0)
		return r == ANFU_ENOTFOUND ? ANFU_EAUTH : r;
	if (iam_user_status(u, now) != ANFU_ACCOUNT_ACTIVE)
		return end_refuse(iam, ctx, s, "account_inactive", "session.ended", err);
	r = binding_changed(iam, ctx, s, &moved);
	if (r < 0)
		return r;
	if (moved)
		return end_refuse(iam, ctx, s, "binding", "session.binding_changed", err);
	return 0;
}

int anfu_iam_authenticate(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
			  const struct anfu_iam_auth_in *in, struct anfu_principal *ret,
			  struct anfu_iam_err *err)
{
	struct sess_row s = { 0 };
	struct iam_user u = { 0 };
	struct anfu_principal p;
	struct anfu_db *db = NULL;
	int64_t now = anfu_clock_now_ms();
	int r;

	if (!iam || !ctx || !in || !ret)
		return ANFU_EINVAL;
	r = iam_db(iam, &db);
	if (r == 0)
		r = session_live(iam, db, ctx, in, &s, &u, now, err);
	if (r < 0)
		goto out;
	if (csrf_check(iam, in, &s) < 0) {
		iam_err_set(err, ANFU_R_CSRF_FAILED, NULL);
		r = ANFU_EPERM;
		goto out;
	}
	r = principal_fill(iam, db, &s, &u, now, &p);
	if (r == 0)
		r = route_check(in, &p, err);
	if (r < 0)
		goto out;
	touch(iam, s.public_id, s.last_seen_ms, now);
	iam_err_set(err, NULL, NULL);
	*ret = p;
out:
	iam_user_clear(&u);
	return r;
}

/* ---- step-up (IAM-MFA-05) ------------------------------------------------------ */

/* A second factor within the window: mfa_ms is recorded by
 * iam_session_create() and iam_session_rotate(mfa_method) above. */
bool iam_stepped_up(const struct anfu_iam *iam, const struct anfu_principal *p, int64_t now_ms)
{
	return p->mfa_ms > 0 && now_ms >= p->mfa_ms &&
	       now_ms - p->mfa_ms <= iam->cfg->mfa.stepup_window_s * 1000;
}

bool anfu_iam_stepped_up(const struct anfu_iam *iam, const struct anfu_principal *p, int64_t now_ms)
{
	return iam && p && iam_stepped_up(iam, p, now_ms);
}
