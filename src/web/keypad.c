/*
 * web/keypad: the shuffled payment keypad (WEB-KBD-01): a layout per
 * display, stored in web_keypad, taken once by its own user before it
 * expires; the browser sends key positions, never digits.
 *
 * Owns struct anfu_web and the rows of web_keypad. Trusts the caller for
 * the user id; checks the keypad id, the positions, the owner, the use
 * and the expiry itself. The layout never leaves the server but in the
 * rendered buttons of its own display.
 */
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/mem.h"
#include "base/rand.h"
#include "base/refusal.h"
#include "base/str.h"
#include "store/store.h"
#include "tx/tx.h"
#include "web/web.h"

struct anfu_web {
	const struct anfu_web_config *cfg;
	struct anfu_tx_exec *tx;
};

int anfu_web_new(const struct anfu_web_config *cfg, struct anfu_tx_exec *tx, struct anfu_web **ret)
{
	struct anfu_web *w;

	if (!cfg || !tx || !ret)
		return ANFU_EINVAL;
	w = anfu_xcalloc(1, sizeof(*w));
	w->cfg = cfg;
	w->tx = tx;
	*ret = w;
	return 0;
}

void anfu_web_free(struct anfu_web *w)
{
	free(w);
}

struct anfu_tx_exec *anfu_web_tx(const struct anfu_web *w)
{
	return w ? w->tx : NULL;
}

void anfu_web_keypad_shuffle(char out[ANFU_WEB_KEYPAD_KEYS + 1])
{
	for (int i = 0; i < ANFU_WEB_KEYPAD_KEYS; i++)
		out[i] = (char)('0' + i);
	out[ANFU_WEB_KEYPAD_KEYS] = '\0';
	for (uint32_t i = ANFU_WEB_KEYPAD_KEYS - 1; i > 0; i--) {
		uint32_t j = anfu_rand_uniform(i + 1);
		char t = out[i];

		out[i] = out[j];
		out[j] = t;
	}
}

static int keypad_insert_tx(struct anfu_tx *tx, void *ud)
{
	const struct {
		const char *user_id;
		const struct anfu_web_keypad *k;
		int64_t now_ms;
	} *a = ud;
	const struct anfu_param p[] = { ANFU_PS(a->k->id), ANFU_PS(a->user_id),
					ANFU_PS(a->k->layout), ANFU_PI(a->now_ms),
					ANFU_PI(a->k->expires_ms) };

	return anfu_db_exec(
		anfu_tx_db(tx),
		"INSERT INTO web_keypad (id, user_id, layout, created_ms, expires_ms, used)"
		" VALUES ($1, $2, $3, $4, $5, 0)",
		p, 5, NULL, NULL, NULL);
}

int anfu_web_keypad_new(struct anfu_web *w, const struct anfu_actor *actor,
			struct anfu_web_keypad *ret)
{
	const char *user_id = actor ? actor->id : NULL;
	struct anfu_web_keypad k = { 0 };
	struct {
		const char *user_id;
		const struct anfu_web_keypad *k;
		int64_t now_ms;
	} a = { user_id, &k, anfu_clock_now_ms() };
	int r;

	if (!w || !user_id || !ret)
		return ANFU_EINVAL;
	r = anfu_id_new("kpd", k.id, sizeof(k.id));
	if (r < 0)
		return r;
	anfu_web_keypad_shuffle(k.layout);
	k.expires_ms = a.now_ms + w->cfg->keypad_ttl_s * 1000;
	r = anfu_tx_run(w->tx, actor, keypad_insert_tx, &a);
	if (r < 0)
		return r;
	*ret = k;
	return 0;
}

struct keypad_row {
	bool found;
	char user_id[ANFU_ID_MAX];
	char layout[ANFU_WEB_KEYPAD_KEYS + 1];
	int64_t expires_ms;
};

static int keypad_row(void *ud, const struct anfu_row *row)
{
	struct keypad_row *k = ud;
	const char *u = anfu_row_text(row, 0, NULL), *l = anfu_row_text(row, 1, NULL);

	if (!u || !l || strlen(l) != ANFU_WEB_KEYPAD_KEYS ||
	    anfu_strlcpy(k->user_id, u, sizeof(k->user_id)) < 0)
		return ANFU_ESCHEMA;
	memcpy(k->layout, l, ANFU_WEB_KEYPAD_KEYS + 1);
	k->expires_ms = anfu_row_int(row, 2);
	k->found = true;
	return 0;
}

/* 1..ANFU_LIMIT_WEB_KEYPAD_PRESSES key positions, each '0'..'9'. */
static bool positions_ok(const char *positions)
{
	size_t n = positions ? strnlen(positions, ANFU_LIMIT_WEB_KEYPAD_PRESSES + 1) : 0;

	if (n == 0 || n > ANFU_LIMIT_WEB_KEYPAD_PRESSES)
		return false;
	for (size_t i = 0; i < n; i++)
		if (positions[i] < '0' || positions[i] > '9')
			return false;
	return true;
}

static int refuse(struct anfu_web_keypad_refusal *why, int err, const char *code, const char *field)
{
	if (why)
		*why = (struct anfu_web_keypad_refusal){ code, field };
	return err;
}

int anfu_web_keypad_take(struct anfu_db *db, int64_t now_ms, const char *user_id,
			 const char *keypad_id, const char *positions, char *pin, size_t cap,
			 struct anfu_web_keypad_refusal *why)
{
	struct keypad_row k = { 0 };
	const struct anfu_param p[] = { ANFU_PS(keypad_id) };
	int64_t changed = 0;
	size_t n;
	int r;

	if (!db || !user_id || !keypad_id || !pin || cap == 0)
		return ANFU_EINVAL;
	pin[0] = '\0';
	if (!positions_ok(positions))
		return refuse(why, ANFU_EINVAL, ANFU_R_WEB_KEYPAD_POSITIONS, "positions");
	if (strlen(positions) >= cap)
		return ANFU_ELIMIT;
	if (!anfu_id_valid("kpd", keypad_id, strlen(keypad_id)))
		return refuse(why, ANFU_ENOTFOUND, ANFU_R_WEB_KEYPAD_NOT_FOUND, NULL);
	r = anfu_db_exec(db, "SELECT user_id, layout, expires_ms FROM web_keypad WHERE id = $1", p,
			 1, keypad_row, &k, NULL);
	if (r < 0)
		return r;
	/* Another user's keypad is answered as a missing one (WEB-ERR-02). */
	if (!k.found || strcmp(k.user_id, user_id) != 0)
		return refuse(why, ANFU_ENOTFOUND, ANFU_R_WEB_KEYPAD_NOT_FOUND, NULL);
	/* Single use: the row is taken only while unused, so two takes
	 * racing on two connections cannot both win. */
	r = anfu_db_exec(db, "UPDATE web_keypad SET used = 1 WHERE id = $1 AND used = 0", p, 1,
			 NULL, NULL, &changed);
	if (r < 0)
		return r;
	if (changed != 1)
		return refuse(why, ANFU_ECONFLICT, ANFU_R_WEB_KEYPAD_USED, NULL);
	if (now_ms >= k.expires_ms)
		return refuse(why, ANFU_EEXPIRED, ANFU_R_WEB_KEYPAD_EXPIRED, NULL);
	n = strlen(positions);
	for (size_t i = 0; i < n; i++)
		pin[i] = k.layout[positions[i] - '0'];
	pin[n] = '\0';
	anfu_wipe(k.layout, sizeof(k.layout));
	return 0;
}
