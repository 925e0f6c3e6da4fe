/*
 * bank/cards: binding a bank card (start: the holder checked against the
 * customer's identity and by the bank, which sends a code to the phone it
 * holds; confirm: the code), listing and unbinding.
 *
 * Owns the rows of bank_card. The number is sealed by the vault (field
 * "bank.card", owner the card id) and found by its blind index ("bank_card");
 * it never reaches a log line or an audit record (only the masked form).
 * Trusts the handler for a Luhn-valid number and well-formed name and ID.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "bank/internal.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mask.h"
#include "base/mem.h"
#include "base/refusal.h"
#include "base/str.h"
#include "crypto/crypto.h"
#include "store/store.h"
#include "tx/tx.h"
#include "vault/vault.h"

#define CARD_FIELD "bank.card"
#define CARD_INDEX "bank_card"
#define CARD_COLS "id, bank_id, masked, state, phone_masked, created_ms, bound_ms, user_id, serial"

struct card_row {
	struct anfu_bank_card *out;
	size_t cap, n;
	char user_id[ANFU_ID_MAX], serial[ANFU_BANK_SERIAL_MAX]; /* of the first row */
};

static int card_row_fn(void *ud, const struct anfu_row *row)
{
	struct card_row *l = ud;
	struct anfu_bank_card *c;
	const char *s[9];

	if (l->n >= l->cap)
		return 1;
	c = &l->out[l->n];
	for (int i = 0; i < 9; i++)
		if (i != 5 && i != 6 && !(s[i] = anfu_row_text(row, i, NULL)))
			return ANFU_ESCHEMA;
	if (anfu_strlcpy(c->id, s[0], sizeof(c->id)) < 0 ||
	    anfu_strlcpy(c->bank_id, s[1], sizeof(c->bank_id)) < 0 ||
	    anfu_strlcpy(c->masked, s[2], sizeof(c->masked)) < 0 ||
	    anfu_strlcpy(c->state, s[3], sizeof(c->state)) < 0 ||
	    anfu_strlcpy(c->phone_masked, s[4], sizeof(c->phone_masked)) < 0)
		return ANFU_ESCHEMA;
	c->created_ms = anfu_row_int(row, 5);
	c->bound_ms = anfu_row_int(row, 6);
	if (l->n == 0 && (anfu_strlcpy(l->user_id, s[7], sizeof(l->user_id)) < 0 ||
			  anfu_strlcpy(l->serial, s[8], sizeof(l->serial)) < 0))
		return ANFU_ESCHEMA;
	l->n++;
	return 0;
}

static int card_get(struct anfu_db *db, const char *user_id, const char *id,
		    struct anfu_bank_card *ret, char serial[ANFU_BANK_SERIAL_MAX])
{
	const struct anfu_param p[] = { ANFU_PS(id), ANFU_PS(user_id) };
	struct card_row l = { NULL, 1, 0, "", "" };
	int r;

	memset(ret, 0, sizeof(*ret));
	l.out = ret;
	r = anfu_db_exec(db, "SELECT " CARD_COLS " FROM bank_card WHERE id = $1 AND user_id = $2",
			 p, 2, card_row_fn, &l, NULL);

	if (r < 0)
		return r;
	if (l.n == 0)
		return ANFU_ENOTFOUND;
	if (serial)
		memcpy(serial, l.serial, ANFU_BANK_SERIAL_MAX);
	return 0;
}

int anfu_bank_cards_list(struct anfu_bank *b, const char *user_id, struct anfu_bank_card *out,
			 size_t cap, size_t *ret_n)
{
	struct card_row l = { out, cap < ANFU_BANK_CARDS_MAX ? cap : ANFU_BANK_CARDS_MAX, 0, "",
			      "" };
	const struct anfu_param p[] = { ANFU_PS(user_id), ANFU_PI(l.cap) };
	struct anfu_db *db = NULL;
	int r;

	if (!b || !user_id || (!out && cap) || !ret_n)
		return ANFU_EINVAL;
	r = anfu_store_db(anfu_tx_exec_store(b->tx), &db);
	if (r == 0)
		r = anfu_db_exec(db,
				 "SELECT " CARD_COLS
				 " FROM bank_card WHERE user_id = $1 AND state IN "
				 "('pending', 'bound') ORDER BY created_ms DESC, id DESC LIMIT $2",
				 p, 2, card_row_fn, &l, NULL);
	if (r < 0)
		return r;
	*ret_n = l.n;
	return 0;
}

static int masked_row(void *ud, const struct anfu_row *row)
{
	const char *m = anfu_row_text(row, 0, NULL);

	if (!m || anfu_strlcpy(ud, m, ANFU_BANK_MASKED_MAX) < 0)
		return ANFU_ESCHEMA;
	return 1;
}

int anfu_bank_card_bound_in(struct anfu_bank *b, struct anfu_tx *tx, const char *user_id,
			    const char *card_id, char ret_masked[ANFU_BANK_MASKED_MAX])
{
	const struct anfu_param p[] = { ANFU_PS(card_id), ANFU_PS(user_id) };
	char masked[ANFU_BANK_MASKED_MAX] = "";
	int r;

	if (!b || !tx || !user_id || !card_id || !ret_masked)
		return ANFU_EINVAL;
	r = anfu_db_exec(anfu_tx_db(tx),
			 "SELECT masked FROM bank_card WHERE id = $1 AND user_id = $2 AND"
			 " state = 'bound'",
			 p, 2, masked_row, masked, NULL);
	if (r < 0)
		return r;
	if (!masked[0])
		return ANFU_ENOTFOUND;
	memcpy(ret_masked, masked, ANFU_BANK_MASKED_MAX);
	return 0;
}

/* Resident ID numbers compare with the check letter in upper case. */
static bool same_id_number(const char *a, const char *b)
{
	size_t n = strlen(a);

	if (n != strlen(b))
		return false;
	for (size_t i = 0; i < n; i++)
		if (toupper((unsigned char)a[i]) != toupper((unsigned char)b[i]))
			return false;
	return true;
}

/* The holder given is the customer's verified identity (FUNC-ACCT-16). */
static int identity_matches(struct anfu_bank *b, const char *user_id, const char *name,
			    const char *idno, bool *ret)
{
	struct anfu_bank_identity who = { 0 };
	int r = b->identity(b->identity_ud, user_id, &who);

	if (r < 0)
		return r;
	*ret = who.real_name && who.id_number && strlen(who.real_name) == strlen(name) &&
	       anfu_crypto_equal(who.real_name, name, strlen(name)) &&
	       same_id_number(who.id_number, idno);
	anfu_bank_identity_clear(&who);
	return 0;
}

/* Who holds a bound card with this index: *ret_user "" when nobody. */
static int bound_owner(struct anfu_bank *b, const char *index, char ret_user[ANFU_ID_MAX])
{
	struct anfu_bank_card c;
	struct card_row l = { &c, 1, 0, "", "" };
	const struct anfu_param p[] = { ANFU_PS(index) };
	struct anfu_db *db = NULL;
	int r = anfu_store_db(anfu_tx_exec_store(b->tx), &db);

	if (r == 0)
		r = anfu_db_exec(db,
				 "SELECT " CARD_COLS
				 " FROM bank_card WHERE card_index = $1 AND state = 'bound'",
				 p, 1, card_row_fn, &l, NULL);
	if (r < 0)
		return r;
	memcpy(ret_user, l.user_id, ANFU_ID_MAX);
	return 0;
}

struct card_add {
	struct anfu_bank_card c;
	const char *user_id, *enc, *index, *serial;
};

static int card_add_tx(struct anfu_tx *tx, void *ud)
{
	struct card_add *a = ud;
	const struct anfu_param p[] = { ANFU_PS(a->c.id),	    ANFU_PS(a->user_id),
					ANFU_PS(a->c.bank_id),	    ANFU_PS(a->enc),
					ANFU_PS(a->index),	    ANFU_PS(a->c.masked),
					ANFU_PS(a->c.phone_masked), ANFU_PS(a->serial),
					ANFU_PI(a->c.created_ms) };
	int r = anfu_db_exec(anfu_tx_db(tx),
			     "INSERT INTO bank_card (id, user_id, bank_id, card_enc, card_index, "
			     "masked, phone_masked, serial, state, created_ms) VALUES ($1, $2, $3, "
			     "$4, $5, $6, $7, $8, 'pending', $9)",
			     p, 9, NULL, NULL, NULL);

	if (r < 0)
		return r;
	return anfu_tx_audit(tx, "bank.card.bind_started", "bank_card", a->c.id, "success",
			     json_pack("{s:s,s:s}", "card", a->c.masked, "bank_id", a->c.bank_id));
}

/* The bank's check of the card; *ret_refusal for its decline. */
static int bank_check(struct anfu_bank *b, const struct anfu_bank_card_check *chk,
		      struct anfu_bank_card *c, const char **ret_refusal)
{
	struct anfu_bank_card_answer ans = { 0 };
	int r = b->ops->card_verify(b->ops->ud, chk, &ans);

	if (r < 0 || ans.answer == ANFU_BANK_NO_ANSWER)
		*ret_refusal = ANFU_R_BANK_UNAVAILABLE;
	else if (ans.answer == ANFU_BANK_DECLINED)
		*ret_refusal = ANFU_R_BANK_CARD_DECLINED;
	else
		(void)anfu_strlcpy(c->phone_masked, ans.phone_masked, sizeof(c->phone_masked));
	return 0;
}

/* The refusal of a start before the bank is asked, or NULL. */
static int start_refusal(struct anfu_bank *b, const char *user_id, const char *name,
			 const char *idno, const char *index, const char **ret_refusal)
{
	char owner[ANFU_ID_MAX];
	bool same = false;
	int r = identity_matches(b, user_id, name, idno, &same);

	if (r < 0)
		return r;
	if (!same) {
		*ret_refusal = ANFU_R_BANK_IDENTITY_MISMATCH;
		return 0;
	}
	r = bound_owner(b, index, owner);
	if (r < 0)
		return r;
	if (owner[0])
		*ret_refusal = strcmp(owner, user_id) == 0 ? ANFU_R_BANK_CARD_ALREADY_BOUND
							   : ANFU_R_BANK_CARD_BOUND_ELSEWHERE;
	return 0;
}

int anfu_bank_card_start(struct anfu_bank *b, const struct anfu_actor *actor,
			 const char *card_number, const char *holder_name, const char *id_number,
			 struct anfu_bank_card *ret, const char **ret_refusal)
{
	char index[2 * ANFU_HASH_LEN + 1], serial[ANFU_BANK_SERIAL_MAX];
	struct card_add a = { .user_id = actor ? actor->id : NULL,
			      .index = index,
			      .serial = serial };
	char *enc = NULL;
	int r;

	if (!b || !actor || !actor->id || !card_number || !holder_name || !id_number || !ret ||
	    !ret_refusal)
		return ANFU_EINVAL;
	*ret_refusal = NULL;
	if (!b->ops) {
		*ret_refusal = ANFU_R_BANK_UNAVAILABLE;
		return 0;
	}
	r = anfu_vault_index(b->vault, CARD_INDEX, card_number, strlen(card_number), index);
	if (r == 0)
		r = start_refusal(b, actor->id, holder_name, id_number, index, ret_refusal);
	if (r < 0 || *ret_refusal)
		return r;
	r = anfu_id_new("bcd", a.c.id, sizeof(a.c.id));
	if (r == 0)
		r = anfu_id_new("bsn", serial, sizeof(serial));
	if (r == 0)
		r = anfu_mask_bank_card(card_number, strlen(card_number), a.c.masked,
					sizeof(a.c.masked));
	if (r < 0)
		return r;
	{
		const struct anfu_bank_card_check chk = { serial, card_number, holder_name,
							  id_number };

		r = bank_check(b, &chk, &a.c, ret_refusal);
	}
	if (r < 0 || *ret_refusal)
		return r;
	r = anfu_vault_seal(b->vault, CARD_FIELD, a.c.id, card_number, strlen(card_number), &enc);
	if (r < 0)
		return r;
	a.enc = enc;
	(void)anfu_strlcpy(a.c.bank_id, b->cfg->bank_id, sizeof(a.c.bank_id));
	(void)anfu_strlcpy(a.c.state, "pending", sizeof(a.c.state));
	a.c.created_ms = anfu_clock_now_ms();
	r = anfu_tx_run(b->tx, actor, card_add_tx, &a);
	free(enc);
	if (r < 0)
		return r;
	*ret = a.c;
	return 0;
}

struct card_move {
	struct anfu_bank_card *c;
	const char *from, *to, *action;
	const char *refusal;
};

static int card_move_tx(struct anfu_tx *tx, void *ud)
{
	struct card_move *m = ud;
	int64_t now = anfu_clock_now_ms(), changes = 0;
	const struct anfu_param p[] = { ANFU_PS(m->to), ANFU_PI(now), ANFU_PS(m->c->id),
					ANFU_PS(m->from) };
	int r = anfu_db_exec(
		anfu_tx_db(tx),
		strcmp(m->to, "bound") == 0
			? "UPDATE bank_card SET state = $1, bound_ms = $2 WHERE id = $3 "
			  "AND state = $4"
			: "UPDATE bank_card SET state = $1, unbound_ms = $2 WHERE id = "
			  "$3 AND state = $4",
		p, 4, NULL, NULL, &changes);

	if (r == ANFU_EEXIST) {
		m->refusal = ANFU_R_BANK_CARD_BOUND_ELSEWHERE;
		return r;
	}
	if (r < 0)
		return r;
	if (changes != 1) {
		m->refusal = ANFU_R_CONFLICT;
		return ANFU_ECONFLICT;
	}
	if (strcmp(m->to, "bound") == 0)
		m->c->bound_ms = now;
	(void)anfu_strlcpy(m->c->state, m->to, sizeof(m->c->state));
	return anfu_tx_audit(tx, m->action, "bank_card", m->c->id, "success",
			     json_pack("{s:s,s:s}", "card", m->c->masked, "from", m->from));
}

/* Runs a card move; a refusal it met is the caller's, not an error. */
static int card_move(struct anfu_bank *b, const struct anfu_actor *actor, struct card_move *m,
		     const char **ret_refusal)
{
	int r = anfu_tx_run(b->tx, actor, card_move_tx, m);

	if (m->refusal) {
		*ret_refusal = m->refusal;
		return 0;
	}
	return r;
}

int anfu_bank_card_confirm(struct anfu_bank *b, const struct anfu_actor *actor, const char *card_id,
			   const char *code, struct anfu_bank_card *ret, const char **ret_refusal)
{
	struct anfu_bank_card_answer ans = { 0 };
	char serial[ANFU_BANK_SERIAL_MAX];
	struct anfu_bank_card c;
	struct card_move m = { &c, "pending", "bound", "bank.card.bound", NULL };
	struct anfu_db *db = NULL;
	int r;

	if (!b || !actor || !actor->id || !card_id || !code || !ret || !ret_refusal)
		return ANFU_EINVAL;
	*ret_refusal = NULL;
	if (!b->ops) {
		*ret_refusal = ANFU_R_BANK_UNAVAILABLE;
		return 0;
	}
	r = anfu_store_db(anfu_tx_exec_store(b->tx), &db);
	if (r == 0)
		r = card_get(db, actor->id, card_id, &c, serial);
	if (r == ANFU_ENOTFOUND)
		*ret_refusal = ANFU_R_NOT_FOUND;
	else if (r == 0 && strcmp(c.state, "pending") != 0)
		*ret_refusal = ANFU_R_CONFLICT;
	if (r == ANFU_ENOTFOUND || *ret_refusal)
		return 0;
	if (r < 0)
		return r;
	r = b->ops->card_confirm(b->ops->ud, serial, code, &ans);
	if (r < 0 || ans.answer == ANFU_BANK_NO_ANSWER) {
		*ret_refusal = ANFU_R_BANK_UNAVAILABLE;
		return 0;
	}
	if (ans.answer == ANFU_BANK_DECLINED) {
		*ret_refusal = ANFU_R_CODE_INVALID;
		return 0;
	}
	r = card_move(b, actor, &m, ret_refusal);
	if (r == 0 && !*ret_refusal)
		*ret = c;
	return r;
}

int anfu_bank_card_unbind(struct anfu_bank *b, const struct anfu_actor *actor, const char *card_id,
			  const char **ret_refusal)
{
	struct anfu_bank_card c;
	struct card_move m = { &c, "bound", "unbound", "bank.card.unbound", NULL };
	struct anfu_db *db = NULL;
	int r;

	if (!b || !actor || !actor->id || !card_id || !ret_refusal)
		return ANFU_EINVAL;
	*ret_refusal = NULL;
	r = anfu_store_db(anfu_tx_exec_store(b->tx), &db);
	if (r == 0)
		r = card_get(db, actor->id, card_id, &c, NULL);
	if (r == ANFU_ENOTFOUND) {
		*ret_refusal = ANFU_R_NOT_FOUND;
		return 0;
	}
	if (r < 0)
		return r;
	if (strcmp(c.state, "pending") == 0)
		m.from = "pending";
	return card_move(b, actor, &m, ret_refusal);
}

/* The first column of the one row, malloc'd into *(char **)ud. */
static int bank_text_row(void *ud, const struct anfu_row *row)
{
	char **out = ud;
	const char *s = anfu_row_text(row, 0, NULL);

	if (!s || *out)
		return ANFU_ESCHEMA;
	*out = anfu_xstrdup(s);
	return 0;
}

int bank_card_for_payment(struct anfu_bank *b, const char *user_id, const char *card_id,
			  char masked[ANFU_BANK_MASKED_MAX], char **ret_number,
			  const char **ret_refusal)
{
	const struct anfu_param p[] = { ANFU_PS(card_id), ANFU_PS(user_id) };
	struct anfu_db *db = NULL;
	char *enc = NULL, *number = NULL, state[16] = "";
	size_t len = 0;
	int r = anfu_store_db(anfu_tx_exec_store(b->tx), &db);
	struct anfu_bank_card c;

	if (r == 0)
		r = card_get(db, user_id, card_id, &c, NULL);
	if (r == ANFU_ENOTFOUND) {
		*ret_refusal = ANFU_R_NOT_FOUND;
		return 0;
	}
	if (r < 0)
		return r;
	(void)anfu_strlcpy(state, c.state, sizeof(state));
	if (strcmp(state, "bound") != 0) {
		*ret_refusal = ANFU_R_BANK_CARD_NOT_BOUND;
		return 0;
	}
	r = anfu_db_exec(db, "SELECT card_enc FROM bank_card WHERE id = $1 AND user_id = $2", p, 2,
			 bank_text_row, &enc, NULL);
	if (r == 0 && !enc)
		r = ANFU_ESCHEMA;
	if (r == 0)
		r = anfu_vault_open_field(b->vault, db, CARD_FIELD, card_id, enc, &number, &len);
	free(enc);
	if (r < 0)
		return r;
	memcpy(masked, c.masked, ANFU_BANK_MASKED_MAX);
	*ret_number = number;
	return 0;
}
