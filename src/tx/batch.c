/*
 * tx/batch: the batching twin of the executor — many commands, one
 * transaction, one savepoint per command.
 *
 * Owns the savepoint "anfu_tx_cmd" of the transactions it runs. A
 * command's refusal rolls back to its savepoint and drops the records and
 * hooks it staged; the batch's records are appended in one pass (one read
 * and one update of the chain head for the whole batch) and it commits
 * once, so n commands cost one fsync. The ledger writer (DESIGN.md) runs
 * its queue through it. Trusts the commands for nothing but their result.
 */
#include "base/err.h"
#include "base/limits.h"
#include "store/store.h"
#include "tx/internal.h"

#define CMD_SAVEPOINT "anfu_tx_cmd"

/* Runs one command inside its savepoint, as its own actor. Returns 0
 * when the batch can go on (the command's result in cmd->result), or the
 * store's error, after which the whole batch rolls back. */
static int run_cmd(struct anfu_tx *tx, struct anfu_tx_cmd *cmd)
{
	tx->actor = cmd->actor;
	return tx_step(tx, CMD_SAVEPOINT, cmd->fn, cmd->ud, &cmd->result);
}

static void fail_all(struct anfu_tx_cmd *cmds, size_t n, int r)
{
	for (size_t i = 0; i < n; i++)
		cmds[i].result = r;
}

int anfu_tx_run_batch(struct anfu_tx_exec *ex, struct anfu_tx_cmd *cmds, size_t n)
{
	struct anfu_tx tx;
	int r;

	if (!ex || (!cmds && n > 0))
		return ANFU_EINVAL;
	if (n == 0)
		return 0;
	if (n > ANFU_LIMIT_TX_BATCH)
		return ANFU_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!cmds[i].fn) {
			fail_all(cmds, n, ANFU_EINVAL);
			return ANFU_EINVAL;
		}
	r = tx_open(ex, NULL, &tx);
	if (r < 0) {
		fail_all(cmds, n, r);
		return r;
	}
	r = anfu_db_begin(tx.db);
	for (size_t i = 0; i < n && r == 0; i++)
		r = run_cmd(&tx, &cmds[i]);
	if (r == 0)
		r = tx_commit(&tx);
	if (r < 0) {
		(void)anfu_db_rollback(tx.db);
		fail_all(cmds, n, r);
		goto out;
	}
	tx_run_hooks(&tx);
out:
	tx_clear(&tx);
	return r;
}
