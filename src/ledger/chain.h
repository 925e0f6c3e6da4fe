/*
 * ledger/chain: the hash of one batch of the journal, chained to the hash
 * of the batch before it (docs/ledger.md, "The hash chain"). The writer
 * seals each batch with it (ledger_batch.hash); `anfu ledger verify`
 * recomputes it.
 *
 * Encoding v1 of a batch: the previous batch's hash as its 32 raw bytes
 * (decoded from prev_hex), then each transfer of the batch in seq order,
 * each as the 17 columns of ledger_transfer in table order (seq, id,
 * caller, idem_key, content_hash, debit_account, credit_account, amount,
 * asset, code, ref, flags, pending_id, timeout_ms, on_timeout, ts_us,
 * batch_seq), every column a 4-byte big-endian length and its bytes;
 * integers in decimal ASCII; a NULL column (pending_id of a transfer that
 * names no hold) is the length 0xFFFFFFFF with no bytes, so NULL and ''
 * differ. The lengths make the encoding injective, as in the audit chain
 * (src/audit/chain.c). H is the deployment's hash (SHA-256 intl, SM3 gm).
 *
 * ledger_batch_hash trusts nothing about the rows' content; reads only.
 */
#ifndef ANFU_LEDGER_CHAIN_H
#define ANFU_LEDGER_CHAIN_H

#include <stdint.h>

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "crypto/crypto.h"

struct anfu_db;

/* Hex digits of a batch hash (and of prev_hash), without the NUL. */
#define LEDGER_HASH_HEX 64

/*
 * The hash of the transfers with seq in [first, last] of ledger_transfer,
 * chained to prev_hex (64 lower-case hex digits; 64 '0' for batch 1):
 * H(prev || enc(t_first) || ... || enc(t_last)), read with db (inside the
 * caller's transaction, if any). out_hex (written only on success) gets 64
 * lower-case hex digits and a NUL.
 *
 * Returns 0; ANFU_EINVAL for a NULL argument, prev_hex not 64 hex digits,
 * first < 1 or last < first; ANFU_ECORRUPT when the rows found are not
 * exactly first, first+1, ..., last (a row of the range is missing); the
 * store's error; ANFU_ELIMIT for a column longer than 4 GiB.
 */
int ledger_batch_hash(struct anfu_db *db, enum anfu_hash_alg alg, int64_t first, int64_t last,
		      const char *prev_hex, char out_hex[LEDGER_HASH_HEX + 1]);

/* One journal row as the writer inserts it (the 17 columns; pending_id
 * NULL is the SQL NULL). */
struct ledger_row {
	int64_t seq;
	const char *id, *caller, *idem_key, *content_hash, *debit_account, *credit_account;
	int64_t amount;
	const char *asset, *code, *ref;
	int64_t flags;
	const char *pending_id;
	int64_t timeout_ms;
	const char *on_timeout;
	int64_t ts_us, batch_seq;
};

/*
 * The writer's copy of the rows it wrote in the batch, so the seal hashes
 * them from memory instead of reading them back (that read was a twentieth
 * of the writer's time at batch 1000). Encoding v1 as above, the same bytes
 * the table gives: `anfu ledger verify` recomputes every seal from the
 * table, so a difference cannot pass unseen.
 *
 * ledger_seal_add() first drops the rows with a seq >= the new row's (a
 * savepoint undid them and the writer reuses their numbers);
 * ledger_seal_hash() drops those after last. A row that does not fit
 * (ANFU_LIMIT_LEDGER_SEAL_BYTES in all) marks the copy broken: the seal is
 * then read from the table. Owned by one writer thread.
 */
struct ledger_seal_row {
	int64_t seq;
	size_t off;
};
struct ledger_seal {
	struct anfu_buf enc;
	struct ledger_seal_row *rows;
	size_t n, cap;
	bool broken;
};

void ledger_seal_init(struct ledger_seal *s);
/* Empties it for the next batch (keeps its memory). */
void ledger_seal_reset(struct ledger_seal *s);
void ledger_seal_free(struct ledger_seal *s);
void ledger_seal_add(struct ledger_seal *s, const struct ledger_row *row);
/*
 * As ledger_batch_hash over [first, last], from the rows added. Returns 0;
 * ANFU_ENOTFOUND when the copy does not hold exactly first..last (broken,
 * or rows before the batch: read the table instead); ANFU_EINVAL as
 * ledger_batch_hash.
 */
int ledger_seal_hash(struct ledger_seal *s, enum anfu_hash_alg alg, int64_t first, int64_t last,
		     const char *prev_hex, char out_hex[LEDGER_HASH_HEX + 1]);

#endif
