/*
 * ledger/api/module: the ledger module's descriptor: its migrations. The
 * service, its options and its routes join it as they are built
 * (docs/ledger.md).
 *
 * Trusts the app core to call start once, with the platform started, and
 * stop after the server and the scheduler stopped.
 */
#include <stddef.h>

#include "api/module.h"
#include "ledger/api/module.h"
#include "ledger/ledger.h"

const struct anfu_module anfu_ledger_module = {
	.name = "ledger",
	.migrations = &anfu_ledger_migrations,
};
