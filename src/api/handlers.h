/*
 * api/handlers: the handler functions of the api module, shared between
 * its files and the route table (api/routes.c). Internal to src/api/.
 */
#ifndef ANFU_API_HANDLERS_H
#define ANFU_API_HANDLERS_H

#include "http/http.h"

/* health.c */
int anfu_api_healthz(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_readyz(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_metrics(struct anfu_req *req, struct anfu_resp *resp);

#ifdef ANFU_TEST_HOOKS
/* testhooks.c */
int anfu_api_test_clock(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_test_faults(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_test_sleep(struct anfu_req *req, struct anfu_resp *resp);
#endif

#endif
