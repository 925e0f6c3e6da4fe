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
 * Trusts nothing about the rows' content; reads only.
 */
#ifndef ANFU_LEDGER_CHAIN_H
#define ANFU_LEDGER_CHAIN_H

#include <stdint.h>

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

#endif
