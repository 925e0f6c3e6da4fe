/*
 * dispute/api/testhooks: the "test" kind of dispute subject and routes that
 * exist only in builds with -Dtest_hooks=true (loopback clients only), so
 * the tests prove the refund path before a module with refunds (pay)
 * exists:
 *
 * POST /test/v1/dispute/subjects {ref, customer_id, amount,
 *   counterparty_id?, merchant_id?} -> 201: a subject of kind "test"
 * GET /test/v1/dispute/refunds -> 200 {"refunds": [{key, ref, id, amount,
 *   calls}], "failed_calls"}: every refund the provider executed, one entry
 *   per key (a key asked again executes nothing: calls counts the asks,
 *   as a real provider's idempotency would answer them)
 * POST /test/v1/dispute/refund-fail {fail} -> 200: the provider fails
 *   every refund while set (the refund stays pending)
 * GET /test/v1/dispute/notices -> 200 {"notices": [{ref, merchant_id, zh,
 *   en}]}: the newest TEST_NOTICES notices the dispute module gave the
 *   provider for a subject's merchant party, oldest first (the texts as
 *   made, before any channel: what the merchant's users are sent)
 * POST /test/v1/dispute/deadlines -> 200 the report of one run of the
 *   dispute.deadlines job
 *
 * Owns the test provider's memory (a mutex guards it: handlers run on
 * several threads).
 */
#ifdef ANFU_TEST_HOOKS

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "base/err.h"
#include "base/json.h"
#include "base/mem.h"
#include "base/str.h"
#include "dispute/api/module.h"
#include "dispute/dispute.h"
#include "http/http.h"

#define TEST_SUBJECTS 256
#define TEST_REFUNDS 256
#define TEST_NOTICES 64 /* kept, the newest; older ones are overwritten */
#define TEST_NOTICE_BYTES 1024

struct test_subject {
	char ref[ANFU_LIMIT_DISPUTE_REF_BYTES];
	struct anfu_dispute_subject s;
};

struct test_refund {
	char key[ANFU_LIMIT_DISPUTE_REFUND_KEY_BYTES];
	char ref[ANFU_LIMIT_DISPUTE_REF_BYTES];
	char id[ANFU_ID_MAX];
	int64_t amount;
	int calls;
};

struct test_notice {
	char ref[ANFU_LIMIT_DISPUTE_REF_BYTES];
	char merchant_id[ANFU_ID_MAX];
	char zh[TEST_NOTICE_BYTES], en[TEST_NOTICE_BYTES];
};

struct dispute_test_provider {
	pthread_mutex_t mu;
	struct test_subject subjects[TEST_SUBJECTS];
	size_t nsubjects;
	struct test_refund refunds[TEST_REFUNDS];
	size_t nrefunds;
	struct test_notice notices[TEST_NOTICES];
	size_t nnotices; /* ever given; the newest TEST_NOTICES are kept */
	int calls_failed;
	bool fail;
};

static int test_lookup(void *ud, const char *ref, const char *user_id,
		       struct anfu_dispute_subject *ret)
{
	struct dispute_test_provider *tp = ud;
	int r = ANFU_ENOTFOUND;

	pthread_mutex_lock(&tp->mu);
	for (size_t i = 0; i < tp->nsubjects; i++)
		if (strcmp(tp->subjects[i].ref, ref) == 0 &&
		    strcmp(tp->subjects[i].s.customer_id, user_id) == 0) {
			*ret = tp->subjects[i].s;
			r = 0;
		}
	pthread_mutex_unlock(&tp->mu);
	return r;
}

static int test_refund(void *ud, const struct anfu_actor *actor, const char *ref, int64_t amount,
		       const char *reason, const char *key, struct anfu_dispute_refund_result *ret)
{
	struct dispute_test_provider *tp = ud;
	struct test_refund *f = NULL;
	int r = 0;

	(void)actor;
	(void)reason;
	pthread_mutex_lock(&tp->mu);
	for (size_t i = 0; i < tp->nrefunds && !f; i++)
		if (strcmp(tp->refunds[i].key, key) == 0)
			f = &tp->refunds[i];
	if (tp->fail) {
		tp->calls_failed++;
		r = ANFU_EIO;
	} else if (!f && tp->nrefunds >= TEST_REFUNDS) {
		r = ANFU_ELIMIT;
	} else if (!f) {
		f = &tp->refunds[tp->nrefunds++];
		(void)anfu_strlcpy(f->key, key, sizeof(f->key));
		(void)anfu_strlcpy(f->ref, ref, sizeof(f->ref));
		(void)anfu_id_new("trf", f->id, sizeof(f->id));
		f->amount = amount;
	}
	if (r == 0) {
		f->calls++;
		(void)anfu_strlcpy(ret->ref, f->id, sizeof(ret->ref));
	}
	pthread_mutex_unlock(&tp->mu);
	return r;
}

/* The merchant party's notice: kept for GET /test/v1/dispute/notices (no
 * channel: a test subject's merchant need not exist). */
static int test_notice(void *ud, struct anfu_tx *tx, const char *ref, const char *merchant_id,
		       const char *zh, const char *en)
{
	struct dispute_test_provider *tp = ud;
	struct test_notice *n;

	(void)tx;
	pthread_mutex_lock(&tp->mu);
	n = &tp->notices[tp->nnotices % TEST_NOTICES];
	(void)anfu_strlcpy(n->ref, ref, sizeof(n->ref));
	(void)anfu_strlcpy(n->merchant_id, merchant_id, sizeof(n->merchant_id));
	(void)anfu_strlcpy(n->zh, zh, sizeof(n->zh));
	(void)anfu_strlcpy(n->en, en, sizeof(n->en));
	tp->nnotices++;
	pthread_mutex_unlock(&tp->mu);
	return 0;
}

static const struct anfu_dispute_subject_ops test_ops = { test_lookup, test_refund, test_notice };

int dispute_test_provider_new(struct anfu_disputes *d, struct dispute_test_provider **ret)
{
	struct dispute_test_provider *tp = anfu_xcalloc(1, sizeof(*tp));
	int r;

	pthread_mutex_init(&tp->mu, NULL);
	r = anfu_dispute_register(d, "test", &test_ops, tp);
	if (r < 0) {
		dispute_test_provider_free(tp);
		return r;
	}
	*ret = tp;
	return 0;
}

void dispute_test_provider_free(struct dispute_test_provider *tp)
{
	if (!tp)
		return;
	pthread_mutex_destroy(&tp->mu);
	free(tp);
}

struct subject_body {
	struct anfu_str ref, customer_id, counterparty_id, merchant_id;
	struct anfu_opt_i64 amount;
};

static const struct anfu_jfield subject_fields[] = {
	{ "ref", ANFU_JT_STRING, offsetof(struct subject_body, ref), true, 1, 60, NULL },
	{ "customer_id", ANFU_JT_STRING, offsetof(struct subject_body, customer_id), true, 1, 47,
	  NULL },
	{ "counterparty_id", ANFU_JT_STRING, offsetof(struct subject_body, counterparty_id), false,
	  0, 47, NULL },
	{ "merchant_id", ANFU_JT_STRING, offsetof(struct subject_body, merchant_id), false, 0, 47,
	  NULL },
	{ "amount", ANFU_JT_INT, offsetof(struct subject_body, amount), true, 1, 1000000000000LL,
	  NULL },
};

int anfu_dispute_api_test_subject(struct anfu_req *req, struct anfu_resp *resp)
{
	struct dispute_test_provider *tp = anfu_dispute_api_test_provider(req);
	struct subject_body b = { 0 };
	struct test_subject t = { { 0 } };
	int r;

	if (!tp)
		return ANFU_ENOTFOUND;
	r = anfu_req_json(req, subject_fields, sizeof(subject_fields) / sizeof(subject_fields[0]),
			  &b);
	if (r < 0)
		return r;
	(void)anfu_strlcpy(t.ref, b.ref.ptr, sizeof(t.ref));
	(void)anfu_strlcpy(t.s.customer_id, b.customer_id.ptr, sizeof(t.s.customer_id));
	(void)anfu_strlcpy(t.s.counterparty_id, b.counterparty_id.ptr ? b.counterparty_id.ptr : "",
			   sizeof(t.s.counterparty_id));
	(void)anfu_strlcpy(t.s.merchant_id, b.merchant_id.ptr ? b.merchant_id.ptr : "",
			   sizeof(t.s.merchant_id));
	(void)anfu_strlcpy(t.s.currency, "CNY", sizeof(t.s.currency));
	(void)snprintf(t.s.description, sizeof(t.s.description), "测试交易 / test payment %s",
		       t.ref);
	t.s.amount = b.amount.v;
	pthread_mutex_lock(&tp->mu);
	r = tp->nsubjects < TEST_SUBJECTS ? 0 : ANFU_ELIMIT;
	if (r == 0)
		tp->subjects[tp->nsubjects++] = t;
	pthread_mutex_unlock(&tp->mu);
	if (r < 0)
		return r;
	resp->status = 201;
	resp->body = json_pack("{s:s}", "ref", t.ref);
	return resp->body ? 0 : ANFU_EINTERNAL;
}

int anfu_dispute_api_test_refunds(struct anfu_req *req, struct anfu_resp *resp)
{
	struct dispute_test_provider *tp = anfu_dispute_api_test_provider(req);
	json_t *list = json_array();

	if (!tp || !list) {
		json_decref(list);
		return ANFU_EINTERNAL;
	}
	pthread_mutex_lock(&tp->mu);
	for (size_t i = 0; i < tp->nrefunds; i++) {
		const struct test_refund *f = &tp->refunds[i];

		(void)json_array_append_new(
			list, json_pack("{s:s,s:s,s:s,s:I,s:i}", "key", f->key, "ref", f->ref, "id",
					f->id, "amount", (json_int_t)f->amount, "calls", f->calls));
	}
	resp->body = json_pack("{s:o,s:i}", "refunds", list, "failed_calls", tp->calls_failed);
	pthread_mutex_unlock(&tp->mu);
	return resp->body ? 0 : ANFU_EINTERNAL;
}

int anfu_dispute_api_test_notices(struct anfu_req *req, struct anfu_resp *resp)
{
	struct dispute_test_provider *tp = anfu_dispute_api_test_provider(req);
	json_t *list = json_array();
	size_t first;

	if (!tp || !list) {
		json_decref(list);
		return ANFU_EINTERNAL;
	}
	pthread_mutex_lock(&tp->mu);
	first = tp->nnotices > TEST_NOTICES ? tp->nnotices - TEST_NOTICES : 0;
	for (size_t i = first; i < tp->nnotices; i++) {
		const struct test_notice *n = &tp->notices[i % TEST_NOTICES];

		(void)json_array_append_new(list, json_pack("{s:s,s:s,s:s,s:s}", "ref", n->ref,
							    "merchant_id", n->merchant_id, "zh",
							    n->zh, "en", n->en));
	}
	pthread_mutex_unlock(&tp->mu);
	resp->body = json_pack("{s:o}", "notices", list);
	return resp->body ? 0 : ANFU_EINTERNAL;
}

struct fail_body {
	struct anfu_opt_bool fail;
};

static const struct anfu_jfield fail_fields[] = {
	{ "fail", ANFU_JT_BOOL, offsetof(struct fail_body, fail), true, 0, 0, NULL },
};

int anfu_dispute_api_test_refund_fail(struct anfu_req *req, struct anfu_resp *resp)
{
	struct dispute_test_provider *tp = anfu_dispute_api_test_provider(req);
	struct fail_body b = { 0 };
	int r;

	if (!tp)
		return ANFU_ENOTFOUND;
	r = anfu_req_json(req, fail_fields, 1, &b);
	if (r < 0)
		return r;
	pthread_mutex_lock(&tp->mu);
	tp->fail = b.fail.v;
	pthread_mutex_unlock(&tp->mu);
	resp->body = json_pack("{s:b}", "fail", b.fail.v);
	return resp->body ? 0 : ANFU_EINTERNAL;
}

int anfu_dispute_api_test_deadlines(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_disputes *d = anfu_dispute_api_service(req);
	struct anfu_dispute_deadline_report rep;
	int r;

	if (!d)
		return ANFU_ENOTFOUND;
	r = anfu_dispute_deadlines(d, &rep);
	if (r < 0)
		return r;
	resp->body = json_pack("{s:i,s:i,s:i,s:i}", "take_reminders", rep.take_reminders,
			       "handle_reminders", rep.handle_reminders, "auto_confirmed",
			       rep.auto_confirmed, "refunds_retried", rep.refunds_retried);
	return resp->body ? 0 : ANFU_EINTERNAL;
}

#endif
