/*
 * Unit tests of the web module's service (src/web/): the escaping HTML
 * writer, the ?next= rule, the language choice, the asset table, the
 * keypad shuffle and the keypad take (on SQLite, and as "pg:<case>" on
 * PostgreSQL).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/refusal.h"
#include "store/store.h"
#include "web/web.h"

#include "fixture.h"

static void test_escape_writes_every_special_character_as_a_reference(void **state)
{
	struct anfu_buf b;

	(void)state;
	anfu_buf_init(&b, 4096);
	assert_int_equal(anfu_web_html_escape(&b, "a<b>&\"c'd 中"), 0);
	assert_int_equal(anfu_buf_append(&b, "", 1), 0);
	assert_string_equal(b.data, "a&lt;b&gt;&amp;&quot;c&#39;d 中");
	anfu_buf_free(&b);
}

static void test_template_escapes_values_and_keeps_other_braces(void **state)
{
	struct anfu_buf b;
	const char *v[] = { "<x>", "\"q\"", NULL };

	(void)state;
	anfu_buf_init(&b, 4096);
	assert_int_equal(anfu_web_html(&b, "<p title=\"{1}\">{0}{2}{a}{</p>", v, 3), 0);
	assert_int_equal(anfu_buf_append(&b, "", 1), 0);
	assert_string_equal(b.data, "<p title=\"&quot;q&quot;\">&lt;x&gt;{a}{</p>");
	anfu_buf_reset(&b);
	assert_int_equal(anfu_web_html(&b, "{3}", v, 3), ANFU_EINVAL);
	anfu_buf_free(&b);
}

static void test_template_hits_the_buffer_cap(void **state)
{
	struct anfu_buf b;
	const char *v[] = { "&&&&&&&&" };

	(void)state;
	anfu_buf_init(&b, 16);
	assert_int_equal(anfu_web_html(&b, "{0}", v, 1), ANFU_ELIMIT);
	anfu_buf_free(&b);
}

static void test_next_takes_local_paths_only(void **state)
{
	static const struct {
		const char *next;
		bool ok;
	} cases[] = {
		{ "/account", true },
		{ "/pay/ord_1?x=1&y=2", true },
		{ "/", true },
		{ "//evil.example/", false },
		{ "/\\evil.example", false },
		{ "https://evil.example/", false },
		{ "javascript:x", false },
		{ "account", false },
		{ "", false },
		{ NULL, false },
		{ "/a b", false },
		{ "/a\r\nb", false },
		{ "/a\\b", false },
		{ "/\xe4\xb8\xad", false },
	};
	char longest[ANFU_LIMIT_WEB_NEXT_BYTES + 2];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(anfu_web_next_ok(cases[i].next), cases[i].ok);
	memset(longest, 'a', sizeof(longest));
	longest[0] = '/';
	longest[ANFU_LIMIT_WEB_NEXT_BYTES] = '\0';
	assert_true(anfu_web_next_ok(longest));
	longest[ANFU_LIMIT_WEB_NEXT_BYTES] = 'a';
	longest[ANFU_LIMIT_WEB_NEXT_BYTES + 1] = '\0';
	assert_false(anfu_web_next_ok(longest));
}

static void test_lang_query_wins_then_accept_language(void **state)
{
	(void)state;
	assert_string_equal(anfu_web_lang("en", "zh"), "en");
	assert_string_equal(anfu_web_lang("zh", "en"), "zh");
	assert_string_equal(anfu_web_lang("fr", "en"), "en");
	assert_string_equal(anfu_web_lang(NULL, NULL), "zh");
	assert_string_equal(anfu_web_text("en", "login.title"), "Sign in");
	assert_string_equal(anfu_web_text("zh", "login.title"), "登录");
}

static void test_assets_are_found_by_hashed_url_only(void **state)
{
	const char *url = anfu_web_asset_url("login.js");
	const struct anfu_web_asset *a = anfu_web_asset_by_url(url);

	(void)state;
	assert_non_null(a);
	assert_string_equal(a->name, "login.js");
	assert_string_equal(a->content_type, "text/javascript; charset=utf-8");
	assert_true(a->len > 0);
	assert_int_equal(strlen(url), strlen("/static/login..js") + 16);
	assert_null(anfu_web_asset_by_url("/static/login.js"));
	assert_null(anfu_web_asset_by_url(NULL));
}

static void test_shuffle_is_a_permutation_and_varies(void **state)
{
	char first[ANFU_WEB_KEYPAD_KEYS + 1], l[ANFU_WEB_KEYPAD_KEYS + 1];
	int differ = 0, at_zero[ANFU_WEB_KEYPAD_KEYS] = { 0 };

	(void)state;
	anfu_web_keypad_shuffle(first);
	for (int n = 0; n < 2000; n++) {
		bool seen[ANFU_WEB_KEYPAD_KEYS] = { false };

		anfu_web_keypad_shuffle(l);
		assert_int_equal(strlen(l), ANFU_WEB_KEYPAD_KEYS);
		for (int i = 0; i < ANFU_WEB_KEYPAD_KEYS; i++) {
			assert_true(l[i] >= '0' && l[i] <= '9');
			assert_false(seen[l[i] - '0']);
			seen[l[i] - '0'] = true;
		}
		at_zero[l[0] - '0']++;
		differ += strcmp(l, first) != 0;
	}
	assert_true(differ > 1990);
	/* Each digit lands on position 0 about 200 times in 2000; below 100
	 * or above 300 is beyond 7 standard deviations of a fair shuffle. */
	for (int i = 0; i < ANFU_WEB_KEYPAD_KEYS; i++)
		assert_true(at_zero[i] > 100 && at_zero[i] < 300);
}

/* ---- the keypad take, on a migrated store ---- */

struct kt {
	struct anfu_fixture *f;
	struct anfu_web *w;
	struct anfu_web_config cfg;
};

static int kt_setup(void **state)
{
	static const struct anfu_fixture_opts opts = { .name = "webkeypad", .frozen_clock = true };
	struct kt *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	assert_int_equal(fixture_open(FIXTURE_AUDIT, &opts, &t->f), 0);
	assert_int_equal(anfu_migrate(t->f->db, &anfu_web_migrations, 1, NULL, NULL, NULL, NULL),
			 0);
	t->cfg.keypad_ttl_s = 120;
	assert_int_equal(anfu_web_new(&t->cfg, t->f->tx, &t->w), 0);
	*state = t;
	return 0;
}

static int kt_teardown(void **state)
{
	struct kt *t = *state;

	anfu_web_free(t->w);
	fixture_close(t->f);
	free(t);
	return 0;
}

static const struct anfu_actor alice = { "usr_alice", "customer", "customer", "", "", "" };

static int take(struct kt *t, const char *user, const char *id, const char *pos, char *pin,
		struct anfu_web_keypad_refusal *why)
{
	return anfu_web_keypad_take(t->f->db, anfu_clock_now_ms(), user, id, pos, pin, 17, why);
}

static void positions_of(const struct anfu_web_keypad *k, const char *digits, char *out)
{
	size_t n = strlen(digits);

	for (size_t i = 0; i < n; i++)
		out[i] = (char)('0' + (strchr(k->layout, digits[i]) - k->layout));
	out[n] = '\0';
}

static void test_take_maps_positions_once(void **state)
{
	struct kt *t = *state;
	struct anfu_web_keypad k;
	struct anfu_web_keypad_refusal why = { 0 };
	char pos[17], pin[17];

	assert_int_equal(anfu_web_keypad_new(t->w, &alice, &k), 0);
	assert_int_equal(fixture_count(t->f->db,
				       "SELECT count(*) FROM web_keypad WHERE id = $1 "
				       "AND used = 0",
				       k.id),
			 1);
	positions_of(&k, "583016", pos);
	assert_int_equal(take(t, "usr_alice", k.id, pos, pin, &why), 0);
	assert_string_equal(pin, "583016");
	assert_int_equal(take(t, "usr_alice", k.id, pos, pin, &why), ANFU_ECONFLICT);
	assert_string_equal(why.code, ANFU_R_WEB_KEYPAD_USED);
	assert_string_equal(pin, "");
}

static void test_take_refusals(void **state)
{
	struct kt *t = *state;
	struct anfu_web_keypad k;
	struct anfu_web_keypad_refusal why = { 0 };
	char pin[17];

	assert_int_equal(anfu_web_keypad_new(t->w, &alice, &k), 0);
	/* Malformed positions change nothing. */
	assert_int_equal(take(t, "usr_alice", k.id, "12a", pin, &why), ANFU_EINVAL);
	assert_string_equal(why.code, ANFU_R_WEB_KEYPAD_POSITIONS);
	assert_int_equal(take(t, "usr_alice", k.id, "", pin, &why), ANFU_EINVAL);
	assert_int_equal(take(t, "usr_alice", k.id, "12345678901234567", pin, &why), ANFU_EINVAL);
	/* Another user's, or an unknown one: not found, and nothing changes. */
	assert_int_equal(take(t, "usr_bob", k.id, "123456", pin, &why), ANFU_ENOTFOUND);
	assert_string_equal(why.code, ANFU_R_WEB_KEYPAD_NOT_FOUND);
	assert_int_equal(take(t, "usr_alice", "kpd_nope", "1", pin, &why), ANFU_ENOTFOUND);
	assert_int_equal(fixture_count(t->f->db, "SELECT used FROM web_keypad WHERE id = $1", k.id),
			 0);
	/* Expiry: usable until 1 ms before keypad_ttl_s, refused at it. */
	anfu_clock_advance_ms(119999);
	assert_int_equal(take(t, "usr_alice", k.id, "0123456789012345", pin, &why), 0);
	assert_int_equal(anfu_web_keypad_new(t->w, &alice, &k), 0);
	anfu_clock_advance_ms(120000);
	assert_int_equal(take(t, "usr_alice", k.id, "1", pin, &why), ANFU_EEXPIRED);
	assert_string_equal(why.code, ANFU_R_WEB_KEYPAD_EXPIRED);
}

static int setup_sqlite(void **state)
{
	fixture_pg_mode(false);
	return kt_setup(state);
}

static int setup_pg(void **state)
{
	fixture_pg_mode(true);
	return kt_setup(state);
}

#define T(fn)                                              \
	{ #fn, fn, setup_sqlite, kt_teardown, NULL },      \
	{                                                  \
		"pg:" #fn, fn, setup_pg, kt_teardown, NULL \
	}

int main(void)
{
	struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_writes_every_special_character_as_a_reference),
		cmocka_unit_test(test_template_escapes_values_and_keeps_other_braces),
		cmocka_unit_test(test_template_hits_the_buffer_cap),
		cmocka_unit_test(test_next_takes_local_paths_only),
		cmocka_unit_test(test_lang_query_wins_then_accept_language),
		cmocka_unit_test(test_assets_are_found_by_hashed_url_only),
		cmocka_unit_test(test_shuffle_is_a_permutation_and_varies),
		T(test_take_maps_positions_once),
		T(test_take_refusals),
	};

	fixture_pg_cases(tests, sizeof(tests) / sizeof(tests[0]));
	return cmocka_run_group_tests(tests, fixture_group_setup, fixture_pg_group_teardown);
}
