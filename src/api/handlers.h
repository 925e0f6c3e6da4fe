/*
 * api/handlers: the helpers of src/api/ every service's handlers use, and
 * the platform's own handlers (health, test hooks), shared with the route
 * table (api/routes.c).
 */
#ifndef ANFU_API_HANDLERS_H
#define ANFU_API_HANDLERS_H

#include <stdbool.h>
#include <stdint.h>

#include "http/http.h"

struct anfu_iam_ctx;

/* authn.c */
/* The IAM request context of req (strings borrowed from req). */
void anfu_api_ctx(const struct anfu_req *req, struct anfu_iam_ctx *ctx);
/* The {id} of req's path, when it is a valid public id with prefix, copied
 * into the arena; otherwise req fails 404 not_found (a malformed id names
 * nothing). */
int anfu_api_path_id(struct anfu_req *req, const char *prefix, char **ret);
/* Authenticates req's session cookie for its route (optional: a request
 * without a cookie passes with req->principal NULL). */
int anfu_api_authenticate(struct anfu_req *req, bool optional);

/* health.c */
int anfu_api_healthz(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_readyz(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_metrics(struct anfu_req *req, struct anfu_resp *resp);

#ifdef ANFU_TEST_HOOKS
/* testhooks.c */
int anfu_api_test_clock(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_test_faults(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_test_sleep(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_test_captcha(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_test_outbox(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_test_deliver(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_test_jobs(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_test_jobs_hold(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_test_pwhash(struct anfu_req *req, struct anfu_resp *resp);
/* testpause.c */
int anfu_api_test_pause(struct anfu_req *req, struct anfu_resp *resp);
#endif

#endif
