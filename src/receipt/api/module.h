/*
 * receipt/api/module: the receipt module's descriptor (api/module.h), for
 * the module list (src/app/), and its handlers (docs/receipts.md).
 */
#ifndef ANFU_RECEIPT_API_MODULE_H
#define ANFU_RECEIPT_API_MODULE_H

#include "api/module.h"

extern const struct anfu_module anfu_receipt_module;

struct anfu_req;
struct anfu_resp;

/* routes.c */
/* GET /api/v1/receipts/keys: the public receipt key (public route). */
int anfu_receipt_api_keys(struct anfu_req *req, struct anfu_resp *resp);
/* GET /api/v1/me/receipts/{kind}/{ref}: a party's receipt (customer). */
int anfu_receipt_api_mine(struct anfu_req *req, struct anfu_resp *resp);
/* GET /admin/v1/receipts/{kind}/{ref}: any receipt (receipt.read). */
int anfu_receipt_api_admin(struct anfu_req *req, struct anfu_resp *resp);

#endif
