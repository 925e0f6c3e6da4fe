/*
 * base/pausepoint: named pause points for deterministic race tests (test
 * hooks builds only; docs/testing.md, "Pause points").
 *
 * A request that reaches anfu_pause_at(name) while a test armed name stops
 * there until the test releases it, so the test can run a competing
 * request to completion in the window the race needs (between a pre-check
 * and the writer command that re-checks it). Arming is one-shot: only the
 * first caller to reach the point stops; later callers pass. Every wait
 * is bounded (on the monotonic clock), so a broken test cannot hang the
 * server. Production builds compile anfu_pause_at() to nothing and have
 * none of the other functions. Thread-safe.
 */
#ifndef ANFU_BASE_PAUSEPOINT_H
#define ANFU_BASE_PAUSEPOINT_H

#include <stdint.h>

#ifdef ANFU_TEST_HOOKS
/* Arms point name (1..ANFU_LIMIT_PAUSE_NAME bytes): the next caller of
 * anfu_pause_at(name) stops there for at most max_ms (1 ..
 * ANFU_LIMIT_PAUSE_MS) and logs "pause point NAME stopped a request (arm
 * N)" (test.pause), N the arming's number, into *ret_arm when not NULL.
 * Arming an armed point sets its bound and number again. 0; ANFU_EINVAL
 * (bad name or bound), ANFU_EEXIST (a caller is still stopped at name),
 * ANFU_ELIMIT (ANFU_LIMIT_PAUSE_POINTS points in use). */
int anfu_pause_arm(const char *name, int64_t max_ms, uint64_t *ret_arm);

/* The pause point name: returns at once when name is not armed (0);
 * otherwise disarms it, stops the calling thread until anfu_pause_release
 * (0) or until the armed bound passed (ANFU_ETIMEDOUT, logged). */
int anfu_pause_at(const char *name);

/* Waits at most max_ms (1 .. ANFU_LIMIT_PAUSE_MS) until a caller stops at
 * name (for in-process tests; an API test waits for the log line, as a
 * request over HTTP may share the stopped request's worker thread). 0 when one is stopped there; ANFU_ETIMEDOUT when none came in
 * time; ANFU_ENOTFOUND when name is neither armed nor holding a caller;
 * ANFU_EINVAL for a bad name or bound. */
int anfu_pause_wait(const char *name, int64_t max_ms);

/* Lets the caller stopped at name go on, or disarms name when none
 * reached it yet. 0; ANFU_ENOTFOUND when name is neither armed nor
 * holding a caller; ANFU_EINVAL for a bad name. */
int anfu_pause_release(const char *name);
#else
static inline int anfu_pause_at(const char *name)
{
	(void)name;
	return 0;
}
#endif

#endif
