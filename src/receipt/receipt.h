/*
 * receipt: electronic receipts (电子回单) of completed transactions
 * (docs/receipts.md; issue 11).
 *
 * Owns the table receipt and the platform receipt key ("receipt" under
 * DATA/keys/: Ed25519, SM2 under crypto=gm). Modules that complete
 * transactions register a kind with a facts function; the service turns
 * a record's facts into a canonical JSON body (sorted keys, compact,
 * UTF-8: what Python's json.dumps(sort_keys=True, separators=(",", ":"),
 * ensure_ascii=False) makes), signs it and stores the signed receipt the
 * first time it is asked for; later requests get the stored one byte for
 * byte. Unique (kind, ref): a transaction never has two.
 *
 * The served document is itself canonical JSON:
 *   {"alg":"ed25519","body":{...},"kid":"ed25519-...","sig":"<base64>"}
 * and the signature covers the canonical form of "body".
 *
 * Trusts its providers' facts (typed, from their own tables); trusts
 * nothing in a document it verifies.
 */
#ifndef ANFU_RECEIPT_RECEIPT_H
#define ANFU_RECEIPT_RECEIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/limits.h"
#include "base/mask.h"
#include "base/rand.h"
#include "crypto/crypto.h"
#include "keys/keys.h"

struct anfu_buf;
struct anfu_db;
struct anfu_store;
struct anfu_tx_exec;
struct anfu_actor;
struct anfu_migration_set;

/* Its migrations (src/receipt/migrations/, generated). */
extern const struct anfu_migration_set anfu_receipt_migrations;

#define ANFU_RECEIPT_KIND_MAX 32 /* [a-z_], 1..31 */
#define ANFU_RECEIPT_VERSION 1

/* A party as the receipt shows it. */
struct anfu_receipt_party {
	char type[16];		   /* "customer" | "merchant" | "platform" */
	char id[ANFU_ID_MAX];	   /* usr_... / merchant id: access only, not in the body */
	char shown[ANFU_MASK_MAX]; /* masked name, as the transaction showed it */
};

/* The facts of one completed transaction, from its owning module. */
struct anfu_receipt_facts {
	char kind[ANFU_RECEIPT_KIND_MAX];
	char ref[ANFU_ID_MAX]; /* the owning module's record id */
	int64_t time_ms;       /* completion time */
	int64_t amount;	       /* fen, > 0 */
	char currency[4];      /* "CNY" */
	char state[32];	       /* "completed", "refunded", ... */
	struct anfu_receipt_party payer, payee;
	char memo[ANFU_LIMIT_RECEIPT_MEMO_BYTES]; /* memo or order subject, UTF-8 */
	size_t ntransfers;
	char transfers[ANFU_LIMIT_RECEIPT_TRANSFERS][ANFU_ID_MAX]; /* ledger transfer ids */
};

/* Fills *ret with the facts of record ref, read on db (the calling
 * thread's connection). Returns 0, ANFU_ENOTFOUND when there is no such
 * record or it is not complete (no receipt yet), or a store error. *ret
 * only on success. Called from any HTTP worker thread. */
typedef int (*anfu_receipt_facts_fn)(void *ud, struct anfu_db *db, const char *ref,
				     struct anfu_receipt_facts *ret);

/* ---- canonical JSON (receipt/canon.c) -------------------------------- */

/* Appends the canonical form of v to out: objects with keys sorted by
 * bytes (= by code point in UTF-8), no white space, strings escaped as
 * Python's json.dumps(ensure_ascii=False) does ("\"", "\\", \b \f \n \r
 * \t, other controls as \u00xx, everything else as UTF-8), integers in
 * decimal. ANFU_EINVAL for a real number or nesting beyond
 * ANFU_LIMIT_RECEIPT_DEPTH; ANFU_ELIMIT when out is full. */
int anfu_receipt_canonical(const json_t *v, struct anfu_buf *out);

/* ---- the service (receipt/receipt.c) --------------------------------- */

struct anfu_receipt;

struct anfu_receipt_deps {
	struct anfu_tx_exec *tx;    /* borrowed: writes (and reads through its store) */
	struct anfu_named_key *key; /* taken over (also on failure; NULLed) */
	struct anfu_sigkey *pub;    /* its public half: taken over the same way */
	enum anfu_sig_alg alg;
};

/* Makes the service. *ret is the caller's (anfu_receipt_free). */
int anfu_receipt_new(struct anfu_receipt_deps *d, struct anfu_receipt **ret);
/* Frees the service and its key; NULL-safe. */
void anfu_receipt_free(struct anfu_receipt *r);

/* Registers kind ([a-z_], 1..31) with its facts function; ud borrowed.
 * Only during start (before requests). ANFU_EINVAL for a bad kind, one
 * already registered; ANFU_ELIMIT beyond ANFU_LIMIT_RECEIPT_KINDS. */
int anfu_receipt_register(struct anfu_receipt *r, const char *kind, anfu_receipt_facts_fn fn,
			  void *ud);

/* Who asks: a customer (user id), a merchant (merchant id) or an
 * operator (may read every receipt). */
enum anfu_receipt_viewer_type {
	ANFU_RECEIPT_VIEWER_CUSTOMER,
	ANFU_RECEIPT_VIEWER_MERCHANT,
	ANFU_RECEIPT_VIEWER_OPERATOR,
};
struct anfu_receipt_viewer {
	enum anfu_receipt_viewer_type type;
	const char *id;
};

/*
 * The signed receipt of record ref of kind for viewer: issued (built,
 * signed, stored, audited "receipt.issue") the first time, then read
 * back; every call audits "receipt.download" as actor. *ret_doc is a
 * malloc'd NUL-terminated document (the caller's), *ret_id its rct_ id
 * (room ANFU_ID_MAX). ANFU_ENOTFOUND for an unknown kind, a record that
 * does not exist or is not complete, and a viewer who is not a party
 * (they cannot tell these apart). Any HTTP worker thread.
 */
int anfu_receipt_get(struct anfu_receipt *r, const struct anfu_actor *actor,
		     const struct anfu_receipt_viewer *viewer, const char *kind, const char *ref,
		     char **ret_doc, size_t *ret_len, char ret_id[ANFU_ID_MAX]);

/* The receipt key: its id, algorithm name and public key (PEM, malloc'd,
 * the caller's). */
int anfu_receipt_key(const struct anfu_receipt *r, char kid[ANFU_KID_MAX], const char **ret_alg,
		     char **ret_pem);

/* The canonical body of facts f with receipt id and issue time, and its
 * signature by sign(ud, ...) in base64 (used by the service; exposed for
 * the unit tests). *ret_body and *ret_sig_b64 are malloc'd, the
 * caller's, written only on success. ANFU_EINVAL for a string that is
 * not UTF-8, ANFU_ECRYPTO when sign fails. */
typedef int (*anfu_receipt_sign_fn)(void *ud, const void *msg, size_t len, uint8_t *sig,
				    size_t *siglen);
int anfu_receipt_build(const struct anfu_receipt_facts *f, const char *id, int64_t issued_ms,
		       anfu_receipt_sign_fn sign, void *ud, char **ret_body, size_t *ret_body_len,
		       char **ret_sig_b64);
/* The document from its stored parts (canonical: keys alg, body, kid,
 * sig). *ret malloc'd, the caller's. */
int anfu_receipt_document(const char *alg, const char *body, size_t body_len, const char *kid,
			  const char *sig_b64, char **ret, size_t *ret_len);

/* Another module's signed record (pay's agreements): the document
 * (anfu_receipt_document's form, verified by anfu_receipt_verify and the
 * offline verifiers) of body's canonical form signed by the receipt key,
 * and the key's id. *ret_doc malloc'd, the caller's; written only on
 * success. Errors as anfu_receipt_build. Any thread. */
int anfu_receipt_sign_json(struct anfu_receipt *r, const json_t *body, char **ret_doc,
			   size_t *ret_len, char kid[ANFU_KID_MAX]);

/* ---- offline verification (receipt/verify.c) ------------------------- */

/* Verifies document doc (len bytes, untrusted) with key (kid its id).
 * Returns 0 with *ret_body (the parsed body, the caller's) for a good
 * receipt; ANFU_EINVAL for a malformed document, ANFU_ENOTFOUND when it
 * names another key id or algorithm, ANFU_ECRYPTO for a signature that
 * does not verify over the canonical body. */
int anfu_receipt_verify(const char *doc, size_t len, const struct anfu_sigkey *key, const char *kid,
			json_t **ret_body);

#endif
