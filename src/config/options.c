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
#define FIELD(f, T)                                                                \
	(offsetof(struct anfu_config, f) +                                         \
	 0 * sizeof(char[__builtin_types_compatible_p(                             \
				 __typeof__(((struct anfu_config *)0)->f), T) ? 1 : -1]))

#define OPT_INT(s, k, f, lo, hi, d, u, r, doc_)                                     \
	{ .section = s, .key = k, .type = ANFU_OPT_INT, .offset = FIELD(f, int64_t), \
	  .min = lo, .max = hi, .int_default = d, .unit = u, .reqs = r, .doc = doc_ }
#define OPT_BOOL(s, k, f, d, r, doc_)                                               \
	{ .section = s, .key = k, .type = ANFU_OPT_BOOL, .offset = FIELD(f, bool),   \
	  .def = d, .reqs = r, .doc = doc_ }
#define OPT_ENUM(s, k, f, T, v, d, r, doc_)                                         \
	{ .section = s, .key = k, .type = ANFU_OPT_ENUM, .offset = FIELD(f, T),      \
	  .values = v, .def = d, .reqs = r, .doc = doc_ }
#define OPT_ENUM_TEXT(s, k, f, v, d, r, doc_)                                       \
	{ .section = s, .key = k, .type = ANFU_OPT_ENUM_TEXT,                         \
	  .offset = FIELD(f, char *), .values = v, .def = d, .reqs = r, .doc = doc_ }
#define OPT_TEXT(s, k, t, f, d, r, doc_)                                            \
	{ .section = s, .key = k, .type = t, .offset = FIELD(f, char *), .def = d,  \
	  .reqs = r, .doc = doc_ }
#define OPT_PATH(s, k, f, pd, r, doc_)                                              \
	{ .section = s, .key = k, .type = ANFU_OPT_PATH, .offset = FIELD(f, char *), \
	  .def = "", .path_default = pd, .reqs = r, .doc = doc_ }

/* ENUM options are stored through an int (value.c). */
_Static_assert(sizeof(enum anfu_level) == sizeof(int), "enum anfu_level is an int");
_Static_assert(sizeof(enum anfu_crypto_profile) == sizeof(int),
	       "enum anfu_crypto_profile is an int");

/* Index order is the enum's numeric order (base/profile.h). */
static const char *const level_values[] = { "basic", "enhanced", NULL };
static const char *const crypto_values[] = { "intl", "gm", NULL };
static const char *const backend_values[] = { "sqlite", NULL };
static const char *const log_level_values[] = { "debug", "info", "warn", "error", NULL };

#define TLS_PRIORITIES                                                               \
	"SECURE256:+SECURE128:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:"      \
	"+AES-256-GCM:+CHACHA20-POLY1305:+AES-128-GCM:-MAC-ALL:+AEAD:-KX-ALL:"       \
	"+ECDHE-ECDSA:+ECDHE-RSA:-DHE-RSA:-RSA:%SERVER_PRECEDENCE"

#define REQ_DOS "WEB-DOS-01"
#define REQ_TLS "C10, DATA-TX-01, DATA-TX-02, DATA-TX-03, IAM-ADM-04"

const struct anfu_config_option anfu_config_options[] = {
	/* [server] */
	OPT_ENUM("server", "level", level, enum anfu_level, level_values, "enhanced",
		 "all (ENH) rows, e.g. IAM-SESS-06, AUD-PROT-04",
		 "Security level: enhanced turns on every (ENH) control of the "
		 "requirements; basic keeps only the basic ones."),
	OPT_ENUM("server", "crypto", crypto, enum anfu_crypto_profile, crypto_values,
		 "intl", "C10, DATA-TX-07, AUD-STO-02",
		 "Cryptographic profile: intl = Ed25519, SHA-256, AES-256-GCM; "
		 "gm = SM2, SM3, SM4-GCM (signatures, audit hash chain, data encryption)."),

	/* [http] */
	OPT_TEXT("http", "listen", ANFU_OPT_ADDRESS, http.listen, "127.0.0.1", NULL,
		 "Address of the public HTTPS listener (IPv4 or IPv6 literal; "
		 "0.0.0.0 or :: for every interface)."),
	OPT_INT("http", "port", http.port, 0, 65535, 8443, NULL, NULL,
		"TCP port of the public HTTPS listener; 0 picks a free port (tests)."),
	OPT_INT("http", "threads", http.threads, 1, 64, 4, NULL, REQ_DOS,
		"Worker threads serving requests: a fixed pool, never a thread per "
		"connection."),
	OPT_PATH("http", "tls_cert", http.tls_cert, "tls/server.crt",
		 "DATA-TX-01, DATA-TX-03, IAM-ADM-04",
		 "PEM certificate chain of the HTTPS listeners (public and admin)."),
	OPT_PATH("http", "tls_key", http.tls_key, "tls/server.key",
		 "DATA-TX-01, DATA-TX-03, IAM-ADM-04",
		 "PEM private key of tls_cert (RSA >= 2048 or ECC >= 256 bits)."),
	OPT_TEXT("http", "tls_priorities", ANFU_OPT_STRING, http.tls_priorities,
		 TLS_PRIORITIES, REQ_TLS,
		 "GnuTLS priority string: TLS 1.2 and 1.3 only, AEAD ciphers only, "
		 "ECDHE key exchange (forward secrecy) only, server's order."),
	OPT_INT("http", "hsts_max_age", http.hsts_max_age, 0, 63072000, 31536000, "s",
		"WEB-HDR-01",
		"max-age of the Strict-Transport-Security header on every response."),

	/* [admin] */
	OPT_BOOL("admin", "enabled", admin.enabled, "true", "IAM-ADM-02",
		 "Serve the operator API (/admin/v1) on its own listener."),
	OPT_TEXT("admin", "listen", ANFU_OPT_ADDRESS, admin.listen, "127.0.0.1",
		 "IAM-ADM-02",
		 "Address of the admin listener; put it on a VPN or management "
		 "interface."),
	OPT_INT("admin", "port", admin.port, 0, 65535, 9443, NULL, "IAM-ADM-02",
		"TCP port of the admin listener; 0 picks a free port (tests). Must "
		"differ from http.port on the same address."),
	{ .section = "admin", .key = "allow", .type = ANFU_OPT_CIDR_LIST,
	  .offset = FIELD(admin.allow, struct anfu_cidr[ANFU_CONFIG_MAX_CIDRS]),
	  .count_offset = FIELD(admin.allow_count, int), .def = "127.0.0.1/32, ::1/128",
	  .reqs = "IAM-ADM-02",
	  .doc = "Client address ranges allowed on the admin listener "
		 "(comma-separated CIDRs); connections from elsewhere are refused." },

	/* [limits] */
	OPT_INT("limits", "header_bytes", limits.header_bytes, ANFU_LIMIT_HEADER_BYTES_MIN,
		ANFU_LIMIT_HEADER_BYTES_MAX, ANFU_LIMIT_HEADER_BYTES_DEFAULT, "bytes",
		REQ_DOS, "Largest request line plus headers."),
	OPT_INT("limits", "body_bytes", limits.body_bytes, 1024, ANFU_LIMIT_BODY_BYTES_MAX,
		ANFU_LIMIT_BODY_BYTES_DEFAULT, "bytes", REQ_DOS,
		"Largest request body."),
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
		"Open connections in total; more are refused."),
	OPT_INT("limits", "connections_per_ip", limits.connections_per_ip, 1, 10000,
		ANFU_LIMIT_CONNECTIONS_PER_IP_DEFAULT, NULL, "WEB-CONC-03, WEB-DOS-01",
		"Open connections from one client address."),
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
	OPT_ENUM_TEXT("database", "backend", database.backend, backend_values, "sqlite",
		      NULL, "Storage backend (one SQLite file in the data directory)."),
	OPT_PATH("database", "path", database.path, "anfu.db", NULL,
		 "SQLite database file."),
	OPT_INT("database", "busy_timeout_ms", database.busy_timeout_ms, 0, 600000, 5000,
		"ms", NULL,
		"How long a database call waits for a lock before it fails as busy."),

	/* [audit] */
	OPT_INT("audit", "checkpoint_records", audit.checkpoint_records, 1, 1000000,
		ANFU_LIMIT_AUDIT_CHECKPOINT_RECORDS_DEFAULT, "records",
		"AUD-STO-02, AUD-PROT-04",
		"Sign a checkpoint of the audit hash chain after this many records."),
	OPT_INT("audit", "checkpoint_seconds", audit.checkpoint_seconds, 1, 86400,
		ANFU_LIMIT_AUDIT_CHECKPOINT_SECONDS_DEFAULT, "s", "AUD-STO-02, AUD-PROT-04",
		"Sign a checkpoint after this many seconds even if fewer records "
		"came (whichever limit is reached first)."),
	OPT_PATH("audit", "checkpoint_file", audit.checkpoint_file,
		 "audit/checkpoints.jsonl", "AUD-STO-02, AUD-PROT-01",
		 "Signed checkpoints are also appended here (JSON lines), outside "
		 "the database."),

	/* [log] */
	OPT_PATH("log", "app", log.app, "log/anfud.log", "AUD-COL-01",
		 "Application log (structured lines)."),
	OPT_PATH("log", "access", log.access, "log/access.log", "AUD-COL-01",
		 "Access log (one line per HTTP request)."),
	OPT_ENUM_TEXT("log", "level", log.level, log_level_values, "info", "AUD-COL-01",
		      "Lowest level written to the application log."),
};

const size_t anfu_config_noptions = sizeof(anfu_config_options) / sizeof(anfu_config_options[0]);

const struct anfu_config_option *anfu_config_option_find(const char *section,
							 const char *key)
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
