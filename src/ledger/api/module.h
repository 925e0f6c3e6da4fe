/*
 * ledger/api/module: the ledger module's descriptor (api/module.h), for
 * the module list (src/app/).
 */
#ifndef ANFU_LEDGER_API_MODULE_H
#define ANFU_LEDGER_API_MODULE_H

#include "api/module.h"

extern const struct anfu_module anfu_ledger_module;

struct anfu_ledger;
struct anfu_req;
struct anfu_resp;

/* ---- approvals.c: the four-eyes types of account state changes ---- */

/* freeze_account, unfreeze_account, close_account. */
extern const struct anfu_approval_table anfu_ledger_approvals;
/* The running service the approval types use (the module's start sets
 * it, its stop clears it with NULL). */
void anfu_ledger_api_set_service(struct anfu_ledger *l);
/* The approval type that changes an account to state ("frozen" ->
 * "freeze_account", ...), or NULL for a name that is not a state. */
const char *anfu_ledger_api_state_type(const char *state);

/* ---- admin.c: the operator routes (docs/ledger.md) ---- */
int anfu_ledger_api_admin_account(struct anfu_req *req, struct anfu_resp *resp);
int anfu_ledger_api_admin_state(struct anfu_req *req, struct anfu_resp *resp);
int anfu_ledger_api_admin_approve(struct anfu_req *req, struct anfu_resp *resp);
int anfu_ledger_api_admin_reject(struct anfu_req *req, struct anfu_resp *resp);

#ifdef ANFU_TEST_HOOKS
/* The test-hook routes (ledger/api/testhooks.c). */
int anfu_ledger_api_test_account(struct anfu_req *req, struct anfu_resp *resp);
int anfu_ledger_api_test_transfer(struct anfu_req *req, struct anfu_resp *resp);
#endif

#endif
