/*
 * base/assert: the failure path of ANFU_ASSERT (base/assert.h).
 *
 * Owns nothing; trusts its caller (the macro) for static strings.
 */
#include <stdlib.h>

#include "base/assert.h"
#include "base/log.h"

_Noreturn void anfu_assert_fail(const char *expr, const char *file, int line, const char *func)
{
	anfu_log_error("assert.failed", "invariant broken: %s (%s:%d, %s)", expr, file, line, func);
	abort();
}
