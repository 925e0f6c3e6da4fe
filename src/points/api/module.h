/*
 * points/api/module: the points module's descriptor (api/module.h) and
 * its handlers (docs/points.md "API").
 */
#ifndef ANFU_POINTS_API_MODULE_H
#define ANFU_POINTS_API_MODULE_H

#include "api/module.h"

extern const struct anfu_module anfu_points_module;

struct anfu_req;
struct anfu_resp;

/* ---- me.c: the customer's routes ---- */
int anfu_points_api_balance(struct anfu_req *req, struct anfu_resp *resp);
int anfu_points_api_history(struct anfu_req *req, struct anfu_resp *resp);
int anfu_points_api_catalogue(struct anfu_req *req, struct anfu_resp *resp);
int anfu_points_api_redemptions(struct anfu_req *req, struct anfu_resp *resp);
int anfu_points_api_redeem(struct anfu_req *req, struct anfu_resp *resp);
int anfu_points_api_cancel(struct anfu_req *req, struct anfu_resp *resp);

/* ---- admin.c: the operators' routes ---- */
int anfu_points_api_admin_items(struct anfu_req *req, struct anfu_resp *resp);
int anfu_points_api_admin_item_add(struct anfu_req *req, struct anfu_resp *resp);
int anfu_points_api_admin_item_update(struct anfu_req *req, struct anfu_resp *resp);
int anfu_points_api_admin_campaigns(struct anfu_req *req, struct anfu_resp *resp);
int anfu_points_api_admin_campaign_add(struct anfu_req *req, struct anfu_resp *resp);
int anfu_points_api_admin_campaign_update(struct anfu_req *req, struct anfu_resp *resp);
int anfu_points_api_admin_grant(struct anfu_req *req, struct anfu_resp *resp);
int anfu_points_api_admin_cancel(struct anfu_req *req, struct anfu_resp *resp);

/* ---- shared by me.c and admin.c (json.c) ---- */
struct anfu_actor;
struct anfu_points_item;
struct anfu_points_redemption;
struct anfu_points_outcome;
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
void anfu_points_api_actor(const struct anfu_req *req, struct anfu_actor *ret);
/* A request_id's characters (letters, digits, "_", ".", ":", "-"); the
 * decoder checks its length. */
bool anfu_points_api_request_id_ok(const char *s, size_t len);
json_t *anfu_points_api_item_json(const struct anfu_points_item *it);
json_t *anfu_points_api_redemption_json(const struct anfu_points_redemption *d);
int anfu_points_api_json_out(struct anfu_resp *resp, int status, json_t *body);
struct anfu_points;
/* The catalogue's items (active_only: what customers see) as {"items":
 * [...]} into resp; the service's error otherwise. */
int anfu_points_api_items_out(struct anfu_points *p, bool active_only, struct anfu_resp *resp);
/* POST .../redemptions/{id}/cancel, both routes: the redemption id from
 * the path, the body {reason} and the cancellation by the request's
 * actor. An operator's (customer false) body must carry a reason and any
 * customer's redemption may be cancelled; a customer's body may be empty
 * or leave the reason out ("cancelled by the customer") and only their own
 * redemption is found. Returns anfu_points_cancel's result (*ret and *out
 * as it writes them; a refusal is out->code), or the error of the path or
 * body, already answered on req. */
int anfu_points_api_cancel_run(struct anfu_req *req, bool customer,
			       struct anfu_points_redemption *ret, struct anfu_points_outcome *out);

#endif
