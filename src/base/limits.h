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

/* ---- iam: administration ---- */

/* Users one page of the admin user list holds (src/iam/admin_users.c):
 * the default, and the most a caller may ask for (?limit=1..200); the
 * page's views are built in one call and the handler holds them all. */
#define ANFU_LIMIT_ADMIN_LIST_DEFAULT 50
#define ANFU_LIMIT_ADMIN_LIST_MAX 200
_Static_assert(ANFU_LIMIT_ADMIN_LIST_DEFAULT <= ANFU_LIMIT_ADMIN_LIST_MAX,
	       "the default page fits the largest");
/* Roles one create_operator request may ask for (src/iam/admin_types.c):
 * the built-in model has a handful of staff roles, and separation of
 * duties forbids most combinations. */
#define ANFU_LIMIT_OPERATOR_ROLES 8
/* Longest reason an administrative change keeps, in bytes (audit details
 * and approval payloads), and the longest the admin API accepts in a
 * request body: what the API takes, the service keeps. */
#define ANFU_LIMIT_ADMIN_REASON 500
#define ANFU_LIMIT_ADMIN_REASON_API 200
_Static_assert(ANFU_LIMIT_ADMIN_REASON_API <= ANFU_LIMIT_ADMIN_REASON,
	       "a reason the API accepts is kept whole");
/* Longest name of the person responsible for an account after a handover
 * (IAM-ACCT-01), in bytes: sealed as the account's real name. */
#define ANFU_LIMIT_RESPONSIBLE_NAME 64
/* Approval types the registry holds (src/iam/approval.c): iam registers
 * seven, the money services a handful each. */
#define ANFU_LIMIT_APPROVAL_TYPES 32
/* Longest approval type name kept, with its NUL: registered names are
 * short words ("create_operator"); the admin API accepts 1..32 bytes. */
#define ANFU_LIMIT_APPROVAL_TYPE_NAME 64
/* Longest summary an approval type's validator may write: one line a
 * checker reads in a list. */
#define ANFU_LIMIT_APPROVAL_SUMMARY 256
/* Longest note kept on a decision, an acknowledged alert or a signed-off
 * report (the admin API accepts notes of 1..500 bytes). */
#define ANFU_LIMIT_DECISION_NOTE 500
/* Approvals one list call returns (newest first). */
#define ANFU_LIMIT_APPROVAL_LIST 200
/* Accounts one report lists (src/iam/review.c); beyond it the report is
 * marked truncated (a report is one JSON document in one row; 20,000
 * entries is a few MB). Accounts are read RECERT_PAGE at a time. */
#define ANFU_LIMIT_REPORT_ROWS 20000
#define ANFU_LIMIT_RECERT_PAGE 200
_Static_assert(ANFU_LIMIT_RECERT_PAGE <= ANFU_LIMIT_REPORT_ROWS,
	       "one page of accounts fits a report");
/* Reports one list call returns. */
#define ANFU_LIMIT_REPORT_LIST 20
/* Administrators one privilege-attempt alert mails at most
 * (src/iam/alert.c): the built-in model has a handful; a cap keeps one
 * refused request from queueing thousands of messages inside its
 * transaction if the role table ever grows. */
#define ANFU_LIMIT_ALERT_RECIPIENTS 64
/* Alerts one page of the alert list holds: the default and the most
 * (?limit=1..100). */
#define ANFU_LIMIT_ALERT_LIST_DEFAULT 50
#define ANFU_LIMIT_ALERT_LIST_MAX 100
_Static_assert(ANFU_LIMIT_ALERT_LIST_DEFAULT <= ANFU_LIMIT_ALERT_LIST_MAX,
	       "the default page fits the largest");
/* Longest action, object and reason kept on an alert (route patterns and
 * audit actions are far shorter). */
#define ANFU_LIMIT_ALERT_TEXT 160

#endif
