/*
 * base/pausepoint: named pause points for deterministic race tests (see
 * pausepoint.h). Owns one small table of points under one mutex; trusts
 * its callers (test hooks and the code at the points) for names only as
 * far as their length is checked. Compiled only in test-hooks builds.
 */
#ifdef ANFU_TEST_HOOKS

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/pausepoint.h"

enum pause_state {
	PAUSE_FREE = 0,
	PAUSE_ARMED,	/* the next caller stops */
	PAUSE_STOPPED,	/* a caller is stopped there */
	PAUSE_RELEASED, /* released; the stopped caller has not woken yet */
};

struct pause_point {
	enum pause_state state;
	int64_t max_ms;
	uint64_t arm; /* the arming's number, in the log line */
	char name[ANFU_LIMIT_PAUSE_NAME + 1];
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv;
static pthread_once_t cv_once = PTHREAD_ONCE_INIT;
static struct pause_point points[ANFU_LIMIT_PAUSE_POINTS];
static uint64_t arms; /* armings so far */

/* Waits are bounded on the monotonic clock: the test clock may be moved
 * or frozen while a request stops. */
static void cv_init(void)
{
	pthread_condattr_t a;

	if (pthread_condattr_init(&a) != 0 || pthread_condattr_setclock(&a, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&cv, &a) != 0) {
		anfu_log_error("test.pause", "cannot make the pause points' condition variable");
		abort(); /* like out of memory: nothing to go on with */
	}
	(void)pthread_condattr_destroy(&a);
}

static bool name_ok(const char *name)
{
	return name && name[0] && strnlen(name, ANFU_LIMIT_PAUSE_NAME + 1) <= ANFU_LIMIT_PAUSE_NAME;
}

static bool bound_ok(int64_t max_ms)
{
	return max_ms >= 1 && max_ms <= ANFU_LIMIT_PAUSE_MS;
}

/* The point named name in use, or NULL. Called with mu held. */
static struct pause_point *find(const char *name)
{
	for (size_t i = 0; i < ANFU_LIMIT_PAUSE_POINTS; i++)
		if (points[i].state != PAUSE_FREE && strcmp(points[i].name, name) == 0)
			return &points[i];
	return NULL;
}

static struct timespec deadline_of(int64_t max_ms)
{
	struct timespec t;

	(void)clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += (time_t)(max_ms / 1000);
	t.tv_nsec += (long)(max_ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

int anfu_pause_arm(const char *name, int64_t max_ms, uint64_t *ret_arm)
{
	uint64_t arm = 0;
	struct pause_point *pt;
	int r = 0;

	if (!name_ok(name) || !bound_ok(max_ms))
		return ANFU_EINVAL;
	(void)pthread_once(&cv_once, cv_init);
	(void)pthread_mutex_lock(&mu);
	pt = find(name);
	if (pt && pt->state != PAUSE_ARMED)
		r = ANFU_EEXIST;
	for (size_t i = 0; !pt && i < ANFU_LIMIT_PAUSE_POINTS; i++)
		if (points[i].state == PAUSE_FREE)
			pt = &points[i];
	if (r == 0 && !pt)
		r = ANFU_ELIMIT;
	if (r == 0) {
		pt->state = PAUSE_ARMED;
		pt->max_ms = max_ms;
		pt->arm = arm = ++arms;
		memcpy(pt->name, name, strlen(name) + 1);
	}
	(void)pthread_mutex_unlock(&mu);
	if (r == 0 && ret_arm)
		*ret_arm = arm;
	return r;
}

int anfu_pause_at(const char *name)
{
	struct pause_point *pt;
	struct timespec until;
	int r = 0;

	if (!name_ok(name))
		return 0;
	(void)pthread_once(&cv_once, cv_init);
	(void)pthread_mutex_lock(&mu);
	pt = find(name);
	if (!pt || pt->state != PAUSE_ARMED) {
		(void)pthread_mutex_unlock(&mu);
		return 0;
	}
	pt->state = PAUSE_STOPPED;
	until = deadline_of(pt->max_ms);
	(void)pthread_cond_broadcast(&cv);
	/* API tests wait for this line to know the request stopped. */
	anfu_log_info("test.pause", "pause point %s stopped a request (arm %" PRIu64 ")", name,
		      pt->arm);
	while (pt->state == PAUSE_STOPPED && r == 0)
		if (pthread_cond_timedwait(&cv, &mu, &until) == ETIMEDOUT &&
		    pt->state == PAUSE_STOPPED)
			r = ANFU_ETIMEDOUT;
	pt->state = PAUSE_FREE;
	(void)pthread_cond_broadcast(&cv);
	(void)pthread_mutex_unlock(&mu);
	if (r < 0)
		anfu_log_warn("test.pause", "pause point %s was not released in time", name);
	return r;
}

int anfu_pause_wait(const char *name, int64_t max_ms)
{
	struct pause_point *pt;
	struct timespec until;
	int r = 0;

	if (!name_ok(name) || !bound_ok(max_ms))
		return ANFU_EINVAL;
	(void)pthread_once(&cv_once, cv_init);
	until = deadline_of(max_ms);
	(void)pthread_mutex_lock(&mu);
	while (r == 0) {
		pt = find(name);
		if (!pt)
			r = ANFU_ENOTFOUND;
		else if (pt->state != PAUSE_ARMED)
			break; /* stopped (or released since) */
		else if (pthread_cond_timedwait(&cv, &mu, &until) == ETIMEDOUT)
			r = ANFU_ETIMEDOUT;
	}
	(void)pthread_mutex_unlock(&mu);
	return r;
}

int anfu_pause_release(const char *name)
{
	struct pause_point *pt;
	int r = 0;

	if (!name_ok(name))
		return ANFU_EINVAL;
	(void)pthread_once(&cv_once, cv_init);
	(void)pthread_mutex_lock(&mu);
	pt = find(name);
	if (!pt)
		r = ANFU_ENOTFOUND;
	else if (pt->state == PAUSE_ARMED)
		pt->state = PAUSE_FREE;
	else
		pt->state = PAUSE_RELEASED;
	(void)pthread_cond_broadcast(&cv);
	(void)pthread_mutex_unlock(&mu);
	return r;
}

#endif
