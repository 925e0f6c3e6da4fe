/*
 * bank/simconn: the connector of the simulator bank (anfu-banksim):
 * struct anfu_bank_ops over HTTPS (bank/client.c), each request signed
 * with anfud's "bank-client" key, JSON both ways (docs/bank.md, "The
 * simulator's API"). A real bank's connector is another implementation of
 * the same ops.
 *
 * Owns its ops struct and copies of the configured URL and CA path.
 * Trusts the bank's answers only as far as their shape: every field is
 * checked, an answer that does not parse is no answer (query it later).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bank/bank.h"
#include "bank/client.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"

struct simconn {
	struct anfu_bank_ops ops;
	char *url, *ca_file;
	int64_t timeout_ms;
	anfu_bank_sign_fn sign;
	void *sign_ud;
};

/* One call: the answer parsed as a JSON object (*ret: NULL for no usable
 * answer: timeout, 5xx, not JSON). 4xx: *ret_declined. */
static int call(struct simconn *s, const char *method, const char *path, json_t *body, json_t **ret,
		bool *ret_declined)
{
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	const struct anfu_bank_call c = { s->url, s->ca_file,	 method,  path,
					  text,	  s->timeout_ms, s->sign, s->sign_ud };
	char *answer = NULL;
	int status = 0, r;

	*ret = NULL;
	*ret_declined = false;
	if (body && !text)
		return ANFU_EINTERNAL;
	r = anfu_bank_http_call(&c, &status, &answer);
	anfu_free_secret(text); /* it may carry a card number */
	if (r == ANFU_ETIMEDOUT)
		return 0;
	if (r < 0)
		return r;
	if (status >= 400 && status < 500) {
		anfu_log_warn("bank.simconn", "%s %s: the bank refused it (HTTP %d)", method, path,
			      status);
		*ret_declined = true;
	} else if (status == 200) {
		*ret = json_loads(answer, JSON_REJECT_DUPLICATES, NULL);
		if (*ret && !json_is_object(*ret)) {
			json_decref(*ret);
			*ret = NULL;
		}
	}
	free(answer);
	return 0;
}

static void copy_str(json_t *o, const char *key, char *out, size_t cap)
{
	const char *v = json_string_value(json_object_get(o, key));

	if (!v || anfu_strlcpy(out, v, cap) < 0)
		out[0] = '\0';
}

/* POSTs body to path and reads the bank's verdict, for the operations
 * that answer {"result": ..., "reason"?: ...}: ANFU_BANK_DECLINED for a
 * refusal (HTTP 4xx or result "declined"; its reason copied into reason),
 * ANFU_BANK_ACCEPTED for result ok, ANFU_BANK_NO_ANSWER otherwise.
 * Returns 0 with *ret_answer and *ret_ans (the answer object, NULL for
 * none; the caller's to decref), or the error of the call, writing
 * nothing. body is borrowed; NULL (a failed json_pack) is ANFU_EINTERNAL
 * and sends nothing. */
static int post_verdict(struct simconn *s, const char *path, json_t *body, const char *ok,
			enum anfu_bank_answer *ret_answer, char *reason, size_t reason_cap,
			json_t **ret_ans)
{
	json_t *ans = NULL;
	bool declined = false;
	int r = body ? call(s, "POST", path, body, &ans, &declined) : ANFU_EINTERNAL;
	const char *res = json_string_value(json_object_get(ans, "result"));

	if (r < 0)
		return r;
	*ret_answer = ANFU_BANK_NO_ANSWER;
	if (declined || (res && strcmp(res, "declined") == 0)) {
		*ret_answer = ANFU_BANK_DECLINED;
		copy_str(ans, "reason", reason, reason_cap);
	} else if (res && strcmp(res, ok) == 0) {
		*ret_answer = ANFU_BANK_ACCEPTED;
	}
	*ret_ans = ans;
	return 0;
}

static int card_verify(void *ud, const struct anfu_bank_card_check *c,
		       struct anfu_bank_card_answer *ret)
{
	json_t *body =
		json_pack("{s:s,s:s,s:s,s:s}", "serial", c->serial, "card_number", c->card_number,
			  "holder_name", c->holder_name, "id_number", c->id_number);
	struct anfu_bank_card_answer a = { ANFU_BANK_NO_ANSWER, "", "" };
	json_t *ans = NULL;
	int r = post_verdict(ud, "/bank/v1/cards/verify", body, "code_sent", &a.answer, a.reason,
			     sizeof(a.reason), &ans);

	json_decref(body);
	if (r < 0)
		return r;
	if (a.answer == ANFU_BANK_ACCEPTED)
		copy_str(ans, "phone_masked", a.phone_masked, sizeof(a.phone_masked));
	json_decref(ans);
	*ret = a;
	return 0;
}

static int card_confirm(void *ud, const char *serial, const char *code,
			struct anfu_bank_card_answer *ret)
{
	json_t *body = json_pack("{s:s,s:s}", "serial", serial, "code", code);
	struct anfu_bank_card_answer a = { ANFU_BANK_NO_ANSWER, "", "" };
	json_t *ans = NULL;
	int r = post_verdict(ud, "/bank/v1/cards/confirm", body, "bound", &a.answer, a.reason,
			     sizeof(a.reason), &ans);

	json_decref(body);
	if (r < 0)
		return r;
	json_decref(ans);
	*ret = a;
	return 0;
}

static int payment(struct simconn *s, const char *path, const struct anfu_bank_payment_req *p,
		   struct anfu_bank_payment_answer *ret)
{
	json_t *body =
		json_pack("{s:s,s:s,s:I,s:s}", "serial", p->serial, "card_number", p->card_number,
			  "amount", (json_int_t)p->amount, "currency", p->currency);
	struct anfu_bank_payment_answer a = { ANFU_BANK_NO_ANSWER, "", "" };
	json_t *ans = NULL;
	int r = post_verdict(s, path, body, "accepted", &a.answer, a.reason, sizeof(a.reason),
			     &ans);

	json_decref(body);
	if (r < 0)
		return r;
	if (a.answer == ANFU_BANK_ACCEPTED)
		copy_str(ans, "bank_ref", a.bank_ref, sizeof(a.bank_ref));
	json_decref(ans);
	*ret = a;
	return 0;
}

static int debit(void *ud, const struct anfu_bank_payment_req *p,
		 struct anfu_bank_payment_answer *ret)
{
	return payment(ud, "/bank/v1/debits", p, ret);
}

static int credit(void *ud, const struct anfu_bank_payment_req *p,
		  struct anfu_bank_payment_answer *ret)
{
	return payment(ud, "/bank/v1/credits", p, ret);
}

/* GETs prefix + arg (a serial, a day): *ret the answer object, NULL for
 * no usable one (a 4xx is none either); the caller's to decref. */
static int get_answer(struct simconn *s, const char *prefix, const char *arg, json_t **ret)
{
	char path[128];
	bool declined = false;

	(void)snprintf(path, sizeof(path), "%s%s", prefix, arg);
	return call(s, "GET", path, NULL, ret, &declined);
}

static int query(void *ud, const char *serial, enum anfu_bank_answer *ret_answer,
		 struct anfu_bank_status_report *ret)
{
	struct anfu_bank_status_report st = { 0 };
	json_t *ans = NULL, *amount;
	int r = get_answer(ud, "/bank/v1/payments/", serial, &ans);

	if (r < 0)
		return r;
	*ret_answer = ANFU_BANK_NO_ANSWER;
	amount = json_object_get(ans, "amount");
	if (ans &&
	    anfu_bank_status_from(json_string_value(json_object_get(ans, "status")), &st.status) ==
		    0 &&
	    json_is_integer(amount) && json_integer_value(amount) >= 0) {
		st.amount = json_integer_value(amount);
		copy_str(ans, "bank_ref", st.bank_ref, sizeof(st.bank_ref));
		(void)anfu_strlcpy(st.serial, serial, sizeof(st.serial));
		*ret_answer = ANFU_BANK_ACCEPTED;
		*ret = st;
	}
	json_decref(ans);
	return 0;
}

static int statement(void *ud, const char *day, enum anfu_bank_answer *ret_answer, char **ret)
{
	json_t *ans = NULL;
	const char *text;
	int r = get_answer(ud, "/bank/v1/statements/", day, &ans);

	if (r < 0)
		return r;
	*ret_answer = ANFU_BANK_NO_ANSWER;
	text = json_string_value(json_object_get(ans, "statement"));
	if (text) {
		*ret = anfu_xstrdup(text);
		*ret_answer = ANFU_BANK_ACCEPTED;
	}
	json_decref(ans);
	return 0;
}

int anfu_bank_simconn_new(const struct anfu_bank_config *cfg, anfu_bank_sign_fn sign, void *sign_ud,
			  struct anfu_bank_ops **ret)
{
	struct simconn *s;

	if (!cfg || !cfg->url || !cfg->ca_file || !sign || !ret)
		return ANFU_EINVAL;
	s = anfu_xcalloc(1, sizeof(*s));
	s->url = anfu_xstrdup(cfg->url);
	s->ca_file = anfu_xstrdup(cfg->ca_file);
	s->timeout_ms = cfg->timeout_ms;
	s->sign = sign;
	s->sign_ud = sign_ud;
	s->ops = (struct anfu_bank_ops){ "simulator", card_verify, card_confirm, debit,
					 credit,      query,	   statement,	 s };
	/* ops is the first member: the caller frees through it. */
	*ret = &s->ops;
	return 0;
}

void anfu_bank_simconn_free(struct anfu_bank_ops *ops)
{
	struct simconn *s = (struct simconn *)ops;

	if (!s)
		return;
	free(s->url);
	free(s->ca_file);
	free(s);
}
