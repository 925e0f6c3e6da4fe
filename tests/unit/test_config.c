/*
 * tests/unit/test_config: the configuration file (src/config/).
 *
 * Checks the defaults, every integer option at and one past each bound,
 * each class of error naming its line, path defaults inside the data
 * directory, CIDR parsing and matching, and that etc/anfu.conf.example and
 * docs/configuration.md are what the option table generates. Trusts
 * ANFU_SOURCE_ROOT (set by tests/unit/meson.build) to name the source tree.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/mem.h"
#include "config/config.h"
#include "config/option.h"
#include "bank/bank.h"
#include "dispute/dispute.h"
#include "pay/pay.h"
#include "iam/config.h"
#include "ledger/ledger.h"
#include "points/points.h"
#include "wallet/wallet.h"
#include "web/web.h"

#define DATA "/srv/anfu-test-data"

/* The option tables of the product's modules besides the platform's (a
 * production build's module list: iam, web, ledger, receipt (no options),
 * points, wallet, bank, dispute, pay).
 * tests/api/test_docs.py
 * checks a production build's `anfu config describe|example` against the
 * same files. */
static const struct anfu_config_table *const TABLES[] = {
	&anfu_iam_config_table,	    &anfu_web_config_table,    &anfu_ledger_config_table,
	&anfu_points_config_table,  &anfu_wallet_config_table, &anfu_bank_config_table,
	&anfu_dispute_config_table, &anfu_pay_config_table,
};
#define NTABLES (sizeof(TABLES) / sizeof(TABLES[0]))

/* iam's options in c. */
static const struct anfu_iam_config *iam_of(const struct anfu_config *c)
{
	const struct anfu_iam_config *i = anfu_config_module(c, &anfu_iam_config_table);

	assert_non_null(i);
	return i;
}

static int load(const char *text, struct anfu_config **ret, char *err, size_t errlen)
{
	err[0] = '\0';
	return anfu_config_load_text(text, strlen(text), "t.conf", DATA, TABLES, NTABLES, ret, err,
				     errlen);
}

static struct anfu_config *load_ok(const char *text)
{
	struct anfu_config *c = NULL;
	char err[512];
	int r = load(text, &c, err, sizeof(err));

	if (r != 0)
		fail_msg("unexpected error %d: %s", r, err);
	assert_non_null(c);
	return c;
}

static char *read_source_file(const char *rel)
{
	const char *root = getenv("ANFU_SOURCE_ROOT");
	struct anfu_buf b;
	char path[4096], chunk[4096];
	FILE *f;
	size_t n;

	assert_non_null(root);
	assert_true((size_t)snprintf(path, sizeof(path), "%s/%s", root, rel) < sizeof(path));
	f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	anfu_buf_init(&b, 4 * 1024 * 1024);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		assert_int_equal(anfu_buf_append(&b, chunk, n), 0);
	fclose(f);
	return anfu_buf_steal(&b, NULL);
}

/* The "section.key" names of every option, from the dump of the defaults. */
static char *option_names(void)
{
	struct anfu_config *c = NULL;
	struct anfu_buf b;
	char *names;

	assert_int_equal(anfu_config_defaults(DATA, TABLES, NTABLES, &c), 0);
	anfu_buf_init(&b, 1024 * 1024);
	assert_int_equal(anfu_config_dump(c, &b), 0);
	anfu_config_free(c);
	names = anfu_buf_steal(&b, NULL);
	/* Keep only the names: cut each line at " = ". */
	for (char *line = names; *line;) {
		char *eq = strstr(line, " = ");
		char *nl = strchr(line, '\n');

		assert_non_null(eq);
		assert_non_null(nl);
		memset(eq, ' ', (size_t)(nl - eq));
		line = nl + 1;
	}
	return names;
}

/* Calls fn(name, arg) for every "section.key" of the table. */
static void for_each_option(void (*fn)(const char *name, void *arg), void *arg)
{
	char *names = option_names();
	int count = 0;

	for (const char *line = names; *line; line = strchr(line, '\n') + 1) {
		char name[128];

		assert_int_equal(sscanf(line, "%127s", name), 1);
		fn(name, arg);
		count++;
	}
	assert_true(count >= 30);
	free(names);
}

/* ---- defaults ---------------------------------------------------------- */

/* The documented defaults of the limits and the admin allow-list.
 * req: WEB-DOS-01, WEB-CONC-01, WEB-CONC-03, WEB-CONC-04, IAM-ADM-02 */
static void test_defaults_have_documented_values(void **state)
{
	struct anfu_config *c = NULL;

	(void)state;
	assert_int_equal(anfu_config_defaults(DATA, TABLES, NTABLES, &c), 0);
	assert_string_equal(c->path, "");
	assert_string_equal(c->data_dir, DATA);
	assert_int_equal(c->level, ANFU_LEVEL_ENHANCED);
	assert_int_equal(c->crypto, ANFU_CRYPTO_INTL);
	assert_string_equal(c->http.listen, "127.0.0.1");
	assert_int_equal(c->http.port, 8443);
	assert_int_equal(c->http.threads, 16);
	assert_int_equal(c->http.offload_threads, ANFU_LIMIT_OFFLOAD_THREADS_DEFAULT);
	assert_int_equal(iam_of(c)->mfa.device_trust_days, 30);
	assert_string_equal(c->http.tls_priorities,
			    "SECURE256:+SECURE128:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:"
			    "-CIPHER-ALL:+AES-256-GCM:+CHACHA20-POLY1305:+AES-128-GCM:"
			    "-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:-DHE-RSA:-RSA:"
			    "-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1:"
			    "+GROUP-SECP521R1:%SERVER_PRECEDENCE");
	assert_int_equal(c->http.hsts_max_age, 31536000);
	assert_true(c->admin.enabled);
	assert_string_equal(c->admin.listen, "127.0.0.1");
	assert_int_equal(c->admin.port, 9443);
	assert_int_equal(c->admin.allow_count, 2);
	assert_int_equal(c->admin.allow[0].family, AF_INET);
	assert_int_equal(c->admin.allow[0].prefix, 32);
	assert_int_equal(c->admin.allow[1].family, AF_INET6);
	assert_int_equal(c->admin.allow[1].prefix, 128);
	assert_int_equal(c->limits.header_bytes, ANFU_LIMIT_HEADER_BYTES_DEFAULT);
	assert_int_equal(c->limits.body_bytes, ANFU_LIMIT_BODY_BYTES_DEFAULT);
	assert_int_equal(c->limits.json_depth, ANFU_LIMIT_JSON_DEPTH_DEFAULT);
	assert_int_equal(c->limits.json_string_bytes, ANFU_LIMIT_JSON_STRING_DEFAULT);
	assert_int_equal(c->limits.conn_timeout_s, 15);
	assert_int_equal(c->limits.header_timeout_s, 10);
	assert_int_equal(c->limits.connections, 1024);
	assert_int_equal(c->limits.connections_per_ip, 64);
	assert_int_equal(c->limits.rate_per_ip, 100);
	assert_int_equal(c->limits.rate_burst, 200);
	assert_int_equal(c->limits.concurrent_requests, 256);
	assert_int_equal(c->limits.shutdown_grace_s, 10);
	assert_string_equal(c->database.backend, "sqlite");
	assert_int_equal(c->database.busy_timeout_ms, 5000);
	assert_string_equal(c->database.dsn, "dbname=anfu");
	assert_string_equal(c->database.sslmode, "verify-full");
	assert_int_equal(c->database.statement_timeout_ms, 0);
	assert_int_equal(c->database.pool_size, 0);
	assert_int_equal(c->audit.checkpoint_records, 1000);
	assert_int_equal(c->audit.checkpoint_seconds, 60);
	assert_string_equal(c->log.level, "info");
	anfu_config_free(c);
}

static void test_defaults_put_paths_inside_data_dir(void **state)
{
	struct anfu_config *c = NULL;

	(void)state;
	assert_int_equal(anfu_config_defaults(DATA, TABLES, NTABLES, &c), 0);
	assert_string_equal(c->http.tls_cert, DATA "/tls/server.crt");
	assert_string_equal(c->http.tls_key, DATA "/tls/server.key");
	assert_string_equal(c->database.path, DATA "/anfu.db");
	assert_string_equal(c->audit.checkpoint_file, DATA "/audit/checkpoints.jsonl");
	assert_string_equal(c->log.app, DATA "/log/anfud.log");
	assert_string_equal(c->log.access, DATA "/log/access.log");
	anfu_config_free(c);
}

static void test_empty_file_gives_the_defaults(void **state)
{
	struct anfu_config *c = NULL, *d = NULL;
	struct anfu_buf a, b;

	(void)state;
	c = load_ok("");
	assert_int_equal(anfu_config_defaults(DATA, TABLES, NTABLES, &d), 0);
	anfu_buf_init(&a, 65536);
	anfu_buf_init(&b, 65536);
	assert_int_equal(anfu_config_dump(c, &a), 0);
	assert_int_equal(anfu_config_dump(d, &b), 0);
	assert_string_equal(a.data, b.data);
	assert_string_equal(c->path, "t.conf");
	anfu_buf_free(&a);
	anfu_buf_free(&b);
	anfu_config_free(c);
	anfu_config_free(d);
}

static void test_config_free_accepts_null(void **state)
{
	(void)state;
	anfu_config_free(NULL);
}

/* ---- module tables ---------------------------------------------------------- */

struct clash_config {
	int64_t port;
};

#define ANFU_CONFIG_STRUCT struct clash_config
static const struct anfu_config_option clash_options[] = {
	ANFU_OPT_INT("http", "port", port, 1, 2, 1, NULL, NULL, "A second http.port."),
};
#undef ANFU_CONFIG_STRUCT
static const struct anfu_config_table clash_table = { "clash", clash_options, 1,
						      sizeof(struct clash_config) };

/* A module's sections are its own: a table that names a section of
 * another table (here the platform's [http]) is refused, whatever the
 * call. */
static void test_a_module_table_may_not_share_a_section(void **state)
{
	const struct anfu_config_table *const tables[] = { &anfu_iam_config_table, &clash_table };
	struct anfu_config *c = (struct anfu_config *)&c;
	struct anfu_buf b;
	char err[512] = "";

	(void)state;
	assert_int_equal(anfu_config_defaults(DATA, tables, 2, &c), ANFU_EINVAL);
	assert_ptr_equal(c, (struct anfu_config *)&c);
	assert_int_equal(
		anfu_config_load_text("", 0, "t.conf", DATA, tables, 2, &c, err, sizeof(err)),
		ANFU_EINVAL);
	assert_ptr_equal(c, (struct anfu_config *)&c);
	anfu_buf_init(&b, 65536);
	assert_int_equal(anfu_config_describe(tables, 2, &b), ANFU_EINVAL);
	anfu_buf_free(&b);
}

/* A module's option is found by its own section and lands in its own
 * struct, not in struct anfu_config; the platform's tables alone do not
 * know it. */
static void test_a_modules_options_are_parsed_into_its_own_struct(void **state)
{
	struct anfu_config *c = NULL;
	char err[512];

	(void)state;
	c = load_ok("[lockout]\nuser_threshold = 3\n[http]\nport = 8444\n");
	assert_int_equal(iam_of(c)->lockout.user_threshold, 3);
	assert_int_equal(c->http.port, 8444);
	anfu_config_free(c);
	c = (struct anfu_config *)&c;
	assert_int_equal(anfu_config_load_text("[lockout]\nuser_threshold = 3\n", 29, "t.conf",
					       DATA, NULL, 0, &c, err, sizeof(err)),
			 ANFU_EINVAL);
	assert_string_equal(err, "t.conf:1: unknown section [lockout]");
	assert_ptr_equal(c, (struct anfu_config *)&c);
}

/* ---- integer bounds (table-driven) ------------------------------------- */

struct int_case {
	const char *section, *key;
	long long min, max;
	size_t offset;
	/* the table whose struct the field is in; NULL: struct anfu_config */
	const struct anfu_config_table *owner;
};

/* A case of the option whose field f is in struct `type` of table tbl. */
#define ICX(tbl, type, s, k, lo, hi, f)              \
	{                                            \
		s, k, lo, hi, offsetof(type, f), tbl \
	}
#define IC(...) ICX(NULL, struct anfu_config, __VA_ARGS__)
#define ICI(...) ICX(&anfu_iam_config_table, struct anfu_iam_config, __VA_ARGS__)
#define ICL(...) ICX(&anfu_ledger_config_table, struct anfu_ledger_config, __VA_ARGS__)
#define ICP(...) ICX(&anfu_points_config_table, struct anfu_points_config, __VA_ARGS__)
#define ICW(...) ICX(&anfu_wallet_config_table, struct anfu_wallet_config, __VA_ARGS__)
#define ICB(...) ICX(&anfu_bank_config_table, struct anfu_bank_config, __VA_ARGS__)
#define ICWEB(...) ICX(&anfu_web_config_table, struct anfu_web_config, __VA_ARGS__)
#define ICD(...) ICX(&anfu_dispute_config_table, struct anfu_dispute_config, __VA_ARGS__)
#define ICY(...) ICX(&anfu_pay_config_table, struct anfu_pay_config, __VA_ARGS__)

/* The configurable caps: req: WEB-DOS-01, WEB-CONC-01, WEB-CONC-03, WEB-CONC-04 */
static const struct int_case int_cases[] = {
	IC("http", "port", 0, 65535, http.port),
	IC("http", "threads", 1, 64, http.threads),
	IC("http", "offload_threads", 1, ANFU_LIMIT_OFFLOAD_THREADS_MAX, http.offload_threads),
	ICI("mfa", "device_trust_days", 1, 365, mfa.device_trust_days),
	IC("http", "hsts_max_age", 0, 63072000, http.hsts_max_age),
	IC("admin", "port", 0, 65535, admin.port),
	IC("limits", "header_bytes", ANFU_LIMIT_HEADER_BYTES_MIN, ANFU_LIMIT_HEADER_BYTES_MAX,
	   limits.header_bytes),
	IC("limits", "body_bytes", 1024, ANFU_LIMIT_BODY_BYTES_MAX, limits.body_bytes),
	IC("limits", "json_depth", 1, ANFU_LIMIT_JSON_DEPTH_MAX, limits.json_depth),
	IC("limits", "json_string_bytes", 16, ANFU_LIMIT_JSON_STRING_MAX, limits.json_string_bytes),
	IC("limits", "conn_timeout", 1, 600, limits.conn_timeout_s),
	IC("limits", "header_timeout", 1, 300, limits.header_timeout_s),
	IC("limits", "connections", 1, 100000, limits.connections),
	IC("limits", "connections_per_ip", 1, 10000, limits.connections_per_ip),
	IC("limits", "connections_per_network", 1, 100000, limits.connections_per_net),
	IC("limits", "connections_reserved", 0, 90, limits.connections_reserve_pct),
	IC("limits", "handshake_timeout", 1, 60, limits.handshake_timeout_s),
	IC("limits", "rate_per_ip", 1, 1000000, limits.rate_per_ip),
	IC("limits", "rate_burst", 1, 1000000, limits.rate_burst),
	IC("limits", "concurrent_requests", 1, 100000, limits.concurrent_requests),
	IC("limits", "shutdown_grace", 0, 300, limits.shutdown_grace_s),
	IC("database", "busy_timeout_ms", 0, 600000, database.busy_timeout_ms),
	IC("database", "statement_timeout_ms", 0, 3600000, database.statement_timeout_ms),
	IC("database", "pool_size", 0, 10000, database.pool_size),
	IC("audit", "checkpoint_records", 1, 1000000, audit.checkpoint_records),
	IC("audit", "checkpoint_seconds", 1, 86400, audit.checkpoint_seconds),
	/* Policies per role class and IAM: req: IAM-PWD-01, IAM-PWD-06, IAM-PWD-07,
	 * req: IAM-LOCK-01, IAM-LOCK-02, IAM-SESS-01, IAM-SESS-05, IAM-MFA-07, C19 */
	ICI("password.customer", "min_length", 8, 128, password[ANFU_CLASS_CUSTOMER].min_length),
	ICI("password.customer", "classes_required", 3, 4,
	    password[ANFU_CLASS_CUSTOMER].classes_required),
	ICI("password.customer", "history", 5, 24, password[ANFU_CLASS_CUSTOMER].history),
	ICI("password.customer", "max_age_days", 1, 180,
	    password[ANFU_CLASS_CUSTOMER].max_age_days),
	ICI("password.customer", "remind_days", 1, 60, password[ANFU_CLASS_CUSTOMER].remind_days),
	ICI("password.merchant", "min_length", 8, 128, password[ANFU_CLASS_MERCHANT].min_length),
	ICI("password.merchant", "classes_required", 4, 4,
	    password[ANFU_CLASS_MERCHANT].classes_required),
	ICI("password.merchant", "history", 5, 24, password[ANFU_CLASS_MERCHANT].history),
	ICI("password.merchant", "max_age_days", 1, 180,
	    password[ANFU_CLASS_MERCHANT].max_age_days),
	ICI("password.merchant", "remind_days", 1, 60, password[ANFU_CLASS_MERCHANT].remind_days),
	ICI("password.operator", "min_length", 8, 128, password[ANFU_CLASS_OPERATOR].min_length),
	ICI("password.operator", "classes_required", 4, 4,
	    password[ANFU_CLASS_OPERATOR].classes_required),
	ICI("password.operator", "history", 5, 24, password[ANFU_CLASS_OPERATOR].history),
	ICI("password.operator", "max_age_days", 1, 30, password[ANFU_CLASS_OPERATOR].max_age_days),
	ICI("password.operator", "remind_days", 1, 60, password[ANFU_CLASS_OPERATOR].remind_days),
	ICI("password.admin", "min_length", 8, 128, password[ANFU_CLASS_ADMIN].min_length),
	ICI("password.admin", "classes_required", 4, 4,
	    password[ANFU_CLASS_ADMIN].classes_required),
	ICI("password.admin", "history", 5, 24, password[ANFU_CLASS_ADMIN].history),
	ICI("password.admin", "max_age_days", 1, 30, password[ANFU_CLASS_ADMIN].max_age_days),
	ICI("password.admin", "remind_days", 1, 60, password[ANFU_CLASS_ADMIN].remind_days),
	ICI("session.customer", "idle_minutes", 1, 30, session[ANFU_CLASS_CUSTOMER].idle_minutes),
	ICI("session.customer", "absolute_minutes", 10, 1440,
	    session[ANFU_CLASS_CUSTOMER].absolute_minutes),
	ICI("session.customer", "max_sessions", 1, 10, session[ANFU_CLASS_CUSTOMER].max_sessions),
	ICI("session.merchant", "idle_minutes", 1, 30, session[ANFU_CLASS_MERCHANT].idle_minutes),
	ICI("session.merchant", "absolute_minutes", 10, 1440,
	    session[ANFU_CLASS_MERCHANT].absolute_minutes),
	ICI("session.merchant", "max_sessions", 1, 10, session[ANFU_CLASS_MERCHANT].max_sessions),
	ICI("session.operator", "idle_minutes", 1, 10, session[ANFU_CLASS_OPERATOR].idle_minutes),
	ICI("session.operator", "absolute_minutes", 10, 720,
	    session[ANFU_CLASS_OPERATOR].absolute_minutes),
	ICI("session.operator", "max_sessions", 1, 3, session[ANFU_CLASS_OPERATOR].max_sessions),
	ICI("session.admin", "idle_minutes", 1, 4, session[ANFU_CLASS_ADMIN].idle_minutes),
	ICI("session.admin", "absolute_minutes", 10, 720,
	    session[ANFU_CLASS_ADMIN].absolute_minutes),
	ICI("session.admin", "max_sessions", 1, 3, session[ANFU_CLASS_ADMIN].max_sessions),
	ICI("argon2", "opslimit", 1, 10, argon2.opslimit),
	ICI("argon2", "memlimit_kib", 8192, 1048576, argon2.memlimit_kib),
	ICI("argon2", "max_concurrent", 1, 64, argon2.max_concurrent),
	ICI("lockout", "user_threshold", 1, 5, lockout.user_threshold),
	ICI("lockout", "user_minutes", 30, 10080, lockout.user_minutes),
	ICI("lockout", "staff_threshold", 1, 3, lockout.staff_threshold),
	ICI("lockout", "pay_threshold", 1, 5, lockout.pay_threshold),
	ICI("lockout", "pay_minutes", 30, 10080, lockout.pay_minutes),
	ICI("lockout", "ip_failures", 5, 10000, lockout.ip_failures),
	ICI("lockout", "ip_window", 60, 86400, lockout.ip_window_s),
	ICI("lockout", "ip_block", 60, 86400, lockout.ip_block_s),
	ICI("captcha", "after_failures", 0, 1, captcha.after_failures),
	ICI("captcha", "ttl", 30, 300, captcha.ttl_s),
	ICI("captcha", "length", 4, 8, captcha.length),
	ICI("mfa", "code_ttl", 60, 600, mfa.code_ttl_s),
	ICI("mfa", "code_max_attempts", 1, 10, mfa.code_max_attempts),
	ICI("mfa", "code_resend", 0, 600, mfa.code_resend_s),
	ICI("mfa", "stepup_window", 60, 900, mfa.stepup_window_s),
	ICI("mfa", "reset_ttl", 60, 600, mfa.reset_ttl_s),
	ICI("accounts", "dormant_days", 30, 365, accounts.dormant_days),
	ICI("accounts", "review_interval_days", 1, 30, accounts.review_interval_days),
	ICI("accounts", "temporary_max_days", 1, 90, accounts.temporary_max_days),
	ICI("alerts", "mail_window", 60, 3600, alerts.mail_window_s),
	IC("mail", "timeout", 1, 120, mail.timeout_s),
	IC("notify", "max_attempts", 1, 50, notify.max_attempts),
	IC("notify", "retry_base", 1, 3600, notify.retry_base_s),
	ICL("ledger", "batch_max", 1, 1000, batch_max),
	ICL("ledger", "batch_wait_us", 0, 100000, batch_wait_us),
	ICL("ledger", "queue_max", 1, 4096, queue_max),
	ICP("points", "earn_per_yuan", 0, 1000, earn_per_yuan),
	ICP("points", "redeem_unit_points", 1, 1000000, redeem_unit_points),
	ICP("points", "redeem_unit_fen", 1, 1000000, redeem_unit_fen),
	ICP("points", "grant_max_points", 1, ANFU_LIMIT_POINTS_AMOUNT, grant_max_points),
	ICW("wallet", "pin_single_max", 1, ANFU_LIMIT_WALLET_AMOUNT, pin_single_max),
	ICW("wallet", "pin_daily_max", 1, ANFU_LIMIT_WALLET_AMOUNT, pin_daily_max),
	ICW("wallet", "otp_single_max", 1, ANFU_LIMIT_WALLET_AMOUNT, otp_single_max),
	ICW("wallet", "otp_daily_max", 1, ANFU_LIMIT_WALLET_AMOUNT, otp_daily_max),
	ICW("wallet", "totp_single_max", 1, ANFU_LIMIT_WALLET_AMOUNT, totp_single_max),
	ICW("wallet", "totp_daily_max", 1, ANFU_LIMIT_WALLET_AMOUNT, totp_daily_max),
	ICW("wallet", "confirm_ttl_s", 30, ANFU_LIMIT_WALLET_CONFIRM_TTL_S, confirm_ttl_s),
	ICW("wallet", "sms_confirm_over", 1, ANFU_LIMIT_WALLET_AMOUNT, sms_confirm_over),
	ICWEB("web", "keypad_ttl_s", 10, 900, keypad_ttl_s),
	ICB("bank", "timeout_ms", 100, 60000, timeout_ms),
	ICB("bank", "query_after_s", 1, 86400, query_after_s),
	ICB("bank", "callback_window_s", 10, 3600, callback_window_s),
	ICB("bank", "topup_max", 1, 100000000, topup_max),
	ICB("bank", "topup_daily_max", 1, 1000000000, topup_daily_max),
	ICB("bank", "withdraw_min", 1, 100000000, withdraw_min),
	ICB("bank", "withdraw_max", 1, 100000000, withdraw_max),
	ICB("bank", "withdraw_daily_count", 1, 100, withdraw_daily_count),
	ICB("bank", "withdraw_daily_max", 1, 1000000000, withdraw_daily_max),
	ICB("bank", "withdraw_fee_fixed", 0, 100000, withdraw_fee_fixed),
	ICB("bank", "withdraw_fee_bp", 0, 1000, withdraw_fee_bp),
	ICB("bank", "withdraw_auto_max", 0, 100000000, withdraw_auto_max),
	ICB("bank", "withdraw_large_over", 0, 100000000, withdraw_large_over),
	ICB("bank", "withdraw_stepup_over", 0, 100000000, withdraw_stepup_over),
	ICD("dispute", "take_hours", 1, 720, take_hours),
	ICD("dispute", "handle_days", 1, 180, handle_days),
	ICD("dispute", "confirm_days", 1, 180, confirm_days),
	ICY("pay", "order_ttl_default_s", 60, ANFU_LIMIT_PAY_ORDER_TTL_S, order_ttl_default_s),
	ICY("pay", "order_ttl_max_s", 60, ANFU_LIMIT_PAY_ORDER_TTL_S, order_ttl_max_s),
	ICY("pay", "fee_bps_default", 0, 10000, fee_bps_default),
	ICY("pay", "escrow_days_default", 1, ANFU_LIMIT_PAY_ESCROW_DAYS, escrow_days_default),
	ICY("pay", "escrow_days_min", 1, ANFU_LIMIT_PAY_ESCROW_DAYS, escrow_days_min),
	ICY("pay", "escrow_days_max", 1, ANFU_LIMIT_PAY_ESCROW_DAYS, escrow_days_max),
	ICY("pay", "second_factor_fresh_s", 30, 3600, second_factor_fresh_s),
	ICY("pay", "expire_interval_s", 1, 86400, expire_interval_s),
	ICY("pay", "refund_auto_max", 0, ANFU_LIMIT_WALLET_AMOUNT, refund_auto_max),
	ICY("pay", "refund_four_eyes_min", 0, ANFU_LIMIT_WALLET_AMOUNT, refund_four_eyes_min),
	ICY("pay", "refund_retry_interval_s", 1, 86400, refund_retry_interval_s),
	ICY("pay", "share_ttl_s", 60, ANFU_LIMIT_PAY_ORDER_TTL_S, share_ttl_s),
	ICY("pay", "paycode_nopin_max", 0, ANFU_LIMIT_WALLET_AMOUNT, paycode_nopin_max),
};

#define NINT (sizeof(int_cases) / sizeof(int_cases[0]))

/* The option on line 3, after a comment and the section header. */
static void int_text(char *out, size_t cap, const struct int_case *ic, long long v)
{
	(void)snprintf(out, cap, "# bound\n[%s]\n%s = %lld\n", ic->section, ic->key, v);
}

static void test_int_options_accept_min_and_max(void **state)
{
	char text[256];

	(void)state;
	for (size_t i = 0; i < NINT; i++) {
		long long bounds[2] = { int_cases[i].min, int_cases[i].max };

		for (int b = 0; b < 2; b++) {
			struct anfu_config *c;
			const void *base;

			int_text(text, sizeof(text), &int_cases[i], bounds[b]);
			c = load_ok(text);
			/* The value lands in the struct of the table that owns it. */
			base = int_cases[i].owner ? anfu_config_module(c, int_cases[i].owner)
						  : (const void *)c;
			assert_non_null(base);
			assert_int_equal(
				*(const int64_t *)((const char *)base + int_cases[i].offset),
				bounds[b]);
			anfu_config_free(c);
		}
	}
}

static void test_int_options_refuse_one_past_each_bound_naming_the_line(void **state)
{
	char text[256], err[512], want[128];

	(void)state;
	for (size_t i = 0; i < NINT; i++) {
		long long past[2] = { int_cases[i].min - 1, int_cases[i].max + 1 };

		for (int b = 0; b < 2; b++) {
			struct anfu_config *c = (struct anfu_config *)&c;

			int_text(text, sizeof(text), &int_cases[i], past[b]);
			assert_int_equal(load(text, &c, err, sizeof(err)), ANFU_EINVAL);
			assert_ptr_equal(c, (struct anfu_config *)&c);
			(void)snprintf(want, sizeof(want),
				       "t.conf:3: %s.%s: %lld is out of "
				       "range %lld..%lld",
				       int_cases[i].section, int_cases[i].key, past[b],
				       int_cases[i].min, int_cases[i].max);
			if (strcmp(err, want) != 0)
				fail_msg("got '%s', want '%s'", err, want);
		}
	}
}

/* The table above covers every int option of the reference. */
static void test_int_bounds_table_covers_every_int_option(void **state)
{
	struct anfu_buf doc;
	size_t ints = 0;

	(void)state;
	anfu_buf_init(&doc, 1024 * 1024);
	assert_int_equal(anfu_config_describe(TABLES, NTABLES, &doc), 0);
	for (const char *p = doc.data; (p = strstr(p, "` | int | ")) != NULL; p++)
		ints++;
	assert_int_equal(ints, NINT);
	anfu_buf_free(&doc);
}

/* ---- refusals (one named test per case) --------------------------------- */

struct refusal {
	const char *text;
	const char *want; /* exact message, "t.conf:LINE: ..." */
};

static void run_refusal(void **state)
{
	const struct refusal *rc = *state;
	struct anfu_config *c = (struct anfu_config *)&c;
	char err[512];

	assert_int_equal(load(rc->text, &c, err, sizeof(err)), ANFU_EINVAL);
	assert_ptr_equal(c, (struct anfu_config *)&c);
	if (strcmp(err, rc->want) != 0)
		fail_msg("got '%s', want '%s'", err, rc->want);
}

static const struct refusal r_unknown_key = { "[http]\nport = 1\nfoo = 1\n",
					      "t.conf:3: unknown key 'foo' in section [http]" };
static const struct refusal r_unknown_section = { "[http]\nport = 1\n\n[bogus]\n",
						  "t.conf:4: unknown section [bogus]" };
static const struct refusal r_unknown_section_with_key = { "[bogus]\nx = 1\n",
							   "t.conf:1: unknown section [bogus]" };
static const struct refusal r_section_name_is_case_sensitive = {
	"[HTTP]\n", "t.conf:1: unknown section [HTTP]"
};
static const struct refusal r_repeated_key = {
	"[http]\nport = 1\n\nport = 2\n",
	"t.conf:4: repeated key 'port' in section [http] (first set on line 2)"
};
static const struct refusal r_repeated_key_in_reopened_section = {
	"[http]\nport = 1\n[admin]\nport = 2\n[http]\nport = 3\n",
	"t.conf:6: repeated key 'port' in section [http] (first set on line 2)"
};
static const struct refusal r_key_before_any_section = {
	"; comment\nport = 1\n[http]\n", "t.conf:2: key 'port' is outside any section"
};
static const struct refusal r_bad_level = {
	"[server]\nlevel = high\n", "t.conf:2: server.level: 'high' is not one of basic, enhanced"
};
static const struct refusal r_enum_is_case_sensitive = {
	"[server]\ncrypto = GM\n", "t.conf:2: server.crypto: 'GM' is not one of intl, gm"
};
static const struct refusal r_bad_log_level = {
	"[log]\nlevel = trace\n",
	"t.conf:2: log.level: 'trace' is not one of debug, info, warn, error"
};
static const struct refusal r_bad_backend = {
	"[database]\nbackend = mysql\n",
	"t.conf:2: database.backend: 'mysql' is not one of sqlite, postgresql"
};
static const struct refusal r_bad_bool = { "[admin]\nenabled = yes\n",
					   "t.conf:2: admin.enabled: 'yes' is not true or false" };
static const struct refusal r_bad_cidr_prefix = {
	"[admin]\nallow = 10.0.0.0/33\n",
	"t.conf:2: admin.allow: '10.0.0.0/33' is not a CIDR (address/prefix)"
};
static const struct refusal r_bad_cidr_in_list = {
	"[admin]\nallow = 10.0.0.0/8, nonsense\n",
	"t.conf:2: admin.allow: 'nonsense' is not a CIDR (address/prefix)"
};
static const struct refusal r_empty_cidr_entry = {
	"[admin]\nallow = 10.0.0.0/8,,::1\n",
	"t.conf:2: admin.allow: empty entry (expected comma-separated CIDRs)"
};
static const struct refusal r_empty_cidr_list = {
	"[admin]\nallow =\n",
	"t.conf:2: admin.allow: at least one CIDR is needed (to turn the listener off "
	"set admin.enabled = false)"
};
static const struct refusal r_too_many_cidrs = {
	"[admin]\nallow = 10.0.0.1, 10.0.0.2, 10.0.0.3, 10.0.0.4, 10.0.0.5, 10.0.0.6, "
	"10.0.0.7, 10.0.0.8, 10.0.0.9, 10.0.0.10, 10.0.0.11, 10.0.0.12, 10.0.0.13, "
	"10.0.0.14, 10.0.0.15, 10.0.0.16, 10.0.0.17\n",
	"t.conf:2: admin.allow: more than 16 CIDRs"
};
static const struct refusal r_bad_address = {
	"[http]\nlisten = localhost\n",
	"t.conf:2: http.listen: 'localhost' is not an IPv4 or IPv6 address"
};
static const struct refusal r_quoted_value = {
	"[http]\nlisten = \"127.0.0.1\"\n",
	"t.conf:2: http.listen: '\"127.0.0.1\"' is not an IPv4 or IPv6 address"
};
static const struct refusal r_hex_integer = {
	"[http]\nport = 0x10\n", "t.conf:2: http.port: '0x10' is not a decimal integer"
};
static const struct refusal r_plus_sign = { "[http]\nport = +5\n",
					    "t.conf:2: http.port: '+5' is not a decimal integer" };
static const struct refusal r_trailing_garbage = {
	"[http]\nport = 80a\n", "t.conf:2: http.port: '80a' is not a decimal integer"
};
static const struct refusal r_empty_integer = {
	"[http]\nport =\n", "t.conf:2: http.port: '' is not a decimal integer"
};
static const struct refusal r_integer_overflow = {
	"[http]\nport = 99999999999999999999999\n",
	"t.conf:2: http.port: 99999999999999999999999 is out of range 0..65535"
};
static const struct refusal r_empty_tls_priorities = {
	"[http]\ntls_priorities =\n", "t.conf:2: http.tls_priorities: must not be empty"
};
static const struct refusal r_control_character_in_path = {
	"[log]\napp = a\x01"
	"b\n",
	"t.conf:2: log.app: 'a?b' has control characters or invalid UTF-8"
};
static const struct refusal r_invalid_utf8_in_path = {
	"[log]\napp = a\xff"
	"b\n",
	"t.conf:2: log.app: 'a?b' has control characters or invalid UTF-8"
};
static const struct refusal r_key_without_value = {
	"[http]\nport\n", "t.conf:2: syntax error (expected [section], key = value or a comment)"
};
static const struct refusal r_unterminated_section = {
	"[http\nport = 1\n", "t.conf:1: syntax error (expected [section], key = value or a comment)"
};
static const struct refusal r_continuation_line = {
	"[http]\nlisten = 127.0.0.1\n  ::1\n",
	"t.conf:3: syntax error (expected [section], key = value or a comment)"
};
static const struct refusal r_first_error_wins = {
	"[http]\nfoo = 1\nbar = 2\n", "t.conf:2: unknown key 'foo' in section [http]"
};
static const struct refusal r_crlf_lines_counted = {
	"; c\r\n\r\n[http]\r\nport = x\r\n", "t.conf:4: http.port: 'x' is not a decimal integer"
};
static const struct refusal r_admin_port_equals_http_port = {
	"[http]\nport = 9443\n",
	"t.conf:2: admin.port 9443 is http.port too; the admin listener needs its own "
	"port on an overlapping address"
};
static const struct refusal r_admin_port_clashes_on_wildcard = {
	"[http]\nlisten = ::\nport = 7000\n[admin]\nport = 7000\n",
	"t.conf:5: admin.port 7000 is http.port too; the admin listener needs its own "
	"port on an overlapping address"
};
static const struct refusal r_pg_dsn_with_a_password = {
	"[database]\nbackend = postgresql\ndsn = host=db.example dbname=anfu password=hunter2\n",
	"t.conf:3: database dsn contains a password; use database.password_file or PGPASSWORD"
};
static const struct refusal r_pg_dsn_uri_with_a_password = {
	"[database]\ndsn = postgresql://anfu:hunter2@db.example/anfu\nbackend = postgresql\n",
	"t.conf:2: database dsn contains a password; use database.password_file or PGPASSWORD"
};
static const struct refusal r_pg_dsn_with_sslmode = {
	"[database]\nbackend = postgresql\ndsn = host=db.example sslmode=disable\n",
	"t.conf:3: database dsn sets sslmode; use database.sslmode"
};
static const struct refusal r_pg_sslmode_prefer = {
	"[database]\nsslmode = prefer\n",
	"t.conf:2: database.sslmode: 'prefer' is not one of verify-full, verify-ca, require, "
	"disable"
};
static const struct refusal r_long_value_echo_is_cut = {
	"[http]\nlisten = aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
	"t.conf:2: http.listen: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' is not "
	"an IPv4 or IPv6 address"
};

#define REFUSES(name)                                                             \
	{                                                                         \
		"test_refuses_" #name, run_refusal, NULL, NULL, (void *)&r_##name \
	}

static void test_refuses_line_over_line_max(void **state)
{
	struct anfu_buf b;
	struct anfu_config *c = NULL;
	char err[512];

	(void)state;
	anfu_buf_init(&b, 65536);
	assert_int_equal(anfu_buf_appends(&b, "[http]\n\n; "), 0);
	for (int i = 0; i < 4095; i++)
		assert_int_equal(anfu_buf_appends(&b, "x"), 0);
	assert_int_equal(anfu_buf_appends(&b, "\nport = 1\n"), 0);
	assert_int_equal(anfu_config_load_text(b.data, b.len, "t.conf", DATA, TABLES, NTABLES, &c,
					       err, sizeof(err)),
			 ANFU_EINVAL);
	assert_null(c);
	assert_string_equal(err, "t.conf:3: line longer than 4096 bytes");
	anfu_buf_free(&b);
}

static void test_accepts_line_of_exactly_line_max(void **state)
{
	struct anfu_buf b;
	struct anfu_config *c;

	(void)state;
	anfu_buf_init(&b, 65536);
	assert_int_equal(anfu_buf_appends(&b, "[http]\n; "), 0);
	for (int i = 0; i < 4094; i++)
		assert_int_equal(anfu_buf_appends(&b, "x"), 0);
	assert_int_equal(anfu_buf_appends(&b, "\nport = 1\n"), 0);
	c = load_ok(b.data);
	assert_int_equal(c->http.port, 1);
	anfu_config_free(c);
	anfu_buf_free(&b);
}

static void test_refuses_nul_byte(void **state)
{
	static const char text[] = "[http]\nport = 1\x00\nthreads = 2\n";
	struct anfu_config *c = NULL;
	char err[512];

	(void)state;
	assert_int_equal(anfu_config_load_text(text, sizeof(text) - 1, "t.conf", DATA, TABLES,
					       NTABLES, &c, err, sizeof(err)),
			 ANFU_EINVAL);
	assert_null(c);
	assert_string_equal(err, "t.conf:2: NUL byte in the line");
}

static void test_refuses_text_over_file_max(void **state)
{
	size_t len = 1024 * 1024 + 1;
	char *text = anfu_xmalloc(len);
	struct anfu_config *c = NULL;
	char err[512];

	(void)state;
	memset(text, '\n', len);
	assert_int_equal(anfu_config_load_text(text, len, "t.conf", DATA, TABLES, NTABLES, &c, err,
					       sizeof(err)),
			 ANFU_EINVAL);
	assert_null(c);
	assert_string_equal(err, "t.conf: file larger than 1048576 bytes");
	free(text);
}

/* ---- accepted forms ---------------------------------------------------- */

/* Both profiles are selectable (what each changes is tested by the modules
 * that consult them). */
static void test_profiles_select_basic_and_gm(void **state)
{
	struct anfu_config *c;

	(void)state;
	c = load_ok("[server]\nlevel = basic\ncrypto = gm\n");
	assert_int_equal(c->level, ANFU_LEVEL_BASIC);
	assert_int_equal(c->crypto, ANFU_CRYPTO_GM);
	anfu_config_free(c);
}

static void test_accepts_bom_crlf_comments_and_indented_keys(void **state)
{
	struct anfu_config *c;

	(void)state;
	c = load_ok("\xef\xbb\xbf; top\r\n# hash comment\r\n[http]  ; inline\r\n"
		    "   port = 1234 ; inline comment\r\n\tthreads = 8\r\n");
	assert_int_equal(c->http.port, 1234);
	assert_int_equal(c->http.threads, 8);
	anfu_config_free(c);
}

/* inih's stock line buffer holds 200 bytes; the default priority string is
 * longer than that once written as a line. */
static void test_accepts_tls_priorities_line_over_200_bytes(void **state)
{
	static const char prio[] =
		"SECURE256:+SECURE128:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-256-GCM:"
		"+CHACHA20-POLY1305:+AES-128-GCM:-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:"
		"+ECDHE-RSA:-DHE-RSA:-RSA:-DHE-DSS:-VERS-TLS1.0:-VERS-TLS1.1:"
		"%SERVER_PRECEDENCE:%NO_SESSION_HASH";
	char text[1024];
	struct anfu_config *c;

	(void)state;
	assert_true(sizeof(prio) > 200);
	(void)snprintf(text, sizeof(text), "[http]\ntls_priorities = %s\nport = 1\n", prio);
	c = load_ok(text);
	assert_string_equal(c->http.tls_priorities, prio);
	assert_int_equal(c->http.port, 1);
	anfu_config_free(c);
}

/* req: IAM-ADM-02 */
static void test_admin_allow_parses_a_list_with_spaces(void **state)
{
	struct anfu_config *c;
	uint8_t a[4] = { 192, 168, 7, 9 };
	uint8_t b[4] = { 192, 169, 0, 1 };

	(void)state;
	c = load_ok("[admin]\nallow = 10.0.0.0/8 ,\t192.168.0.0/16,fd00::/8\n");
	assert_int_equal(c->admin.allow_count, 3);
	assert_true(anfu_cidr_match(c->admin.allow, c->admin.allow_count, AF_INET, a));
	assert_false(anfu_cidr_match(c->admin.allow, c->admin.allow_count, AF_INET, b));
	anfu_config_free(c);
}

/* req: IAM-ADM-02 */
static void test_admin_port_may_equal_http_port_when_admin_disabled(void **state)
{
	struct anfu_config *c;

	(void)state;
	c = load_ok("[http]\nport = 9443\n[admin]\nenabled = false\n");
	assert_false(c->admin.enabled);
	anfu_config_free(c);
}

static void test_admin_port_may_equal_http_port_on_another_address(void **state)
{
	struct anfu_config *c;

	(void)state;
	c = load_ok("[http]\nlisten = 10.0.0.1\nport = 9443\n[admin]\nlisten = ::1\n");
	assert_int_equal(c->admin.port, c->http.port);
	anfu_config_free(c);
}

static void test_both_ports_zero_is_allowed(void **state)
{
	struct anfu_config *c;

	(void)state;
	c = load_ok("[http]\nport = 0\n[admin]\nport = 0\n");
	assert_int_equal(c->http.port, 0);
	anfu_config_free(c);
}

static void test_ipv6_listen_is_accepted(void **state)
{
	struct anfu_config *c;

	(void)state;
	c = load_ok("[http]\nlisten = ::\n");
	assert_string_equal(c->http.listen, "::");
	anfu_config_free(c);
}

/* ---- paths and the data directory -------------------------------------- */

static void test_empty_paths_default_inside_data_dir(void **state)
{
	struct anfu_config *c;

	(void)state;
	c = load_ok("[database]\npath =\n[log]\napp =\n[audit]\ncheckpoint_file =\n");
	assert_string_equal(c->database.path, DATA "/anfu.db");
	assert_string_equal(c->log.app, DATA "/log/anfud.log");
	assert_string_equal(c->audit.checkpoint_file, DATA "/audit/checkpoints.jsonl");
	anfu_config_free(c);
}

static void test_relative_paths_resolve_inside_data_dir(void **state)
{
	struct anfu_config *c;

	(void)state;
	c = load_ok("[http]\ntls_cert = certs/a.crt\ntls_key = /etc/anfu/a.key\n");
	assert_string_equal(c->http.tls_cert, DATA "/certs/a.crt");
	assert_string_equal(c->http.tls_key, "/etc/anfu/a.key");
	anfu_config_free(c);
}

static void test_relative_missing_data_dir_is_joined_to_cwd(void **state)
{
	struct anfu_config *c = NULL;
	char *cwd = getcwd(NULL, 0);
	char want[4096];

	(void)state;
	assert_non_null(cwd);
	assert_int_equal(anfu_config_defaults("./no-such-anfu-dir/", TABLES, NTABLES, &c), 0);
	(void)snprintf(want, sizeof(want), "%s/no-such-anfu-dir", cwd);
	assert_string_equal(c->data_dir, want);
	(void)snprintf(want, sizeof(want), "%s/no-such-anfu-dir/anfu.db", cwd);
	assert_string_equal(c->database.path, want);
	anfu_config_free(c);
	free(cwd);
}

static void test_existing_data_dir_is_resolved(void **state)
{
	char dir[] = "/tmp/anfu-config-XXXXXX", messy[64];
	struct anfu_config *c = NULL;
	char *real;

	(void)state;
	assert_non_null(mkdtemp(dir));
	real = realpath(dir, NULL);
	assert_non_null(real);
	(void)snprintf(messy, sizeof(messy), "%s/./", dir);
	assert_int_equal(anfu_config_defaults(messy, TABLES, NTABLES, &c), 0);
	assert_string_equal(c->data_dir, real);
	anfu_config_free(c);
	free(real);
	assert_int_equal(rmdir(dir), 0);
}

static void test_empty_data_dir_is_refused(void **state)
{
	struct anfu_config *c = NULL;

	(void)state;
	assert_int_equal(anfu_config_defaults("", TABLES, NTABLES, &c), ANFU_EINVAL);
	assert_int_equal(anfu_config_defaults(NULL, TABLES, NTABLES, &c), ANFU_EINVAL);
	assert_null(c);
}

/* ---- files ------------------------------------------------------------- */

static void test_load_reads_file_and_records_path(void **state)
{
	char path[] = "/tmp/anfu-config-XXXXXX";
	struct anfu_config *c = NULL;
	char err[512];
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "[limits]\nbody_bytes = 2048\n", 27), 27);
	close(fd);
	assert_int_equal(anfu_config_load(path, DATA, TABLES, NTABLES, &c, err, sizeof(err)), 0);
	assert_string_equal(c->path, path);
	assert_int_equal(c->limits.body_bytes, 2048);
	anfu_config_free(c);
	unlink(path);
}

static void test_load_error_names_file_and_line(void **state)
{
	char path[] = "/tmp/anfu-config-XXXXXX", want[256];
	struct anfu_config *c = NULL;
	char err[512];
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "[limits]\n\nnope = 1\n", 19), 19);
	close(fd);
	assert_int_equal(anfu_config_load(path, DATA, TABLES, NTABLES, &c, err, sizeof(err)),
			 ANFU_EINVAL);
	assert_null(c);
	(void)snprintf(want, sizeof(want), "%s:3: unknown key 'nope' in section [limits]", path);
	assert_string_equal(err, want);
	unlink(path);
}

static void test_load_missing_file_is_eio_with_message(void **state)
{
	struct anfu_config *c = NULL;
	char err[512];

	(void)state;
	assert_int_equal(anfu_config_load("/nonexistent/anfu.conf", DATA, TABLES, NTABLES, &c, err,
					  sizeof(err)),
			 ANFU_EIO);
	assert_null(c);
	assert_string_equal(err, "/nonexistent/anfu.conf: cannot open: No such file or "
				 "directory");
}

static void test_load_directory_is_eio(void **state)
{
	struct anfu_config *c = NULL;
	char err[512];

	(void)state;
	assert_int_equal(anfu_config_load("/tmp", DATA, TABLES, NTABLES, &c, err, sizeof(err)),
			 ANFU_EIO);
	assert_null(c);
	assert_string_equal(err, "/tmp: not a regular file");
}

/* ---- CIDR parsing and matching (table-driven) --------------------------- */

struct cidr_parse_case {
	const char *text;
	int family; /* 0: refused */
	int prefix;
	const char *network; /* text of the stored network address */
};

static void test_cidr_parse_table(void **state)
{
	static const struct cidr_parse_case cases[] = {
		{ "10.0.0.0/8", AF_INET, 8, "10.0.0.0" },
		{ "10.1.2.3/8", AF_INET, 8, "10.0.0.0" },
		{ "192.168.1.130/25", AF_INET, 25, "192.168.1.128" },
		{ "1.2.3.4", AF_INET, 32, "1.2.3.4" },
		{ "0.0.0.0/0", AF_INET, 0, "0.0.0.0" },
		{ "::1", AF_INET6, 128, "::1" },
		{ "2001:db8::1/32", AF_INET6, 32, "2001:db8::" },
		{ "::/0", AF_INET6, 0, "::" },
		{ "::ffff:10.0.0.0/104", AF_INET, 8, "10.0.0.0" },
		{ "::ffff:0:0/96", AF_INET, 0, "0.0.0.0" },
		{ "", 0, 0, NULL },
		{ "10.0.0.0/", 0, 0, NULL },
		{ "10.0.0.0/33", 0, 0, NULL },
		{ "::/129", 0, 0, NULL },
		{ "10.0.0.0/-1", 0, 0, NULL },
		{ "10.0.0.0/+8", 0, 0, NULL },
		{ "10.0.0.0/ 8", 0, 0, NULL },
		{ " 10.0.0.0/8", 0, 0, NULL },
		{ "10.0.0/8", 0, 0, NULL },
		{ "10.0.0.0/8/9", 0, 0, NULL },
		{ "fe80::1%eth0/64", 0, 0, NULL },
		{ "localhost", 0, 0, NULL },
		{ "1111:2222:3333:4444:5555:6666:7777:8888:9999/128", 0, 0, NULL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct cidr_parse_case *tc = &cases[i];
		struct anfu_cidr c = { .family = -7 };
		char net[INET6_ADDRSTRLEN];
		int r = anfu_cidr_parse(tc->text, &c);

		if (!tc->family) {
			if (r != ANFU_EINVAL)
				fail_msg("'%s' accepted", tc->text);
			assert_int_equal(c.family, -7);
			continue;
		}
		if (r != 0)
			fail_msg("'%s' refused", tc->text);
		assert_int_equal(c.family, tc->family);
		assert_int_equal(c.prefix, tc->prefix);
		assert_non_null(inet_ntop(c.family, c.addr, net, sizeof(net)));
		assert_string_equal(net, tc->network);
	}
}

struct cidr_match_case {
	const char *cidrs; /* comma-separated */
	const char *addr;  /* IPv4 or IPv6 text */
	bool match;
};

static void test_cidr_match_table(void **state)
{
	/* req: IAM-ADM-02 */
	static const struct cidr_match_case cases[] = {
		{ "10.0.0.0/8", "10.2.3.4", true },
		{ "10.0.0.0/8", "11.0.0.1", false },
		{ "192.168.1.0/25", "192.168.1.127", true },
		{ "192.168.1.0/25", "192.168.1.128", false },
		{ "0.0.0.0/0", "203.0.113.9", true },
		{ "0.0.0.0/0", "2001:db8::1", false },
		{ "::1/128", "::1", true },
		{ "::1/128", "::2", false },
		{ "2001:db8::/32", "2001:db8:ffff::1", true },
		{ "2001:db8::/32", "2001:db9::", false },
		{ "::/0", "2001:db8::1", true },
		{ "127.0.0.1/32", "::ffff:127.0.0.1", true },
		{ "127.0.0.1/32", "::ffff:127.0.0.2", false },
		{ "::1/128", "::ffff:0.0.0.1", false },
		{ "::ffff:192.168.0.0/112", "192.168.5.5", true },
		{ "::ffff:192.168.0.0/112", "::ffff:192.168.5.5", true },
		{ "10.0.0.0/8, ::1/128", "::1", true },
		{ "10.0.0.0/8, ::1/128", "10.9.9.9", true },
		{ "10.0.0.0/8, ::1/128", "172.16.0.1", false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct anfu_cidr cidrs[4];
		char item[64];
		uint8_t addr[16];
		int n = 0, family, used;

		for (const char *t = cases[i].cidrs; sscanf(t, " %63[^,]%n", item, &used) == 1;
		     t += used + (t[used] == ',')) {
			assert_true(n < 4);
			assert_int_equal(anfu_cidr_parse(item, &cidrs[n++]), 0);
		}
		family = strchr(cases[i].addr, ':') ? AF_INET6 : AF_INET;
		assert_int_equal(inet_pton(family, cases[i].addr, addr), 1);
		if (anfu_cidr_match(cidrs, n, family, addr) != cases[i].match)
			fail_msg("%s in %s: want %d", cases[i].addr, cases[i].cidrs,
				 cases[i].match);
	}
}

static void test_cidr_match_refuses_bad_arguments(void **state)
{
	struct anfu_cidr c;
	uint8_t addr[16] = { 10 };

	(void)state;
	assert_int_equal(anfu_cidr_parse("10.0.0.0/8", &c), 0);
	assert_false(anfu_cidr_match(&c, 1, AF_INET, NULL));
	assert_false(anfu_cidr_match(&c, 1, AF_UNIX, addr));
	assert_false(anfu_cidr_match(NULL, 0, AF_INET, addr));
	assert_false(anfu_cidr_match(&c, 0, AF_INET, addr));
}

/* ---- generated files --------------------------------------------------- */

static void test_dump_lists_every_option_with_its_value(void **state)
{
	struct anfu_config *c;
	struct anfu_buf b;

	(void)state;
	c = load_ok("[limits]\nrate_burst = 7\n[admin]\nallow = 10.1.0.0/16, ::1\n");
	anfu_buf_init(&b, 65536);
	assert_int_equal(anfu_config_dump(c, &b), 0);
	assert_non_null(strstr(b.data, "\nlimits.rate_burst = 7\n"));
	assert_non_null(strstr(b.data, "\nadmin.allow = 10.1.0.0/16, ::1/128\n"));
	assert_non_null(strstr(b.data, "server.level = enhanced\n"));
	assert_non_null(strstr(b.data, "\ndatabase.path = " DATA "/anfu.db\n"));
	anfu_buf_free(&b);
	anfu_config_free(c);
}

static void test_example_file_is_the_generated_example(void **state)
{
	char *file = read_source_file("etc/anfu.conf.example");
	struct anfu_buf b;

	(void)state;
	anfu_buf_init(&b, 1024 * 1024);
	assert_int_equal(anfu_config_example(TABLES, NTABLES, &b), 0);
	if (strcmp(file, b.data) != 0)
		fail_msg("etc/anfu.conf.example is stale: regenerate it from "
			 "anfu_config_example()");
	anfu_buf_free(&b);
	free(file);
}

/* True when text has the line "key =" (or "key = ...") under [section]. */
static bool example_has(const char *text, const char *section, size_t slen, const char *key)
{
	size_t klen = strlen(key);
	bool in_section = false;

	for (const char *line = text; line; line = strchr(line, '\n')) {
		line += *line == '\n';
		if (line[0] == '[')
			in_section = strncmp(line + 1, section, slen) == 0 && line[slen + 1] == ']';
		else if (in_section && strncmp(line, key, klen) == 0 &&
			 strncmp(line + klen, " =", 2) == 0 &&
			 (line[klen + 2] == ' ' || line[klen + 2] == '\n'))
			return true;
	}
	return false;
}

static void check_example_has_key(const char *name, void *arg)
{
	/* Section names may contain dots ("password.customer"); keys never do. */
	const char *dot = strrchr(name, '.');

	assert_non_null(dot);
	if (!example_has(arg, name, (size_t)(dot - name), dot + 1))
		fail_msg("example has no key %s", name);
}

static void test_example_file_parses_cleanly_with_every_key(void **state)
{
	const char *root = getenv("ANFU_SOURCE_ROOT");
	char path[4096], err[512];
	struct anfu_config *c = NULL;
	char *text;

	(void)state;
	assert_non_null(root);
	(void)snprintf(path, sizeof(path), "%s/etc/anfu.conf.example", root);
	if (anfu_config_load(path, DATA, TABLES, NTABLES, &c, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	anfu_config_free(c);
	text = read_source_file("etc/anfu.conf.example");
	for_each_option(check_example_has_key, text);
	free(text);
}

static void test_docs_contain_the_generated_reference(void **state)
{
	char *doc = read_source_file("docs/configuration.md");
	struct anfu_buf b;

	(void)state;
	anfu_buf_init(&b, 1024 * 1024);
	assert_int_equal(anfu_config_describe(TABLES, NTABLES, &b), 0);
	if (!strstr(doc, b.data))
		fail_msg("docs/configuration.md does not hold the table that "
			 "anfu_config_describe() generates; regenerate it");
	anfu_buf_free(&b);
	free(doc);
}

static void check_doc_mentions(const char *name, void *arg)
{
	char quoted[128];

	(void)snprintf(quoted, sizeof(quoted), "`%s`", name);
	if (!strstr(arg, quoted))
		fail_msg("docs/configuration.md does not mention %s", quoted);
}

static void test_docs_mention_every_option(void **state)
{
	char *doc = read_source_file("docs/configuration.md");

	(void)state;
	for_each_option(check_doc_mentions, doc);
	free(doc);
}

static void test_describe_rows_carry_requirement_ids(void **state)
{
	struct anfu_buf b;

	(void)state;
	anfu_buf_init(&b, 1024 * 1024);
	assert_int_equal(anfu_config_describe(TABLES, NTABLES, &b), 0);
	assert_non_null(strstr(b.data, "| limits | `limits.conn_timeout` | int | `15` | "
				       "1..600 s | WEB-CONC-04, WEB-DOS-01 |"));
	assert_non_null(strstr(b.data, "| admin | `admin.allow` | cidr-list |"));
	assert_non_null(strstr(b.data, "IAM-ADM-02"));
	assert_non_null(strstr(b.data, "DATA-TX-07"));
	anfu_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_have_documented_values),
		cmocka_unit_test(test_defaults_put_paths_inside_data_dir),
		cmocka_unit_test(test_empty_file_gives_the_defaults),
		cmocka_unit_test(test_config_free_accepts_null),
		cmocka_unit_test(test_a_module_table_may_not_share_a_section),
		cmocka_unit_test(test_a_modules_options_are_parsed_into_its_own_struct),
		cmocka_unit_test(test_int_options_accept_min_and_max),
		cmocka_unit_test(test_int_options_refuse_one_past_each_bound_naming_the_line),
		cmocka_unit_test(test_int_bounds_table_covers_every_int_option),
		REFUSES(unknown_key),
		REFUSES(unknown_section),
		REFUSES(unknown_section_with_key),
		REFUSES(section_name_is_case_sensitive),
		REFUSES(repeated_key),
		REFUSES(repeated_key_in_reopened_section),
		REFUSES(key_before_any_section),
		REFUSES(bad_level),
		REFUSES(enum_is_case_sensitive),
		REFUSES(bad_log_level),
		REFUSES(bad_backend),
		REFUSES(bad_bool),
		REFUSES(bad_cidr_prefix),
		REFUSES(bad_cidr_in_list),
		REFUSES(empty_cidr_entry),
		REFUSES(empty_cidr_list),
		REFUSES(too_many_cidrs),
		REFUSES(bad_address),
		REFUSES(quoted_value),
		REFUSES(hex_integer),
		REFUSES(plus_sign),
		REFUSES(trailing_garbage),
		REFUSES(empty_integer),
		REFUSES(integer_overflow),
		REFUSES(empty_tls_priorities),
		REFUSES(control_character_in_path),
		REFUSES(invalid_utf8_in_path),
		REFUSES(key_without_value),
		REFUSES(unterminated_section),
		REFUSES(continuation_line),
		REFUSES(first_error_wins),
		REFUSES(crlf_lines_counted),
		REFUSES(admin_port_equals_http_port),
		REFUSES(pg_dsn_with_a_password),
		REFUSES(pg_dsn_uri_with_a_password),
		REFUSES(pg_dsn_with_sslmode),
		REFUSES(pg_sslmode_prefer),
		REFUSES(admin_port_clashes_on_wildcard),
		REFUSES(long_value_echo_is_cut),
		cmocka_unit_test(test_refuses_line_over_line_max),
		cmocka_unit_test(test_accepts_line_of_exactly_line_max),
		cmocka_unit_test(test_refuses_nul_byte),
		cmocka_unit_test(test_refuses_text_over_file_max),
		cmocka_unit_test(test_profiles_select_basic_and_gm),
		cmocka_unit_test(test_accepts_bom_crlf_comments_and_indented_keys),
		cmocka_unit_test(test_accepts_tls_priorities_line_over_200_bytes),
		cmocka_unit_test(test_admin_allow_parses_a_list_with_spaces),
		cmocka_unit_test(test_admin_port_may_equal_http_port_when_admin_disabled),
		cmocka_unit_test(test_admin_port_may_equal_http_port_on_another_address),
		cmocka_unit_test(test_both_ports_zero_is_allowed),
		cmocka_unit_test(test_ipv6_listen_is_accepted),
		cmocka_unit_test(test_empty_paths_default_inside_data_dir),
		cmocka_unit_test(test_relative_paths_resolve_inside_data_dir),
		cmocka_unit_test(test_relative_missing_data_dir_is_joined_to_cwd),
		cmocka_unit_test(test_existing_data_dir_is_resolved),
		cmocka_unit_test(test_empty_data_dir_is_refused),
		cmocka_unit_test(test_load_reads_file_and_records_path),
		cmocka_unit_test(test_load_error_names_file_and_line),
		cmocka_unit_test(test_load_missing_file_is_eio_with_message),
		cmocka_unit_test(test_load_directory_is_eio),
		cmocka_unit_test(test_cidr_parse_table),
		cmocka_unit_test(test_cidr_match_table),
		cmocka_unit_test(test_cidr_match_refuses_bad_arguments),
		cmocka_unit_test(test_dump_lists_every_option_with_its_value),
		cmocka_unit_test(test_example_file_is_the_generated_example),
		cmocka_unit_test(test_example_file_parses_cleanly_with_every_key),
		cmocka_unit_test(test_docs_contain_the_generated_reference),
		cmocka_unit_test(test_docs_mention_every_option),
		cmocka_unit_test(test_describe_rows_carry_requirement_ids),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
