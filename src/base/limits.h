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

/* Trusted devices one account keeps (src/iam/login.c): a person uses a
 * handful of browsers and phones; trusting one more drops the oldest, so
 * repeated MFAs with trust_device cannot grow the table without bound. */
#define ANFU_LIMIT_TRUSTED_DEVICES 10

/* Modules of one build (src/app/): the module list, and with it the
 * migration sequences and option tables one process knows. The platform
 * has two (core, notify), the services one each; the payment services to
 * come add about ten. */
#define ANFU_LIMIT_MODULES 32

/* ---- platform: jobs, config, notify ---- */

/* Jobs one scheduler holds (src/jobs/): a handful per service; a fixed
 * array, so registration beyond it fails at start-up instead of growing. */
#define ANFU_LIMIT_JOBS 32
/* A job's name: ours, a short [a-z0-9._-] word that also names its
 * job_run rows and log lines. */
#define ANFU_LIMIT_JOB_NAME_BYTES 64
/* A job run's recorded result text: one line for the operator; longer
 * results are cut rather than stored. */
#define ANFU_LIMIT_JOB_RESULT_BYTES 200

/* Longest line of a configuration file and largest file read: an INI file
 * of a few hundred options is a few KiB; anything larger is not ours. */
#define ANFU_LIMIT_CONFIG_LINE_BYTES 4096
#define ANFU_LIMIT_CONFIG_FILE_BYTES (1024 * 1024)
/* A section name: ours are short words; a longer one is a typo. */
#define ANFU_LIMIT_CONFIG_SECTION_BYTES 64
/* Bytes of a bad value, key or section repeated in a configuration error
 * message: enough to recognise it, never a whole line (which might be a
 * secret pasted into the wrong key). */
#define ANFU_LIMIT_CONFIG_ECHO_BYTES 48
/* Scratch space for one rendered value (config example/describe): a value
 * is at most one line of the file. */
#define ANFU_LIMIT_CONFIG_VALUE_BYTES 4096
_Static_assert(ANFU_LIMIT_CONFIG_VALUE_BYTES >= ANFU_LIMIT_CONFIG_LINE_BYTES,
	       "a rendered value must hold any value a config line can carry");
/* Rendered configuration (`anfu config describe`, `show`, the sample
 * file): every option with its description, a few hundred lines. */
#define ANFU_LIMIT_CONFIG_RENDER_BYTES (4 * 1024 * 1024)
/* CIDR entries of one list option (trusted proxies, admin allowlist): a
 * fixed array in struct anfu_config; real deployments name a few. */
#define ANFU_LIMIT_CONFIG_CIDRS 16

/* Notifications (src/notify/). A subject is one line of a template: 512
 * bytes is 170 CJK characters. A body is a short notice or code: 16 KiB is
 * far above any template and bounds every buffer derived from it. A kind
 * is a template name ("code.login"). */
#define ANFU_LIMIT_NOTIFY_SUBJECT_BYTES 512
#define ANFU_LIMIT_NOTIFY_BODY_BYTES (16 * 1024)
#define ANFU_LIMIT_NOTIFY_KIND_BYTES 48
/* A recipient's user id: public ids are shorter (base/rand.h ANFU_ID_MAX,
 * checked in notify/queue.c); anything longer is not one. */
#define ANFU_LIMIT_NOTIFY_USER_ID_BYTES 64
/* A delivery error kept on the message row: one line for the operator. */
#define ANFU_LIMIT_NOTIFY_ERROR_BYTES 128
/* Messages one delivery pass handles, read ANFU_LIMIT_NOTIFY_QUERY_BATCH
 * per query: a pass stays bounded with a large backlog; the next pass (a
 * second later) continues. */
#define ANFU_LIMIT_NOTIFY_PASS 256
#define ANFU_LIMIT_NOTIFY_QUERY_BATCH 32
_Static_assert(ANFU_LIMIT_NOTIFY_QUERY_BATCH <= ANFU_LIMIT_NOTIFY_PASS,
	       "one query must not read more than a pass may handle");
/* Messages one delivery step claims in one transaction and records (sent,
 * retried, failed) in one more: two commits for up to this many messages
 * instead of two each, so the deliverer keeps up with two notices a
 * transfer. The claim's lease covers every send of the step
 * (n x [mail] timeout + ANFU_LIMIT_NOTIFY_LEASE_SLACK_MS), so a node that
 * dies mid-step leaves its messages for at most 16 x 120 s + 60 s at the
 * largest timeout (3 min 40 s at the default 10 s). */
#define ANFU_LIMIT_NOTIFY_SEND_BATCH 16
_Static_assert(ANFU_LIMIT_NOTIFY_SEND_BATCH <= ANFU_LIMIT_NOTIFY_QUERY_BATCH,
	       "a step handles messages of one query");
/* Shortest time between the starts of two delivery passes of the
 * notifier's thread, ms. A poke (every payment's notice pokes) within this
 * time of the last pass waits for its end, so under load a pass finds
 * many messages and claims and records up to ANFU_LIMIT_NOTIFY_SEND_BATCH
 * of them in two commits, where a pass per poke made two commits for one
 * or two messages; each commit holds the database's write lock through its
 * fdatasync, and the ledger writer waits for it (docs/benchmarks.md §9.6).
 * The first notice after a quiet spell goes at once; none waits longer
 * than this, which nobody reading an SMS or a mail can tell. */
#define ANFU_LIMIT_NOTIFY_PASS_GAP_MS 50
/* Longest retry delay: doubling stops at a day, so a message to a host
 * that is down for a week is still tried daily. */
#define ANFU_LIMIT_NOTIFY_RETRY_CAP_MS (24LL * 3600 * 1000)
/* Extra time a claim holds a message beyond the sender's own timeout, so
 * a slow send is not claimed and sent again by the next pass. */
#define ANFU_LIMIT_NOTIFY_LEASE_SLACK_MS (60 * 1000)
/* A formatted mail: headers plus the base64 of the body (4/3 of it plus
 * CRLFs, within 4 times) and 8 KiB of headers. */
#define ANFU_LIMIT_NOTIFY_MAIL_BYTES (4 * ANFU_LIMIT_NOTIFY_BODY_BYTES + 8 * 1024)
/* One SMS simulator outbox line: JSON escaping can grow a text six-fold. */
#define ANFU_LIMIT_NOTIFY_SMS_LINE_BYTES (6 * ANFU_LIMIT_NOTIFY_BODY_BYTES + 1024)
/* The SMS simulator's outbox path: PATH_MAX on Linux. */
#define ANFU_LIMIT_NOTIFY_SMS_PATH_BYTES 4096

/* ---- platform: HTTP ---- */

/* Bytes of the method and of the path (without the query) kept for the
 * access-log line of a request; longer ones are cut (no routed method is
 * longer than 7 bytes; a path of 128 bytes names any route). */
#define ANFU_LIMIT_LOG_METHOD_BYTES 16
#define ANFU_LIMIT_LOG_PATH_BYTES 128
/* A JSON answer: larger is a bug (lists are paged), and a bug must not
 * hold megabytes per connection. */
#define ANFU_LIMIT_RESPONSE_BODY_BYTES (8 * 1024 * 1024)
/* An error body: code, message and request id. */
#define ANFU_LIMIT_ERROR_BODY_BYTES 4096
/* Headers a handler may add to its answer (Location, Retry-After,
 * Content-Disposition...): a fixed array in struct anfu_resp. */
#define ANFU_LIMIT_RESPONSE_HEADERS 8
/* libmicrohttpd's per-connection pool (http/server.c): bytes MHD 0.9.75
 * keeps per field, query parameter and cookie, and the slack for the
 * response head (ours is under 1 KiB, 3 KiB with every header a handler
 * may add). Too small and MHD refuses a head before our filter answers
 * 431; MHD zeroes the whole pool after every request, so no larger. */
#define ANFU_LIMIT_MHD_POOL_ITEM_BYTES 64
#define ANFU_LIMIT_MHD_POOL_SLACK_BYTES (4 * 1024)
/* Lock stripes of the framing validator's connection table (a power of two
 * for the mask): enough that MHD's threads rarely meet on one lock. */
#define ANFU_LIMIT_FRAMING_STRIPES 64
_Static_assert((ANFU_LIMIT_FRAMING_STRIPES & (ANFU_LIMIT_FRAMING_STRIPES - 1)) == 0,
	       "framing stripes are chosen with a mask");
/* Room the framing validator reads into beyond the largest element it
 * holds (a head, a chunk line): one read of a TLS record's plaintext. */
#define ANFU_LIMIT_FRAMING_HOLD_SLACK_BYTES 4096
/* Rate limiter: lock stripes once the table has at least
 * ANFU_LIMIT_RATE_STRIPED_TABLE_MIN entries (smaller tables use one lock),
 * and the highest rate or burst, which keeps burst * 10^6 (a token in
 * millionths) and elapsed-ms * rate within int64. */
#define ANFU_LIMIT_RATE_STRIPES 64
#define ANFU_LIMIT_RATE_STRIPED_TABLE_MIN 1024
#define ANFU_LIMIT_RATE_MAX 1000000000LL
_Static_assert(ANFU_LIMIT_RATE_STRIPED_TABLE_MIN >= ANFU_LIMIT_RATE_STRIPES,
	       "each stripe of a striped table holds at least one entry");
_Static_assert(ANFU_LIMIT_RATE_TABLE_SIZE >= ANFU_LIMIT_RATE_STRIPED_TABLE_MIN,
	       "the default rate table is striped");
/* Longest Retry-After the rate limiter announces: an hour. A client told
 * to wait longer would rather give up; the bucket refills long before at
 * any rate we allow. */
#define ANFU_LIMIT_RETRY_AFTER_S 3600
/* The /metrics answer: a few hundred series; 4 MiB is far above them and
 * stops a runaway label from building an unbounded answer. */
#define ANFU_LIMIT_METRICS_BYTES (4 * 1024 * 1024)
/* How often the connection tracker looks for connections past their
 * deadline: a quarter second is far below the shortest deadline (1 s) and
 * costs nothing while idle. */
#define ANFU_LIMIT_CONN_REAP_INTERVAL_MS 250
_Static_assert(ANFU_LIMIT_CONN_REAP_INTERVAL_MS < 1000,
	       "deadlines are whole seconds: the reaper must look more often");

/* ---- platform: audit, keys, vault, store, base ---- */

/* Nesting of audit details inspected for secret-looking keys; deeper is
 * refused rather than skipped, so nothing escapes the check. */
#define ANFU_LIMIT_AUDIT_DETAILS_DEPTH 16
/* One text field of an audit record (actor, request, object, outcome):
 * ids, addresses and names, never documents. */
#define ANFU_LIMIT_AUDIT_FIELD_BYTES 512
/* One line of an audit export (JSON lines). It holds the largest record
 * the log accepts: 11 text fields and the details (a JSON text), each
 * escaped to at most twice its size, plus the keys, hashes and signature
 * (tests/unit/test_audit.c builds that record and exports it). */
#define ANFU_LIMIT_AUDIT_EXPORT_LINE (64 * 1024)
_Static_assert(11 * 2 * ANFU_LIMIT_AUDIT_FIELD_BYTES + 2 * ANFU_LIMIT_AUDIT_DETAILS_BYTES + 1024 <=
		       ANFU_LIMIT_AUDIT_EXPORT_LINE,
	       "the longest audit record fits one export line");
/* Canonical serialisation of one record or checkpoint: they are small;
 * this only stops a tampered database from making us build an unbounded
 * buffer. */
#define ANFU_LIMIT_AUDIT_CANONICAL_BYTES (1024 * 1024)
_Static_assert(ANFU_LIMIT_AUDIT_EXPORT_LINE <= ANFU_LIMIT_AUDIT_CANONICAL_BYTES,
	       "any record we write can be serialised canonically");

/* A PEM key of either algorithm (Ed25519, SM2) is far below 16 KiB;
 * anything bigger is refused before it reaches the parser. */
#define ANFU_LIMIT_PEM_BYTES (16 * 1024)
/* Validity of a certificate we issue: ten years at most. */
#define ANFU_LIMIT_CERT_DAYS 3650
/* The development TLS certificate: a year, then `anfu init` on a directory
 * without server.crt/server.key makes a new one. */
#define ANFU_LIMIT_TLS_DEV_DAYS 365
_Static_assert(ANFU_LIMIT_TLS_DEV_DAYS <= ANFU_LIMIT_CERT_DAYS,
	       "the development certificate is one we may issue");
/* Key files (src/keys/): a key file or certificate is a few KiB; refuse
 * anything bigger rather than read an arbitrary file into memory. A data
 * directory path plus "/keys/audit-signing.pub" fits PATH_MAX. Header
 * field values (algorithm names) and the header line (prefix, id, alg and
 * a time) are short. */
#define ANFU_LIMIT_KEY_FILE_BYTES (64 * 1024)
#define ANFU_LIMIT_KEY_PATH_BYTES 4096
#define ANFU_LIMIT_KEY_ALG_BYTES 32
#define ANFU_LIMIT_KEY_HEADER_BYTES 256
_Static_assert(ANFU_LIMIT_KEY_ALG_BYTES < ANFU_LIMIT_KEY_HEADER_BYTES,
	       "an algorithm name fits the header line");
/* A MAC purpose: names like "user.phone" or "session-id". */
#define ANFU_LIMIT_MAC_PURPOSE_BYTES 64
/* Keys derived from the master key that a loaded key set remembers
 * (keys/keyring.c: one HKDF per info string, not one per MAC): our code
 * derives a few dozen (one per MAC purpose, the PIN key, the data-key
 * KEK), each of info at most the MAC prefix and a purpose. The memo is
 * one locked page; an info string beyond it is derived every time. */
#define ANFU_LIMIT_KEYS_MEMO 32
#define ANFU_LIMIT_KEYS_MEMO_INFO_BYTES (16 + ANFU_LIMIT_MAC_PURPOSE_BYTES)
/* A data key id (keys/ and vault/ must agree): the id and its separators
 * fit in one column of vault_key. */
#define ANFU_LIMIT_DATAKEY_ID_BYTES 63
/* Vault: field, kind and purpose names are ours (short [a-z0-9._-]
 * words); owner ids are public ids ("usr_...", "ntf_...") with room; data
 * keys one vault holds: one per rotation, so years of monthly rotations
 * fit, and more means something is creating keys in a loop. A field value
 * is a name, number or address; documents go through the file store. */
#define ANFU_LIMIT_VAULT_NAME_BYTES 48
#define ANFU_LIMIT_VAULT_OWNER_BYTES 128
#define ANFU_LIMIT_VAULT_KEYS 4096
#define ANFU_LIMIT_VAULT_FIELD_BYTES (1024 * 1024)

/* Highest migration version a module's schema_version row may carry;
 * larger is a corrupt row, not a future migration. */
#define ANFU_LIMIT_MIGRATION_VERSION 1000000
/* Prepared statements kept per SQLite connection: anfu has a few hundred
 * distinct statements at most; past this the least recently used is
 * dropped, so a caller that (wrongly) varied its SQL text cannot grow
 * memory. Hash buckets of that cache. */
#define ANFU_LIMIT_STMT_CACHE 256
#define ANFU_LIMIT_STMT_BUCKETS 128
/* Parameters in one statement: $1..$99 is far beyond any anfu statement
 * and keeps the "$n" names two digits. */
#define ANFU_LIMIT_SQL_PARAMS 99
/* Statements a PostgreSQL connection sends in pipeline mode before it
 * reads their outcomes (store.h anfu_db_send): the server's answers to
 * them (about 20 bytes each for a write, a row for a read) stay far below
 * a socket buffer, so neither side blocks writing while the other does
 * too (libpq's "pipeline deadlock"); a batch's 512 audit inserts go out
 * in two round trips instead of 512. */
#define ANFU_LIMIT_DB_PIPELINE 256
/* SQLite busy timeout when the configuration gives none: a write waits
 * this long for another connection's transaction before failing. */
#define ANFU_LIMIT_DB_BUSY_TIMEOUT_MS_DEFAULT 5000
/* Page cache of one SQLite connection, KiB (SQLite's default is 2000):
 * the ledger writer's batch of 1000 transfers dirties a few MiB of journal,
 * index, account and audit pages; with 2 MiB SQLite spilled dirty pages to
 * the WAL in the middle of the transaction and read back what it evicted.
 * SQLite allocates the cache as pages are used, so a connection that reads
 * little (most request threads) stays small. */
#define ANFU_LIMIT_DB_CACHE_KIB 16384
/* WAL checkpoints (store/sqlite_ckpt.h): a commit that leaves the WAL at
 * this many pages or more wakes the database's checkpointer thread (32 MiB
 * of 4 KiB pages; SQLite's own automatic threshold is 1000). A checkpoint
 * copies the newest version of each page in the WAL once, so the pages
 * every batch rewrites (account rows, index pages) are copied once per
 * 32 MiB instead of after every large commit: at 1000 pages a ledger batch
 * of 1000 transfers (1200-1300 WAL pages) woke a checkpoint (its copying
 * and the database file's fsync, competing with the writer's for the
 * disk) after every commit, and 8000 gave +20-47 % transfers/s at batches
 * 100 and 1000 (docs/benchmarks.md §6.10). A crash leaves at most about this much WAL
 * to read back at the next open. At the second, 80 MiB, the checkpointer
 * has fallen far behind and the committing connection checkpoints
 * itself, as SQLite would, so the WAL (and the time to recover it after a
 * crash) stays bounded; it is over twice the first, so the checkpointer's
 * restarts, not the in-line checkpoint, keep a steady WAL short
 * (tests/unit/test_sqlite_ckpt.c). */
#define ANFU_LIMIT_DB_WAL_CHECKPOINT_PAGES 8000
#define ANFU_LIMIT_DB_WAL_INLINE_PAGES 20000
_Static_assert(ANFU_LIMIT_DB_WAL_INLINE_PAGES > 2 * ANFU_LIMIT_DB_WAL_CHECKPOINT_PAGES,
	       "a steady WAL restarts before the in-line checkpoint");
/* The checkpointer's second step (store/sqlite_ckpt.h): it waits at most
 * this long in the queue of the process's write lock (behind writers that
 * each hold it for one transaction) before it skips the WAL restart this
 * time, and, holding the lock, at most this long for readers of the old
 * WAL to finish (SQLite's busy handler) before it gives up the restart:
 * writers of the process queue meanwhile, so the wait stays short, and a
 * request's read transaction lasts well under it. */
#define ANFU_LIMIT_DB_CKPT_LOCK_WAIT_MS 1000
#define ANFU_LIMIT_DB_CKPT_READER_WAIT_MS 20
/* Bytes of WAL frames the store's VFS gathers before it writes them as
 * one (store/sqlite_vfs.h): a commit's frames usually go as one write at
 * its sync. SQLite's unix VFS writes at most 128 KiB - 1 bytes in one call
 * (os_unix.c seekAndWriteFd masks the length with 0x1ffff; a longer write
 * comes back short, as SQLITE_FULL), so the buffer stays below that:
 * 124 KiB is 30 frames of 4 KiB pages, and a ledger batch of 1 000
 * transfers (about 8 MiB of frames) makes some 70 writes instead of
 * thousands. */
#define ANFU_LIMIT_DB_WAL_WRITE_BUFFER (124 * 1024)

/* Bytes of a PostgreSQL password file (database.password_file): far above
 * any generated password (PostgreSQL's own limit for a cleartext password
 * message is 1000 bytes), small enough to read at once. */
#define ANFU_LIMIT_DB_PASSWORD_BYTES 1024
/* Bytes of the role or grant SQL `anfu init --postgresql` and `anfu db
 * migrate` build (cli/cmd_db_roles.c): about 3 KB today, room for the
 * append-only list of many more modules; also of one table's SELECT,
 * INSERT or UPDATE of `anfu db copy` (store/copy.c, under 1 KB). */
#define ANFU_LIMIT_CLI_SQL_BYTES 16384
/* Tables and columns per table `anfu db copy` handles (store/copy.c):
 * anfu has about 30 tables of at most 20 columns; beyond these the copy
 * refuses (ANFU_ELIMIT) rather than guess. */
#define ANFU_LIMIT_DB_COPY_TABLES 256
#define ANFU_LIMIT_DB_COPY_COLUMNS 64
/* Seconds a PostgreSQL connect or reconnect may take (unless the dsn's
 * connect_timeout says otherwise): long enough for a server across a
 * data centre under load, short enough that a request on a thread that
 * reconnects to a dead host fails within a client's patience. */
#define ANFU_LIMIT_DB_CONNECT_TIMEOUT_S 10

/* One log line (base/log.c): a message with its fields; longer lines are
 * cut, so a runaway message cannot flood the log. */
#define ANFU_LIMIT_LOG_LINE_BYTES 8192
/* The formatted message of one log line, before JSON escaping and the
 * time stamp, level and event around it: escaping doubles quotes and
 * backslashes, so such a message always fits a line (control characters
 * grow six-fold; a line they push past the cap is cut). */
#define ANFU_LIMIT_LOG_MESSAGE_BYTES 2048
_Static_assert(2 * ANFU_LIMIT_LOG_MESSAGE_BYTES + 256 <= ANFU_LIMIT_LOG_LINE_BYTES,
	       "an escaped message and its fields fit one log line");
/* Smallest arena block: a request's many small allocations share one
 * page-sized block; larger requests get a block of their own. */
#define ANFU_LIMIT_ARENA_BLOCK_BYTES 4096

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

/* ---- ledger: the operator CLI (anfu ledger accounts|transfers) ---- */
/* Rows one listing prints ([--limit N]): a terminal page by default; at
 * most 10000, beyond which an operator wants an export, not a listing. */
#define ANFU_LIMIT_LEDGER_CLI_ROWS_DEFAULT 50
#define ANFU_LIMIT_LEDGER_CLI_ROWS 10000

/* ---- ledger ---- */
/* Requests waiting for the ledger writer (src/ledger/writer.c): a full
 * queue refuses at once (503 overloaded). 4096 requests is a few seconds
 * of work at the writer's batched rate; a longer queue only makes callers
 * wait past their deadlines. The [ledger] queue_max option may lower it. */
#define ANFU_LIMIT_LEDGER_QUEUE 4096
#define ANFU_LIMIT_LEDGER_QUEUE_MIN 1
/* Transfers one writer batch holds at most ([ledger] batch_max, default
 * 1000): every transfer stages one audit record and the batch's records
 * are appended in one pass, so it stays within the records of one
 * transaction; with the seal command the batch's commands stay within
 * anfu_tx_run_batch()'s. */
#define ANFU_LIMIT_LEDGER_BATCH 1000
#define ANFU_LIMIT_LEDGER_BATCH_MIN 1
_Static_assert(ANFU_LIMIT_LEDGER_BATCH <= ANFU_LIMIT_TX_RECORDS,
	       "a batch's audit records fit one transaction");
_Static_assert(ANFU_LIMIT_LEDGER_BATCH + 1 <= ANFU_LIMIT_TX_BATCH,
	       "a batch's commands and its seal fit one anfu_tx_run_batch");
/* Longest wait of the writer for more requests ([ledger] batch_wait_us):
 * beyond 100 ms a caller's latency is dominated by the wait. */
#define ANFU_LIMIT_LEDGER_BATCH_WAIT_US 100000
/* Transfers of one request (a linked chain or independent ones): the
 * writer always takes a request whole into one batch (even beyond a small
 * batch_max), so it must fit the largest; real chains (payment, fee,
 * points) have a handful of members. */
#define ANFU_LIMIT_LEDGER_REQUEST 64
_Static_assert(ANFU_LIMIT_LEDGER_REQUEST <= ANFU_LIMIT_LEDGER_BATCH, "a request fits one batch");
/* Longest idempotency key (client-chosen; a UUID is 36, an order number
 * with a prefix well under 64), code (payment, refund, top_up ...) and
 * reference (an order or refund id) of a transfer, in bytes. */
#define ANFU_LIMIT_LEDGER_IDEM_BYTES 64
#define ANFU_LIMIT_LEDGER_CODE_BYTES 32
#define ANFU_LIMIT_LEDGER_REF_BYTES 128
/* Longest caller name (a service name or an actor id) and owner id of an
 * account (usr_..., mer_..., 'platform', a bank code): ids are 26 bytes. */
#define ANFU_LIMIT_LEDGER_CALLER_BYTES 64
#define ANFU_LIMIT_LEDGER_OWNER_BYTES 64
/* Longest timeout of a hold: an escrow that releases after a delivery
 * window, an authorisation that lapses; a year and a month covers every
 * real one and keeps now + timeout far from overflow. */
#define ANFU_LIMIT_LEDGER_HOLD_TIMEOUT_MS (400LL * 24 * 3600 * 1000)
/* Longest canonical encoding of one journal row (ledger/chain.c): 17
 * length-prefixed columns, the text ones bounded above, with room for a
 * tampered row (which then fails verification with ELIMIT, not a crash). */
#define ANFU_LIMIT_LEDGER_TRANSFER_ENC_BYTES 4096
/* The writer's in-memory copy of one batch's rows for its seal
 * (ledger/chain.c, struct ledger_seal): a row encodes to ~350 bytes, so a
 * full batch (plus the request that overshoots it) takes ~400 KiB; beyond
 * this bound (rows near their column limits) the seal reads the rows back
 * from the table as before. */
#define ANFU_LIMIT_LEDGER_SEAL_BYTES (2 * 1024 * 1024)

/* Transfers one page of an account's history holds at most
 * (ledger/history.c): a statement screen or an API page; each entry is
 * ~300 bytes on the caller's side. */
#define ANFU_LIMIT_LEDGER_HISTORY 100
/* Observers told of each registration (iam/observers.c): the ledger's
 * wallets today, a handful of services later; a fixed array. */
#define ANFU_LIMIT_IAM_OBSERVERS 8
/* Customers one wallet pass (src/ledger/wallets.c) looks at: one page of
 * ids from iam, one query for which of them have both accounts; 256
 * keeps a page's id array (~7 KB) and its query small. */
#define ANFU_LIMIT_LEDGER_WALLET_PAGE 256
/* Pages one run of the wallet job looks at (64 x 256 = 16384 customers);
 * the rest: the next run, from where this one stopped. */
#define ANFU_LIMIT_LEDGER_WALLET_PAGES 64
/* Holds one pass of the expiry job (src/ledger/jobs.c) closes at most:
 * a pass is one writer request (a batch of its own when batch_max is
 * smaller), so callers' transfers queue between passes instead of
 * waiting behind thousands of expiries; 256 keeps a pass's batch well
 * under a few milliseconds. */
#define ANFU_LIMIT_LEDGER_EXPIRY_PASS 256
_Static_assert(ANFU_LIMIT_LEDGER_EXPIRY_PASS <= ANFU_LIMIT_LEDGER_BATCH,
	       "an expiry pass fits one batch");
/* Passes one run of the expiry job makes at most: 64 x 256 = 16384
 * holds a second; what is left waits for the next run (a second later),
 * so one run never holds the job thread for long. */
#define ANFU_LIMIT_LEDGER_EXPIRY_PASSES 64

/* ---- points (src/points/, docs/points.md) ---- */
/* Points one earning, grant or redemption moves at most: 10^9 keeps every
 * product the rules compute (points x quantity, points / unit x fen per
 * unit, fen x points per yuan x multiplier) far inside int64. */
#define ANFU_LIMIT_POINTS_AMOUNT 1000000000LL
/* Items of one redemption: a catalogue redemption is a few items, not a
 * wholesale order. */
#define ANFU_LIMIT_POINTS_QUANTITY 10
/* A client's request id and an earning's reference, in bytes: derived
 * ledger idempotency keys ("rdm." + 26-byte id + ".cancel.cny") and
 * refs stay within ANFU_LIMIT_LEDGER_IDEM_BYTES / _REF_BYTES. */
#define ANFU_LIMIT_POINTS_REQUEST_ID 64
#define ANFU_LIMIT_POINTS_REF 64
_Static_assert(ANFU_LIMIT_POINTS_REF + 8 <= ANFU_LIMIT_LEDGER_REF_BYTES,
	       "an earning's ref fits the ledger's ref");
/* A catalogue item's name in each language, in code points (a product
 * title on a phone screen). */
#define ANFU_LIMIT_POINTS_NAME 64
/* Rows of one history page, of one catalogue, campaign or redemption
 * listing: one screen, and a bounded response. */
#define ANFU_LIMIT_POINTS_PAGE 100
/* Multiplier of a campaign, in percent (100 = x1): up to x100. */
#define ANFU_LIMIT_POINTS_MULTIPLIER_PCT 10000

/* ---- wallet (src/wallet/: transfers, limits, history) ---- */
/* Largest amount (fen) a wallet request names: 10^11 fen (one billion
 * yuan) is far above any configured cap, keeps every sum of a day's
 * usage far from int64 overflow and every amount exact in a JSON number
 * (< 2^53) for clients that read numbers as doubles. */
#define ANFU_LIMIT_WALLET_AMOUNT 100000000000LL
/* Bytes of a transfer's memo (附言), shown to both parties and in their
 * notices: 64 bytes is ~21 Chinese characters, as payment apps allow. */
#define ANFU_LIMIT_WALLET_MEMO_BYTES 64
/* Bytes of a client's request id (idempotency key of a confirmation):
 * a UUID (36) with room for a prefix. */
#define ANFU_LIMIT_WALLET_REQUEST_ID_BYTES 64
/* Bytes of a customer's refund request id (its idempotency key): as a
 * wallet transfer's, a UUID with room for a prefix. */
#define ANFU_LIMIT_PAY_REFUND_REQUEST_ID_BYTES 64
/* Bytes of the payee as typed (a mobile number, an email or a login
 * name): iam's longest login identifier (an email, RFC 5321's 254). */
#define ANFU_LIMIT_WALLET_PAYEE_BYTES 254
/* Longest time a transfer's confirmation may stay valid (the [wallet]
 * confirm_ttl_s option's ceiling): TX-CONFIRM-01 binds the time shown to
 * the customer, so it stays minutes, not hours. */
#define ANFU_LIMIT_WALLET_CONFIRM_TTL_S 600
/* Rows one page of the transaction history (GET /api/v1/me/transactions)
 * holds at most: the ledger's page (ANFU_LIMIT_LEDGER_HISTORY). */
#define ANFU_LIMIT_WALLET_HISTORY ANFU_LIMIT_LEDGER_HISTORY
/* Ledger rows one history request reads at most while it skips rows its
 * filters (type, time range) drop: ten full pages; the answer then
 * carries a cursor to go on from, so a sparse filter never scans a long
 * history in one request. */
#define ANFU_LIMIT_WALLET_HISTORY_SCAN (10 * ANFU_LIMIT_LEDGER_HISTORY)
/* Ledger rows a merchant's balance history reads for one page at most:
 * as a wallet's (its filter by type may skip many). */
#define ANFU_LIMIT_PAY_STATEMENT_SCAN ANFU_LIMIT_WALLET_HISTORY_SCAN

/* Payment PIN (src/keys/mac.c, src/iam/pinmac.c; issue 10, engineer pin):
 * the message a PIN record's MAC covers is a user id (ANFU_ID_MAX), a
 * separator, a 16-byte salt and six digits; 256 bytes hold it with room.
 * A stored record is "$anfu-pin$v=1$k=" + a 20-character key id + "$" +
 * 32 hex of salt + "$" + 64 hex of MAC: 134 characters, kept in 160. */
#define ANFU_LIMIT_PIN_MAC_MSG_BYTES 256
#define ANFU_LIMIT_PIN_RECORD_BYTES 160

/* ---- bank channel (src/bank/, src/banksim/; issue 10, bank) ---- */
/* A bank message's path: "/bank/v1/payments/<serial>" and the like with
 * room to spare; longer is refused before anything is signed. */
#define ANFU_LIMIT_BANK_PATH_BYTES 256
/* A bank message's body: the largest is a card check (~300 bytes); 8 KiB
 * caps what a callback parser or the simulator ever reads. */
#define ANFU_LIMIT_BANK_BODY_BYTES 8192
/* A bank's answer the connector reads at most (a statement file of a
 * day's payments in the simulator: 64 KiB is ~1000 lines). */
#define ANFU_LIMIT_BANK_ANSWER_BYTES 65536
/* Payments one run of the query job (bank.query) asks about: one
 * synchronous request each, bounded by the connector's timeout; 32 keeps
 * a run under a few seconds when the bank answers, the rest next run. */
#define ANFU_LIMIT_BANK_QUERY_BATCH 32

/* ---- bank reconciliation (src/bank/recon.c; issue 10, recon) ---- */
/* Lines of one statement file: the connector hands over at most
 * ANFU_LIMIT_BANK_ANSWER_BYTES (64 KiB) and a line is at least 21 bytes
 * ("bsn_x,debit,1,failed\n"), so ~3100; 4096 takes any file it can get. */
#define ANFU_LIMIT_BANK_STATEMENT_LINES 4096
/* Payments of one bank and day a reconciliation compares in memory
 * (~150 bytes each: 3 MB); more fails the run (logged) rather than
 * reporting a partial comparison as complete. */
#define ANFU_LIMIT_BANK_RECON_PAYMENTS 20000
/* Differences audited one record each per run (the summary record carries
 * the total): one transaction stages at most ANFU_LIMIT_TX_RECORDS. */
#define ANFU_LIMIT_BANK_RECON_AUDITED 256
_Static_assert(ANFU_LIMIT_BANK_RECON_AUDITED + 1 <= ANFU_LIMIT_TX_RECORDS,
	       "a reconciliation's audit records fit one transaction");

/* ---- web pages (src/web/; issue 11, web) ---- */
/* A ?next= path after login: the longest local path a page of ours has
 * (/pay/{order}?... ) is under 200 bytes; 512 leaves room and keeps the
 * login page's size bounded. */
#define ANFU_LIMIT_WEB_NEXT_BYTES 512
/* Keys one keypad take maps: a payment PIN is 6 digits; 16 leaves room
 * for a longer numeric secret and bounds the work. */
#define ANFU_LIMIT_WEB_KEYPAD_PRESSES 16
/* An HTML page we render: the account page is ~4 KiB; 64 KiB caps a
 * template bug or a long value list. */
#define ANFU_LIMIT_WEB_PAGE_BYTES 65536
/* The anti-phishing reserved message (WEB-PHISH-01): a short phrase the
 * customer recognises, shown on login and payment pages; 32 characters
 * (of up to 4 bytes of UTF-8) fit one line of a phone screen. */
#define ANFU_LIMIT_RESERVED_MESSAGE_CHARS 32
#define ANFU_LIMIT_RESERVED_MESSAGE_BYTES (4 * ANFU_LIMIT_RESERVED_MESSAGE_CHARS)
/* Reserved-message lookups before the password (POST
 * /api/v1/auth/reserved-message) one client address may make within
 * lockout.ip_window: a person enters a name a few times per login, an
 * office behind one address logs in a few dozen times in ten minutes; 30
 * lets them and keeps a phisher from harvesting the messages of many
 * names to mimic the login page. */
#define ANFU_LIMIT_IAM_RESERVED_LOOKUPS 30
/* Client addresses the lookup counter remembers (in memory, ~64 B each):
 * 4096 bound its memory at 256 KiB; when full, the address whose window
 * started longest ago is forgotten. */
#define ANFU_LIMIT_IAM_RESERVED_LOOKUP_IPS 4096
/* Slots of that table one address may land in (probe length). */
#define ANFU_LIMIT_IAM_RESERVED_LOOKUP_PROBES 8

/* ---- electronic receipts (src/receipt/; issue 11, receipt) ---- */
/* Receipt kinds providers register: wallet transfers, payments, refunds
 * and the few issue 11's wave 2 adds; 16 leaves room without a list. */
#define ANFU_LIMIT_RECEIPT_KINDS 16
/* Ledger transfer ids one receipt names: a payment posts at most its
 * amount and its fee (2), a refund its reversal and fee return (2), an
 * escrow release one; 8 is the most any flow planned needs, doubled. */
#define ANFU_LIMIT_RECEIPT_TRANSFERS 8
/* A receipt's memo or subject: the wallet memo (64 B) and the order
 * subject (128 characters of up to 4 bytes = 512 B) fit, with its NUL. */
#define ANFU_LIMIT_RECEIPT_MEMO_BYTES 513
/* A receipt document: the body (facts of fixed size: two masked parties
 * <= 2 x 256 B, memo <= 512 B, 8 ids, numbers) escaped (x6 at worst for
 * controls in the memo: ~4 KiB) and a signature; 16 KiB bounds what
 * `anfu receipts verify` reads and what the service builds. */
#define ANFU_LIMIT_RECEIPT_BYTES 16384
/* Nesting of a receipt body: the document, the body, a party object and
 * the transfer array are 3 levels; 8 refuses anything built to recurse. */
#define ANFU_LIMIT_RECEIPT_DEPTH 8

/* ---- disputes (src/dispute/; issue 11, dispute) ---- */
/* A subject kind's name ("transfer", "payment"): short lowercase words. */
#define ANFU_LIMIT_DISPUTE_KIND_BYTES 16
/* A subject reference: the owning module's public id (48 bytes at most,
 * ANFU_ID_MAX) with room for a merchant's order number. */
#define ANFU_LIMIT_DISPUTE_REF_BYTES 64
/* A subject's masked description ("转账给 张* (138****0000)"): one line. */
#define ANFU_LIMIT_DISPUTE_DESC_BYTES 256
/* A complaint, a resolution or a message: 500 code points, as a form's
 * text area; 4 bytes each in UTF-8 and the NUL. */
#define ANFU_LIMIT_DISPUTE_TEXT_CHARS 500
#define ANFU_LIMIT_DISPUTE_TEXT_BYTES (4 * ANFU_LIMIT_DISPUTE_TEXT_CHARS + 1)
/* Providers registered at start: one per module that owns transactions
 * (wallet, pay, later others) and the tests' own. */
#define ANFU_LIMIT_DISPUTE_KINDS 8
/* Disputes one list page returns (~3 KB each in memory). */
#define ANFU_LIMIT_DISPUTE_PAGE 50
/* Events (state changes and messages) one dispute keeps: a dispute is a
 * conversation of a few turns; more messages are refused (the operator
 * calls the customer instead), so a detail page stays bounded. */
#define ANFU_LIMIT_DISPUTE_EVENTS 64
/* Disputes one run of the deadline job handles per rule; the rest next
 * run (each is one small transaction). */
#define ANFU_LIMIT_DISPUTE_DEADLINE_BATCH 100
/* Reopens of one dispute by its complainant (resolved -> open): 1. It
 * bounds the loop of resolution and disagreement (each round costs an
 * operator's work and may move money); after it the customer escalates
 * outside the platform (the regulator's or the bank's complaint line). */
#define ANFU_LIMIT_DISPUTE_REOPENS 1
/* A refund's idempotency key "dispute.<id>.refund.<n>": the id (< 48, ANFU_ID_MAX
 * bytes), the words and the resolution's number (20 digits), the NUL. */
#define ANFU_LIMIT_DISPUTE_REFUND_KEY_BYTES 96

/* ---- pay (src/pay/: merchants' orders and payments; issue 11, core) ---- */
/* Bytes of a merchant order number (out_trade_no): 64, as Alipay allows
 * (WeChat Pay: 32); [A-Za-z0-9_-] only, so it is safe in any protocol,
 * file name or log line. */
#define ANFU_LIMIT_PAY_OUT_TRADE_NO 64
/* Bytes of an order's subject (商品描述): WeChat Pay's description is
 * 127 characters, Alipay's subject 256; 256 bytes is ~85 Chinese
 * characters, one line on the cashier page. */
#define ANFU_LIMIT_PAY_SUBJECT_BYTES 256
/* Bytes of a return or notify URL: both wire protocols the open platform
 * will speak allow 256. */
#define ANFU_LIMIT_PAY_URL_BYTES 256
/* Bill lines of one order (FUNC-PAY-19): the cashier page shows them all
 * before the PIN; 32 lines is a long shopping cart and a bounded page and
 * row (struct anfu_pay_order holds them inline). */
#define ANFU_LIMIT_PAY_LINES 32
/* Bytes of a bill line's name: 128 (~42 Chinese characters). */
#define ANFU_LIMIT_PAY_LINE_NAME_BYTES 128
/* Largest quantity of one bill line: a million pieces is beyond any
 * retail cart and keeps quantity * unit_amount far from int64 overflow
 * for amounts within ANFU_LIMIT_WALLET_AMOUNT. */
#define ANFU_LIMIT_PAY_LINE_QUANTITY 1000000
/* Bytes of a merchant's display name (either language). */
#define ANFU_LIMIT_PAY_MERCHANT_NAME_BYTES 128
/* Rows of one page of orders or merchant profiles. */
#define ANFU_LIMIT_PAY_PAGE 100
/* Rows of one CSV download of transactions (FUNC-PAY-16): the file is
 * built in the request's arena (4 x the body limit + 64 KiB: 320 KiB by
 * default) and one row is at most ~1.2 KiB (a 256-byte subject with every
 * quote doubled, ids, a 128-byte merchant name), so 200 rows fit. A
 * download matching more is refused: the caller narrows the time range. */
#define ANFU_LIMIT_PAY_CSV_ROWS 200
/* Orders one expiry command closes (each with its audit record, so it
 * stays within one transaction's records), and commands per run: the
 * rest waits for the next run (every second). */
#define ANFU_LIMIT_PAY_EXPIRE_PASS 32
#define ANFU_LIMIT_PAY_EXPIRE_PASSES 16
_Static_assert(ANFU_LIMIT_PAY_EXPIRE_PASS <= ANFU_LIMIT_LEDGER_REQUEST,
	       "an expiry command's weight fits one writer request");
_Static_assert(ANFU_LIMIT_PAY_EXPIRE_PASS + 1 <= ANFU_LIMIT_TX_RECORDS,
	       "an expiry command's audit records fit one transaction");
/* The longest expiry an option may allow: 30 days (an unpaid order does
 * not hold anything; a month covers invoices paid by link). */
#define ANFU_LIMIT_PAY_ORDER_TTL_S (30LL * 86400)
/* The longest escrow auto-release an option may allow (FUNC-PAY-03): 90
 * days, the longest confirmation window e-commerce platforms grant. */
#define ANFU_LIMIT_PAY_ESCROW_DAYS 90
/* Escrow orders one run of pay.escrow_release releases (one writer
 * command each: up to three transfers, an audit record and a notice); the
 * rest waits for the next run (every second). */
#define ANFU_LIMIT_PAY_RELEASE_PASS 64

/* Items of one batch refund (FUNC-SETL-09): each is its own writer
 * command, so a batch of 50 holds one HTTP worker for at most 50 short
 * commands; 50 items of at most ~500 bytes fit the default 64 KiB body. */
#define ANFU_LIMIT_PAY_REFUND_BATCH 50

/* Bank credits one card refund may make: the first and up to four sent
 * again by an operator (docs/payments.md "A failed refund sent again").
 * Each credit the bank declines or returns is a card of the payer that
 * could not take the money; after five the payer's cards are not the way
 * to pay it back, and the refund stays failed for the operators to settle
 * another way (the wallet, an adjustment) instead of a sixth credit. It
 * also bounds a refund's credits, notices and audit records. */
#define ANFU_LIMIT_PAY_REFUND_ATTEMPTS 5

/* ---- pay, payment codes (issue 11, wave 2) ---- */
/* Orders one answer of a customer's waiting payment-code payments lists:
 * one live code at a time makes more than one rare; 8 orders with their
 * lines fit a request's arena. */
#define ANFU_LIMIT_PAY_PAYCODE_PENDING 8
/* The longest agreement (协议支付) a customer may sign: 5 years, as the
 * common wallets' recurring-debit agreements; longer is field_out_of_range. */
#define ANFU_LIMIT_PAY_AGREEMENT_DAYS (5 * 366)
/* Agreements one list answer carries. */
#define ANFU_LIMIT_PAY_AGREEMENTS 100

/* ---- pay, refunds reported to merchants (issue 11, wave 3) ---- */
/* Users of one merchant a notice to the merchant reaches (iam's
 * anfu_iam_notify_merchant; a refund waiting for funds, FUNC-OPS-05): the
 * oldest 32 active accounts. A merchant has an administrator and a few
 * staff; 32 notices keep one writer command short. */
#define ANFU_LIMIT_IAM_MERCHANT_NOTICE_USERS 32

/* ---- test hooks: pause points (issue 11, wave 6; base/pausepoint.h) ---- */
/* Pause points armed at once: a race test holds one request, rarely two;
 * 8 leaves room for tests of other modules without growing a table. */
#define ANFU_LIMIT_PAUSE_POINTS 8
/* Bytes of a pause point's name ("pay.order_pay"): a module's name and a
 * place, well inside a route's path parameter. */
#define ANFU_LIMIT_PAUSE_NAME 48
/* The longest a request stops at a pause point, and a test waits for one
 * to stop (ms): a race test needs the competing request's time (well
 * under a second); 20 s stays below the API tests' 30 s client timeout,
 * so a test that forgets the release gets its answer, not a hang. */
#define ANFU_LIMIT_PAUSE_MS 20000

#endif
