/*
 * config/options: the platform's option tables, and the list of every
 * table a configuration has (the platform's and its modules').
 *
 * Owns the platform's tables: section, key, type, field of struct
 * anfu_config, default, range, the requirement IDs each option serves and
 * its line of documentation. Parsing (parse.c), the defaults (config.c)
 * and the generated reference and example (render.c) read them and the
 * modules' tables alike, so adding an option to a table is the whole job.
 * Trusts nothing; static data checked at compile time (field types) and
 * when a configuration is made (defaults parse under their range).
 */
#include <string.h>

#include "base/err.h"
#include "base/limits.h"
#include "config/config.h"
#include "config/options.h"

#define ANFU_CONFIG_STRUCT struct anfu_config

/* ENUM options are stored through an int (value.c). */
_Static_assert(sizeof(enum anfu_level) == sizeof(int), "enum anfu_level is an int");
_Static_assert(sizeof(enum anfu_crypto_profile) == sizeof(int),
	       "enum anfu_crypto_profile is an int");

/* Index order is the enum's numeric order (base/profile.h). */
static const char *const level_values[] = { "basic", "enhanced", NULL };
static const char *const crypto_values[] = { "intl", "gm", NULL };
static const char *const backend_values[] = { "sqlite", "postgresql", NULL };
/* libpq's sslmode values that still encrypt (or, disable, say so). */
static const char *const sslmode_values[] = { "verify-full", "verify-ca", "require", "disable",
					      NULL };
static const char *const log_level_values[] = { "debug", "info", "warn", "error", NULL };

static const char *const sms_gateway_values[] = { "simulator", NULL };

#define REQ_DOS "WEB-DOS-01"
#define REQ_TLS "C10, DATA-TX-01, DATA-TX-02, DATA-TX-03, IAM-ADM-04"

static const struct anfu_config_option platform_options[] = {
	/* [server] */
	ANFU_OPT_ENUM("server", "level", level, enum anfu_level, level_values, "enhanced",
		      "all (ENH) rows, e.g. IAM-SESS-06, AUD-PROT-04",
		      "Security level: enhanced turns on every (ENH) control of the "
		      "requirements; basic keeps only the basic ones."),
	ANFU_OPT_ENUM("server", "crypto", crypto, enum anfu_crypto_profile, crypto_values, "intl",
		      "C10, DATA-TX-07, AUD-STO-02",
		      "Cryptographic profile: intl = Ed25519, SHA-256, AES-256-GCM; "
		      "gm = SM2, SM3, SM4-GCM (signatures, audit hash chain, data encryption)."),
	ANFU_OPT_BOOL("server", "allow_simulators", allow_simulators, "false",
		      "SDLC-04, DATA-ENC-03",
		      "Let a production build start with a simulator gateway (sms.gateway = "
		      "simulator writes every code and phone number in clear to its outbox "
		      "file). For development and test installations only; anfud then warns "
		      "at start and /readyz lists the simulators. Test-hooks builds always "
		      "start, with the same warnings."),

	/* [http] */
	ANFU_OPT_TEXT("http", "listen", ANFU_OPT_ADDRESS, http.listen, "127.0.0.1", NULL,
		      "Address of the public HTTPS listener (IPv4 or IPv6 literal; "
		      "0.0.0.0 or :: for every interface)."),
	ANFU_OPT_INT("http", "port", http.port, 0, 65535, 8443, NULL, NULL,
		     "TCP port of the public HTTPS listener; 0 picks a free port (tests)."),
	/* 16, not 4: a money request spends most of its time waiting for the
	 * single ledger writer's commit, and the writer batches only what is
	 * in flight. With 4 workers its batches stayed at one transfer; with
	 * 16 they grew to 2.6-3.7 and transfers/s per TPC-B tps nearly
	 * doubled (docs/benchmarks.md 8.1, 8.2). Memory: each worker has its
	 * own SQLite connection, whose page cache grows only with what it
	 * reads (base/limits.h ANFU_LIMIT_DB_CACHE_KIB); logins hash on the
	 * offload pool, so their Argon2id memory cap does not depend on this,
	 * and 200 concurrent logins stayed within cap + slack at 16 (3, 3b). */
	ANFU_OPT_INT("http", "threads", http.threads, 1, 64, 16, NULL, REQ_DOS,
		     "Worker threads serving requests: a fixed pool, never a thread per "
		     "connection. Money requests wait for the single ledger writer, which "
		     "batches the requests in flight: fewer threads, smaller batches "
		     "(docs/benchmarks.md 8.2)."),
	ANFU_OPT_INT("http", "offload_threads", http.offload_threads, 1,
		     ANFU_LIMIT_OFFLOAD_THREADS_MAX, ANFU_LIMIT_OFFLOAD_THREADS_DEFAULT, NULL,
		     REQ_DOS,
		     "Threads that run the slow handlers (password hashing) off the worker "
		     "threads, so those keep serving their other connections; requests "
		     "beyond them wait in a bounded queue (503 when full). Keep it at least "
		     "argon2.max_concurrent: fewer threads also mean fewer hashes at once."),
	ANFU_OPT_PATH("http", "tls_cert", http.tls_cert, "tls/server.crt",
		      "DATA-TX-01, DATA-TX-03, IAM-ADM-04",
		      "PEM certificate chain of the HTTPS listeners (public and admin)."),
	ANFU_OPT_PATH("http", "tls_key", http.tls_key, "tls/server.key",
		      "DATA-TX-01, DATA-TX-03, IAM-ADM-04",
		      "PEM private key of tls_cert (RSA >= 2048 or ECC >= 256 bits)."),
	ANFU_OPT_TEXT("http", "tls_priorities", ANFU_OPT_STRING, http.tls_priorities,
		      ANFU_CONFIG_TLS_PRIORITIES, REQ_TLS,
		      "GnuTLS priority string: TLS 1.2 and 1.3 only, AEAD ciphers only, "
		      "ECDHE key exchange (forward secrecy) only, over the elliptic-curve "
		      "groups X25519, P-256, P-384 and P-521 only (no finite-field DH), "
		      "server's order."),
	ANFU_OPT_INT("http", "hsts_max_age", http.hsts_max_age, 0, 63072000, 31536000, "s",
		     "WEB-HDR-01",
		     "max-age of the Strict-Transport-Security header on every response."),

	/* [admin] */
	ANFU_OPT_BOOL("admin", "enabled", admin.enabled, "true", "IAM-ADM-02",
		      "Serve the operator API (/admin/v1) on its own listener."),
	ANFU_OPT_TEXT("admin", "listen", ANFU_OPT_ADDRESS, admin.listen, "127.0.0.1", "IAM-ADM-02",
		      "Address of the admin listener; put it on a VPN or management "
		      "interface."),
	ANFU_OPT_INT("admin", "port", admin.port, 0, 65535, 9443, NULL, "IAM-ADM-02",
		     "TCP port of the admin listener; 0 picks a free port (tests). Must "
		     "differ from http.port on the same address."),
	{ .section = "admin",
	  .key = "allow",
	  .type = ANFU_OPT_CIDR_LIST,
	  .offset = ANFU_OPT_FIELD(admin.allow, struct anfu_cidr[ANFU_LIMIT_CONFIG_CIDRS]),
	  .count_offset = ANFU_OPT_FIELD(admin.allow_count, int),
	  .def = "127.0.0.1/32, ::1/128",
	  .reqs = "IAM-ADM-02",
	  .doc = "Client address ranges allowed on the admin listener "
		 "(comma-separated CIDRs); connections from elsewhere are refused." },

	/* [limits] */
	ANFU_OPT_INT("limits", "header_bytes", limits.header_bytes, ANFU_LIMIT_HEADER_BYTES_MIN,
		     ANFU_LIMIT_HEADER_BYTES_MAX, ANFU_LIMIT_HEADER_BYTES_DEFAULT, "bytes", REQ_DOS,
		     "Largest request line plus headers."),
	ANFU_OPT_INT("limits", "body_bytes", limits.body_bytes, 1024, ANFU_LIMIT_BODY_BYTES_MAX,
		     ANFU_LIMIT_BODY_BYTES_DEFAULT, "bytes", REQ_DOS, "Largest request body."),
	ANFU_OPT_INT("limits", "json_depth", limits.json_depth, 1, ANFU_LIMIT_JSON_DEPTH_MAX,
		     ANFU_LIMIT_JSON_DEPTH_DEFAULT, NULL, REQ_DOS,
		     "Deepest nesting of objects and arrays in a JSON body."),
	ANFU_OPT_INT("limits", "json_string_bytes", limits.json_string_bytes, 16,
		     ANFU_LIMIT_JSON_STRING_MAX, ANFU_LIMIT_JSON_STRING_DEFAULT, "bytes", REQ_DOS,
		     "Longest JSON string (key or value) in a body."),
	ANFU_OPT_INT("limits", "conn_timeout", limits.conn_timeout_s, 1, 600,
		     ANFU_LIMIT_CONN_TIMEOUT_DEFAULT, "s", "WEB-CONC-04, WEB-DOS-01",
		     "A connection on which the client sends nothing for this long is "
		     "closed."),
	ANFU_OPT_INT("limits", "header_timeout", limits.header_timeout_s, 1, 300,
		     ANFU_LIMIT_HEADER_TIMEOUT_DEFAULT, "s", "WEB-DOS-01, WEB-CONC-04",
		     "A client must send its whole request line and headers within this "
		     "time (slow clients are cut off)."),
	ANFU_OPT_INT("limits", "connections", limits.connections, 1, 100000,
		     ANFU_LIMIT_CONNECTIONS_DEFAULT, NULL, "WEB-CONC-01, WEB-DOS-01",
		     "Open connections in total, per listener. When they are all taken, a "
		     "new connection closes the oldest one still in its TLS handshake; it is "
		     "refused only when every one finished its handshake."),
	ANFU_OPT_INT("limits", "connections_per_ip", limits.connections_per_ip, 1, 10000,
		     ANFU_LIMIT_CONNECTIONS_PER_IP_DEFAULT, NULL, "WEB-CONC-03, WEB-DOS-01",
		     "Open connections from one client address."),
	ANFU_OPT_INT("limits", "connections_per_network", limits.connections_per_net, 1, 100000,
		     ANFU_LIMIT_CONNECTIONS_PER_NET_DEFAULT, NULL, "WEB-CONC-03, WEB-DOS-01",
		     "Open connections from one network (IPv4 /24, IPv6 /64; an IPv4-mapped "
		     "IPv6 address counts in its IPv4 /24); more are closed at once."),
	ANFU_OPT_INT("limits", "connections_reserved", limits.connections_reserve_pct, 0,
		     ANFU_LIMIT_CONN_RESERVE_PCT_MAX, ANFU_LIMIT_CONN_RESERVE_PCT_DEFAULT, "%",
		     "WEB-CONC-01, WEB-DOS-01",
		     "Share of limits.connections kept for connections that finished the "
		     "TLS handshake. Connections still in the handshake may hold the rest; "
		     "when they fill it, a new connection closes the oldest of them "
		     "(established ones are never closed for a newcomer)."),
	ANFU_OPT_INT("limits", "handshake_timeout", limits.handshake_timeout_s, 1,
		     ANFU_LIMIT_HANDSHAKE_TIMEOUT_MAX, ANFU_LIMIT_HANDSHAKE_TIMEOUT_DEFAULT, "s",
		     "WEB-DOS-01, WEB-CONC-04",
		     "A client must finish its TLS handshake within this time of being "
		     "accepted (a plain TCP connection that sends nothing is cut off); "
		     "header_timeout then runs from the end of the handshake."),
	ANFU_OPT_INT("limits", "rate_per_ip", limits.rate_per_ip, 1, 1000000,
		     ANFU_LIMIT_RATE_PER_IP_DEFAULT, "req/s", "WEB-CONC-03, WEB-DOS-01",
		     "Sustained requests per second from one client address (token "
		     "bucket refill rate)."),
	ANFU_OPT_INT("limits", "rate_burst", limits.rate_burst, 1, 1000000,
		     ANFU_LIMIT_RATE_BURST_DEFAULT, "requests", "WEB-CONC-03, WEB-DOS-01",
		     "Requests one client address may send at once (token bucket size)."),
	ANFU_OPT_INT("limits", "concurrent_requests", limits.concurrent_requests, 1, 100000,
		     ANFU_LIMIT_CONCURRENT_REQUESTS_DEFAULT, NULL, "WEB-CONC-01, WEB-DOS-01",
		     "Requests processed at once; beyond it the server answers 503 "
		     "instead of queueing."),
	ANFU_OPT_INT("limits", "shutdown_grace", limits.shutdown_grace_s, 0, 300,
		     ANFU_LIMIT_SHUTDOWN_GRACE_SECONDS_DEFAULT, "s", NULL,
		     "On stop, requests in flight get this long to finish."),

	/* [database] */
	ANFU_OPT_ENUM_TEXT("database", "backend", database.backend, backend_values, "sqlite", NULL,
			   "Storage backend: sqlite (one SQLite file in the data directory) or "
			   "postgresql (a PostgreSQL 15 server, see dsn; several nodes may share "
			   "it: docs/deployment.md)."),
	ANFU_OPT_PATH("database", "path", database.path, "anfu.db", NULL, "SQLite database file."),
	ANFU_OPT_INT("database", "busy_timeout_ms", database.busy_timeout_ms, 0, 600000, 5000, "ms",
		     NULL,
		     "How long a database call waits for a lock before it fails as busy "
		     "(PostgreSQL: lock_timeout)."),
	ANFU_OPT_TEXT("database", "dsn", ANFU_OPT_STRING, database.dsn, "dbname=anfu", NULL,
		      "PostgreSQL: libpq connection string or URI (host, port, dbname, user, "
		      "sslrootcert...). A password in it is refused: use password_file or "
		      "PGPASSWORD. sslmode too: use sslmode."),
	ANFU_OPT_PATH("database", "password_file", database.password_file, "db-password", NULL,
		      "PostgreSQL: file holding the password of the dsn's user, read at start "
		      "when it exists (mode 0600 or stricter, or the start is refused); "
		      "without it libpq uses PGPASSWORD or ~/.pgpass."),
	ANFU_OPT_TEXT("database", "owner_dsn", ANFU_OPT_STRING, database.owner_dsn, "none",
		      "IAM-LP-02",
		      "PostgreSQL: connection of the owner role that owns the schema and runs "
		      "the migrations (`anfu db migrate`, `anfu init`), as dsn (no password, no "
		      "sslmode). none: dsn's user owns the schema and anfud migrates at start. "
		      "Set: anfud never migrates and refuses to start on a schema behind "
		      "(docs/deployment.md, roles)."),
	ANFU_OPT_PATH("database", "owner_password_file", database.owner_password_file,
		      "db-owner-password", "IAM-LP-02",
		      "PostgreSQL: file holding the owner role's password, read by the "
		      "migrating commands only, when it exists (mode 0600 or stricter); without "
		      "it libpq uses PGPASSWORD or ~/.pgpass. anfud never reads it."),
	ANFU_OPT_ENUM_TEXT("database", "sslmode", database.sslmode, sslmode_values, "verify-full",
			   "DATA-TX-01",
			   "PostgreSQL: TLS to the server (libpq sslmode). verify-full checks "
			   "the certificate and the host name; a unix-socket host uses no TLS, "
			   "a TCP host without TLS needs disable said explicitly."),
	ANFU_OPT_INT("database", "statement_timeout_ms", database.statement_timeout_ms, 0, 3600000,
		     0, "ms", NULL,
		     "PostgreSQL: a statement running longer is cancelled and fails as busy "
		     "(0: no limit)."),
	ANFU_OPT_INT("database", "pool_size", database.pool_size, 0, 10000, 0, "connections", NULL,
		     "Database connections anfud opens at most (one per thread that uses "
		     "the database); a thread beyond it fails as busy. 0: no cap."),

	/* [audit] */
	ANFU_OPT_INT("audit", "checkpoint_records", audit.checkpoint_records, 1, 1000000,
		     ANFU_LIMIT_AUDIT_CHECKPOINT_RECORDS_DEFAULT, "records",
		     "AUD-STO-02, AUD-PROT-04",
		     "Sign a checkpoint of the audit hash chain after this many records."),
	ANFU_OPT_INT("audit", "checkpoint_seconds", audit.checkpoint_seconds, 1, 86400,
		     ANFU_LIMIT_AUDIT_CHECKPOINT_SECONDS_DEFAULT, "s", "AUD-STO-02, AUD-PROT-04",
		     "Sign a checkpoint after this many seconds even if fewer records "
		     "came (whichever limit is reached first)."),
	ANFU_OPT_PATH("audit", "checkpoint_file", audit.checkpoint_file, "audit/checkpoints.jsonl",
		      "AUD-STO-02, AUD-PROT-01",
		      "Signed checkpoints are also appended here (JSON lines), outside "
		      "the database."),

	/* [log] */
	ANFU_OPT_PATH("log", "app", log.app, "log/anfud.log", "AUD-COL-01",
		      "Application log (structured lines)."),
	ANFU_OPT_PATH("log", "access", log.access, "log/access.log", "AUD-COL-01",
		      "Access log (one line per HTTP request)."),
	ANFU_OPT_ENUM_TEXT("log", "level", log.level, log_level_values, "info", "AUD-COL-01",
			   "Lowest level written to the application log."),

};

/* The outgoing messages (src/notify/). */
static const struct anfu_config_option notify_options[] = {
	/* [mail] */
	ANFU_OPT_TEXT("mail", "smtp_url", ANFU_OPT_STRING, mail.smtp_url, "smtp://127.0.0.1:25",
		      "IAM-MFA-08, IAM-LOCK-04",
		      "SMTP relay for email codes and notices (smtp:// or smtps://)."),
	ANFU_OPT_TEXT("mail", "from", ANFU_OPT_STRING, mail.from, "anfu@localhost", NULL,
		      "Sender address of mail."),
	ANFU_OPT_INT("mail", "timeout", mail.timeout_s, 1, 120, 10, "s", NULL,
		     "Longest time one SMTP delivery may take."),

	/* [sms] */
	ANFU_OPT_ENUM_TEXT("sms", "gateway", sms.gateway, sms_gateway_values, "simulator",
			   "IAM-MFA-07",
			   "SMS gateway; the simulator appends each message to the outbox "
			   "file instead of sending it."),
	ANFU_OPT_PATH("sms", "outbox", sms.outbox, "notify/sms-outbox.jsonl", "IAM-MFA-07",
		      "Outbox file of the SMS simulator (mode 0600)."),

	/* [notify] */
	ANFU_OPT_INT("notify", "max_attempts", notify.max_attempts, 1, 50, 8, "attempts",
		     "IAM-LOCK-04", "Deliveries tried per message before it is marked failed."),
	ANFU_OPT_INT("notify", "retry_base", notify.retry_base_s, 1, 3600, 5, "s", NULL,
		     "First retry delay; it doubles after each failed attempt."),
};

/* Adds option to names when value names the built-in simulator. */
static void simulator_check(const char *option, const char *value, const char **names, size_t cap,
			    size_t *n)
{
	if (!value || strcmp(value, "simulator") != 0)
		return;
	if (names && *n < cap)
		names[*n] = option;
	(*n)++;
}

size_t anfu_config_simulators(const struct anfu_config *c, const char **names, size_t cap)
{
	size_t n = 0;

	if (c)
		simulator_check("sms.gateway", c->sms.gateway, names, cap, &n);
	return n;
}

const struct anfu_config_table anfu_config_platform = {
	.owner = "platform",
	.options = platform_options,
	.noptions = sizeof(platform_options) / sizeof(platform_options[0]),
	.size = 0,
};

const struct anfu_config_table anfu_config_platform_notify = {
	.owner = "platform",
	.options = notify_options,
	.noptions = sizeof(notify_options) / sizeof(notify_options[0]),
	.size = 0,
};

static bool table_has_section(const struct anfu_config_table *t, const char *name)
{
	for (size_t i = 0; i < t->noptions; i++)
		if (strcmp(t->options[i].section, name) == 0)
			return true;
	return false;
}

/* Whether a section of t is a section of one of ts's tables. */
static bool shares_section(const struct anfu_config_tables *ts, const struct anfu_config_table *t)
{
	for (size_t i = 0; i < t->noptions; i++)
		for (size_t k = 0; k < ts->n; k++)
			if (table_has_section(ts->t[k], t->options[i].section))
				return true;
	return false;
}

int anfu_config_tables_make(const struct anfu_config_table *const *mods, size_t n,
			    struct anfu_config_tables *ret)
{
	struct anfu_config_tables ts = { .n = 0 };

	if (!ret || (!mods && n > 0) || n > ANFU_CONFIG_TABLES_MAX)
		return ANFU_EINVAL;
	ts.t[ts.n++] = &anfu_config_platform;
	for (size_t i = 0; i <= n; i++) {
		const struct anfu_config_table *t = i < n ? mods[i] : &anfu_config_platform_notify;

		if (!t || (t->size == 0 && t != &anfu_config_platform_notify) ||
		    shares_section(&ts, t))
			return ANFU_EINVAL;
		ts.t[ts.n++] = t;
	}
	*ret = ts;
	return 0;
}

size_t anfu_config_tables_noptions(const struct anfu_config_tables *ts)
{
	size_t n = 0;

	for (size_t i = 0; i < ts->n; i++)
		n += ts->t[i]->noptions;
	return n;
}

const struct anfu_config_option *anfu_config_option_find(const struct anfu_config_tables *ts,
							 const char *section, const char *key,
							 size_t *ret_table, size_t *ret_flat)
{
	size_t flat = 0;

	for (size_t t = 0; t < ts->n; t++) {
		for (size_t i = 0; i < ts->t[t]->noptions; i++, flat++) {
			const struct anfu_config_option *o = &ts->t[t]->options[i];

			if (strcmp(o->section, section) != 0 || strcmp(o->key, key) != 0)
				continue;
			if (ret_table)
				*ret_table = t;
			if (ret_flat)
				*ret_flat = flat;
			return o;
		}
	}
	return NULL;
}

bool anfu_config_section_known(const struct anfu_config_tables *ts, const char *name)
{
	for (size_t t = 0; t < ts->n; t++)
		if (table_has_section(ts->t[t], name))
			return true;
	return false;
}
