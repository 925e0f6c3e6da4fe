/*
 * ledger/api/module: the ledger module's descriptor (api/module.h), for
 * the module list (src/app/).
 */
#ifndef ANFU_LEDGER_API_MODULE_H
#define ANFU_LEDGER_API_MODULE_H

#include "api/module.h"

extern const struct anfu_module anfu_ledger_module;

#ifdef ANFU_TEST_HOOKS
struct anfu_req;
struct anfu_resp;
/* The test-hook routes (ledger/api/testhooks.c). */
int anfu_ledger_api_test_account(struct anfu_req *req, struct anfu_resp *resp);
int anfu_ledger_api_test_transfer(struct anfu_req *req, struct anfu_resp *resp);
#endif

#endif
