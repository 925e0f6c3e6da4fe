/*
 * base/limits: every compile-time limit in one place, with its reason.
 *
 * Runtime-configurable limits live in the config (docs/configuration.md);
 * the values here are their hard bounds and defaults, and the caps that
 * are not worth configuring.
 */
#ifndef ANFU_BASE_LIMITS_H
#define ANFU_BASE_LIMITS_H

/* HTTP request headers in total. 8 KiB is what nginx and most proxies
 * allow by default; real clients never come close. */
#define ANFU_LIMIT_HEADER_BYTES_DEFAULT (8 * 1024)
#define ANFU_LIMIT_HEADER_BYTES_MIN (2 * 1024)
#define ANFU_LIMIT_HEADER_BYTES_MAX (64 * 1024)

/* Field lines in one request head, its chunked trailers included (the
 * framing validator, http/stream.c, answers 431 beyond it). Browsers send
 * about 20 and proxies add a handful. Each field costs libmicrohttpd one
 * record in the connection's memory pool, which is sized from these counts
 * (http/server.c) so that MHD never refuses a head itself; MHD zeroes the
 * whole pool after every request, so the counts are kept as low as real
 * clients allow (with the defaults the pool stays at 32 KiB). */
#define ANFU_LIMIT_HEADER_FIELDS 64
/* Query parameters of one request target (431 beyond it): our routes read
 * a handful. MHD keeps one pool record per parameter; 500 of them used to
 * exhaust its pool and the request got no answer at all. */
#define ANFU_LIMIT_QUERY_PARAMS 64
/* Cookies in the Cookie field, counted at every ';' and ',' (431 beyond
 * it): RFC 6265 §6.1 asks clients to keep at least 50 per domain and we
 * set two or three. MHD keeps one pool record per cookie too. */
#define ANFU_LIMIT_COOKIES 64
/* One chunk-size line of a chunked body, extensions included (400 beyond
 * it). Sixteen hex digits and CRLF need 18 bytes; nobody sends chunk
 * extensions in practice. */
#define ANFU_LIMIT_CHUNK_LINE_BYTES 256

/* Request body. The JSON API carries small documents; 64 KiB fits a batch
 * of a few hundred items. Files go through the upload path, not here. */
#define ANFU_LIMIT_BODY_BYTES_DEFAULT (64 * 1024)
#define ANFU_LIMIT_BODY_BYTES_MAX (16 * 1024 * 1024)

/* JSON nesting. Our request schemas are at most 3 deep; 16 leaves room and
 * keeps recursive decoders far from any stack limit. */
#define ANFU_LIMIT_JSON_DEPTH_DEFAULT 16
#define ANFU_LIMIT_JSON_DEPTH_MAX 64

/* One JSON string (value or key). Longest legitimate value is an address
 * or a memo; 4 KiB is generous. */
#define ANFU_LIMIT_JSON_STRING_DEFAULT 4096
#define ANFU_LIMIT_JSON_STRING_MAX (1024 * 1024)

/* Per-request arena: decoded copies of the body plus working memory. Four
 * times the body limit plus 64 KiB bounds it even for worst-case escaping. */
#define ANFU_LIMIT_ARENA_SLACK (64 * 1024)

/* Idle connection timeout (WEB-CONC-04, WEB-DOS-01): a client that sends
 * nothing for this many seconds is disconnected. */
#define ANFU_LIMIT_CONN_TIMEOUT_DEFAULT 15
/* Whole-request-head deadline: a client must finish sending its request
 * line and headers within this many seconds (slowloris). */
#define ANFU_LIMIT_HEADER_TIMEOUT_DEFAULT 10

/* Connections (WEB-CONC-01). 1024 is a small server's file-descriptor
 * budget; per IP, 64 lets a NAT'd office in without letting one host hold
 * everything. */
#define ANFU_LIMIT_CONNECTIONS_DEFAULT 1024
#define ANFU_LIMIT_CONNECTIONS_PER_IP_DEFAULT 64

/* TLS handshake deadline (WEB-DOS-01, WEB-CONC-04): a connection must
 * finish its TLS handshake this many seconds after it was accepted. A real
 * client needs two round trips and a few milliseconds of CPU, so 5 s still
 * covers a poor mobile link, while a plain TCP connection that never speaks
 * TLS holds its slot half as long as the request-head deadline allows. */
#define ANFU_LIMIT_HANDSHAKE_TIMEOUT_DEFAULT 5
#define ANFU_LIMIT_HANDSHAKE_TIMEOUT_MAX 60

/* Share of limits.connections held back for connections that finished the
 * TLS handshake (WEB-CONC-01, WEB-DOS-01), in percent. Connections still in
 * the handshake may hold the rest and no more: once they fill it, a new
 * connection closes the oldest of them. A quarter keeps room for real
 * sessions while three quarters still absorb a burst of new clients; 90 %
 * at most so that handshakes always have some room. */
#define ANFU_LIMIT_CONN_RESERVE_PCT_DEFAULT 25
#define ANFU_LIMIT_CONN_RESERVE_PCT_MAX 90

/* Connections from one network, an IPv4 /24 or an IPv6 /64 (WEB-CONC-03,
 * WEB-DOS-01): the block a single subscriber, office or hosting customer
 * usually holds, so one source cannot dodge the per-IP limit with the many
 * addresses of its own block. Four times the per-IP default: an office
 * behind a few NAT addresses fits, a quarter of the default total does too,
 * so filling the server takes several networks. */
#define ANFU_LIMIT_CONNECTIONS_PER_NET_DEFAULT 256

/* libmicrohttpd's own connection limit is limits.connections plus this room
 * (a quarter, at least 16): connections anfu has already cut off (evicted,
 * refused or past a deadline) stay in MHD until its thread next looks at
 * them. Without the room MHD would refuse new connections itself, before
 * anfu can evict a connection stuck in the handshake for them. */
#define ANFU_LIMIT_CONN_CLOSING_ROOM_PCT 25
#define ANFU_LIMIT_CONN_CLOSING_ROOM_MIN 16

/* Buckets of the per-network connection counts of one listener (chained,
 * keyed hash with a random seed, so a client cannot aim at one chain). */
#define ANFU_LIMIT_CONN_NET_BUCKETS 1024

/* Requests being processed at once; beyond it the server answers 503
 * instead of queueing without bound (TIGER_STYLE: bound every queue). */
#define ANFU_LIMIT_CONCURRENT_REQUESTS_DEFAULT 256

/* Offload pool (http/offload.c): threads that run the handlers of slow
 * routes (password hashing) off the HTTP workers. The default is
 * argon2.max_concurrent's default (4) plus two, so four hashes can run while
 * two finished logins commit; 64 matches http.threads' bound. */
#define ANFU_LIMIT_OFFLOAD_THREADS_DEFAULT 6
#define ANFU_LIMIT_OFFLOAD_THREADS_MAX 64
/* Requests waiting for an offload thread; beyond it they get 503 with
 * Retry-After rather than a queue without bound. A waiting request holds
 * only its connection and arena, no thread; at 4 hashes of 50-200 ms at a
 * time the last of 256 starts within about 3-13 s, inside a client's
 * patience, where a longer queue would only turn into client timeouts. It
 * equals the default of limits.concurrent_requests, which counts waiting
 * requests too, so with the defaults that limit refuses first. */
#define ANFU_LIMIT_OFFLOAD_QUEUE 256

/* Per-IP request rate (token bucket): sustained rate and burst. */
#define ANFU_LIMIT_RATE_PER_IP_DEFAULT 100
#define ANFU_LIMIT_RATE_BURST_DEFAULT 200
/* Distinct client IPs tracked by the rate limiter; the least recently seen
 * are evicted beyond it, so memory stays bounded under a spoofed flood. */
#define ANFU_LIMIT_RATE_TABLE_SIZE 65536

/* Route table: fixed capacity so registration cannot grow without bound. */
#define ANFU_LIMIT_ROUTES 256
/* Path segments and parameters in one route pattern. */
#define ANFU_LIMIT_PATH_SEGMENTS 12
#define ANFU_LIMIT_PATH_PARAMS 4
/* Request path length. */
#define ANFU_LIMIT_PATH_BYTES 1024

/* Audit details JSON, serialised. */
#define ANFU_LIMIT_AUDIT_DETAILS_BYTES (16 * 1024)
/* Audit checkpoints: defaults of audit.checkpoint_records / _seconds. */
#define ANFU_LIMIT_AUDIT_CHECKPOINT_RECORDS_DEFAULT 1000
#define ANFU_LIMIT_AUDIT_CHECKPOINT_SECONDS_DEFAULT 60

/* Graceful stop: in-flight requests get this long to finish. */
#define ANFU_LIMIT_SHUTDOWN_GRACE_SECONDS_DEFAULT 10

/* Audit records one anfu_audit_append_batch() call writes. The executor
 * appends a whole transaction's records (a batch's too) in one call, so
 * this bounds what one transaction may stage; every record's details are
 * held serialised until the batch is written (at most this many times
 * ANFU_LIMIT_AUDIT_DETAILS_BYTES, in practice a few hundred bytes each). */
#define ANFU_LIMIT_AUDIT_BATCH_RECORDS 4096

/* Audit records one transaction may stage (src/tx/): the busiest write
 * path today stages three; a loop that stages without bound fails its
 * transaction instead of growing memory. */
#define ANFU_LIMIT_TX_RECORDS 1024
/* Post-commit hooks one transaction may register: wake-ups of a few
 * threads, one per queue it wrote to. */
#define ANFU_LIMIT_TX_HOOKS 64
/* Commands in one anfu_tx_run_batch(): the ledger writer's batch. Larger
 * batches stop paying (one fsync is already shared by many commands) and
 * hold the write lock longer. */
#define ANFU_LIMIT_TX_BATCH 1024
/* Every record a transaction stages is appended in one batch. */
_Static_assert(ANFU_LIMIT_TX_RECORDS <= ANFU_LIMIT_AUDIT_BATCH_RECORDS,
	       "a transaction's records must fit one audit batch");

/* One line of an audit export (JSON lines). */
#define ANFU_LIMIT_AUDIT_EXPORT_LINE (64 * 1024)

/* Trusted devices one account keeps (src/iam/login.c): a person uses a
 * handful of browsers and phones; trusting one more drops the oldest, so
 * repeated MFAs with trust_device cannot grow the table without bound. */
#define ANFU_LIMIT_TRUSTED_DEVICES 10

/* Modules of one build (src/app/): the module list, and with it the
 * migration sequences and option tables one process knows. The platform
 * has two (core, notify), the services one each; the payment services to
 * come add about ten. */
#define ANFU_LIMIT_MODULES 32

/* ---- iam: core ---- */

/* Users the password-reminder job (src/iam/jobs.c) reads per query: bounds
 * one query's result and the batch array; the job pages on. */
#define ANFU_LIMIT_IAM_REMIND_BATCH 100
/* Bytes of a client's device id an audit record keeps (src/iam/common.c);
 * the sessions table keeps as many. */
#define ANFU_LIMIT_IAM_AUDIT_DEVICE 128
/* Parameters a caller of iam_status_update() (src/iam/status.c) adds to
 * the user id: the statements that change the status set at most two
 * other columns. */
#define ANFU_LIMIT_IAM_STATUS_PARAMS 4
/* Bytes of the SQL iam_status_case() makes (src/iam/status.c): "CASE WHEN
 * status IN (<all four statuses>) AND <a caller's condition> THEN ... END"
 * is under 150; the callers' conditions are short constants. */
#define ANFU_LIMIT_IAM_STATUS_SQL 256
/* Login attempts GET /me/logins shows (src/iam/self.c, IAM-HIST-01): by
 * default a screen of them; at most what a person reads through, and a
 * bound on one query. The API refuses a larger limit (docs/openapi.yaml). */
#define ANFU_LIMIT_IAM_LOGINS_DEFAULT 20
#define ANFU_LIMIT_IAM_LOGINS_MAX 100
_Static_assert(ANFU_LIMIT_IAM_LOGINS_DEFAULT <= ANFU_LIMIT_IAM_LOGINS_MAX,
	       "the default page of login history must be a page the API allows");
/* Roles one account may hold (src/iam/rbac.c): the built-in model needs at
 * most three; the separation-of-duties check works on sorted arrays. */
#define ANFU_LIMIT_IAM_ROLES 16
/* Distinct permissions of a role set under check (src/iam/rbac.c): above
 * what a principal keeps (ANFU_PRINCIPAL_MAX_PERMS, iam/iam.h; asserted
 * in src/iam/rbac.c), so an over-large grant is refused as a limit. */
#define ANFU_LIMIT_IAM_ROLE_PERMS 256
/* Passwords of one history compared at most (src/iam/user.c), ties in time
 * included: password.history is at most 24 (src/iam/options.c). */
#define ANFU_LIMIT_IAM_HISTORY_SCAN 64
/* Live sessions of one user looked at when making room for one more
 * (src/iam/session.c): far above any configured session limit. */
#define ANFU_LIMIT_IAM_LIVE_SESSIONS 64
/* Bytes of a device label (src/iam/login.c): the User-Agent, cut and made
 * printable, as the login history and the new-device notice show it. */
#define ANFU_LIMIT_IAM_DEVICE_LABEL 64
/* Bytes of one expanded notice text (src/iam/notices.c): the texts are a
 * few sentences; this bounds one expansion. */
#define ANFU_LIMIT_IAM_NOTICE 2048
/* Placeholders one notice text may use ({1}..{9}: one digit). */
#define ANFU_LIMIT_IAM_NOTICE_ARGS 9
/* Characters a password field is decoded up to (src/iam/api/): so that
 * the policy, not the decoder, answers an over-long one
 * (password_too_long, ANFU_PASSWORD_MAX is 128). */
#define ANFU_LIMIT_IAM_PASSWORD_FIELD 1024
/* argon2.max_concurrent at most (src/iam/pwhash.c): far above any
 * sensible setting; keeps the counters in an int. */
#define ANFU_LIMIT_IAM_PWHASH_CONCURRENT 4096
/* Captcha answers the test hook keeps (src/iam/challenge.c, test builds
 * only): enough for the captchas a test run keeps open at once; older
 * ones are overwritten (the hook then reports them as not found). */
#define ANFU_LIMIT_IAM_TEST_CAPTCHAS 256
/* Attempts at drawing an initial password the policy accepts
 * (src/iam/bootstrap.c): a random 16-character draw fails it a few percent
 * of the time, so running out means the policy cannot be met at all. */
#define ANFU_LIMIT_IAM_INITIAL_PASSWORD_TRIES 1000
/* MFA_PENDING sessions one user may hold at once (src/iam/session.c):
 * they are not counted against session[class].max_sessions (a password
 * alone must not be able to end someone's sessions), so they get a small
 * cap of their own; the oldest is ended quietly. */
#define ANFU_LIMIT_IAM_PENDING_SESSIONS 3
_Static_assert(ANFU_LIMIT_IAM_PENDING_SESSIONS < ANFU_LIMIT_IAM_LIVE_SESSIONS,
	       "the pending sessions of a user must fit the live sessions looked at");
/* Bytes of a one-time code's purpose, target index or context
 * (src/iam/codes.c): the longest is a target index (64 hex digits). */
#define ANFU_LIMIT_IAM_CODE_FIELD 256
/* Bytes of a personal field the password rules compare (src/iam/pwpolicy.c):
 * names, email addresses, phone and ID numbers are far shorter. */
#define ANFU_LIMIT_IAM_PERSONAL_FIELD 256

#endif
