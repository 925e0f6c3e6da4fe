/*
 * base/assert: ANFU_ASSERT, the invariant check that stays on in every
 * build (STYLE.md: assertions are for our own invariants, never for
 * input; they are not compiled out by NDEBUG).
 *
 * A failed assertion writes one error line to the application log (event
 * "assert.failed": the expression, file, line and function; never a
 * value, which might be a secret) and aborts: a process whose invariants
 * broke must not go on moving money. Owns nothing.
 */
#ifndef ANFU_BASE_ASSERT_H
#define ANFU_BASE_ASSERT_H

/* Logs the failed invariant and aborts; never returns. */
_Noreturn void anfu_assert_fail(const char *expr, const char *file, int line, const char *func);

#define ANFU_ASSERT(cond) ((cond) ? (void)0 : anfu_assert_fail(#cond, __FILE__, __LINE__, __func__))

#endif
