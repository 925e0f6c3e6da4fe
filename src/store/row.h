/*
 * store/row: what a store implementation provides for result rows, and
 * the checks both backends share.
 *
 * Private to src/store/. struct anfu_row is opaque to callers; each
 * implementation hands its row callbacks a struct anfu_row whose ops read
 * the engine's current row. Trusts the implementation to keep impl valid
 * for the duration of one callback.
 */
#ifndef ANFU_STORE_ROW_H
#define ANFU_STORE_ROW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct anfu_row_ops {
	int (*count)(const void *impl);
	bool (*is_null)(const void *impl, int col);
	int64_t (*get_int)(const void *impl, int col);
	const char *(*get_text)(const void *impl, int col, size_t *ret_len);
};

struct anfu_row {
	const struct anfu_row_ops *ops;
	void *impl;
};

/* Savepoint names are spliced into SQL (they cannot be bound): true only
 * for [a-z_][a-z0-9_]{0,31}. Both backends check with it (db.c). */
bool anfu_store_savepoint_name_ok(const char *name);

#endif
