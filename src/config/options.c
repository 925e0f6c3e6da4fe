/*
 * config/options: the one table of every option anfu has.
 *
 * Owns the table: section, key, type, field, default, range, the
 * requirement IDs each option serves and its line of documentation.
 * Parsing (parse.c), the defaults (config.c) and the generated reference
 * and example (render.c) all read it, so adding an option here is the whole
 * job. Trusts nothing; it is static data checked at compile time (field
 * types) and by anfu_config_defaults() (defaults parse under their range).
 */
#include <string.h>

#include "base/limits.h"
#include "config/config.h"
#include "config/options.h"

/* offsetof() the field, refused at compile time unless it has type T. */
#define FIELD(f, T)                                                                                \
	(offsetof(struct anfu_config, f) +                                                         \
	 0 * sizeof(char[__builtin_types_compatible_p(__typeof__(((struct anfu_config *)0)->f), T) \
				 ? 1                                                               \
				 : -1]))

#define OPT_INT(s, k, f, lo, hi, d, u, r, doc_)                                            \
	{                                                                                  \
		.section = s, .key = k, .type = ANFU_OPT_INT, .offset = FIELD(f, int64_t), \
		.min = lo, .max = hi, .int_default = d, .unit = u, .reqs = r, .doc = doc_  \
	}
#define OPT_BOOL(s, k, f, d, r, doc_)                                                              \
	{                                                                                          \
		.section = s, .key = k, .type = ANFU_OPT_BOOL, .offset = FIELD(f, bool), .def = d, \
		.reqs = r, .doc = doc_                                                             \
	}
#define OPT_ENUM(s, k, f, T, v, d, r, doc_)                                                        \
	{                                                                                          \
		.section = s, .key = k, .type = ANFU_OPT_ENUM, .offset = FIELD(f, T), .values = v, \
		.def = d, .reqs = r, .doc = doc_                                                   \
	}
#define OPT_ENUM_TEXT(s, k, f, v, d, r, doc_)                                                   \
	{                                                                                       \
		.section = s, .key = k, .type = ANFU_OPT_ENUM_TEXT, .offset = FIELD(f, char *), \
		.values = v, .def = d, .reqs = r, .doc = doc_                                   \
	}
#define OPT_TEXT(s, k, t, f, d, r, doc_)                                                 \
	{                                                                                \
		.section = s, .key = k, .type = t, .offset = FIELD(f, char *), .def = d, \
		.reqs = r, .doc = doc_                                                   \
	}
#define OPT_PATH(s, k, f, pd, r, doc_)                                                     \
	{                                                                                  \
		.section = s, .key = k, .type = ANFU_OPT_PATH, .offset = FIELD(f, char *), \
		.def = "", .path_default = pd, .reqs = r, .doc = doc_                      \
	}

/* ENUM options are stored through an int (value.c). */
_Static_assert(sizeof(enum anfu_level) == sizeof(int), "enum anfu_level is an int");
_Static_assert(sizeof(enum anfu_crypto_profile) == sizeof(int),
	       "enum anfu_crypto_profile is an int");

/* Index order is the enum's numeric order (base/profile.h). */
static const char *const level_values[] = { "basic", "enhanced", NULL };
static const char *const crypto_values[] = { "intl", "gm", NULL };
static const char *const backend_values[] = { "sqlite", NULL };
static const char *const log_level_values[] = { "debug", "info", "warn", "error", NULL };

static const char *const on_limit_values[] = { "end_oldest", "refuse", NULL };
static const char *const captcha_values[] = { "always", "after_failures", NULL };
static const char *const sms_gateway_values[] = { "simulator", NULL };

/* Password policy of one role class (C1-C4, C13). */
#define PASSWORD_OPTS(sec, i, cls_lo, age_hi, age_doc)                                             \
	OPT_INT(sec, "min_length", password[i].min_length, 8, 128, 8, "characters", "IAM-PWD-01",  \
		"Shortest password accepted (never below 8)."),                                    \
		OPT_INT(sec, "classes_required", password[i].classes_required, cls_lo, 4, 4, NULL, \
			"IAM-PWD-02",                                                              \
			"Character classes a password needs (upper, lower, digit, special)."),     \
		OPT_INT(sec, "history", password[i].history, 5, 24, 5, "passwords",                \
			"IAM-PWD-06, IAM-PWD-10",                                                  \
			"A new password must differ from this many "                               \
			"previous ones."),                                                         \
		OPT_INT(sec, "max_age_days", password[i].max_age_days, 1, age_hi, age_hi, "days",  \
			"IAM-PWD-07", age_doc),                                                    \
		OPT_INT(sec, "remind_days", password[i].remind_days, 1, 60, 14, "days",            \
			"IAM-PWD-08",                                                              \
			"Remind the user this many days before the password "                      \
			"expires.")

/* Session policy of one role class (C7, IAM-SESS-01, -05, WEB-CONC-02). */
#define SESSION_OPTS(sec, i, idle_hi, idle_def, abs_hi, abs_def, max_hi, max_def)                  \
	OPT_INT(sec, "idle_minutes", session[i].idle_minutes, 1, idle_hi, idle_def, "min",         \
		"IAM-SESS-01", "A session unused this long ends."),                                \
		OPT_INT(sec, "absolute_minutes", session[i].absolute_minutes, 10, abs_hi, abs_def, \
			"min", "IAM-SESS-05",                                                      \
			"A session ends this long after login, "                                   \
			"used or not."),                                                           \
		OPT_INT(sec, "max_sessions", session[i].max_sessions, 1, max_hi, max_def, NULL,    \
			"WEB-CONC-02", "Concurrent sessions of one user (see session.on_limit).")

#define REQ_DOS "WEB-DOS-01"
#define REQ_TLS "C10, DATA-TX-01, DATA-TX-02, DATA-TX-03, IAM-ADM-04"

const struct anfu_config_option anfu_config_options[] = {
	/* [server] */
	OPT_ENUM("server", "level", level, enum anfu_level, level_values, "enhanced",
		 "all (ENH) rows, e.g. IAM-SESS-06, AUD-PROT-04",
		 "Security level: enhanced turns on every (ENH) control of the "
		 "requirements; basic keeps only the basic ones."),
	OPT_ENUM("server", "crypto", crypto, enum anfu_crypto_profile, crypto_values, "intl",
		 "C10, DATA-TX-07, AUD-STO-02",
		 "Cryptographic profile: intl = Ed25519, SHA-256, AES-256-GCM; "
		 "gm = SM2, SM3, SM4-GCM (signatures, audit hash chain, data encryption)."),
	OPT_BOOL("server", "allow_simulators", allow_simulators, "false", "SDLC-04, DATA-ENC-03",
		 "Let a production build start with a simulator gateway (sms.gateway = "
		 "simulator writes every code and phone number in clear to its outbox "
		 "file). For development and test installations only; anfud then warns "
		 "at start and /readyz lists the simulators. Test-hooks builds always "
		 "start, with the same warnings."),

	/* [http] */
	OPT_TEXT("http", "listen", ANFU_OPT_ADDRESS, http.listen, "127.0.0.1", NULL,
		 "Address of the public HTTPS listener (IPv4 or IPv6 literal; "
		 "0.0.0.0 or :: for every interface)."),
	OPT_INT("http", "port", http.port, 0, 65535, 8443, NULL, NULL,
		"TCP port of the public HTTPS listener; 0 picks a free port (tests)."),
	OPT_INT("http", "threads", http.threads, 1, 64, 4, NULL, REQ_DOS,
		"Worker threads serving requests: a fixed pool, never a thread per "
		"connection."),
	OPT_INT("http", "offload_threads", http.offload_threads, 1, ANFU_LIMIT_OFFLOAD_THREADS_MAX,
		ANFU_LIMIT_OFFLOAD_THREADS_DEFAULT, NULL, REQ_DOS,
		"Threads that run the slow handlers (password hashing) off the worker "
		"threads, so those keep serving their other connections; requests "
		"beyond them wait in a bounded queue (503 when full). Keep it at least "
		"argon2.max_concurrent: fewer threads also mean fewer hashes at once."),
	OPT_PATH("http", "tls_cert", http.tls_cert, "tls/server.crt",
		 "DATA-TX-01, DATA-TX-03, IAM-ADM-04",
		 "PEM certificate chain of the HTTPS listeners (public and admin)."),
	OPT_PATH("http", "tls_key", http.tls_key, "tls/server.key",
		 "DATA-TX-01, DATA-TX-03, IAM-ADM-04",
		 "PEM private key of tls_cert (RSA >= 2048 or ECC >= 256 bits)."),
	OPT_TEXT("http", "tls_priorities", ANFU_OPT_STRING, http.tls_priorities,
		 ANFU_CONFIG_TLS_PRIORITIES, REQ_TLS,
		 "GnuTLS priority string: TLS 1.2 and 1.3 only, AEAD ciphers only, "
		 "ECDHE key exchange (forward secrecy) only, over the elliptic-curve "
		 "groups X25519, P-256, P-384 and P-521 only (no finite-field DH), "
		 "server's order."),
	OPT_INT("http", "hsts_max_age", http.hsts_max_age, 0, 63072000, 31536000, "s", "WEB-HDR-01",
		"max-age of the Strict-Transport-Security header on every response."),

	/* [admin] */
	OPT_BOOL("admin", "enabled", admin.enabled, "true", "IAM-ADM-02",
		 "Serve the operator API (/admin/v1) on its own listener."),
	OPT_TEXT("admin", "listen", ANFU_OPT_ADDRESS, admin.listen, "127.0.0.1", "IAM-ADM-02",
		 "Address of the admin listener; put it on a VPN or management "
		 "interface."),
	OPT_INT("admin", "port", admin.port, 0, 65535, 9443, NULL, "IAM-ADM-02",
		"TCP port of the admin listener; 0 picks a free port (tests). Must "
		"differ from http.port on the same address."),
	{ .section = "admin",
	  .key = "allow",
	  .type = ANFU_OPT_CIDR_LIST,
	  .offset = FIELD(admin.allow, struct anfu_cidr[ANFU_CONFIG_MAX_CIDRS]),
	  .count_offset = FIELD(admin.allow_count, int),
	  .def = "127.0.0.1/32, ::1/128",
	  .reqs = "IAM-ADM-02",
	  .doc = "Client address ranges allowed on the admin listener "
		 "(comma-separated CIDRs); connections from elsewhere are refused." },

	/* [limits] */
	OPT_INT("limits", "header_bytes", limits.header_bytes, ANFU_LIMIT_HEADER_BYTES_MIN,
		ANFU_LIMIT_HEADER_BYTES_MAX, ANFU_LIMIT_HEADER_BYTES_DEFAULT, "bytes", REQ_DOS,
		"Largest request line plus headers."),
	OPT_INT("limits", "body_bytes", limits.body_bytes, 1024, ANFU_LIMIT_BODY_BYTES_MAX,
		ANFU_LIMIT_BODY_BYTES_DEFAULT, "bytes", REQ_DOS, "Largest request body."),
	OPT_INT("limits", "json_depth", limits.json_depth, 1, ANFU_LIMIT_JSON_DEPTH_MAX,
		ANFU_LIMIT_JSON_DEPTH_DEFAULT, NULL, REQ_DOS,
		"Deepest nesting of objects and arrays in a JSON body."),
	OPT_INT("limits", "json_string_bytes", limits.json_string_bytes, 16,
		ANFU_LIMIT_JSON_STRING_MAX, ANFU_LIMIT_JSON_STRING_DEFAULT, "bytes", REQ_DOS,
		"Longest JSON string (key or value) in a body."),
	OPT_INT("limits", "conn_timeout", limits.conn_timeout_s, 1, 600,
		ANFU_LIMIT_CONN_TIMEOUT_DEFAULT, "s", "WEB-CONC-04, WEB-DOS-01",
		"A connection on which the client sends nothing for this long is "
		"closed."),
	OPT_INT("limits", "header_timeout", limits.header_timeout_s, 1, 300,
		ANFU_LIMIT_HEADER_TIMEOUT_DEFAULT, "s", "WEB-DOS-01, WEB-CONC-04",
		"A client must send its whole request line and headers within this "
		"time (slow clients are cut off)."),
	OPT_INT("limits", "connections", limits.connections, 1, 100000,
		ANFU_LIMIT_CONNECTIONS_DEFAULT, NULL, "WEB-CONC-01, WEB-DOS-01",
		"Open connections in total, per listener. When they are all taken, a "
		"new connection closes the oldest one still in its TLS handshake; it is "
		"refused only when every one finished its handshake."),
	OPT_INT("limits", "connections_per_ip", limits.connections_per_ip, 1, 10000,
		ANFU_LIMIT_CONNECTIONS_PER_IP_DEFAULT, NULL, "WEB-CONC-03, WEB-DOS-01",
		"Open connections from one client address."),
	OPT_INT("limits", "connections_per_network", limits.connections_per_net, 1, 100000,
		ANFU_LIMIT_CONNECTIONS_PER_NET_DEFAULT, NULL, "WEB-CONC-03, WEB-DOS-01",
		"Open connections from one network (IPv4 /24, IPv6 /64; an IPv4-mapped "
		"IPv6 address counts in its IPv4 /24); more are closed at once."),
	OPT_INT("limits", "connections_reserved", limits.connections_reserve_pct, 0,
		ANFU_LIMIT_CONN_RESERVE_PCT_MAX, ANFU_LIMIT_CONN_RESERVE_PCT_DEFAULT, "%",
		"WEB-CONC-01, WEB-DOS-01",
		"Share of limits.connections kept for connections that finished the "
		"TLS handshake. Connections still in the handshake may hold the rest; "
		"when they fill it, a new connection closes the oldest of them "
		"(established ones are never closed for a newcomer)."),
	OPT_INT("limits", "handshake_timeout", limits.handshake_timeout_s, 1,
		ANFU_LIMIT_HANDSHAKE_TIMEOUT_MAX, ANFU_LIMIT_HANDSHAKE_TIMEOUT_DEFAULT, "s",
		"WEB-DOS-01, WEB-CONC-04",
		"A client must finish its TLS handshake within this time of being "
		"accepted (a plain TCP connection that sends nothing is cut off); "
		"header_timeout then runs from the end of the handshake."),
	OPT_INT("limits", "rate_per_ip", limits.rate_per_ip, 1, 1000000,
		ANFU_LIMIT_RATE_PER_IP_DEFAULT, "req/s", "WEB-CONC-03, WEB-DOS-01",
		"Sustained requests per second from one client address (token "
		"bucket refill rate)."),
	OPT_INT("limits", "rate_burst", limits.rate_burst, 1, 1000000,
		ANFU_LIMIT_RATE_BURST_DEFAULT, "requests", "WEB-CONC-03, WEB-DOS-01",
		"Requests one client address may send at once (token bucket size)."),
	OPT_INT("limits", "concurrent_requests", limits.concurrent_requests, 1, 100000,
		ANFU_LIMIT_CONCURRENT_REQUESTS_DEFAULT, NULL, "WEB-CONC-01, WEB-DOS-01",
		"Requests processed at once; beyond it the server answers 503 "
		"instead of queueing."),
	OPT_INT("limits", "shutdown_grace", limits.shutdown_grace_s, 0, 300,
		ANFU_LIMIT_SHUTDOWN_GRACE_SECONDS_DEFAULT, "s", NULL,
		"On stop, requests in flight get this long to finish."),

	/* [database] */
	OPT_ENUM_TEXT("database", "backend", database.backend, backend_values, "sqlite", NULL,
		      "Storage backend (one SQLite file in the data directory)."),
	OPT_PATH("database", "path", database.path, "anfu.db", NULL, "SQLite database file."),
	OPT_INT("database", "busy_timeout_ms", database.busy_timeout_ms, 0, 600000, 5000, "ms",
		NULL, "How long a database call waits for a lock before it fails as busy."),

	/* [audit] */
	OPT_INT("audit", "checkpoint_records", audit.checkpoint_records, 1, 1000000,
		ANFU_LIMIT_AUDIT_CHECKPOINT_RECORDS_DEFAULT, "records", "AUD-STO-02, AUD-PROT-04",
		"Sign a checkpoint of the audit hash chain after this many records."),
	OPT_INT("audit", "checkpoint_seconds", audit.checkpoint_seconds, 1, 86400,
		ANFU_LIMIT_AUDIT_CHECKPOINT_SECONDS_DEFAULT, "s", "AUD-STO-02, AUD-PROT-04",
		"Sign a checkpoint after this many seconds even if fewer records "
		"came (whichever limit is reached first)."),
	OPT_PATH("audit", "checkpoint_file", audit.checkpoint_file, "audit/checkpoints.jsonl",
		 "AUD-STO-02, AUD-PROT-01",
		 "Signed checkpoints are also appended here (JSON lines), outside "
		 "the database."),

	/* [log] */
	OPT_PATH("log", "app", log.app, "log/anfud.log", "AUD-COL-01",
		 "Application log (structured lines)."),
	OPT_PATH("log", "access", log.access, "log/access.log", "AUD-COL-01",
		 "Access log (one line per HTTP request)."),
	OPT_ENUM_TEXT("log", "level", log.level, log_level_values, "info", "AUD-COL-01",
		      "Lowest level written to the application log."),

	/* [password.<class>] */
	PASSWORD_OPTS("password.customer", ANFU_CLASS_CUSTOMER, 3, 180,
		      "Customers must change their password after this many days."),
	PASSWORD_OPTS("password.merchant", ANFU_CLASS_MERCHANT, 4, 180,
		      "Merchant users must change their password after this many days."),
	PASSWORD_OPTS("password.operator", ANFU_CLASS_OPERATOR, 4, 30,
		      "Operators must change their password after this many days."),
	PASSWORD_OPTS("password.admin", ANFU_CLASS_ADMIN, 4, 30,
		      "Administrators must change their password after this many days."),

	/* [session], [session.<class>] */
	OPT_ENUM_TEXT("session", "on_limit", sessions.on_limit, on_limit_values, "end_oldest",
		      "WEB-CONC-02",
		      "A login beyond max_sessions ends the user's oldest session (and "
		      "tells the user) or is refused."),
	OPT_BOOL("session", "bind_ip", sessions.bind_ip, "true", "IAM-SESS-06",
		 "Under level = enhanced, a session ends when its client IP changes "
		 "(set false for mobile networks; the device binding stays)."),
	OPT_BOOL("session", "bind_device", sessions.bind_device, "true", "IAM-SESS-06",
		 "Under level = enhanced, a session ends when its device fingerprint "
		 "changes."),
	SESSION_OPTS("session.customer", ANFU_CLASS_CUSTOMER, 30, 15, 1440, 240, 10, 3),
	SESSION_OPTS("session.merchant", ANFU_CLASS_MERCHANT, 30, 15, 1440, 240, 10, 3),
	SESSION_OPTS("session.operator", ANFU_CLASS_OPERATOR, 10, 10, 720, 480, 3, 1),
	SESSION_OPTS("session.admin", ANFU_CLASS_ADMIN, 4, 4, 720, 480, 3, 1),

	/* [argon2] */
	OPT_INT("argon2", "opslimit", argon2.opslimit, 1, 10, 2, "passes", "IAM-PWD-09",
		"Argon2id time cost of password hashes (login and payment)."),
	OPT_INT("argon2", "memlimit_kib", argon2.memlimit_kib, 8192, 1048576, 65536, "KiB",
		"IAM-PWD-09", "Argon2id memory cost of one password hash."),
	OPT_INT("argon2", "max_concurrent", argon2.max_concurrent, 1, 64, 4, "hashes", "WEB-DOS-01",
		"Password hashes computed at once; more wait, so a login flood cannot "
		"exhaust memory (peak = this x memlimit_kib)."),

	/* [lockout] */
	OPT_INT("lockout", "user_threshold", lockout.user_threshold, 1, 5, 5, "failures",
		"IAM-LOCK-01, IAM-LOCK-05",
		"Consecutive failed logins that lock a customer or merchant account."),
	OPT_INT("lockout", "user_minutes", lockout.user_minutes, 30, 10080, 30, "min",
		"IAM-LOCK-02", "How long such a lock lasts (an operator may unlock sooner)."),
	OPT_INT("lockout", "staff_threshold", lockout.staff_threshold, 1, 3, 3, "failures",
		"IAM-LOCK-01, IAM-LOCK-02",
		"Consecutive failed logins that lock an operator or administrator "
		"until another administrator unlocks it."),
	OPT_INT("lockout", "pay_threshold", lockout.pay_threshold, 1, 5, 5, "failures",
		"IAM-LOCK-03", "Consecutive wrong payment passwords that lock payments."),
	OPT_INT("lockout", "pay_minutes", lockout.pay_minutes, 30, 10080, 30, "min", "IAM-LOCK-03",
		"How long payments stay locked."),
	OPT_INT("lockout", "ip_failures", lockout.ip_failures, 5, 10000, 20, "failures",
		"IAM-ANOM-02",
		"Failed logins from one IP address across accounts within ip_window "
		"that count as credential stuffing."),
	OPT_INT("lockout", "ip_window", lockout.ip_window_s, 60, 86400, 600, "s", "IAM-ANOM-02",
		"Window for ip_failures."),
	OPT_INT("lockout", "ip_block", lockout.ip_block_s, 60, 86400, 900, "s", "IAM-ANOM-02",
		"How long such an address is refused logins."),

	/* [captcha] */
	OPT_ENUM_TEXT("captcha", "mode", captcha.mode, captcha_values, "always", "IAM-CAP-01, C15",
		      "always: every login needs a captcha; after_failures: only after "
		      "after_failures failed logins of the account or address."),
	OPT_INT("captcha", "after_failures", captcha.after_failures, 0, 1, 1, "failures",
		"IAM-CAP-01, C15",
		"Failures before a captcha is required (mode "
		"after_failures)."),
	OPT_INT("captcha", "ttl", captcha.ttl_s, 30, 300, 120, "s", "IAM-CAP-02",
		"A captcha is valid this long, and once."),
	OPT_INT("captcha", "length", captcha.length, 4, 8, 5, "characters", "IAM-CAP-02",
		"Letters and digits in a captcha."),

	/* [mfa] */
	OPT_INT("mfa", "code_ttl", mfa.code_ttl_s, 60, 600, 300, "s", "IAM-MFA-07, IAM-MFA-08",
		"SMS and email codes are valid this long (at most 10 minutes), once."),
	OPT_INT("mfa", "code_max_attempts", mfa.code_max_attempts, 1, 10, 5, "attempts",
		"IAM-MFA-07", "Wrong entries after which a code is void."),
	OPT_INT("mfa", "code_resend", mfa.code_resend_s, 0, 600, 60, "s", "RISK-RN-03",
		"Shortest interval between two codes to the same phone or address."),
	OPT_INT("mfa", "stepup_window", mfa.stepup_window_s, 60, 900, 300, "s", "IAM-MFA-02",
		"A second factor verified this recently allows a sensitive operation."),
	OPT_INT("mfa", "reset_ttl", mfa.reset_ttl_s, 60, 600, 600, "s", "IAM-RST-03",
		"A password reset must be completed within this time."),
	OPT_TEXT("mfa", "totp_issuer", ANFU_OPT_STRING, mfa.totp_issuer, "anfu", "IAM-MFA-01",
		 "Issuer shown by authenticator apps for TOTP enrolments."),
	OPT_BOOL("mfa", "customer_always", mfa.customer_always, "false", "IAM-MFA-01, C14",
		 "true: customers give a second factor at every login; false: only on "
		 "an unknown device or an anomalous login (operators always do)."),
	OPT_INT("mfa", "device_trust_days", mfa.device_trust_days, 1, 365, 30, "days",
		"IAM-MFA-01, IAM-MFA-03",
		"A device trusted after a full second-factor login stands in for the "
		"possession factor this long; then the next login asks for a factor again "
		"(and may trust the device anew)."),

	/* [accounts] */
	OPT_INT("accounts", "dormant_days", accounts.dormant_days, 30, 365, 90, "days",
		"IAM-ACCT-05", "Accounts unused this long are reported as dormant."),
	OPT_INT("accounts", "review_interval_days", accounts.review_interval_days, 1, 30, 30,
		"days", "IAM-ACCT-05, C19",
		"The dormant / expired / temporary account report runs this often."),
	OPT_INT("accounts", "temporary_max_days", accounts.temporary_max_days, 1, 90, 30, "days",
		"IAM-ACCT-07", "Longest validity of a temporary or test account."),

	/* [alerts] */
	OPT_INT("alerts", "mail_window", alerts.mail_window_s, 60, 3600, 300, "s", "AUD-ALERT-01",
		"An attempt beyond one's privileges mails the administrators at once; "
		"further attempts of the same account within this window are counted on "
		"its alert without another mail."),

	/* [mail] */
	OPT_TEXT("mail", "smtp_url", ANFU_OPT_STRING, mail.smtp_url, "smtp://127.0.0.1:25",
		 "IAM-MFA-08, IAM-LOCK-04",
		 "SMTP relay for email codes and notices (smtp:// or smtps://)."),
	OPT_TEXT("mail", "from", ANFU_OPT_STRING, mail.from, "anfu@localhost", NULL,
		 "Sender address of mail."),
	OPT_INT("mail", "timeout", mail.timeout_s, 1, 120, 10, "s", NULL,
		"Longest time one SMTP delivery may take."),

	/* [sms] */
	OPT_ENUM_TEXT("sms", "gateway", sms.gateway, sms_gateway_values, "simulator", "IAM-MFA-07",
		      "SMS gateway; the simulator appends each message to the outbox "
		      "file instead of sending it."),
	OPT_PATH("sms", "outbox", sms.outbox, "notify/sms-outbox.jsonl", "IAM-MFA-07",
		 "Outbox file of the SMS simulator (mode 0600)."),

	/* [notify] */
	OPT_INT("notify", "max_attempts", notify.max_attempts, 1, 50, 8, "attempts", "IAM-LOCK-04",
		"Deliveries tried per message before it is marked failed."),
	OPT_INT("notify", "retry_base", notify.retry_base_s, 1, 3600, 5, "s", NULL,
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

const size_t anfu_config_noptions = sizeof(anfu_config_options) / sizeof(anfu_config_options[0]);

const struct anfu_config_option *anfu_config_option_find(const char *section, const char *key)
{
	for (size_t i = 0; i < anfu_config_noptions; i++) {
		const struct anfu_config_option *o = &anfu_config_options[i];

		if (strcmp(o->section, section) == 0 && strcmp(o->key, key) == 0)
			return o;
	}
	return NULL;
}

bool anfu_config_section_known(const char *name)
{
	for (size_t i = 0; i < anfu_config_noptions; i++)
		if (strcmp(anfu_config_options[i].section, name) == 0)
			return true;
	return false;
}
