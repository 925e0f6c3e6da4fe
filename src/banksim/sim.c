/*
 * banksim/sim: the simulator bank's rules and its SQLite file.
 *
 * Owns DIR/banksim.db (tables sim_card, sim_code, sim_payment, sim_sms,
 * sim_nonce) and the callbacks it sends. Trusts the HTTP layer (main.c)
 * for the signature check of anfud's requests; checks every field itself.
 * Card numbers and codes are in clear here: it plays a bank, in tests.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bank/bank.h"
#include "bank/client.h"
#include "banksim/sim.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mask.h"
#include "base/mem.h"
#include "base/refusal.h"
#include "base/str.h"
#include "crypto/crypto.h"
#include "keys/keys.h"
#include "store/store.h"

static const char *const schema[] = {
	"CREATE TABLE IF NOT EXISTS sim_card (number TEXT PRIMARY KEY, holder_name TEXT NOT "
	"NULL, id_number TEXT NOT NULL, phone TEXT NOT NULL, balance INTEGER NOT NULL, "
	"behaviour TEXT NOT NULL DEFAULT 'normal', once INTEGER NOT NULL DEFAULT 0)",
	"CREATE TABLE IF NOT EXISTS sim_code (serial TEXT PRIMARY KEY, number TEXT NOT NULL, "
	"code TEXT NOT NULL, state TEXT NOT NULL)",
	"CREATE TABLE IF NOT EXISTS sim_payment (serial TEXT PRIMARY KEY, kind TEXT NOT NULL, "
	"number TEXT NOT NULL, amount INTEGER NOT NULL, status TEXT NOT NULL, behaviour TEXT NOT "
	"NULL, bank_ref TEXT NOT NULL, created_ms INTEGER NOT NULL, held INTEGER NOT NULL "
	"DEFAULT 0, day TEXT NOT NULL)",
	"CREATE TABLE IF NOT EXISTS sim_sms (id INTEGER PRIMARY KEY AUTOINCREMENT, phone TEXT "
	"NOT NULL, text TEXT NOT NULL, ts_ms INTEGER NOT NULL)",
	"CREATE TABLE IF NOT EXISTS sim_nonce (nonce TEXT PRIMARY KEY, ts_ms INTEGER NOT NULL)",
};

int64_t sim_now_ms(const struct sim *s)
{
	(void)s;
	return anfu_clock_now_ms();
}

static int db_of(struct sim *s, struct anfu_db **ret)
{
	return anfu_store_db(s->store, ret);
}

int sim_open(struct sim *s, const char *dir)
{
	char path[4096];
	struct anfu_store_cfg cfg = { .backend = "sqlite", .path = path, .busy_timeout_ms = 5000 };
	struct anfu_db *db = NULL;
	int r;

	(void)snprintf(path, sizeof(path), "%s/banksim.db", dir);
	r = anfu_store_new(&cfg, &s->store);
	if (r == 0)
		r = db_of(s, &db);
	for (size_t i = 0; r == 0 && i < sizeof(schema) / sizeof(schema[0]); i++)
		r = anfu_db_exec(db, schema[i], NULL, 0, NULL, NULL, NULL);
	(void)pthread_mutex_init(&s->lock, NULL);
	return r;
}

void sim_close(struct sim *s)
{
	anfu_store_free(s->store);
	anfu_sigkey_free(s->peer_key);
	free(s->peer_url);
	free(s->peer_ca);
	free(s->peer_key_path);
	(void)pthread_mutex_destroy(&s->lock);
}

int sim_set_peer(struct sim *s, const char *url, const char *ca, const char *key_path)
{
	if (!url || !ca || !key_path)
		return ANFU_EINVAL;
	(void)pthread_mutex_lock(&s->lock);
	free(s->peer_url);
	free(s->peer_ca);
	free(s->peer_key_path);
	anfu_sigkey_free(s->peer_key);
	s->peer_key = NULL;
	s->peer_url = anfu_xstrdup(url);
	s->peer_ca = anfu_xstrdup(ca);
	s->peer_key_path = anfu_xstrdup(key_path);
	(void)pthread_mutex_unlock(&s->lock);
	return 0;
}

int sim_peer_key(struct sim *s, struct anfu_sigkey **ret)
{
	int r = 0;

	(void)pthread_mutex_lock(&s->lock);
	if (!s->peer_key_path)
		r = ANFU_ENOTFOUND;
	else if (!s->peer_key)
		r = anfu_keys_peer_load(s->peer_key_path, &s->peer_key);
	if (r == 0)
		*ret = s->peer_key; /* lives until the peer changes: tests set it once */
	(void)pthread_mutex_unlock(&s->lock);
	return r;
}

int sim_nonce(struct sim *s, const char *nonce, int64_t ts)
{
	const struct anfu_param p[] = { ANFU_PS(nonce), ANFU_PI(ts) };
	struct anfu_db *db = NULL;
	int r = db_of(s, &db);

	if (r == 0)
		r = anfu_db_exec(db, "INSERT INTO sim_nonce (nonce, ts_ms) VALUES ($1, $2)", p, 2,
				 NULL, NULL, NULL);
	return r;
}

/* ---- small JSON helpers --------------------------------------------------- */

static const char *jstr(json_t *in, const char *key)
{
	return json_string_value(json_object_get(in, key));
}

static json_t *answer(const char *result, const char *reason)
{
	return reason ? json_pack("{s:s,s:s}", "result", result, "reason", reason)
		      : json_pack("{s:s}", "result", result);
}

/* Rows as JSON objects: column names from the statement's order. */
struct rows {
	const char *const *names;
	int n;
	json_t *arr;
};

static int rows_fn(void *ud, const struct anfu_row *row)
{
	struct rows *rs = ud;
	json_t *o = json_object();

	for (int i = 0; i < rs->n; i++) {
		const char *t = anfu_row_text(row, i, NULL);

		if (rs->names[i][0] == '#')
			json_object_set_new(o, rs->names[i] + 1,
					    json_integer(anfu_row_int(row, i)));
		else
			json_object_set_new(o, rs->names[i], json_string(t ? t : ""));
	}
	json_array_append_new(rs->arr, o);
	return 0;
}

static int select_rows(struct sim *s, const char *sql, const struct anfu_param *p, size_t np,
		       const char *const *names, int n, json_t **ret)
{
	struct rows rs = { names, n, json_array() };
	struct anfu_db *db = NULL;
	int r = db_of(s, &db);

	if (r == 0)
		r = anfu_db_exec(db, sql, p, np, rows_fn, &rs, NULL);
	if (r < 0) {
		json_decref(rs.arr);
		return r;
	}
	*ret = rs.arr;
	return 0;
}

static json_t *card_get(struct sim *s, const char *number)
{
	static const char *const names[] = { "number",	 "holder_name", "id_number", "phone",
					     "#balance", "behaviour",	"#once" };
	const struct anfu_param p[] = { ANFU_PS(number) };
	json_t *rows = NULL, *one;

	if (!number || select_rows(s,
				   "SELECT number, holder_name, id_number, phone, balance, "
				   "behaviour, once FROM sim_card WHERE number = $1",
				   p, 1, names, 7, &rows) < 0)
		return NULL;
	one = json_incref(json_array_get(rows, 0));
	json_decref(rows);
	return one;
}

static int exec(struct sim *s, const char *sql, const struct anfu_param *p, size_t np,
		int64_t *changes)
{
	struct anfu_db *db = NULL;
	int r = db_of(s, &db);

	return r == 0 ? anfu_db_exec(db, sql, p, np, NULL, NULL, changes) : r;
}

/* The card's behaviour for this request; a "once" behaviour is used up. */
static const char *take_behaviour(struct sim *s, json_t *card)
{
	static const char *const modes[] = { "normal", "decline", "fail",   "timeout",
					     "late",   "twice",	  "replay", "misreport" };
	const char *b = jstr(card, "behaviour");

	if (json_integer_value(json_object_get(card, "once"))) {
		const struct anfu_param p[] = { ANFU_PS(jstr(card, "number")) };

		(void)exec(s,
			   "UPDATE sim_card SET behaviour = 'normal', once = 0 WHERE number = $1",
			   p, 1, NULL);
	}
	for (size_t i = 0; b && i < sizeof(modes) / sizeof(modes[0]); i++)
		if (strcmp(b, modes[i]) == 0)
			return modes[i];
	return "normal";
}

/* ---- bank API ------------------------------------------------------------ */

int sim_card_verify(struct sim *s, json_t *in, json_t **ret)
{
	const char *serial = jstr(in, "serial"), *number = jstr(in, "card_number");
	json_t *card = card_get(s, number);
	char code[8], phone_masked[32] = "", text[160];
	uint32_t rnd;
	int r;

	if (!serial || !number || !jstr(in, "holder_name") || !jstr(in, "id_number")) {
		json_decref(card);
		return 400;
	}
	if (!card) {
		*ret = answer("declined", "no_such_card");
		return 200;
	}
	if (strcmp(jstr(card, "holder_name"), jstr(in, "holder_name")) != 0 ||
	    strcasecmp(jstr(card, "id_number"), jstr(in, "id_number")) != 0 ||
	    strcmp(take_behaviour(s, card), "decline") == 0) {
		json_decref(card);
		*ret = answer("declined", "holder_mismatch");
		return 200;
	}
	anfu_crypto_random(&rnd, sizeof(rnd));
	(void)snprintf(code, sizeof(code), "%06u", (unsigned)(rnd % 1000000u));
	{
		const struct anfu_param p[] = { ANFU_PS(serial), ANFU_PS(number),
						ANFU_PSN(code, strlen(code)) };

		r = exec(s,
			 "INSERT INTO sim_code (serial, number, code, state) VALUES ($1, $2, $3, "
			 "'sent')",
			 p, 3, NULL);
	}
	(void)snprintf(text, sizeof(text), "[banksim] card binding code %s", code);
	if (r == 0) {
		const struct anfu_param p[] = { ANFU_PS(jstr(card, "phone")),
						ANFU_PSN(text, strlen(text)),
						ANFU_PI(sim_now_ms(s)) };

		r = exec(s, "INSERT INTO sim_sms (phone, text, ts_ms) VALUES ($1, $2, $3)", p, 3,
			 NULL);
	}
	(void)anfu_mask_mobile(jstr(card, "phone"), strlen(jstr(card, "phone")), phone_masked,
			       sizeof(phone_masked));
	json_decref(card);
	if (r < 0)
		return r == ANFU_EEXIST ? 409 : r;
	*ret = json_pack("{s:s,s:s}", "result", "code_sent", "phone_masked", phone_masked);
	return 200;
}

int sim_card_confirm(struct sim *s, json_t *in, json_t **ret)
{
	const char *serial = jstr(in, "serial"), *code = jstr(in, "code");
	int64_t changes = 0;
	int r;

	if (!serial || !code)
		return 400;
	{
		const struct anfu_param p[] = { ANFU_PS(serial), ANFU_PSN(code, strlen(code)) };

		r = exec(s,
			 "UPDATE sim_code SET state = 'used' WHERE serial = $1 AND code = $2 AND "
			 "state = 'sent'",
			 p, 2, &changes);
	}
	if (r < 0)
		return r;
	*ret = changes == 1 ? answer("bound", NULL) : answer("declined", ANFU_R_CODE_INVALID);
	return 200;
}

static json_t *payment_get(struct sim *s, const char *serial)
{
	static const char *const names[] = { "serial",	  "kind",     "number", "#amount", "status",
					     "behaviour", "bank_ref", "#held",	"day" };
	const struct anfu_param p[] = { ANFU_PS(serial) };
	json_t *rows = NULL, *one;

	if (select_rows(
		    s,
		    "SELECT serial, kind, number, amount, status, behaviour, bank_ref, held, day "
		    "FROM sim_payment WHERE serial = $1",
		    p, 1, names, 9, &rows) < 0)
		return NULL;
	one = json_incref(json_array_get(rows, 0));
	json_decref(rows);
	return one;
}

/* The answer a payment already taken gets again (a resend is never a
 * second payment). */
static json_t *payment_answer(json_t *pay)
{
	if (strcmp(jstr(pay, "behaviour"), "decline") == 0)
		return answer("declined", "declined");
	return json_pack("{s:s,s:s}", "result", "accepted", "bank_ref", jstr(pay, "bank_ref"));
}

int sim_payment(struct sim *s, const char *kind, json_t *in, json_t **ret, bool *ret_hang)
{
	const char *serial = jstr(in, "serial"), *number = jstr(in, "card_number");
	json_int_t amount = json_integer_value(json_object_get(in, "amount"));
	json_t *card = NULL, *old;
	const char *b;
	char ref[64], day[16];
	int r;

	*ret_hang = false;
	if (!serial || !number || amount <= 0 || !jstr(in, "currency") ||
	    strcmp(jstr(in, "currency"), "CNY") != 0)
		return 400;
	old = payment_get(s, serial);
	if (old) {
		*ret = payment_answer(old);
		json_decref(old);
		return 200;
	}
	card = card_get(s, number);
	if (!card) {
		*ret = answer("declined", "no_such_card");
		return 200;
	}
	b = take_behaviour(s, card);
	if (strcmp(kind, "debit") == 0 && strcmp(b, "decline") != 0 &&
	    json_integer_value(json_object_get(card, "balance")) < amount) {
		json_decref(card);
		*ret = answer("declined", "insufficient_balance");
		return 200;
	}
	json_decref(card);
	(void)snprintf(ref, sizeof(ref), "SIM%s", serial + 4);
	(void)snprintf(day, sizeof(day), "%lld", (long long)anfu_bank_day_cn(sim_now_ms(s)));
	{
		const struct anfu_param p[] = { ANFU_PS(serial),
						ANFU_PS(kind),
						ANFU_PS(number),
						ANFU_PI(amount),
						ANFU_PS(strcmp(b, "decline") == 0 ? "failed"
										  : "pending"),
						ANFU_PS(b),
						ANFU_PSN(ref, strlen(ref)),
						ANFU_PI(sim_now_ms(s)),
						ANFU_PSN(day, strlen(day)) };

		r = exec(
			s,
			"INSERT INTO sim_payment (serial, kind, number, amount, status, behaviour, "
			"bank_ref, created_ms, day) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
			p, 9, NULL);
	}
	if (r < 0)
		return r;
	*ret_hang = strcmp(b, "timeout") == 0;
	*ret = strcmp(b, "decline") == 0
		       ? answer("declined", "declined")
		       : json_pack("{s:s,s:s}", "result", "accepted", "bank_ref", ref);
	return 200;
}

int sim_payment_status(struct sim *s, const char *serial, json_t **ret)
{
	json_t *pay = payment_get(s, serial);

	if (!pay) {
		*ret = json_pack("{s:s,s:s,s:i}", "serial", serial, "status", "unknown", "amount",
				 0);
		return 200;
	}
	*ret = json_pack("{s:s,s:s,s:O,s:s}", "serial", serial, "status", jstr(pay, "status"),
			 "amount", json_object_get(pay, "amount"), "bank_ref",
			 jstr(pay, "bank_ref"));
	json_decref(pay);
	return 200;
}

/* The statement file of a day: one line per payment, "serial,kind,amount,
 * status"; a "misreport" payment shows the other status. */
int sim_statement(struct sim *s, const char *day, json_t **ret)
{
	static const char *const names[] = { "serial", "kind", "#amount", "status", "behaviour" };
	const struct anfu_param p[] = { ANFU_PSN(day, strlen(day)) };
	json_t *rows = NULL, *row;
	char *text = NULL;
	size_t i, len = 0, cap;
	int r = select_rows(s,
			    "SELECT serial, kind, amount, status, behaviour FROM sim_payment WHERE "
			    "day = $1 AND status <> 'pending' ORDER BY serial",
			    p, 1, names, 5, &rows);

	if (r < 0)
		return r;
	cap = 96 * json_array_size(rows) + 1;
	text = anfu_xcalloc(1, cap);
	json_array_foreach(rows, i, row)
	{
		const char *st = jstr(row, "status");

		if (strcmp(jstr(row, "behaviour"), "misreport") == 0)
			st = strcmp(st, "succeeded") == 0 ? "failed" : "succeeded";
		len += (size_t)snprintf(
			text + len, cap - len, "%s,%s,%lld,%s\n", jstr(row, "serial"),
			jstr(row, "kind"),
			(long long)json_integer_value(json_object_get(row, "amount")), st);
	}
	*ret = json_pack("{s:s,s:s}", "day", day, "statement", text);
	free(text);
	json_decref(rows);
	return 200;
}

/* ---- control API ------------------------------------------------------- */

int sim_add_card(struct sim *s, json_t *in, json_t **ret)
{
	const char *number = jstr(in, "card_number"), *name = jstr(in, "holder_name"),
		   *idno = jstr(in, "id_number"), *phone = jstr(in, "phone");
	json_t *bal = json_object_get(in, "balance");
	int r;

	if (!number || !name || !idno || !phone || !json_is_integer(bal))
		return 400;
	{
		const struct anfu_param p[] = { ANFU_PS(number), ANFU_PS(name), ANFU_PS(idno),
						ANFU_PS(phone), ANFU_PI(json_integer_value(bal)) };

		r = exec(s,
			 "INSERT INTO sim_card (number, holder_name, id_number, phone, balance) "
			 "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (number) DO UPDATE SET "
			 "holder_name = $2, id_number = $3, phone = $4, balance = $5",
			 p, 5, NULL);
	}
	if (r < 0)
		return r;
	*ret = card_get(s, number);
	return *ret ? 201 : 500;
}

int sim_set_behaviour(struct sim *s, json_t *in, json_t **ret)
{
	const char *number = jstr(in, "card_number"), *mode = jstr(in, "behaviour");
	bool once = json_is_true(json_object_get(in, "once"));
	int64_t changes = 0;
	int r;

	if (!number || !mode || !strstr(SIM_BEHAVIOURS, mode))
		return 400;
	{
		const struct anfu_param p[] = { ANFU_PS(mode), ANFU_PI(once), ANFU_PS(number) };

		r = exec(s, "UPDATE sim_card SET behaviour = $1, once = $2 WHERE number = $3", p, 3,
			 &changes);
	}
	if (r < 0)
		return r;
	if (changes != 1)
		return 404;
	*ret = card_get(s, number);
	return 200;
}

int sim_sms(struct sim *s, const char *phone, json_t **ret)
{
	static const char *const names[] = { "phone", "text", "#ts_ms" };
	const struct anfu_param p[] = { ANFU_PS(phone ? phone : "") };
	json_t *rows = NULL;
	int r = select_rows(s,
			    "SELECT phone, text, ts_ms FROM sim_sms WHERE phone = $1 ORDER BY id",
			    p, 1, names, 3, &rows);

	if (r < 0)
		return r;
	*ret = json_pack("{s:o}", "messages", rows);
	return 200;
}

/* ---- settling and callbacks ------------------------------------------------- */

static int sim_sign(void *ud, const void *msg, size_t len, uint8_t *sig, size_t *siglen)
{
	return anfu_keys_named_sign(ud, msg, len, sig, siglen);
}

/* Sends the callback of a settled payment (twice for "twice" and
 * "replay"); appends each answer's HTTP status to out. */
static void send_callback(struct sim *s, json_t *pay, json_t *out)
{
	const char *b = jstr(pay, "behaviour");
	json_t *body = json_pack("{s:s,s:s,s:O,s:s,s:s}", "serial", jstr(pay, "serial"), "status",
				 jstr(pay, "status"), "amount", json_object_get(pay, "amount"),
				 "currency", "CNY", "bank_ref", jstr(pay, "bank_ref"));
	char *text = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
	char path[128], nonce[ANFU_BANK_NONCE_LEN + 1];
	uint8_t rnd[ANFU_BANK_NONCE_LEN / 2];
	int times = strcmp(b, "twice") == 0 || strcmp(b, "replay") == 0 ? 2 : 1;
	int64_t ts = sim_now_ms(s);

	anfu_crypto_random(rnd, sizeof(rnd));
	anfu_hex_encode(rnd, sizeof(rnd), nonce);
	(void)snprintf(path, sizeof(path), "/bank/v1/callbacks/%s", s->bank_id);
	(void)pthread_mutex_lock(&s->lock);
	for (int i = 0; i < times; i++) {
		const bool same = strcmp(b, "replay") == 0;
		const struct anfu_bank_call c = { s->peer_url,	s->peer_ca, "POST",
						  path,		text,	    5000,
						  sim_sign,	s->key,	    same ? nonce : NULL,
						  same ? ts : 0 };
		char *ans = NULL;
		int status = 0;

		if (!s->peer_url || anfu_bank_http_call(&c, &status, &ans) < 0)
			status = 0;
		json_array_append_new(out, json_pack("{s:s,s:i}", "serial", jstr(pay, "serial"),
						     "status", status));
		free(ans);
	}
	(void)pthread_mutex_unlock(&s->lock);
	free(text);
	json_decref(body);
}

/* Moves a pending payment to its result (the card's balance with it). */
static int settle_one(struct sim *s, json_t *pay)
{
	const char *serial = jstr(pay, "serial"), *kind = jstr(pay, "kind");
	json_int_t amount = json_integer_value(json_object_get(pay, "amount"));
	bool fail = strcmp(jstr(pay, "behaviour"), "fail") == 0;
	int64_t changes = 0;
	int r;

	if (!fail) {
		const struct anfu_param p[] = { ANFU_PI(strcmp(kind, "debit") == 0 ? -amount
										   : amount),
						ANFU_PS(jstr(pay, "number")) };

		r = exec(s,
			 "UPDATE sim_card SET balance = balance + $1 WHERE number = $2 AND "
			 "balance + $1 >= 0",
			 p, 2, &changes);
		if (r < 0)
			return r;
		fail = changes != 1;
	}
	{
		const struct anfu_param p[] = {
			ANFU_PS(fail ? "failed" : "succeeded"),
			ANFU_PI(strcmp(jstr(pay, "behaviour"), "late") == 0), ANFU_PS(serial)
		};

		r = exec(s,
			 "UPDATE sim_payment SET status = $1, held = $2 WHERE serial = $3 AND "
			 "status = 'pending'",
			 p, 3, NULL);
	}
	if (r == 0)
		json_object_set_new(pay, "status", json_string(fail ? "failed" : "succeeded"));
	return r;
}

int sim_settle(struct sim *s, const char *serial, bool late, bool due_only, json_t **ret)
{
	static const char *const names[] = { "serial", "kind",	    "number",	"#amount",
					     "status", "behaviour", "bank_ref", "#held" };
	const struct anfu_param p[] = { ANFU_PS(serial ? serial : ""),
					ANFU_PI(due_only ? sim_now_ms(s) - s->delay_ms
							 : INT64_MAX) };
	json_t *rows = NULL, *pay, *out = json_array();
	size_t i;
	int r = select_rows(
		s,
		"SELECT serial, kind, number, amount, status, behaviour, bank_ref, held "
		"FROM sim_payment WHERE ($1 = '' OR serial = $1) AND (status = 'pending' "
		"OR held = 1) AND created_ms <= $2 ORDER BY created_ms",
		p, 2, names, 8, &rows);

	if (r < 0) {
		json_decref(out);
		return r;
	}
	json_array_foreach(rows, i, pay)
	{
		bool held = json_integer_value(json_object_get(pay, "held")) != 0;

		if (strcmp(jstr(pay, "status"), "pending") == 0) {
			r = settle_one(s, pay);
			if (r < 0)
				break;
			if (strcmp(jstr(pay, "behaviour"), "late") == 0 && !late)
				continue; /* held back until a settle with "late" */
		} else if (held && !late) {
			continue;
		}
		if (held || strcmp(jstr(pay, "behaviour"), "late") == 0) {
			const struct anfu_param q[] = { ANFU_PS(jstr(pay, "serial")) };

			(void)exec(s, "UPDATE sim_payment SET held = 0 WHERE serial = $1", q, 1,
				   NULL);
		}
		send_callback(s, pay, out);
	}
	json_decref(rows);
	if (r < 0) {
		json_decref(out);
		return r;
	}
	*ret = json_pack("{s:o}", "callbacks", out);
	return 200;
}
