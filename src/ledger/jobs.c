/*
 * ledger/jobs: the ledger module's scheduled jobs (jobs/jobs.h): the
 * wallet sweep (ledger/wallets.c) and the hold expiry: holds whose timeout passed on the injectable clock are closed
 * by the outcome their on_timeout names (a void: state 'expired'; a post:
 * 'posted'), through the writer like every ledger write, in bounded
 * passes (ANFU_LIMIT_LEDGER_EXPIRY_PASS holds, one writer request each,
 * so callers' transfers queue between them).
 *
 * Owns nothing; every row is written by the writer (transfer.c:
 * ledger_expire_pass). Audited as the system actor: each closing
 * transfer has its "ledger.transfer" record (code hold_expiry).
 */
#include <string.h>

#include "audit/audit.h"
#include "base/clock.h"
#include "base/err.h"
#include "jobs/jobs.h"
#include "ledger/internal.h"

/* How often the expiry job runs: a hold is closed at most this long after
 * its timeout (a caller can no longer post or void it meanwhile:
 * transfer.c), and the scheduler looks for due jobs every second. */
#define EXPIRY_INTERVAL_MS 1000
/* How long one run waits for the writer to take each pass: a writer this
 * far behind is overloaded; the run stops and the next one continues. */
#define EXPIRY_DEADLINE_MS 10000

static const struct anfu_actor system_actor = { "system", "system", "", "", "", "" };

int anfu_ledger_expire_due(struct anfu_ledger *l, int64_t deadline_ms,
			   struct anfu_ledger_expiry_report *ret)
{
	struct anfu_ledger_expiry_report rep;
	struct ledger_expire e;
	int r = 0;

	if (!l || !ret)
		return ANFU_EINVAL;
	memset(&rep, 0, sizeof(rep));
	memset(&e, 0, sizeof(e));
	e.max = (size_t)l->cfg->batch_max < ANFU_LIMIT_LEDGER_EXPIRY_PASS
			? (size_t)l->cfg->batch_max
			: ANFU_LIMIT_LEDGER_EXPIRY_PASS;
	do {
		struct ledger_req q;

		memset(&q, 0, sizeof(q));
		q.kind = LEDGER_REQ_EXPIRE;
		q.actor = &system_actor;
		q.expire = &e;
		r = ledger_writer_call(l, &q, deadline_ms);
		if (r < 0)
			break;
		rep.passes++;
		rep.expired += (int64_t)e.expired;
		rep.posted += (int64_t)e.posted;
		rep.refused += (int64_t)e.refused;
	} while (e.more && rep.passes < ANFU_LIMIT_LEDGER_EXPIRY_PASSES);
	if (r < 0)
		return r;
	*ret = rep;
	return 0;
}

static int expiry_job(void *ud, struct anfu_db *db, const char **result)
{
	struct anfu_ledger_expiry_report rep;
	int r;

	(void)db; /* the writer writes */
	r = anfu_ledger_expire_due(ud, anfu_clock_mono_us() / 1000 + EXPIRY_DEADLINE_MS, &rep);
	if (result)
		*result = r < 0 ? "failed" : rep.refused > 0 ? "some holds refused" : "ok";
	return r;
}

/* How often the wallet job sweeps the customers: a customer lacks the
 * accounts only after a crash between a registration's commit and its
 * hook (and before the first sweep), and the module's start sweeps too. */
#define WALLET_INTERVAL_MS (10 * 60 * 1000)

static int wallet_job(void *ud, struct anfu_db *db, const char **result)
{
	struct anfu_ledger_wallet_report rep;
	int r;

	(void)db; /* the writer writes */
	r = anfu_ledger_wallet_pass(ud, anfu_clock_mono_us() / 1000 + EXPIRY_DEADLINE_MS, &rep);
	if (result)
		*result = r < 0 ? "failed" : rep.opened > 0 ? "opened missing accounts" : "ok";
	return r;
}

static const struct anfu_job_def jobs[] = {
	{ "ledger.hold_expiry", EXPIRY_INTERVAL_MS, -1, NULL, expiry_job },
	{ "ledger.wallets", WALLET_INTERVAL_MS, -1, NULL, wallet_job },
};
const struct anfu_job_table anfu_ledger_jobs = { jobs, sizeof(jobs) / sizeof(jobs[0]) };
