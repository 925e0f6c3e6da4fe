/*
 * tests/unit/test_audit: the hash-chained, signed audit log (src/audit/).
 *
 * Each test gets a fresh data directory with real keys (anfu_keys_init_dir),
 * a migrated SQLite database and a checkpoint file. Tamper tests drop the
 * append-only triggers and edit rows with raw SQL, as an attacker with the
 * database file would, and check that verification names the first bad
 * sequence number.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "audit/audit.h"
#include "audit/internal.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/profile.h"
#include "crypto/crypto.h"
#include "keys/keys.h"
#include "store/store.h"

#include "fixture.h"

static const struct anfu_actor test_actor = {
	.id = "usr_4kQm2yXz9bT7wLcVr3Jd0a",
	.type = "operator",
	.role = "auditor,admin",
	.ip = "2001:db8::7",
	.device = "dev_laptop_1",
	.request_id = "req_0001",
};

/* An audit fixture under profile cp that checkpoints every ck_records
 * records; fails the test if it cannot be built. */
static struct anfu_fixture *fix_new(enum anfu_crypto_profile cp, int ck_records)
{
	const struct anfu_fixture_opts opts = { .name = "audit",
						.profile = cp,
						.checkpoint_records = ck_records };
	struct anfu_fixture *f = NULL;

	assert_int_equal(fixture_open(FIXTURE_AUDIT, &opts, &f), 0);
	return f;
}

static int setup(void **state)
{
	*state = fix_new(ANFU_CRYPTO_INTL, 1000);
	return 0;
}

/* ---- helpers ------------------------------------------------------------ */

static int append_one(struct anfu_fixture *f, int i, int64_t *ret_seq)
{
	char oid[32];
	json_t *d = json_pack("{s:i, s:s}", "i", i, "note", "line\nbreak \"quoted\" \\ é");
	struct anfu_audit_event ev = { &test_actor, "test.event", "thing", oid, "success", d };
	int r;

	(void)snprintf(oid, sizeof(oid), "thing_%d", i);
	r = anfu_audit_append(f->audit, f->db, &ev, ret_seq);
	json_decref(d);
	return r;
}

static void append_n(struct anfu_fixture *f, int n)
{
	assert_int_equal(anfu_db_begin(f->db), 0);
	for (int i = 0; i < n; i++)
		assert_int_equal(append_one(f, i, NULL), 0);
	assert_int_equal(anfu_db_commit(f->db), 0);
}

static void checkpoint(struct anfu_fixture *f, int64_t expect_seq)
{
	int64_t seq = -1;

	assert_int_equal(anfu_audit_checkpoint(f->audit, f->db, false, &seq), 0);
	assert_int_equal(seq, expect_seq);
}

static void sql(struct anfu_db *db, const char *text)
{
	assert_int_equal(anfu_db_exec(db, text, NULL, 0, NULL, NULL, NULL), 0);
}

static void sql_i(struct anfu_db *db, const char *text, int64_t v)
{
	const struct anfu_param p[] = { ANFU_PI(v) };

	assert_int_equal(anfu_db_exec(db, text, p, 1, NULL, NULL, NULL), 0);
}

static void drop_triggers(struct anfu_fixture *f)
{
	sql(f->db, "DROP TRIGGER audit_log_no_update");
	sql(f->db, "DROP TRIGGER audit_log_no_delete");
	sql(f->db, "DROP TRIGGER audit_checkpoint_no_update");
	sql(f->db, "DROP TRIGGER audit_checkpoint_no_delete");
	sql(f->db, "DROP TRIGGER audit_head_no_delete");
}

/* Verifies the database; returns 0 when it verifies, else the first bad
 * sequence number reported. */
static int64_t verify(struct anfu_fixture *f)
{
	struct anfu_audit_report rep;
	int r = anfu_audit_verify(f->db, f->hash, f->audit_pub, f->ckfile, NULL, &rep);

	if (r == 0) {
		assert_int_equal(rep.first_bad_seq, 0);
		return 0;
	}
	assert_int_equal(r, ANFU_ECORRUPT);
	assert_true(rep.first_bad_seq > 0);
	assert_true(rep.problem[0] != '\0');
	print_message("verify: seq %lld: %s\n", (long long)rep.first_bad_seq, rep.problem);
	return rep.first_bad_seq;
}

struct text {
	char v[FIXTURE_TEXT_MAX];
};

static void text_of(struct anfu_db *db, const char *q, int64_t seq, struct text *out)
{
	const struct anfu_param p[] = { ANFU_PI(seq) };

	assert_int_equal(anfu_db_exec(db, q, p, 1, fixture_row_text, out->v, NULL), 0);
}

static char *export_mem(struct anfu_fixture *f, size_t *ret_len)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	assert_non_null(out);
	assert_int_equal(anfu_audit_export(f->audit, f->db, out), 0);
	assert_int_equal(fclose(out), 0);
	*ret_len = len;
	return buf;
}

static int verify_mem(const struct anfu_sigkey *pub, const char *buf, size_t len,
		      struct anfu_audit_report *rep)
{
	FILE *in = fmemopen((void *)buf, len, "r");
	int r;

	assert_non_null(in);
	r = anfu_audit_verify_export(in, pub, rep);
	(void)fclose(in);
	return r;
}

/* 30 records, checkpoints at 10 and 20 (database and file), 30 unsealed. */
static void standard_log(struct anfu_fixture *f)
{
	append_n(f, 10);
	checkpoint(f, 10);
	append_n(f, 10);
	checkpoint(f, 20);
	append_n(f, 10);
}

/* ---- appending and verifying ------------------------------------------- */

/* req: AUD-STO-02 */
static void test_appended_chain_verifies(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_audit_report rep;

	standard_log(f);
	checkpoint(f, 30);
	assert_int_equal(anfu_audit_verify(f->db, f->hash, f->audit_pub, f->ckfile, NULL, &rep), 0);
	assert_int_equal(rep.records, 30);
	assert_int_equal(rep.checkpoints, 6); /* 3 in the database, 3 in the file */
	assert_int_equal(rep.first_bad_seq, 0);
}

/* req: AUD-CNT-01 */
static void test_record_holds_every_required_field(void **state)
{
	struct anfu_fixture *f = *state;
	struct text t;
	int64_t seq = 0, ts = 0;
	const struct anfu_param p[] = { ANFU_PI(1) };

	assert_int_equal(anfu_db_begin(f->db), 0);
	assert_int_equal(append_one(f, 7, &seq), 0);
	assert_int_equal(anfu_db_commit(f->db), 0);
	assert_int_equal(seq, 1);
	assert_int_equal(
		anfu_db_query_int(f->db, "SELECT ts_ms FROM audit_log WHERE seq = $1", p, 1, &ts),
		0);
	assert_true(ts > 1600000000000LL);
	text_of(f->db, "SELECT actor_id FROM audit_log WHERE seq = $1", 1, &t);
	assert_string_equal(t.v, test_actor.id);
	text_of(f->db, "SELECT actor_role FROM audit_log WHERE seq = $1", 1, &t);
	assert_string_equal(t.v, "auditor,admin");
	text_of(f->db, "SELECT source_ip FROM audit_log WHERE seq = $1", 1, &t);
	assert_string_equal(t.v, "2001:db8::7");
	text_of(f->db, "SELECT device FROM audit_log WHERE seq = $1", 1, &t);
	assert_string_equal(t.v, "dev_laptop_1");
	text_of(f->db,
		"SELECT action || '|' || object_type || '|' || object_id || '|' || outcome "
		"FROM audit_log WHERE seq = $1",
		1, &t);
	assert_string_equal(t.v, "test.event|thing|thing_7|success");
	text_of(f->db, "SELECT prev_hash FROM audit_log WHERE seq = $1", 1, &t);
	assert_string_equal(t.v,
			    "0000000000000000000000000000000000000000000000000000000000000000");
}

static void test_details_are_stored_compact_with_sorted_keys(void **state)
{
	struct anfu_fixture *f = *state;
	json_t *d = json_pack("{s:i, s:s, s:{s:b}}", "zeta", 1, "alpha", "x", "mid", "k", 1);
	struct anfu_audit_event ev = { &test_actor, "test.details", "", "", "success", d };
	struct anfu_audit_event none = { &test_actor, "test.none", "", "", "failure", NULL };
	struct text t;

	assert_int_equal(anfu_db_begin(f->db), 0);
	assert_int_equal(anfu_audit_append(f->audit, f->db, &ev, NULL), 0);
	assert_int_equal(anfu_audit_append(f->audit, f->db, &none, NULL), 0);
	assert_int_equal(anfu_db_commit(f->db), 0);
	json_decref(d);
	text_of(f->db, "SELECT details FROM audit_log WHERE seq = $1", 1, &t);
	assert_string_equal(t.v, "{\"alpha\":\"x\",\"mid\":{\"k\":true},\"zeta\":1}");
	text_of(f->db, "SELECT details FROM audit_log WHERE seq = $1", 2, &t);
	assert_string_equal(t.v, "{}");
}

/* Details made by anfu_audit_details_text are byte for byte jansson's
 * compact sorted dump of the same object (what an append of a json_t
 * stores), for integers at their limits, null, empty and plain strings,
 * and strings jansson escapes or that carry UTF-8; and an append stores
 * the text as it is. */
static void test_details_text_is_what_jansson_would_store(void **state)
{
	static const char *const strs[] = {
		"",
		"CNY",
		"acc_0123456789abcdefghijklm",
		"a\"quote",
		"back\\slash",
		"line\nfeed",
		"tab\tand\rcr",
		"\x01\x1f ctl",
		"del\x7f",
		"slash/ok",
		"支付 ok",
		"\xe2\x80\xa8 ls",
	};
	static const int64_t ints[] = { 0, -1, 1, INT64_MAX, INT64_MIN, 123456789012345 };
	struct anfu_fixture *f = *state;
	struct text t;

	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		const int64_t v = ints[i % (sizeof(ints) / sizeof(ints[0]))];
		const struct anfu_audit_kv kv[] = {
			{ .key = "amount", .i = v, .is_int = true },
			{ .key = "b_null", .s = NULL },
			{ .key = "code", .s = strs[i] },
			{ .key = "z", .s = strs[(i + 1) % (sizeof(strs) / sizeof(strs[0]))] },
		};
		json_t *o = json_pack("{s:I, s:n, s:s, s:s}", "amount", (json_int_t)v, "b_null",
				      "code", kv[2].s, "z", kv[3].s);
		struct anfu_buf want, got;

		assert_non_null(o);
		anfu_buf_init(&want, 4096);
		anfu_buf_init(&got, 4096);
		{
			char *dump = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);

			assert_non_null(dump);
			assert_int_equal(anfu_buf_appends(&want, dump), 0);
			free(dump);
		}
		assert_int_equal(anfu_audit_details_text(&got, kv, 4), 0);
		assert_int_equal(got.len, want.len);
		assert_memory_equal(got.data, want.data, want.len);
		if (i == 3) {
			struct anfu_audit_event ev = { &test_actor, "test.kv", "",	"",
						       "success",   NULL,      got.data };

			assert_int_equal(anfu_db_begin(f->db), 0);
			assert_int_equal(anfu_audit_append(f->audit, f->db, &ev, NULL), 0);
			assert_int_equal(anfu_db_commit(f->db), 0);
			text_of(f->db, "SELECT details FROM audit_log WHERE seq = $1", 1, &t);
			assert_string_equal(t.v, want.data);
		}
		json_decref(o);
		anfu_buf_free(&want);
		anfu_buf_free(&got);
	}
	{
		const struct anfu_audit_kv none[1] = { { .key = "x" } };
		struct anfu_buf b;

		anfu_buf_init(&b, 64);
		assert_int_equal(anfu_audit_details_text(&b, none, 0), 0);
		assert_string_equal(b.data, "{}");
		anfu_buf_free(&b);
	}
}

/* The text builder refuses what an append refuses of a json_t: a
 * credential-like key, a string that is not UTF-8, details beyond the
 * size limit (and at the limit they pass). req: AUD-CNT-01 */
static void test_details_text_refuses_secrets_bad_utf8_and_oversize(void **state)
{
	static const char *const secret[] = { "password", "pin_hash", "access_token",
					      "client_secret" };
	char *big = malloc(ANFU_LIMIT_AUDIT_DETAILS_BYTES + 2);
	struct anfu_buf b;
	size_t room = ANFU_LIMIT_AUDIT_DETAILS_BYTES - sizeof("{\"k\":\"\"}") + 1;

	(void)state;
	assert_non_null(big);
	for (size_t i = 0; i < sizeof(secret) / sizeof(secret[0]); i++) {
		const struct anfu_audit_kv kv[] = { { .key = secret[i], .s = "x" } };

		anfu_buf_init(&b, 4096);
		assert_int_equal(anfu_audit_details_text(&b, kv, 1), ANFU_EINVAL);
		anfu_buf_free(&b);
	}
	{
		const struct anfu_audit_kv kv[] = { { .key = "k", .s = "bad \xff utf8" } };

		anfu_buf_init(&b, 4096);
		assert_int_equal(anfu_audit_details_text(&b, kv, 1), ANFU_EINVAL);
		anfu_buf_free(&b);
	}
	memset(big, 'a', room);
	big[room] = '\0';
	{
		const struct anfu_audit_kv kv[] = { { .key = "k", .s = big } };

		anfu_buf_init(&b, ANFU_LIMIT_AUDIT_DETAILS_BYTES * 2);
		assert_int_equal(anfu_audit_details_text(&b, kv, 1), 0);
		assert_int_equal(b.len, ANFU_LIMIT_AUDIT_DETAILS_BYTES);
		anfu_buf_free(&b);
		big[room] = 'a';
		big[room + 1] = '\0';
		anfu_buf_init(&b, ANFU_LIMIT_AUDIT_DETAILS_BYTES * 2);
		assert_int_equal(anfu_audit_details_text(&b, kv, 1), ANFU_ELIMIT);
		anfu_buf_free(&b);
	}
	free(big);
}

static void test_chain_length_follows_appends_and_checkpoints(void **state)
{
	struct anfu_fixture *f = *state;

	assert_int_equal(anfu_audit_chain_length(f->audit), 0);
	append_n(f, 3);
	assert_int_equal(anfu_audit_chain_length(f->audit), 3);
	checkpoint(f, 3);
	assert_int_equal(anfu_audit_chain_length(f->audit), 3);
}

/* ---- append-only in the database --------------------------------------- */

/* req: AUD-PROT-01 */
static void test_update_of_a_record_is_refused(void **state)
{
	struct anfu_fixture *f = *state;

	append_n(f, 2);
	assert_int_equal(anfu_db_exec(f->db, "UPDATE audit_log SET outcome = 'denied'", NULL, 0,
				      NULL, NULL, NULL),
			 ANFU_ECONFLICT);
	assert_int_equal(verify(f), 0);
}

/* req: AUD-PROT-01 */
static void test_delete_of_a_record_is_refused(void **state)
{
	struct anfu_fixture *f = *state;

	append_n(f, 2);
	assert_int_equal(anfu_db_exec(f->db, "DELETE FROM audit_log WHERE seq = 2", NULL, 0, NULL,
				      NULL, NULL),
			 ANFU_ECONFLICT);
	assert_int_equal(fixture_count(f->db, "SELECT count(*) FROM audit_log", NULL), 2);
}

/* req: AUD-PROT-01 */
static void test_checkpoints_and_head_cannot_be_changed_or_deleted(void **state)
{
	struct anfu_fixture *f = *state;

	append_n(f, 2);
	checkpoint(f, 2);
	assert_int_equal(anfu_db_exec(f->db, "UPDATE audit_checkpoint SET ts_ms = 0", NULL, 0, NULL,
				      NULL, NULL),
			 ANFU_ECONFLICT);
	assert_int_equal(
		anfu_db_exec(f->db, "DELETE FROM audit_checkpoint", NULL, 0, NULL, NULL, NULL),
		ANFU_ECONFLICT);
	assert_int_equal(anfu_db_exec(f->db, "DELETE FROM audit_head", NULL, 0, NULL, NULL, NULL),
			 ANFU_ECONFLICT);
	assert_int_equal(verify(f), 0);
}

/* ---- tampering with the triggers dropped ------------------------------- */

/* Changes to any one stored field of record 7, each inside a transaction
 * that is rolled back afterwards (verify reads the uncommitted change). */
static const char *const field_tampers[] = {
	"UPDATE audit_log SET ts_ms = ts_ms + 1 WHERE seq = $1",
	"UPDATE audit_log SET actor_id = 'usr_attacker' WHERE seq = $1",
	"UPDATE audit_log SET actor_type = 'system' WHERE seq = $1",
	"UPDATE audit_log SET actor_role = 'admin' WHERE seq = $1",
	"UPDATE audit_log SET source_ip = '10.0.0.1' WHERE seq = $1",
	"UPDATE audit_log SET device = '' WHERE seq = $1",
	"UPDATE audit_log SET request_id = 'req_x' WHERE seq = $1",
	"UPDATE audit_log SET action = 'test.other' WHERE seq = $1",
	"UPDATE audit_log SET object_type = 'other' WHERE seq = $1",
	"UPDATE audit_log SET object_id = 'thing_99' WHERE seq = $1",
	"UPDATE audit_log SET outcome = 'failure' WHERE seq = $1",
	"UPDATE audit_log SET details = '{\"i\":99}' WHERE seq = $1",
	"UPDATE audit_log SET prev_hash = hash WHERE seq = $1",
	"UPDATE audit_log SET hash = prev_hash WHERE seq = $1",
	/* Moving content between fields keeps the concatenation equal. */
	"UPDATE audit_log SET object_type = object_type || substr(object_id, 1, 1), "
	"object_id = substr(object_id, 2) WHERE seq = $1",
};

/* req: AUD-STO-02 */
static void test_verify_names_a_changed_field(void **state)
{
	struct anfu_fixture *f = *state;

	standard_log(f);
	drop_triggers(f);
	for (size_t i = 0; i < sizeof(field_tampers) / sizeof(field_tampers[0]); i++) {
		assert_int_equal(anfu_db_begin(f->db), 0);
		sql_i(f->db, field_tampers[i], 7);
		assert_int_equal(verify(f), 7);
		assert_int_equal(anfu_db_rollback(f->db), 0);
	}
	assert_int_equal(verify(f), 0);
}

/* req: AUD-STO-02 */
static void test_verify_names_a_record_deleted_in_the_middle(void **state)
{
	struct anfu_fixture *f = *state;

	standard_log(f);
	drop_triggers(f);
	sql(f->db, "DELETE FROM audit_log WHERE seq = 14");
	assert_int_equal(verify(f), 14);
}

/* req: AUD-STO-02 */
static void test_verify_names_an_inserted_record(void **state)
{
	struct anfu_fixture *f = *state;

	standard_log(f);
	drop_triggers(f);
	/* Make room at 15 and insert a record there that claims to follow 14. */
	sql(f->db, "UPDATE audit_log SET seq = seq + 1000 WHERE seq >= 15");
	sql(f->db, "UPDATE audit_log SET seq = seq - 999 WHERE seq >= 1000");
	sql(f->db, "INSERT INTO audit_log SELECT 15, ts_ms, actor_id, actor_type, actor_role, "
		   "source_ip, device, request_id, 'test.forged', object_type, object_id, outcome, "
		   "details, hash, hash FROM audit_log WHERE seq = 14");
	assert_int_equal(verify(f), 15);
}

/* An attacker who computes the forged record's hash correctly: the forged
 * record itself is consistent, so the chain breaks at the record after. */
static void test_verify_names_the_record_after_a_well_hashed_insertion(void **state)
{
	struct anfu_fixture *f = *state;
	struct audit_rec r;
	struct text prev;
	uint8_t praw[ANFU_HASH_LEN], h[ANFU_HASH_LEN];
	char hex[AUDIT_HEX_LEN + 1];

	standard_log(f);
	drop_triggers(f);
	sql(f->db, "UPDATE audit_log SET seq = seq + 1000 WHERE seq >= 15");
	sql(f->db, "UPDATE audit_log SET seq = seq - 999 WHERE seq >= 1000");
	text_of(f->db, "SELECT hash FROM audit_log WHERE seq = $1", 14, &prev);
	memset(&r, 0, sizeof(r));
	r.seq = 15;
	r.ts_ms = 1700000000000LL;
	for (int i = 0; i < AF_COUNT; i++)
		r.f[i] = anfu_str_c("forged");
	r.f[AF_DETAILS] = anfu_str_c("{}");
	assert_int_equal(anfu_hex_decode(prev.v, AUDIT_HEX_LEN, praw, sizeof(praw)), 0);
	assert_int_equal(audit_rec_hash(f->hash, praw, &r, h), 0);
	anfu_hex_encode(h, sizeof(h), hex);
	{
		const struct anfu_param p[] = { ANFU_PSN(prev.v, strlen(prev.v)),
						ANFU_PSN(hex, strlen(hex)) };

		assert_int_equal(anfu_db_exec(f->db,
					      "INSERT INTO audit_log VALUES (15, 1700000000000, "
					      "'forged', 'forged', 'forged', 'forged', 'forged', "
					      "'forged', 'forged', 'forged', 'forged', 'forged', "
					      "'{}', $1, $2)",
					      p, 2, NULL, NULL, NULL),
				 0);
	}
	assert_int_equal(verify(f), 16);
}

/* req: AUD-STO-02 */
static void test_verify_names_an_appended_record_beyond_the_head(void **state)
{
	struct anfu_fixture *f = *state;

	standard_log(f);
	drop_triggers(f);
	sql(f->db, "INSERT INTO audit_log SELECT 31, ts_ms, actor_id, actor_type, actor_role, "
		   "source_ip, device, request_id, action, object_type, object_id, outcome, "
		   "details, hash, hash FROM audit_log WHERE seq = 30");
	assert_int_equal(verify(f), 31);
}

/* req: AUD-STO-02 */
static void test_verify_names_the_first_of_two_swapped_records(void **state)
{
	struct anfu_fixture *f = *state;

	standard_log(f);
	drop_triggers(f);
	/* Swap every column but seq between records 5 and 9. */
	sql(f->db, "UPDATE audit_log SET seq = -5 WHERE seq = 5");
	sql(f->db, "UPDATE audit_log SET seq = 5 WHERE seq = 9");
	sql(f->db, "UPDATE audit_log SET seq = 9 WHERE seq = -5");
	assert_int_equal(verify(f), 5);
}

/* req: AUD-STO-02 */
static void test_verify_names_truncation_behind_the_last_checkpoint(void **state)
{
	struct anfu_fixture *f = *state;
	struct text h;

	standard_log(f);
	drop_triggers(f);
	/* Cut back to 17 and make the head agree: the checkpoint at 20 (in
	 * the database and the file) still covers 18..20. */
	sql(f->db, "DELETE FROM audit_log WHERE seq > 17");
	text_of(f->db, "SELECT hash FROM audit_log WHERE seq = $1", 17, &h);
	{
		const struct anfu_param p[] = { ANFU_PSN(h.v, strlen(h.v)) };

		assert_int_equal(
			anfu_db_exec(f->db,
				     "UPDATE audit_head SET seq = 17, hash = $1 WHERE id = 1", p, 1,
				     NULL, NULL, NULL),
			0);
	}
	assert_int_equal(verify(f), 18);
	/* Deleting the checkpoint rows too does not help: the file has them. */
	sql(f->db, "DELETE FROM audit_checkpoint WHERE seq > 17");
	assert_int_equal(verify(f), 18);
}

/* The boundary of the rule above: only the record a checkpoint covers last
 * is cut (and the head made to agree). req: AUD-STO-02 */
static void test_verify_names_the_one_record_cut_behind_its_checkpoint(void **state)
{
	struct anfu_fixture *f = *state;
	struct text h;

	append_n(f, 10);
	checkpoint(f, 10);
	drop_triggers(f);
	sql(f->db, "DELETE FROM audit_log WHERE seq = 10");
	text_of(f->db, "SELECT hash FROM audit_log WHERE seq = $1", 9, &h);
	{
		const struct anfu_param p[] = { ANFU_PSN(h.v, strlen(h.v)) };

		assert_int_equal(
			anfu_db_exec(f->db, "UPDATE audit_head SET seq = 9, hash = $1 WHERE id = 1",
				     p, 1, NULL, NULL, NULL),
			0);
	}
	assert_int_equal(verify(f), 10);
}

/* Only the last record is cut: the head row, at 30, names 30 as missing.
 * req: AUD-STO-02 */
static void test_verify_names_the_last_record_cut_from_the_tail(void **state)
{
	struct anfu_fixture *f = *state;

	standard_log(f);
	drop_triggers(f);
	sql(f->db, "DELETE FROM audit_log WHERE seq = 30");
	assert_int_equal(verify(f), 30);
}

static void test_verify_names_records_cut_from_the_tail(void **state)
{
	struct anfu_fixture *f = *state;

	standard_log(f);
	drop_triggers(f);
	sql(f->db, "DELETE FROM audit_log WHERE seq > 28");
	assert_int_equal(verify(f), 29);
}

/* req: AUD-STO-02 */
static void test_verify_names_a_checkpoint_only_in_the_file(void **state)
{
	struct anfu_fixture *f = *state;

	standard_log(f);
	drop_triggers(f);
	sql(f->db, "DELETE FROM audit_checkpoint WHERE seq = 10");
	assert_int_equal(verify(f), 10);
}

static void test_checkpoint_only_in_the_database_is_accepted(void **state)
{
	struct anfu_fixture *f = *state;

	standard_log(f);
	/* A crash between the commit and the file append. */
	assert_int_equal(truncate(f->ckfile, 0), 0);
	assert_int_equal(verify(f), 0);
}

/* req: AUD-STO-02 */
static void test_verify_names_a_forged_checkpoint_signature(void **state)
{
	struct anfu_fixture *f = *state;

	standard_log(f);
	drop_triggers(f);
	/* Flip the last hex digit of the signature. */
	sql(f->db, "UPDATE audit_checkpoint SET signature = substr(signature, 1, "
		   "length(signature) - 1) || CASE substr(signature, -1) WHEN '0' THEN '1' "
		   "ELSE '0' END WHERE seq = 10");
	assert_int_equal(verify(f), 10);
}

/* A forged signature that the checkpoint file does not contradict (the file
 * lost its lines, which alone is allowed: a crash between commit and
 * append) is still caught by the signature itself. req: AUD-STO-02 */
static void test_verify_names_a_forged_signature_the_file_does_not_contradict(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_audit_report rep;

	standard_log(f);
	drop_triggers(f);
	assert_int_equal(truncate(f->ckfile, 0), 0);
	assert_int_equal(verify(f), 0);
	sql(f->db, "UPDATE audit_checkpoint SET signature = substr(signature, 1, "
		   "length(signature) - 1) || CASE substr(signature, -1) WHEN '0' THEN '1' "
		   "ELSE '0' END WHERE seq = 10");
	assert_int_equal(anfu_audit_verify(f->db, f->hash, f->audit_pub, f->ckfile, NULL, &rep),
			 ANFU_ECORRUPT);
	assert_int_equal(rep.first_bad_seq, 10);
	assert_non_null(strstr(rep.problem, "signature does not verify"));
}

static void test_verify_names_a_checkpoint_whose_head_was_changed(void **state)
{
	struct anfu_fixture *f = *state;

	standard_log(f);
	drop_triggers(f);
	sql(f->db, "UPDATE audit_checkpoint SET head_hash = (SELECT hash FROM audit_log WHERE "
		   "seq = 9) WHERE seq = 10");
	assert_int_equal(verify(f), 10);
}

static void test_verify_names_an_edited_checkpoint_file_line(void **state)
{
	struct anfu_fixture *f = *state;
	FILE *fp;
	char line[1024];

	standard_log(f);
	fp = fopen(f->ckfile, "r+");
	assert_non_null(fp);
	assert_non_null(fgets(line, sizeof(line), fp));
	/* line 1 is checkpoint 10; change a digit of its ts_ms */
	{
		char *ts = strstr(line, "\"ts_ms\":");

		assert_non_null(ts);
		ts += 8;
		*ts = *ts == '1' ? '2' : '1';
		assert_int_equal(fseek(fp, 0, SEEK_SET), 0);
		assert_int_equal(fputs(line, fp) >= 0, 1);
	}
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(verify(f), 10);
}

static void append_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "a");

	assert_non_null(fp);
	assert_true(fputs(text, fp) >= 0);
	assert_int_equal(fclose(fp), 0);
}

static void test_verify_names_a_checkpoint_line_written_twice(void **state)
{
	struct anfu_fixture *f = *state;
	char line[1024];
	FILE *fp;

	standard_log(f);
	fp = fopen(f->ckfile, "r");
	assert_non_null(fp);
	assert_non_null(fgets(line, sizeof(line), fp));
	assert_int_equal(fclose(fp), 0);
	append_file(f->ckfile, line);
	assert_int_equal(verify(f), 10);
}

static void test_verify_names_a_torn_checkpoint_file_line(void **state)
{
	struct anfu_fixture *f = *state;

	standard_log(f);
	append_file(f->ckfile, "{\"hash_alg\":\"sha256\",\"head\":\"00");
	assert_int_equal(verify(f), 21);
}

static int64_t progress_calls, progress_last, progress_total;

static void progress(int64_t done, int64_t total)
{
	progress_calls++;
	progress_last = done;
	progress_total = total;
}

static void test_verify_reports_progress_every_10000_records(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_audit_report rep;

	append_n(f, 10001);
	progress_calls = 0;
	assert_int_equal(anfu_audit_verify(f->db, f->hash, f->audit_pub, f->ckfile, progress, &rep),
			 0);
	assert_int_equal(progress_calls, 1);
	assert_int_equal(progress_last, 10000);
	assert_int_equal(progress_total, 10001);
	assert_int_equal(rep.records, 10001);
}

/* ---- fail closed --------------------------------------------------------- */

#ifdef ANFU_TEST_HOOKS
/* req: AUD-THR-01 */
static void test_injected_fault_fails_the_operation_and_changes_nothing(void **state)
{
	struct anfu_fixture *f = *state;
	int64_t seq = -7;

	append_n(f, 3);
	sql(f->db, "CREATE TABLE thing (id BIGINT NOT NULL PRIMARY KEY)");
	anfu_audit_inject_fault(f->audit, true);
	assert_int_equal(anfu_audit_ready(f->audit, f->db), ANFU_EAUDIT);
	assert_int_equal(anfu_db_begin(f->db), 0);
	sql(f->db, "INSERT INTO thing (id) VALUES (1)");
	assert_int_equal(append_one(f, 3, &seq), ANFU_EAUDIT);
	assert_int_equal(seq, -7);
	assert_int_equal(anfu_db_rollback(f->db), 0);
	assert_int_equal(fixture_count(f->db, "SELECT count(*) FROM thing", NULL), 0);
	assert_int_equal(fixture_count(f->db, "SELECT count(*) FROM audit_log", NULL), 3);
	assert_int_equal(fixture_count(f->db, "SELECT seq FROM audit_head", NULL), 3);
	anfu_audit_inject_fault(f->audit, false);
	assert_int_equal(anfu_audit_ready(f->audit, f->db), 0);
	assert_int_equal(verify(f), 0);
}
#endif

/* req: AUD-THR-01 */
static void test_full_database_fails_the_append_and_changes_nothing(void **state)
{
	struct anfu_fixture *f = *state;
	char big[12000];
	json_t *d;
	struct anfu_audit_event ev = { &test_actor, "test.big", "", "", "success", NULL };

	append_n(f, 3);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	d = json_pack("{s:s}", "note", big);
	ev.details = d;
	assert_int_equal(f->db->ops->limit_size(f->db, 0), 0);
	assert_int_equal(anfu_db_begin(f->db), 0);
	assert_int_equal(anfu_audit_append(f->audit, f->db, &ev, NULL), ANFU_EAUDIT);
	assert_int_equal(anfu_db_rollback(f->db), 0);
	json_decref(d);
	assert_int_equal(fixture_count(f->db, "SELECT count(*) FROM audit_log", NULL), 3);
	assert_int_equal(fixture_count(f->db, "SELECT seq FROM audit_head", NULL), 3);
	assert_int_equal(verify(f), 0);
}

static void test_append_outside_a_transaction_is_refused(void **state)
{
	struct anfu_fixture *f = *state;

	assert_int_equal(append_one(f, 0, NULL), ANFU_EAUDIT);
	assert_int_equal(fixture_count(f->db, "SELECT count(*) FROM audit_log", NULL), 0);
}

/* ---- batches ------------------------------------------------------------- */

#define BATCH_N 5

/* BATCH_N events like append_one()'s; details (owned by the caller, one
 * per event) in d. */
static void batch_events(struct anfu_audit_event evs[BATCH_N], json_t *d[BATCH_N],
			 char oids[BATCH_N][32])
{
	for (int i = 0; i < BATCH_N; i++) {
		d[i] = json_pack("{s:i, s:s}", "i", i, "note", "line\nbreak \"quoted\" \\ é");
		(void)snprintf(oids[i], 32, "thing_%d", i);
		evs[i] = (struct anfu_audit_event){ &test_actor, "test.event", "thing",
						    oids[i],	 "success",    d[i] };
	}
}

static void batch_free(json_t *d[BATCH_N])
{
	for (int i = 0; i < BATCH_N; i++)
		json_decref(d[i]);
}

/* The chain of the first BATCH_N records (each hash covers every field,
 * the time and the hash before it), one text per database. */
static void chain_text(struct anfu_fixture *f, struct anfu_buf *out)
{
	char row[FIXTURE_TEXT_MAX];

	for (int64_t seq = 1; seq <= BATCH_N; seq++) {
		char q[64];

		(void)snprintf(q, sizeof(q), "%lld", (long long)seq);
		fixture_text(f->db,
			     "SELECT seq || '|' || ts_ms || '|' || prev_hash || '|' || hash"
			     " FROM audit_log WHERE seq = CAST($1 AS INTEGER)",
			     q, row);
		assert_int_equal(anfu_buf_appends(out, row), 0);
		assert_int_equal(anfu_buf_appends(out, "\n"), 0);
	}
}

#ifdef ANFU_TEST_HOOKS
/* One batch of n records chains exactly as n single appends do (same
 * events, same time), and verifies. req: AUD-STO-02 */
static void test_batch_append_chains_as_single_appends_do(void **state)
{
	const struct anfu_fixture_opts opts = { .name = "auditb", .frozen_clock = true };
	struct anfu_fixture *one = NULL, *batch = NULL;
	struct anfu_audit_event evs[BATCH_N];
	json_t *d[BATCH_N];
	char oids[BATCH_N][32];
	struct anfu_buf a, b;
	int64_t first = 0;

	(void)state;
	batch_events(evs, d, oids);
	/* Both opened first: the clock stays frozen where the second left it. */
	assert_int_equal(fixture_open(FIXTURE_AUDIT, &opts, &one), 0);
	assert_int_equal(fixture_open(FIXTURE_AUDIT, &opts, &batch), 0);
	assert_int_equal(anfu_db_begin(one->db), 0);
	for (int i = 0; i < BATCH_N; i++)
		assert_int_equal(anfu_audit_append(one->audit, one->db, &evs[i], NULL), 0);
	assert_int_equal(anfu_db_commit(one->db), 0);
	assert_int_equal(anfu_db_begin(batch->db), 0);
	assert_int_equal(anfu_audit_append_batch(batch->audit, batch->db, evs, BATCH_N, &first), 0);
	assert_int_equal(anfu_db_commit(batch->db), 0);
	assert_int_equal(first, 1);
	anfu_buf_init(&a, 64 * 1024);
	anfu_buf_init(&b, 64 * 1024);
	chain_text(one, &a);
	chain_text(batch, &b);
	assert_string_equal(a.data, b.data);
	assert_int_equal(fixture_count(batch->db, "SELECT seq FROM audit_head", NULL), BATCH_N);
	assert_int_equal(anfu_audit_chain_length(batch->audit), BATCH_N);
	assert_int_equal(verify(batch), 0);
	anfu_buf_free(&a);
	anfu_buf_free(&b);
	batch_free(d);
	fixture_close(batch);
	fixture_close(one);
}
#endif

/* A batch that follows single appends goes on from their head. */
static void test_batch_append_continues_the_chain(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_audit_event evs[BATCH_N];
	json_t *d[BATCH_N];
	char oids[BATCH_N][32];
	int64_t first = 0;

	append_n(f, 3);
	batch_events(evs, d, oids);
	assert_int_equal(anfu_db_begin(f->db), 0);
	assert_int_equal(anfu_audit_append_batch(f->audit, f->db, evs, BATCH_N, &first), 0);
	assert_int_equal(anfu_db_commit(f->db), 0);
	assert_int_equal(first, 4);
	assert_int_equal(fixture_count(f->db, "SELECT seq FROM audit_head", NULL), 3 + BATCH_N);
	assert_int_equal(fixture_count(f->db, "SELECT count(*) FROM audit_log", NULL), 3 + BATCH_N);
	assert_int_equal(verify(f), 0);
	batch_free(d);
}

/* A refused event anywhere in the batch writes nothing of it, even
 * before the caller rolls back. req: AUD-CNT-01, AUD-THR-01 */
static void test_batch_with_a_bad_event_in_the_middle_appends_nothing(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_audit_event evs[BATCH_N];
	json_t *d[BATCH_N], *bad = json_pack("{s:s}", "password", "x");
	char oids[BATCH_N][32];
	int64_t first = -7;

	append_n(f, 2);
	batch_events(evs, d, oids);
	evs[BATCH_N / 2].details = bad;
	assert_int_equal(anfu_db_begin(f->db), 0);
	assert_int_equal(anfu_audit_append_batch(f->audit, f->db, evs, BATCH_N, &first),
			 ANFU_EINVAL);
	assert_int_equal(first, -7);
	assert_int_equal(fixture_count(f->db, "SELECT count(*) FROM audit_log", NULL), 2);
	assert_int_equal(fixture_count(f->db, "SELECT seq FROM audit_head", NULL), 2);
	assert_int_equal(anfu_db_rollback(f->db), 0);
	assert_int_equal(anfu_audit_chain_length(f->audit), 2);
	assert_int_equal(verify(f), 0);
	json_decref(bad);
	batch_free(d);
}

/* req: AUD-THR-01 */
static void test_batch_refuses_an_empty_or_oversized_call(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_audit_event ev = { &test_actor, "test.event", "", "", "success", NULL };
	int64_t first = -7;

	assert_int_equal(anfu_db_begin(f->db), 0);
	assert_int_equal(anfu_audit_append_batch(f->audit, f->db, &ev, 0, &first), 0);
	assert_int_equal(first, -7);
	assert_int_equal(anfu_audit_append_batch(f->audit, f->db, &ev,
						 ANFU_LIMIT_AUDIT_BATCH_RECORDS + 1, &first),
			 ANFU_EINVAL);
	assert_int_equal(anfu_audit_append_batch(f->audit, f->db, NULL, 1, &first), ANFU_EINVAL);
	assert_int_equal(anfu_db_rollback(f->db), 0);
	assert_int_equal(fixture_count(f->db, "SELECT count(*) FROM audit_log", NULL), 0);
}

#ifdef ANFU_TEST_HOOKS
/* req: AUD-THR-01 */
static void test_batch_with_an_injected_fault_appends_nothing(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_audit_event evs[BATCH_N];
	json_t *d[BATCH_N];
	char oids[BATCH_N][32];

	append_n(f, 1);
	batch_events(evs, d, oids);
	anfu_audit_inject_fault(f->audit, true);
	assert_int_equal(anfu_db_begin(f->db), 0);
	assert_int_equal(anfu_audit_append_batch(f->audit, f->db, evs, BATCH_N, NULL), ANFU_EAUDIT);
	assert_int_equal(anfu_db_rollback(f->db), 0);
	anfu_audit_inject_fault(f->audit, false);
	assert_int_equal(fixture_count(f->db, "SELECT count(*) FROM audit_log", NULL), 1);
	assert_int_equal(fixture_count(f->db, "SELECT seq FROM audit_head", NULL), 1);
	assert_int_equal(verify(f), 0);
	batch_free(d);
}
#endif

/* ---- validation -------------------------------------------------------- */

/* req: AUD-CNT-01 */
static void test_credential_like_details_keys_are_refused(void **state)
{
	static const char *const keys[] = {
		"password", "newPassword", "passwd",	     "client_secret", "access_token",
		"PIN",	    "otp",	   "captcha_answer", "private_key",
	};
	struct anfu_fixture *f = *state;

	assert_int_equal(anfu_db_begin(f->db), 0);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		json_t *flat = json_pack("{s:s}", keys[i], "x");
		json_t *deep = json_pack("{s:[{s:{s:s}}]}", "list", "ok", keys[i], "x");
		struct anfu_audit_event ev = {
			&test_actor, "test.secret", "", "", "success", flat
		};

		assert_int_equal(anfu_audit_append(f->audit, f->db, &ev, NULL), ANFU_EINVAL);
		ev.details = deep;
		assert_int_equal(anfu_audit_append(f->audit, f->db, &ev, NULL), ANFU_EINVAL);
		json_decref(flat);
		json_decref(deep);
	}
	assert_int_equal(anfu_db_commit(f->db), 0);
	assert_int_equal(fixture_count(f->db, "SELECT count(*) FROM audit_log", NULL), 0);
}

static void test_malformed_events_are_refused(void **state)
{
	struct anfu_fixture *f = *state;
	json_t *arr = json_array();
	char big[20000];
	char longid[600];
	json_t *huge;
	struct anfu_actor bad_actor = test_actor;
	struct anfu_audit_event ev[] = {
		{ &test_actor, "", "", "", "success", NULL },
		{ &test_actor, "test.x", "", "", "ok", NULL },
		{ &test_actor, "test.x", "", "", NULL, NULL },
		{ &test_actor, "test.x", "", "", "success", arr },
		{ &test_actor, "test.x", "", "", "success", NULL },
		{ &bad_actor, "test.x", "", "", "success", NULL },
		{ &test_actor, "test.x", "", longid, "success", NULL },
	};

	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memset(longid, 'z', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	huge = json_pack("{s:s}", "note", big);
	ev[4].details = huge;
	bad_actor.request_id = "req\nforged-line";
	assert_int_equal(anfu_db_begin(f->db), 0);
	for (size_t i = 0; i < sizeof(ev) / sizeof(ev[0]); i++)
		assert_int_equal(anfu_audit_append(f->audit, f->db, &ev[i], NULL), ANFU_EINVAL);
	assert_int_equal(anfu_db_commit(f->db), 0);
	json_decref(arr);
	json_decref(huge);
	assert_int_equal(fixture_count(f->db, "SELECT count(*) FROM audit_log", NULL), 0);
}

/* The largest record the log accepts as docs/audit.md states it: details
 * of exactly 16 KiB serialised (ANFU_LIMIT_AUDIT_DETAILS_BYTES) and every
 * other text field at 512 bytes, all of '"' (the character whose escaping
 * grows most in an export line). It is stored, and it exports within
 * ANFU_LIMIT_AUDIT_EXPORT_LINE and verifies; one byte more of details is
 * refused and nothing is stored. req: AUD-STO-02, AUD-TOOL-01 */
static void test_largest_accepted_record_exports_and_verifies(void **state)
{
	/* docs/audit.md: details up to 16 KiB serialised, fields up to 512
	 * bytes. {"n":"..."} is 8 bytes around the value; each '"' is 2 in it. */
	enum {
		DETAILS_MAX = 16 * 1024,
		FIELD_MAX = 512,
		QUOTES = (DETAILS_MAX - 8) / 2
	};
	struct anfu_fixture *f = *state;
	struct anfu_audit_report rep;
	static char value[QUOTES + 2], field[FIELD_MAX + 1];
	struct anfu_actor big = { field, field, field, field, field, field };
	struct anfu_audit_event ev = { &big, field, field, field, "success", NULL };
	size_t len = 0;
	char *buf;
	json_t *d;

	memset(value, '"', QUOTES);
	memset(field, '"', FIELD_MAX);
	d = json_pack("{s:s}", "n", value);
	ev.details = d;
	assert_int_equal(anfu_db_begin(f->db), 0);
	assert_int_equal(anfu_audit_append(f->audit, f->db, &ev, NULL), 0);
	assert_int_equal(anfu_db_commit(f->db), 0);
	json_decref(d);
	{
		const struct anfu_param p[] = { ANFU_PI(DETAILS_MAX) };
		int64_t n = -1;

		assert_int_equal(anfu_db_query_int(f->db,
						   "SELECT COUNT(*) FROM audit_log WHERE"
						   " length(CAST(details AS BLOB)) = $1",
						   p, 1, &n),
				 0);
		assert_int_equal(n, 1);
	}
	buf = export_mem(f, &len);
	assert_int_equal(verify_mem(f->audit_pub, buf, len, &rep), 0);
	assert_int_equal(rep.records, 1);
	free(buf);
	/* One byte more is refused, and nothing is stored. */
	value[QUOTES] = 'x';
	d = json_pack("{s:s}", "n", value);
	ev.details = d;
	assert_int_equal(anfu_db_begin(f->db), 0);
	assert_int_equal(anfu_audit_append(f->audit, f->db, &ev, NULL), ANFU_EINVAL);
	assert_int_equal(anfu_db_commit(f->db), 0);
	json_decref(d);
	assert_int_equal(fixture_count(f->db, "SELECT COUNT(*) FROM audit_log", NULL), 1);
}

/* ---- checkpoints --------------------------------------------------------- */

static void test_checkpoint_goes_to_database_and_file(void **state)
{
	struct anfu_fixture *f = *state;
	struct audit_ckpt_list filec = { NULL, 0 };
	struct anfu_audit_report rep = { 0 };
	struct text sig;

	append_n(f, 4);
	checkpoint(f, 4);
	assert_int_equal(fixture_count(f->db, "SELECT count(*) FROM audit_checkpoint", NULL), 1);
	assert_int_equal(audit_ckpt_file_read(f->ckfile, &filec, &rep), 0);
	assert_int_equal(filec.n, 1);
	assert_int_equal(filec.v[0].seq, 4);
	text_of(f->db, "SELECT signature FROM audit_checkpoint WHERE seq = $1", 4, &sig);
	assert_string_equal(filec.v[0].sig, sig.v);
	assert_string_equal(filec.v[0].key_id, anfu_keys_audit_kid(f->keys));
	audit_ckpt_list_free(&filec);
}

static void test_checkpoint_without_new_records_writes_nothing(void **state)
{
	struct anfu_fixture *f = *state;
	int64_t seq = -1;

	checkpoint(f, 0); /* empty log */
	append_n(f, 2);
	checkpoint(f, 2);
	checkpoint(f, 0);
	assert_int_equal(anfu_audit_checkpoint(f->audit, f->db, true, &seq), 0);
	assert_int_equal(seq, 2);
	assert_int_equal(fixture_count(f->db, "SELECT count(*) FROM audit_checkpoint", NULL), 1);
}

static void wait_for_checkpoint(struct anfu_fixture *f, int64_t seq)
{
	const struct anfu_param p[] = { ANFU_PI(seq) };
	int64_t n = 0;

	/* Up to 30 s: the checkpointer is a thread of a loaded machine. */
	for (int i = 0; i < 600 && n == 0; i++) {
		struct timespec ts = { 0, 50 * 1000000 };

		assert_int_equal(anfu_db_query_int(f->db,
						   "SELECT count(*) FROM audit_checkpoint WHERE "
						   "seq = $1",
						   p, 1, &n),
				 0);
		if (n == 0)
			(void)nanosleep(&ts, NULL);
	}
	assert_int_equal(n, 1);
}

static void test_checkpointer_seals_after_n_records_and_on_stop(void **state)
{
	struct anfu_fixture *f = fix_new(ANFU_CRYPTO_INTL, 5);
	struct anfu_store_cfg cfg = { "sqlite", f->dbpath, 5000 };
	struct anfu_store *s = NULL;

	(void)state;
	assert_int_equal(anfu_store_new(&cfg, &s), 0);
	assert_int_equal(anfu_audit_start(f->audit, s), 0);
	assert_int_equal(anfu_audit_start(f->audit, s), ANFU_EINVAL);
	append_n(f, 5);
	wait_for_checkpoint(f, 5);
	append_n(f, 2);
	anfu_audit_stop(f->audit);
	assert_int_equal(fixture_count(f->db, "SELECT max(seq) FROM audit_checkpoint", NULL), 7);
	anfu_audit_stop(f->audit);
	anfu_store_free(s);
	assert_int_equal(verify(f), 0);
	fixture_close(f);
}

/* ---- export -------------------------------------------------------------- */

/* req: AUD-STO-02 */
static void test_export_verifies_with_the_public_key(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_audit_report rep;
	size_t len = 0;
	char *buf;

	standard_log(f);
	buf = export_mem(f, &len);
	assert_int_equal(verify_mem(f->audit_pub, buf, len, &rep), 0);
	assert_int_equal(rep.records, 30);
	assert_int_equal(rep.checkpoints, 2);
	free(buf);
}

static void test_export_of_an_empty_log_verifies(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_audit_report rep;
	size_t len = 0;
	char *buf = export_mem(f, &len);

	assert_int_equal(verify_mem(f->audit_pub, buf, len, &rep), 0);
	assert_int_equal(rep.records, 0);
	free(buf);
}

static void test_export_lines_are_header_records_checkpoints_trailer(void **state)
{
	struct anfu_fixture *f = *state;
	size_t len = 0, start = 0, n = 0;
	char *buf;
	enum anfu_audit_line_type types[64];

	append_n(f, 2);
	checkpoint(f, 2);
	append_n(f, 1);
	buf = export_mem(f, &len);
	for (size_t i = 0; i < len; i++) {
		struct anfu_audit_line l;

		if (buf[i] != '\n')
			continue;
		assert_true(n < 64);
		assert_int_equal(anfu_audit_parse_line(buf + start, i - start, &l), 0);
		types[n++] = l.type;
		anfu_audit_line_free(&l);
		start = i + 1;
	}
	assert_int_equal(start, len);
	assert_int_equal(n, 6);
	assert_int_equal(types[0], ANFU_AUDIT_LINE_HEADER);
	assert_int_equal(types[1], ANFU_AUDIT_LINE_RECORD);
	assert_int_equal(types[2], ANFU_AUDIT_LINE_RECORD);
	assert_int_equal(types[3], ANFU_AUDIT_LINE_CHECKPOINT);
	assert_int_equal(types[4], ANFU_AUDIT_LINE_RECORD);
	assert_int_equal(types[5], ANFU_AUDIT_LINE_TRAILER);
	free(buf);
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* req: AUD-STO-02 */
static void test_every_single_byte_mutation_of_an_export_is_detected(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_audit_report rep;
	uint64_t rng = 0x5eed0a0d17c0ffeeULL;
	size_t len = 0;
	char *buf;

	standard_log(f);
	buf = export_mem(f, &len);
	assert_int_equal(verify_mem(f->audit_pub, buf, len, &rep), 0);
	for (int i = 0; i < 1000; i++) {
		size_t pos = (size_t)(xorshift(&rng) % len);
		char old = buf[pos];
		int r;

		buf[pos] = (char)((unsigned char)old ^ (unsigned char)(1 + xorshift(&rng) % 255));
		r = verify_mem(f->audit_pub, buf, len, &rep);
		if (r != ANFU_ECORRUPT)
			fail_msg("mutation %d at byte %zu (0x%02x -> 0x%02x) not detected", i, pos,
				 (unsigned char)old, (unsigned char)buf[pos]);
		assert_true(rep.first_bad_seq > 0);
		buf[pos] = old;
	}
	assert_int_equal(verify_mem(f->audit_pub, buf, len, &rep), 0);
	free(buf);
}

/* A record line written twice in a row: record 3 is sound, the fault is
 * where record 4 was expected, so that is the sequence number named (as
 * tools/verify_audit.py does). req: AUD-STO-02 */
static void test_export_with_a_record_line_repeated_names_the_next_seq(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_audit_report rep;
	size_t len = 0, start = 0, end, line = 1;
	char *buf, *dup;

	standard_log(f);
	buf = export_mem(f, &len);
	/* Line 1 is the header, line 4 record 3. */
	while (line < 4) {
		start = (size_t)((char *)memchr(buf + start, '\n', len - start) - buf) + 1;
		line++;
	}
	end = (size_t)((char *)memchr(buf + start, '\n', len - start) - buf) + 1;
	assert_non_null(strstr(buf + start, "\"seq\":3,"));
	dup = malloc(len + end - start);
	assert_non_null(dup);
	memcpy(dup, buf, end);
	memcpy(dup + end, buf + start, len - start);
	assert_int_equal(verify_mem(f->audit_pub, dup, len + end - start, &rep), ANFU_ECORRUPT);
	assert_int_equal(rep.first_bad_seq, 4);
	assert_non_null(strstr(rep.problem, "out of order"));
	free(dup);
	free(buf);
}

static void test_truncated_export_is_detected(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_audit_report rep;
	size_t len = 0, cut;
	char *buf;

	standard_log(f);
	buf = export_mem(f, &len);
	/* Without the trailer line. */
	cut = len - 1;
	while (cut > 0 && buf[cut - 1] != '\n')
		cut--;
	assert_int_equal(verify_mem(f->audit_pub, buf, cut, &rep), ANFU_ECORRUPT);
	assert_int_equal(rep.first_bad_seq, 31);
	/* Without the last byte (the trailer's newline). */
	assert_int_equal(verify_mem(f->audit_pub, buf, len - 1, &rep), ANFU_ECORRUPT);
	free(buf);
}

static void test_export_does_not_verify_with_another_key(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_sigkey *other = NULL;
	struct anfu_audit_report rep;
	size_t len = 0;
	char *buf;

	append_n(f, 2);
	buf = export_mem(f, &len);
	assert_int_equal(anfu_sigkey_generate(ANFU_SIG_ED25519, &other), 0);
	assert_int_equal(verify_mem(other, buf, len, &rep), ANFU_ECORRUPT);
	anfu_sigkey_free(other);
	free(buf);
}

static void test_export_of_a_tampered_log_is_refused(void **state)
{
	struct anfu_fixture *f = *state;
	char *buf = NULL;
	size_t len = 0;
	FILE *out;

	standard_log(f);
	drop_triggers(f);
	sql(f->db, "DELETE FROM audit_checkpoint WHERE seq = 20");
	sql(f->db, "DELETE FROM audit_log WHERE seq > 17");
	out = open_memstream(&buf, &len);
	assert_non_null(out);
	assert_int_equal(anfu_audit_export(f->audit, f->db, out), ANFU_ECORRUPT);
	(void)fclose(out);
	free(buf);
}

/* ---- parsing ------------------------------------------------------------- */

#define H64 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static void test_parse_accepts_canonical_lines(void **state)
{
	static const char *const good[] = {
		"{\"created_ms\":1,\"format\":\"anfu-audit-export/1\",\"hash_alg\":\"sha256\","
		"\"key_id\":\"ed25519-0011223344556677\",\"sig_alg\":\"ed25519\",\"type\":"
		"\"header\"}",
		"{\"checkpoints\":0,\"digest\":\"" H64 "\",\"records\":0,\"sig\":\"ab\","
		"\"type\":\"trailer\"}",
		"{\"hash_alg\":\"sm3\",\"head\":\"" H64 "\",\"key_id\":\"sm2-1\",\"seq\":3,"
		"\"sig\":\"abcd\",\"ts_ms\":-1,\"type\":\"checkpoint\"}",
		"{\"action\":\"a\",\"actor_id\":\"\",\"actor_role\":\"\",\"actor_type\":\"\","
		"\"details\":\"{\\\"k\\\":\\\"\\\\u0001\\\"}\",\"device\":\"\\u001f\\b\",\"hash\":"
		"\"" H64 "\","
		"\"object_id\":\"é\",\"object_type\":\"\",\"outcome\":\"success\",\"prev_hash\":"
		"\"" H64 "\","
		"\"request_id\":\"\",\"seq\":1,\"source_ip\":\"\",\"ts_ms\":0,\"type\":\"record\"}",
	};
	struct anfu_audit_line l;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (anfu_audit_parse_line(good[i], strlen(good[i]), &l) != 0)
			fail_msg("refused good line %zu: %s", i, good[i]);
		anfu_audit_line_free(&l);
	}
}

static void test_parse_refuses_every_other_spelling(void **state)
{
	static const char *const bad[] = {
		"",
		"[]",
		"{}",
		"{\"type\":\"nothing\"}",
		/* whitespace, key order */
		"{\"checkpoints\":0, \"digest\":\"" H64
		"\",\"records\":0,\"sig\":\"ab\",\"type\":\"trailer\"}",
		"{\"digest\":\"" H64
		"\",\"checkpoints\":0,\"records\":0,\"sig\":\"ab\",\"type\":\"trailer\"}",
		"{\"checkpoints\":0,\"digest\":\"" H64
		"\",\"records\":0,\"sig\":\"ab\",\"type\":\"trailer\"} ",
		/* upper-case or short hex, odd signature */
		"{\"checkpoints\":0,\"digest\":\"" H64
		"\",\"records\":0,\"sig\":\"AB\",\"type\":\"trailer\"}",
		"{\"checkpoints\":0,\"digest\":\"0011\",\"records\":0,\"sig\":\"ab\",\"type\":"
		"\"trailer\"}",
		"{\"checkpoints\":0,\"digest\":\"" H64
		"\",\"records\":0,\"sig\":\"abc\",\"type\":\"trailer\"}",
		/* types, ranges, number spellings */
		"{\"checkpoints\":-1,\"digest\":\"" H64
		"\",\"records\":0,\"sig\":\"ab\",\"type\":\"trailer\"}",
		"{\"checkpoints\":0.0,\"digest\":\"" H64
		"\",\"records\":0,\"sig\":\"ab\",\"type\":\"trailer\"}",
		"{\"checkpoints\":-0,\"digest\":\"" H64
		"\",\"records\":0,\"sig\":\"ab\",\"type\":\"trailer\"}",
		"{\"checkpoints\":1e0,\"digest\":\"" H64
		"\",\"records\":0,\"sig\":\"ab\",\"type\":\"trailer\"}",
		"{\"checkpoints\":\"0\",\"digest\":\"" H64
		"\",\"records\":0,\"sig\":\"ab\",\"type\":\"trailer\"}",
		/* missing, extra, duplicate fields */
		"{\"digest\":\"" H64 "\",\"records\":0,\"sig\":\"ab\",\"type\":\"trailer\"}",
		"{\"checkpoints\":0,\"digest\":\"" H64
		"\",\"records\":0,\"sig\":\"ab\",\"type\":\"trailer\",\"x\":1}",
		"{\"checkpoints\":0,\"checkpoints\":0,\"digest\":\"" H64
		"\",\"records\":0,\"sig\":\"ab\",\"type\":\"trailer\"}",
		/* escapes that are not the canonical ones */
		"{\"checkpoints\":0,\"digest\":\"" H64
		"\",\"records\":0,\"sig\":\"ab\",\"type\":\"trailer\\u0000\"}",
		"{\"checkpoints\":0,\"digest\":\"" H64
		"\",\"records\":0,\"sig\":\"ab\",\"type\":\"tr\\u0061iler\"}",
		"{\"checkpoints\":0,\"digest\":\"" H64
		"\",\"records\":0,\"sig\":\"ab\",\"type\":\"trailer\"}\n",
		/* header with unknown algorithms or format */
		"{\"created_ms\":1,\"format\":\"anfu-audit-export/2\",\"hash_alg\":\"sha256\","
		"\"key_id\":\"k\",\"sig_alg\":\"ed25519\",\"type\":\"header\"}",
		"{\"created_ms\":1,\"format\":\"anfu-audit-export/1\",\"hash_alg\":\"md5\","
		"\"key_id\":\"k\",\"sig_alg\":\"ed25519\",\"type\":\"header\"}",
		"{\"created_ms\":1,\"format\":\"anfu-audit-export/1\",\"hash_alg\":\"sha256\","
		"\"key_id\":\"K Y\",\"sig_alg\":\"ed25519\",\"type\":\"header\"}",
		/* checkpoint with seq 0 */
		"{\"hash_alg\":\"sm3\",\"head\":\"" H64 "\",\"key_id\":\"sm2-1\",\"seq\":0,"
		"\"sig\":\"abcd\",\"ts_ms\":1,\"type\":\"checkpoint\"}",
	};
	struct anfu_audit_line l = { .obj = NULL };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (anfu_audit_parse_line(bad[i], strlen(bad[i]), &l) != ANFU_EINVAL)
			fail_msg("accepted bad line %zu: %s", i, bad[i]);
	assert_null(l.obj);
}

/* ---- the documented test vectors (docs/audit.md) ----------------------- */

static void hex_of(const struct anfu_buf *b, char *out, size_t cap)
{
	assert_true(2 * b->len < cap);
	anfu_hex_encode(b->data, b->len, out);
}

static void test_encodings_match_the_documented_vectors(void **state)
{
	struct audit_rec r;
	struct audit_ckpt c;
	struct anfu_buf b;
	uint8_t zero[ANFU_HASH_LEN] = { 0 }, h[ANFU_HASH_LEN];
	char hex[512];

	(void)state;
	memset(&r, 0, sizeof(r));
	r.seq = 1;
	r.ts_ms = 1700000000000LL;
	r.f[AF_ACTOR_ID] = anfu_str_c("usr_example");
	r.f[AF_ACTOR_TYPE] = anfu_str_c("operator");
	r.f[AF_ACTOR_ROLE] = anfu_str_c("admin");
	r.f[AF_SOURCE_IP] = anfu_str_c("192.0.2.1");
	r.f[AF_DEVICE] = anfu_str_c("");
	r.f[AF_REQUEST_ID] = anfu_str_c("req_1");
	r.f[AF_ACTION] = anfu_str_c("auth.login");
	r.f[AF_OBJECT_TYPE] = anfu_str_c("session");
	r.f[AF_OBJECT_ID] = anfu_str_c("ses_1");
	r.f[AF_OUTCOME] = anfu_str_c("success");
	r.f[AF_DETAILS] = anfu_str_c("{\"mfa\":true}");
	anfu_buf_init(&b, 4096);
	assert_int_equal(audit_canonical(&b, &r), 0);
	hex_of(&b, hex, sizeof(hex));
	assert_string_equal(hex,
			    "616e66752d61756469742d763100000001310000000d31373030303030303030303030"
			    "0000000b7573725f6578616d706c65000000086f70657261746f720000000561646d69"
			    "6e000000093139322e302e322e3100000000000000057265715f310000000a61757468"
			    "2e6c6f67696e0000000773657373696f6e000000057365735f31000000077375636365"
			    "73730000000c7b226d6661223a747275657d");
	assert_int_equal(audit_rec_hash(ANFU_HASH_SHA256, zero, &r, h), 0);
	anfu_hex_encode(h, sizeof(h), hex);
	assert_string_equal(hex,
			    "b3dde99202d8f13a56e0d66d2d676fdd9b1777ec0d980507a76624ee7a412df3");
	assert_int_equal(audit_rec_hash(ANFU_HASH_SM3, zero, &r, h), 0);
	anfu_hex_encode(h, sizeof(h), hex);
	assert_string_equal(hex,
			    "ca9b27ae3e7e30d6d5a94586b0e75bcbf1f0ba344fde373f1b7e10bd0b44b925");

	memset(&c, 0, sizeof(c));
	c.seq = 1;
	c.ts_ms = 1700000000500LL;
	(void)snprintf(c.head, sizeof(c.head), "%s",
		       "b3dde99202d8f13a56e0d66d2d676fdd9b1777ec0d980507a76624ee7a412df3");
	(void)snprintf(c.key_id, sizeof(c.key_id), "%s", "ed25519-0123456789abcdef");
	(void)snprintf(c.hash_alg, sizeof(c.hash_alg), "%s", "sha256");
	anfu_buf_reset(&b);
	assert_int_equal(audit_ckpt_message(&b, &c), 0);
	hex_of(&b, hex, sizeof(hex));
	assert_string_equal(hex,
			    "616e66752d61756469742d636865636b706f696e742d763100000001310000004062"
			    "33646465393932303264386631336135366530643636643264363736666464396231"
			    "37373765633064393830353037613736363234656537613431326466330000000d31"
			    "37303030303030303035303000000018656432353531392d30313233343536373839"
			    "61626364656600000006736861323536");
	anfu_buf_free(&b);
}

/* ---- the gm profile ---------------------------------------------------- */

static void test_gm_profile_chain_and_export_verify(void **state)
{
	struct anfu_fixture *f = fix_new(ANFU_CRYPTO_GM, 1000);
	struct anfu_audit_report rep;
	size_t len = 0;
	char *buf;

	(void)state;
	standard_log(f);
	assert_int_equal(verify(f), 0);
	buf = export_mem(f, &len);
	assert_non_null(strstr(buf, "\"hash_alg\":\"sm3\""));
	assert_non_null(strstr(buf, "\"sig_alg\":\"sm2\""));
	assert_int_equal(verify_mem(f->audit_pub, buf, len, &rep), 0);
	assert_int_equal(rep.records, 30);
	drop_triggers(f);
	sql(f->db, "UPDATE audit_log SET outcome = 'denied' WHERE seq = 12");
	assert_int_equal(verify(f), 12);
	free(buf);
	fixture_close(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, fixture_teardown)
		T(test_appended_chain_verifies),
		T(test_record_holds_every_required_field),
		T(test_details_are_stored_compact_with_sorted_keys),
		T(test_chain_length_follows_appends_and_checkpoints),
		T(test_update_of_a_record_is_refused),
		T(test_delete_of_a_record_is_refused),
		T(test_checkpoints_and_head_cannot_be_changed_or_deleted),
		T(test_verify_names_a_changed_field),
		T(test_verify_names_a_record_deleted_in_the_middle),
		T(test_verify_names_an_inserted_record),
		T(test_verify_names_the_record_after_a_well_hashed_insertion),
		T(test_verify_names_an_appended_record_beyond_the_head),
		T(test_verify_names_the_first_of_two_swapped_records),
		T(test_verify_names_truncation_behind_the_last_checkpoint),
		T(test_verify_names_records_cut_from_the_tail),
		T(test_verify_names_the_one_record_cut_behind_its_checkpoint),
		T(test_verify_names_the_last_record_cut_from_the_tail),
		T(test_verify_names_a_checkpoint_only_in_the_file),
		T(test_checkpoint_only_in_the_database_is_accepted),
		T(test_verify_names_a_forged_checkpoint_signature),
		T(test_verify_names_a_forged_signature_the_file_does_not_contradict),
		T(test_verify_names_a_checkpoint_whose_head_was_changed),
		T(test_verify_names_an_edited_checkpoint_file_line),
		T(test_verify_names_a_checkpoint_line_written_twice),
		T(test_verify_names_a_torn_checkpoint_file_line),
		T(test_verify_reports_progress_every_10000_records),
#ifdef ANFU_TEST_HOOKS
		T(test_injected_fault_fails_the_operation_and_changes_nothing),
#endif
		T(test_full_database_fails_the_append_and_changes_nothing),
		T(test_append_outside_a_transaction_is_refused),
		T(test_batch_append_continues_the_chain),
		T(test_batch_with_a_bad_event_in_the_middle_appends_nothing),
		T(test_batch_refuses_an_empty_or_oversized_call),
#ifdef ANFU_TEST_HOOKS
		cmocka_unit_test(test_batch_append_chains_as_single_appends_do),
		T(test_batch_with_an_injected_fault_appends_nothing),
#endif
		T(test_credential_like_details_keys_are_refused),
		T(test_details_text_is_what_jansson_would_store),
		cmocka_unit_test(test_details_text_refuses_secrets_bad_utf8_and_oversize),
		T(test_malformed_events_are_refused),
		T(test_largest_accepted_record_exports_and_verifies),
		T(test_checkpoint_goes_to_database_and_file),
		T(test_checkpoint_without_new_records_writes_nothing),
		cmocka_unit_test(test_checkpointer_seals_after_n_records_and_on_stop),
		T(test_export_verifies_with_the_public_key),
		T(test_export_of_an_empty_log_verifies),
		T(test_export_lines_are_header_records_checkpoints_trailer),
		T(test_every_single_byte_mutation_of_an_export_is_detected),
		T(test_export_with_a_record_line_repeated_names_the_next_seq),
		T(test_truncated_export_is_detected),
		T(test_export_does_not_verify_with_another_key),
		T(test_export_of_a_tampered_log_is_refused),
		cmocka_unit_test(test_parse_accepts_canonical_lines),
		cmocka_unit_test(test_parse_refuses_every_other_spelling),
		cmocka_unit_test(test_encodings_match_the_documented_vectors),
		cmocka_unit_test(test_gm_profile_chain_and_export_verify),
#undef T
	};

	return cmocka_run_group_tests(tests, fixture_group_setup, NULL);
}
