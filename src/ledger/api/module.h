/*
 * ledger/api/module: the ledger module's descriptor (api/module.h), for
 * the module list (src/app/).
 */
#ifndef ANFU_LEDGER_API_MODULE_H
#define ANFU_LEDGER_API_MODULE_H

#include "api/module.h"

extern const struct anfu_module anfu_ledger_module;

#endif
