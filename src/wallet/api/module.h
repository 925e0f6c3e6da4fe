/*
 * wallet/api/module: the wallet module's descriptor (api/module.h), for
 * the module list (src/app/), and its handlers.
 */
#ifndef ANFU_WALLET_API_MODULE_H
#define ANFU_WALLET_API_MODULE_H

#include "api/module.h"

extern const struct anfu_module anfu_wallet_module;

struct anfu_req;
struct anfu_resp;

/* transfers.c: the customer routes (docs/wallet.md) */
int anfu_wallet_api_preview(struct anfu_req *req, struct anfu_resp *resp);
int anfu_wallet_api_confirm(struct anfu_req *req, struct anfu_resp *resp);
int anfu_wallet_api_balance(struct anfu_req *req, struct anfu_resp *resp);
int anfu_wallet_api_transactions(struct anfu_req *req, struct anfu_resp *resp);
/* GET / PUT /api/v1/me/limits: the customer's own limits (RISK-LIM-04). */
int anfu_wallet_api_limits_get(struct anfu_req *req, struct anfu_resp *resp);
int anfu_wallet_api_limits_put(struct anfu_req *req, struct anfu_resp *resp);

#ifdef ANFU_TEST_HOOKS
/* testhooks.c: money for tests (no top-up yet) and account states. */
int anfu_wallet_api_test_credit(struct anfu_req *req, struct anfu_resp *resp);
int anfu_wallet_api_test_state(struct anfu_req *req, struct anfu_resp *resp);
#endif

#endif
