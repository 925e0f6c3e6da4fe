/*
 * config: the one INI file (inih) and every option anfu has.
 *
 * Options live in tables with type, default, range, the requirement IDs
 * they serve and a line of documentation: the platform's (config/options.c,
 * into struct anfu_config) and each module's own (config/option.h, into a
 * struct of the module's); parsing, validation and the reference in
 * docs/configuration.md all come from them.
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

#include "base/limits.h"
#include "base/profile.h"

struct anfu_buf;
struct anfu_config_table;

/* Option tables of modules one configuration holds. */
#define ANFU_CONFIG_TABLES_MAX ANFU_LIMIT_MODULES

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
		struct anfu_cidr allow[ANFU_LIMIT_CONFIG_CIDRS];
		int allow_count;
	} admin;

	struct anfu_config_limits limits;

	struct {
		char *backend; /* "sqlite" | "postgresql" */
		char *path;
		int64_t busy_timeout_ms;
		char *dsn;		   /* postgresql: libpq conninfo, never a password */
		char *password_file;	   /* postgresql: used when it exists */
		char *sslmode;		   /* postgresql */
		char *owner_dsn;	   /* postgresql: "" or the owner role's conninfo */
		char *owner_password_file; /* postgresql: read by migrating commands */
		int64_t statement_timeout_ms;
		int64_t pool_size;
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

	/* Every option table of this configuration in the reference's order
	 * (config/options.h) and the struct each one fills: config/'s own
	 * bookkeeping; a module finds its struct with anfu_config_module(). */
	const struct anfu_config_table *table[ANFU_CONFIG_TABLES_MAX + 2];
	void *table_data[ANFU_CONFIG_TABLES_MAX + 2];
	size_t ntables;
};

/* Every function that makes a configuration takes the option tables of
 * the modules (tables, ntables: at most ANFU_CONFIG_TABLES_MAX, borrowed
 * static data; src/app/ passes those of its module list) besides the
 * platform's own, which are always there. A table naming a section another
 * table has is refused (ANFU_EINVAL). */

/* Reads path (must exist) on top of the defaults for data_dir. On error
 * returns ANFU_EINVAL (or ANFU_EIO) and writes "file:line: message" into
 * errbuf. *ret is owned by the caller. */
int anfu_config_load(const char *path, const char *data_dir,
		     const struct anfu_config_table *const *tables, size_t ntables,
		     struct anfu_config **ret, char *errbuf, size_t errlen);
/* Parses INI text held in memory (fuzzing, tests); name is used in
 * messages. */
int anfu_config_load_text(const char *text, size_t len, const char *name, const char *data_dir,
			  const struct anfu_config_table *const *tables, size_t ntables,
			  struct anfu_config **ret, char *errbuf, size_t errlen);
/* The defaults alone. */
int anfu_config_defaults(const char *data_dir, const struct anfu_config_table *const *tables,
			 size_t ntables, struct anfu_config **ret);
void anfu_config_free(struct anfu_config *c);

/* The struct module table t filled in c (its defaults and the file's
 * values), or NULL when c was not made with t. Owned by c; read-only for
 * everyone but a test. */
const void *anfu_config_module(const struct anfu_config *c, const struct anfu_config_table *t);

/* Appends the option reference (Markdown table rows: section, key, type,
 * default, range, requirement IDs, description) of every table. */
int anfu_config_describe(const struct anfu_config_table *const *tables, size_t ntables,
			 struct anfu_buf *out);
/* Appends an example INI file with every option of every table at its
 * default. */
int anfu_config_example(const struct anfu_config_table *const *tables, size_t ntables,
			struct anfu_buf *out);
/* Appends "section.key = value" for every option of c (for `anfu config
 * check`). */
int anfu_config_dump(const struct anfu_config *c, struct anfu_buf *out);

/* The options of c that name a simulator instead of a real gateway
 * ("sms.gateway"): writes up to cap static option names into names and
 * returns how many there are (possibly more than cap). */
size_t anfu_config_simulators(const struct anfu_config *c, const char **names, size_t cap);
/* Whether c is a PostgreSQL installation with a separate owner role
 * ([database] owner_dsn other than "none"): migrations then run only as
 * the owner (`anfu db migrate`), never by anfud. */
bool anfu_config_pg_owner(const struct anfu_config *c);

/* True when addr (family AF_INET/AF_INET6, raw bytes) is in any of the
 * CIDRs. An IPv4-mapped IPv6 address matches IPv4 CIDRs. */
bool anfu_cidr_match(const struct anfu_cidr *cidrs, int n, int family, const uint8_t *addr);
/* Parses "10.0.0.0/8" or "::1/128" (a bare address is /32 or /128). */
int anfu_cidr_parse(const char *s, struct anfu_cidr *ret);

#endif
