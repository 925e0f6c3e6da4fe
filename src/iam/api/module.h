/*
 * iam/api/module: the identity module's descriptor (api/module.h), for the
 * module list (src/app/) and iam's own handlers.
 */
#ifndef ANFU_IAM_API_MODULE_H
#define ANFU_IAM_API_MODULE_H

#include "api/module.h"

extern const struct anfu_module anfu_iam_module;
/* Its routes (iam/api/routes.c). */
extern const struct anfu_route_table anfu_iam_routes;

#endif
