/*
 * ledger: the double-entry ledger (docs/ledger.md): accounts with four
 * balances (debits and credits, posted and pending), transfers between
 * them with client-chosen idempotency keys, two-phase holds and linked
 * chains, all written by one writer thread in batches (the single writer
 * of DESIGN.md), the journal hash-chained per batch.
 *
 * Owns the tables ledger_account, ledger_transfer, ledger_hold,
 * ledger_batch and ledger_head (src/ledger/migrations/); nothing else
 * writes them.
 */
#ifndef ANFU_LEDGER_LEDGER_H
#define ANFU_LEDGER_LEDGER_H

struct anfu_migration_set;

/* Its migrations (generated). */
extern const struct anfu_migration_set anfu_ledger_migrations;

#endif
