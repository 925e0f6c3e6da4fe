/*
 * Unit tests of src/receipt/ without a store: the canonical JSON form
 * (byte for byte what Python's json.dumps(sort_keys=True,
 * separators=(",", ":"), ensure_ascii=False) makes; the expected strings
 * below were produced by Python 3.11), building and signing a receipt
 * with Ed25519 and SM2, verifying it, and refusing every tampering.
 * The store path (issue once, read back) is tests/api/test_receipts.py,
 * run on SQLite and PostgreSQL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/buf.h"
#include "base/err.h"
#include "crypto/crypto.h"
#include "keys/keys.h"
#include "receipt/receipt.h"

#include "fixture.h"

static const struct {
	const char *in, *out;
} canon_cases[] = {
	/* Keys sorted at every level; arrays keep their order; int64 ends. */
	{ "{\"b\":1,\"a\":{\"d\":[1,2,{\"z\":null,\"y\":true}],\"c\":false},\"A\":-"
	  "9223372036854775808}",
	  "{\"A\":-9223372036854775808,\"a\":{\"c\":false,\"d\":[1,2,{\"y\":true,\"z\":null}]},"
	  "\"b\":1}" },
	/* Chinese, a quote, a backslash, a slash, a non-BMP character; the
	 * controls: short forms and lower-case \u00xx; DEL as it is. */
	{ "{\"memo\":\"\xe5\x8d\x88\xe9\xa5\xad \\\"AA\\\" \\\\ caf\xc3\xa9 / "
	  "\xf0\x9f\x98\x80\",\"k\\u00e9y\":\"\\u0001\\u001f\\u007f\\b\\f\\n\\r\\t\"}",
	  "{\"k\xc3\xa9y\":\"\\u0001\\u001f\x7f\\b\\f\\n\\r\\t\",\"memo\":"
	  "\"\xe5\x8d\x88\xe9\xa5\xad \\\"AA\\\" \\\\ caf\xc3\xa9 / \xf0\x9f\x98\x80\"}" },
	/* Code-point order of non-ASCII keys (= UTF-8 byte order). */
	{ "{\"\xc3\xa9\":1,\"z\":2,\"\xe4\xb8\xad\":3,\"Z\":4,\"\":5}",
	  "{\"\":5,\"Z\":4,\"z\":2,\"\xc3\xa9\":1,\"\xe4\xb8\xad\":3}" },
	{ "[]", "[]" },
	{ "{}", "{}" },
	/* U+2028 is not escaped (Python does not). */
	{ "\"\\u2028\\u4e2d\"", "\"\xe2\x80\xa8\xe4\xb8\xad\"" },
};

static void test_canonical_form_is_pythons(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(canon_cases) / sizeof(canon_cases[0]); i++) {
		json_t *v = json_loads(canon_cases[i].in, JSON_DECODE_ANY, NULL);
		struct anfu_buf b;

		assert_non_null(v);
		anfu_buf_init(&b, 4096);
		assert_int_equal(anfu_receipt_canonical(v, &b), 0);
		assert_string_equal(b.data, canon_cases[i].out);
		anfu_buf_free(&b);
		json_decref(v);
	}
}

static void test_canonical_refuses_reals_and_deep_nesting(void **state)
{
	const char *bad[] = { "{\"a\":1.5}", "[[[[[[[[[1]]]]]]]]]" };

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		json_t *v = json_loads(bad[i], 0, NULL);
		struct anfu_buf b;

		assert_non_null(v);
		anfu_buf_init(&b, 4096);
		assert_int_equal(anfu_buf_appends(&b, "x"), 0);
		assert_int_equal(anfu_receipt_canonical(v, &b), ANFU_EINVAL);
		assert_string_equal(b.data, "x"); /* nothing appended */
		anfu_buf_free(&b);
		json_decref(v);
	}
}

static void facts(struct anfu_receipt_facts *f)
{
	memset(f, 0, sizeof(*f));
	(void)snprintf(f->kind, sizeof(f->kind), "%s", "wallet_transfer");
	(void)snprintf(f->ref, sizeof(f->ref), "%s", "wtr_AAAAAAAAAAAAAAAAAAAAAA");
	f->time_ms = 1796569296595;
	f->amount = 1234;
	(void)snprintf(f->currency, sizeof(f->currency), "%s", "CNY");
	(void)snprintf(f->state, sizeof(f->state), "%s", "completed");
	(void)snprintf(f->payer.type, sizeof(f->payer.type), "%s", "customer");
	(void)snprintf(f->payer.id, sizeof(f->payer.id), "%s", "usr_payer");
	(void)snprintf(f->payer.shown, sizeof(f->payer.shown), "%s", "*\xe4\xb8\x89");
	(void)snprintf(f->payee.type, sizeof(f->payee.type), "%s", "customer");
	(void)snprintf(f->payee.id, sizeof(f->payee.id), "%s", "usr_payee");
	(void)snprintf(f->payee.shown, sizeof(f->payee.shown), "%s", "*\xe5\x9b\x9b");
	(void)snprintf(f->memo, sizeof(f->memo), "%s", "\xe5\x8d\x88\xe9\xa5\xad \"AA\"\n");
	f->ntransfers = 1;
	(void)snprintf(f->transfers[0], sizeof(f->transfers[0]), "%s",
		       "trf_BBBBBBBBBBBBBBBBBBBBBB");
}

static int sign_with(void *ud, const void *msg, size_t len, uint8_t *sig, size_t *siglen)
{
	return anfu_sign(ud, msg, len, sig, siglen);
}

struct signed_doc {
	struct anfu_sigkey *key, *pub;
	char kid[ANFU_KID_MAX];
	char *doc;
	size_t len;
};

/* A receipt of facts() signed by a new key of alg; pub its public half. */
static void make_doc(enum anfu_sig_alg alg, struct signed_doc *d)
{
	struct anfu_receipt_facts f;
	char *body = NULL, *sig = NULL, *pem = NULL;
	size_t blen = 0;

	facts(&f);
	assert_int_equal(anfu_sigkey_generate(alg, &d->key), 0);
	assert_int_equal(anfu_keys_kid_for(d->key, d->kid), 0);
	assert_int_equal(anfu_sigkey_public_pem(d->key, &pem), 0);
	assert_int_equal(anfu_sigkey_from_pem(pem, strlen(pem), &d->pub), 0);
	assert_int_equal(anfu_receipt_build(&f, "rct_CCCCCCCCCCCCCCCCCCCCCC", 1796569296600,
					    sign_with, d->key, &body, &blen, &sig),
			 0);
	assert_int_equal(blen, strlen(body));
	assert_int_equal(anfu_receipt_document(anfu_sig_name(alg), body, blen, d->kid, sig, &d->doc,
					       &d->len),
			 0);
	free(pem);
	free(body);
	free(sig);
}

static void drop_doc(struct signed_doc *d)
{
	anfu_sigkey_free(d->key);
	anfu_sigkey_free(d->pub);
	free(d->doc);
}

/* doc with the first occurrence of from replaced by to (same length or
 * not), verified with d's public key. */
static int verify_changed(const struct signed_doc *d, const char *from, const char *to)
{
	const char *at = strstr(d->doc, from);
	struct anfu_buf b;
	json_t *body = NULL;
	int r;

	assert_non_null(at);
	anfu_buf_init(&b, 1 << 16);
	assert_int_equal(anfu_buf_append(&b, d->doc, (size_t)(at - d->doc)), 0);
	assert_int_equal(anfu_buf_appends(&b, to), 0);
	assert_int_equal(anfu_buf_appends(&b, at + strlen(from)), 0);
	r = anfu_receipt_verify(b.data, b.len, d->pub, d->kid, &body);
	assert_true(r < 0 || body != NULL);
	json_decref(body);
	anfu_buf_free(&b);
	return r;
}

static void check_alg(enum anfu_sig_alg alg)
{
	struct signed_doc d = { 0 };
	json_t *body = NULL, *parsed;
	struct anfu_buf b;
	char sigpart[16];

	make_doc(alg, &d);
	/* The document is canonical itself, and names the facts. */
	parsed = json_loads(d.doc, 0, NULL);
	assert_non_null(parsed);
	anfu_buf_init(&b, 1 << 16);
	assert_int_equal(anfu_receipt_canonical(parsed, &b), 0);
	assert_string_equal(b.data, d.doc);
	anfu_buf_free(&b);
	json_decref(parsed);
	assert_non_null(strstr(d.doc, "\"amount\":1234,\"currency\":\"CNY\""));
	assert_non_null(strstr(d.doc, "\"memo\":\"\xe5\x8d\x88\xe9\xa5\xad \\\"AA\\\"\\n\""));
	assert_null(strstr(d.doc, "usr_payer")); /* access ids stay out */

	assert_int_equal(anfu_receipt_verify(d.doc, d.len, d.pub, d.kid, &body), 0);
	assert_int_equal(json_integer_value(json_object_get(body, "amount")), 1234);
	json_decref(body);

	/* Tampered body, tampered signature, another key id, other shapes. */
	assert_int_equal(verify_changed(&d, "\"amount\":1234", "\"amount\":1235"), ANFU_ECRYPTO);
	assert_int_equal(verify_changed(&d, "*\xe5\x9b\x9b", "*\xe4\xba\x94"), ANFU_ECRYPTO);
	assert_int_equal(verify_changed(&d, "\"time_ms\":", "\"extra\":1,\"time_ms\":"),
			 ANFU_ECRYPTO);
	memcpy(sigpart, strstr(d.doc, "\"sig\":\""), 10);
	sigpart[10] = '\0';
	{
		char flipped[16];

		memcpy(flipped, sigpart, sizeof(flipped));
		flipped[8] = flipped[8] == 'A' ? 'B' : 'A';
		assert_int_equal(verify_changed(&d, sigpart, flipped), ANFU_ECRYPTO);
	}
	assert_int_equal(verify_changed(&d, "\"kid\":\"", "\"kid\":\"x"), ANFU_ENOTFOUND);
	assert_int_equal(verify_changed(&d, "{\"alg\":", "{\"alg\":\"x\",\"alg\":"), ANFU_EINVAL);
	assert_int_equal(verify_changed(&d, "\"sig\":", "\"note\":1,\"sig\":"), ANFU_EINVAL);
	assert_int_equal(verify_changed(&d, "{", "["), ANFU_EINVAL);
	/* The signature over the exact content: the same body keyed by
	 * another key pair does not verify (the kid is not the check). */
	{
		struct signed_doc other = { 0 };

		make_doc(alg, &other);
		assert_int_equal(anfu_receipt_verify(d.doc, d.len, other.pub, d.kid, &body),
				 ANFU_ECRYPTO);
		drop_doc(&other);
	}
	drop_doc(&d);
}

static void test_ed25519_receipt_verifies_and_refuses_tampering(void **state)
{
	(void)state;
	check_alg(ANFU_SIG_ED25519);
}

static void test_sm2_receipt_verifies_and_refuses_tampering(void **state)
{
	(void)state;
	check_alg(ANFU_SIG_SM2);
}

static void test_document_of_another_algorithm_is_refused(void **state)
{
	struct signed_doc d = { 0 }, e = { 0 };
	json_t *body = NULL;

	(void)state;
	make_doc(ANFU_SIG_ED25519, &d);
	make_doc(ANFU_SIG_SM2, &e);
	/* A receipt claiming ed25519 checked with an SM2 key of that id. */
	assert_int_equal(anfu_receipt_verify(d.doc, d.len, e.pub, d.kid, &body), ANFU_ENOTFOUND);
	assert_null(body);
	drop_doc(&d);
	drop_doc(&e);
}

static int fake_facts(void *ud, struct anfu_db *db, const char *ref, struct anfu_receipt_facts *ret)
{
	(void)ud;
	(void)db;
	(void)ref;
	(void)ret;
	return ANFU_ENOTFOUND;
}

static void test_register_refuses_bad_and_duplicate_kinds(void **state)
{
	struct anfu_receipt_deps d = { .tx = (struct anfu_tx_exec *)state,
				       .alg = ANFU_SIG_ED25519 };
	struct anfu_receipt *r = NULL;
	char kind[8], dir[FIXTURE_DIR_MAX];

	assert_int_equal(anfu_sigkey_generate(ANFU_SIG_ED25519, &d.pub), 0);
	d.key = NULL;
	/* Without a key: refused, and what was handed over is freed. */
	assert_int_equal(anfu_receipt_new(&d, &r), ANFU_EINVAL);
	assert_null(d.pub);
	assert_null(r);
	assert_int_equal(fixture_mkdtemp("receipt", dir), 0);
	assert_int_equal(anfu_keys_named_open(dir, "receipt", ANFU_SIG_ED25519, &d.key), 0);
	assert_int_equal(anfu_sigkey_generate(ANFU_SIG_ED25519, &d.pub), 0);
	assert_int_equal(anfu_receipt_new(&d, &r), 0);
	assert_null(d.key);
	assert_int_equal(anfu_receipt_register(r, "wallet_transfer", fake_facts, NULL), 0);
	assert_int_equal(anfu_receipt_register(r, "wallet_transfer", fake_facts, NULL),
			 ANFU_EINVAL);
	assert_int_equal(anfu_receipt_register(r, "Wallet", fake_facts, NULL), ANFU_EINVAL);
	assert_int_equal(anfu_receipt_register(r, "", fake_facts, NULL), ANFU_EINVAL);
	assert_int_equal(
		anfu_receipt_register(r, "a_kind_name_longer_than_31_bytes", fake_facts, NULL),
		ANFU_EINVAL);
	assert_int_equal(anfu_receipt_register(r, "pay", NULL, NULL), ANFU_EINVAL);
	for (int i = 1; i < ANFU_LIMIT_RECEIPT_KINDS; i++) {
		(void)snprintf(kind, sizeof(kind), "k%c", 'a' + i);
		assert_int_equal(anfu_receipt_register(r, kind, fake_facts, NULL), 0);
	}
	assert_int_equal(anfu_receipt_register(r, "one_too_many", fake_facts, NULL), ANFU_ELIMIT);
	anfu_receipt_free(r);
	assert_int_equal(fixture_rmtree(dir), 0);
}

/* anfu_receipt_sign_json (pay's agreements): the canonical body signed by
 * the receipt key in the receipts' document form, its kid the key's; it
 * verifies with the public half and a changed byte does not. */
static void test_sign_json_signs_another_modules_record(void **state)
{
	struct anfu_receipt_deps d = { .tx = (struct anfu_tx_exec *)state,
				       .alg = ANFU_SIG_ED25519 };
	struct anfu_receipt *r = NULL;
	struct anfu_sigkey *pub = NULL;
	char dir[FIXTURE_DIR_MAX], path[FIXTURE_DIR_MAX + 32], kid[ANFU_KID_MAX];
	json_t *in = json_pack("{s:s, s:I, s:s}", "type", "anfu.pay.agreement", "period_max",
			       (json_int_t)8000, "scope", "\xe5\x81\xa5\xe8\xba\xab");
	json_t *body = NULL;
	char *doc = NULL;
	size_t len = 0;

	assert_int_equal(fixture_mkdtemp("receiptsj", dir), 0);
	assert_int_equal(anfu_keys_named_open(dir, "receipt", ANFU_SIG_ED25519, &d.key), 0);
	(void)snprintf(path, sizeof(path), "%s/keys/receipt.pub", dir);
	assert_int_equal(anfu_keys_peer_load(path, &d.pub), 0);
	assert_int_equal(anfu_keys_peer_load(path, &pub), 0);
	assert_int_equal(anfu_receipt_new(&d, &r), 0);
	assert_int_equal(anfu_receipt_sign_json(r, in, &doc, &len, kid), 0);
	assert_int_equal(len, strlen(doc));
	assert_int_equal(anfu_receipt_verify(doc, len, pub, kid, &body), 0);
	assert_true(json_equal(body, in));
	json_decref(body);
	body = NULL;
	/* 8000 -> 9000 in the body: refused. */
	{
		char *at = strstr(doc, "8000");

		assert_non_null(at);
		at[0] = '9';
		assert_int_equal(anfu_receipt_verify(doc, len, pub, kid, &body), ANFU_ECRYPTO);
	}
	assert_int_equal(anfu_receipt_sign_json(r, NULL, &doc, &len, kid), ANFU_EINVAL);
	free(doc);
	json_decref(in);
	anfu_sigkey_free(pub);
	anfu_receipt_free(r);
	assert_int_equal(fixture_rmtree(dir), 0);
}

#define T(f) cmocka_unit_test(f)
int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_canonical_form_is_pythons),
		T(test_canonical_refuses_reals_and_deep_nesting),
		T(test_ed25519_receipt_verifies_and_refuses_tampering),
		T(test_sm2_receipt_verifies_and_refuses_tampering),
		T(test_document_of_another_algorithm_is_refused),
		T(test_register_refuses_bad_and_duplicate_kinds),
		T(test_sign_json_signs_another_modules_record),
	};

	return cmocka_run_group_tests(tests, fixture_group_setup, NULL);
}
