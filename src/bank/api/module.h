/*
 * bank/api/module: the bank module's descriptor (api/module.h) and its
 * handlers (bank/api/handlers.c).
 */
#ifndef ANFU_BANK_API_MODULE_H
#define ANFU_BANK_API_MODULE_H

#include "api/module.h"

extern const struct anfu_module anfu_bank_module;

struct anfu_bank;
struct anfu_req;
struct anfu_resp;

/* The bank service of a request's app, or NULL (module not started). */
struct anfu_bank *anfu_bank_api_service(const struct anfu_req *req);

/* One of the caller's own records as a JSON body: 0 and *ret (the
 * caller's; NULL when encoding failed), ANFU_ENOTFOUND for an unknown id
 * or one of another user, or the service's error. */
struct json_t;
typedef int (*anfu_bank_api_read_fn)(struct anfu_bank *b, const char *user_id, const char *id,
				     struct json_t **ret);

/* GET /api/v1/me/<records>/{id} (handlers.c; top-ups and withdrawals):
 * the {id} of type prefix from the path, read by read for the caller
 * (req->actor_id), 200 with its body; 404 not_found for an unknown id or
 * another user's, so that a caller learns nothing of others' records. */
int anfu_bank_api_get_own(struct anfu_req *req, struct anfu_resp *resp, const char *prefix,
			  anfu_bank_api_read_fn read);

int anfu_bank_api_card_start(struct anfu_req *req, struct anfu_resp *resp);
int anfu_bank_api_card_confirm(struct anfu_req *req, struct anfu_resp *resp);
int anfu_bank_api_cards(struct anfu_req *req, struct anfu_resp *resp);
int anfu_bank_api_card_unbind(struct anfu_req *req, struct anfu_resp *resp);
int anfu_bank_api_topup(struct anfu_req *req, struct anfu_resp *resp);
int anfu_bank_api_topup_get(struct anfu_req *req, struct anfu_resp *resp);
int anfu_bank_api_topups(struct anfu_req *req, struct anfu_resp *resp);
int anfu_bank_api_callback(struct anfu_req *req, struct anfu_resp *resp);
/* bank/api/withdrawals.c */
int anfu_bank_api_withdraw(struct anfu_req *req, struct anfu_resp *resp);
int anfu_bank_api_withdrawals(struct anfu_req *req, struct anfu_resp *resp);
int anfu_bank_api_withdrawal_get(struct anfu_req *req, struct anfu_resp *resp);
int anfu_bank_api_admin_withdrawals(struct anfu_req *req, struct anfu_resp *resp);
int anfu_bank_api_admin_wd_approve(struct anfu_req *req, struct anfu_resp *resp);
int anfu_bank_api_admin_wd_reject(struct anfu_req *req, struct anfu_resp *resp);
int anfu_bank_api_admin_rules(struct anfu_req *req, struct anfu_resp *resp);
int anfu_bank_api_admin_rules_file(struct anfu_req *req, struct anfu_resp *resp);
int anfu_bank_api_admin_rules_approve(struct anfu_req *req, struct anfu_resp *resp);
int anfu_bank_api_admin_rules_reject(struct anfu_req *req, struct anfu_resp *resp);
/* The four-eyes type "withdraw_rules". */
extern const struct anfu_approval_table anfu_bank_approvals;
#ifdef ANFU_TEST_HOOKS
int anfu_bank_api_test_query(struct anfu_req *req, struct anfu_resp *resp);
int anfu_bank_api_test_withdraw_send(struct anfu_req *req, struct anfu_resp *resp);
#endif

/* recon.c: the reconciliation routes (admin) and its test hook. */
int anfu_bank_api_recons(struct anfu_req *req, struct anfu_resp *resp);
int anfu_bank_api_recon_get(struct anfu_req *req, struct anfu_resp *resp);
#ifdef ANFU_TEST_HOOKS
int anfu_bank_api_test_reconcile(struct anfu_req *req, struct anfu_resp *resp);
#endif

#endif
