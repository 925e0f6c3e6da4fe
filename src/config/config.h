/*
 * config: the one INI file (inih) and every option anfu has.
 *
 * Options live in one table (config/options.c) with type, default, range,
 * the requirement IDs they serve and a line of documentation; parsing,
 * validation and the reference in docs/configuration.md all come from it.
 * Unknown sections or keys, repeated keys and bad values are errors that
 * name the file and line. Paths that are empty default to places inside the
 * data directory. The loaded struct is immutable and may be read from any
 * thread.
 */
#ifndef ANFU_CONFIG_CONFIG_H
#define ANFU_CONFIG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/profile.h"

struct anfu_buf;

#define ANFU_CONFIG_MAX_CIDRS 16

/* Default [http] tls_priorities (GnuTLS): TLS 1.3 and 1.2 only, AEAD
 * ciphers only, ECDHE key exchange only, and only elliptic-curve groups
 * (X25519, P-256, P-384, P-521): no finite-field DH (ffdhe*) under TLS 1.3
 * either. Server's order. */
#define ANFU_CONFIG_TLS_PRIORITIES                                                         \
	"SECURE256:+SECURE128:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:"            \
	"+AES-256-GCM:+CHACHA20-POLY1305:+AES-128-GCM:-MAC-ALL:+AEAD:-KX-ALL:"             \
	"+ECDHE-ECDSA:+ECDHE-RSA:-DHE-RSA:-RSA:-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:" \
	"+GROUP-SECP384R1:+GROUP-SECP521R1:%SERVER_PRECEDENCE"

struct anfu_cidr {
	int family;	  /* AF_INET or AF_INET6 */
	uint8_t addr[16]; /* network address, host bits cleared */
	int prefix;	  /* prefix length */
};

struct anfu_config_limits {
	int64_t header_bytes;
	int64_t body_bytes;
	int64_t json_depth;
	int64_t json_string_bytes;
	int64_t conn_timeout_s;
	int64_t header_timeout_s;
	int64_t connections;
	int64_t connections_per_ip;
	int64_t connections_per_net;	 /* per IPv4 /24 or IPv6 /64 */
	int64_t connections_reserve_pct; /* kept for TLS-established ones */
	int64_t handshake_timeout_s;	 /* accept to end of TLS handshake */
	int64_t rate_per_ip;		 /* requests per second, sustained */
	int64_t rate_burst;		 /* bucket size */
	int64_t concurrent_requests;
	int64_t shutdown_grace_s;
};

/* Password policy of one role class (IAM-PWD-*). */
struct anfu_config_password {
	int64_t min_length;
	int64_t classes_required; /* character classes: 4, or 3 (customers only) */
	int64_t history;	  /* refuse the last N passwords */
	int64_t max_age_days;
	int64_t remind_days; /* remind this many days before expiry */
};

/* Session policy of one role class (IAM-SESS-*, WEB-CONC-02). */
struct anfu_config_session {
	int64_t idle_minutes;
	int64_t absolute_minutes;
	int64_t max_sessions;
};

struct anfu_config {
	char *path;	/* the file it was read from (or "" for defaults) */
	char *data_dir; /* absolute */

	enum anfu_level level;
	enum anfu_crypto_profile crypto;
	bool allow_simulators; /* production builds: start with a simulator */

	struct {
		char *listen; /* IPv4 or IPv6 literal */
		int64_t port;
		int64_t threads;
		int64_t offload_threads; /* run the slow (password hashing) handlers */
		char *tls_cert;
		char *tls_key;
		char *tls_priorities; /* GnuTLS priority string */
		int64_t hsts_max_age;
	} http;

	struct {
		bool enabled;
		char *listen;
		int64_t port;
		struct anfu_cidr allow[ANFU_CONFIG_MAX_CIDRS];
		int allow_count;
	} admin;

	struct anfu_config_limits limits;

	struct {
		char *backend; /* "sqlite" */
		char *path;
		int64_t busy_timeout_ms;
	} database;

	struct {
		int64_t checkpoint_records;
		int64_t checkpoint_seconds;
		char *checkpoint_file;
	} audit;

	struct {
		char *app;
		char *access;
		char *level; /* debug|info|warn|error */
	} log;

	/* Indexed by enum anfu_role_class. */
	struct anfu_config_password password[ANFU_CLASS_COUNT];
	struct anfu_config_session session[ANFU_CLASS_COUNT];

	struct {
		char *on_limit;	  /* "end_oldest" | "refuse" */
		bool bind_ip;	  /* under level=enhanced: bind to the client IP */
		bool bind_device; /* under level=enhanced: bind to the device */
	} sessions;

	struct {
		int64_t opslimit;	/* Argon2id passes */
		int64_t memlimit_kib;	/* Argon2id memory */
		int64_t max_concurrent; /* hashes running at once */
	} argon2;

	struct {
		int64_t user_threshold;	 /* customers, merchants */
		int64_t user_minutes;	 /* their lock duration */
		int64_t staff_threshold; /* operators, admins: until unlocked */
		int64_t pay_threshold;	 /* payment password */
		int64_t pay_minutes;
		int64_t ip_failures; /* credential stuffing: failures per IP */
		int64_t ip_window_s;
		int64_t ip_block_s;
	} lockout;

	struct {
		char *mode; /* "always" | "after_failures" */
		int64_t after_failures;
		int64_t ttl_s;
		int64_t length;
	} captcha;

	struct {
		int64_t code_ttl_s; /* SMS / email codes */
		int64_t code_max_attempts;
		int64_t code_resend_s;
		int64_t stepup_window_s; /* a second factor counts this long */
		int64_t reset_ttl_s;	 /* password reset */
		char *totp_issuer;
		bool customer_always;	   /* customers: MFA at every login */
		int64_t device_trust_days; /* a trusted device counts this long */
	} mfa;

	struct {
		int64_t dormant_days;
		int64_t review_interval_days;
		int64_t temporary_max_days;
	} accounts;

	struct {
		int64_t mail_window_s; /* one privilege-attempt mail per actor */
	} alerts;

	struct {
		char *smtp_url; /* smtp://host:port or smtps:// */
		char *from;
		int64_t timeout_s;
	} mail;

	struct {
		char *gateway; /* "simulator" */
		char *outbox;  /* the simulator's outbox file */
	} sms;

	struct {
		int64_t max_attempts;
		int64_t retry_base_s;
	} notify;
};

/* Reads path (must exist) on top of the defaults for data_dir. On error
 * returns ANFU_EINVAL (or ANFU_EIO) and writes "file:line: message" into
 * errbuf. *ret is owned by the caller. */
int anfu_config_load(const char *path, const char *data_dir, struct anfu_config **ret, char *errbuf,
		     size_t errlen);
/* Parses INI text held in memory (fuzzing, tests); name is used in
 * messages. */
int anfu_config_load_text(const char *text, size_t len, const char *name, const char *data_dir,
			  struct anfu_config **ret, char *errbuf, size_t errlen);
/* The defaults alone. */
int anfu_config_defaults(const char *data_dir, struct anfu_config **ret);
void anfu_config_free(struct anfu_config *c);

/* Appends the option reference (Markdown table rows: section, key, type,
 * default, range, requirement IDs, description). */
int anfu_config_describe(struct anfu_buf *out);
/* Appends an example INI file with every option at its default. */
int anfu_config_example(struct anfu_buf *out);
/* Appends "section.key = value" for every option (for `anfu config check`). */
int anfu_config_dump(const struct anfu_config *c, struct anfu_buf *out);

/* The options of c that name a simulator instead of a real gateway
 * ("sms.gateway"): writes up to cap static option names into names and
 * returns how many there are (possibly more than cap). */
size_t anfu_config_simulators(const struct anfu_config *c, const char **names, size_t cap);

/* True when addr (family AF_INET/AF_INET6, raw bytes) is in any of the
 * CIDRs. An IPv4-mapped IPv6 address matches IPv4 CIDRs. */
bool anfu_cidr_match(const struct anfu_cidr *cidrs, int n, int family, const uint8_t *addr);
/* Parses "10.0.0.0/8" or "::1/128" (a bare address is /32 or /128). */
int anfu_cidr_parse(const char *s, struct anfu_cidr *ret);

#endif
