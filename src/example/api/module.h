/*
 * example/api/module: the example module's descriptor (api/module.h), for
 * the module list (src/app/) and the module's own handlers.
 */
#ifndef ANFU_EXAMPLE_API_MODULE_H
#define ANFU_EXAMPLE_API_MODULE_H

#include "api/module.h"
#include "http/http.h"

extern const struct anfu_module anfu_example_module;

/* notes.c: POST and GET /api/v1/example/notes. */
int anfu_example_api_note_add(struct anfu_req *req, struct anfu_resp *resp);
int anfu_example_api_notes(struct anfu_req *req, struct anfu_resp *resp);

#endif
