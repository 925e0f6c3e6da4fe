/*
 * base/clock: the one injectable clock.
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"

static _Atomic int64_t offset_ms;
static _Atomic int64_t frozen_ms; /* 0: not frozen */

static int64_t real_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t anfu_clock_now_ms(void)
{
	int64_t f = atomic_load(&frozen_ms);

	if (f != 0)
		return f;
	return real_ms() + atomic_load(&offset_ms);
}

int64_t anfu_clock_mono_us(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t anfu_clock_day_cn(int64_t ms)
{
	const int64_t day = 24LL * 3600 * 1000;
	int64_t local = ms + ANFU_CLOCK_CN_OFFSET_MS;

	return local >= 0 ? local / day : -((-local + day - 1) / day);
}

void anfu_clock_format_cn(int64_t ms, char date[16], char tod[16])
{
	int64_t local = ms + ANFU_CLOCK_CN_OFFSET_MS;
	time_t secs = (time_t)(local / 1000 - (local % 1000 < 0 ? 1 : 0));
	struct tm tm;

	date[0] = tod[0] = '\0';
	if (!gmtime_r(&secs, &tm) || tm.tm_year < -1900 || tm.tm_year > 9999 - 1900)
		return;
	if (strftime(date, 16, "%Y-%m-%d", &tm) == 0 || strftime(tod, 16, "%H:%M:%S", &tm) == 0)
		date[0] = tod[0] = '\0';
}

void anfu_clock_format(int64_t ms, char out[32])
{
	time_t secs = (time_t)(ms / 1000);
	int frac = (int)(ms % 1000);
	struct tm tm;

	if (frac < 0) {
		frac += 1000;
		secs -= 1;
	}
	if (!gmtime_r(&secs, &tm) || tm.tm_year < -1900 || tm.tm_year > 9999 - 1900) {
		memcpy(out, "invalid-time", sizeof("invalid-time"));
		return;
	}
	snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", (tm.tm_year + 1900) % 10000,
		 (tm.tm_mon + 1) % 100, tm.tm_mday % 100, tm.tm_hour % 100, tm.tm_min % 100,
		 tm.tm_sec % 100, frac % 1000);
}

#ifdef ANFU_TEST_HOOKS
void anfu_clock_advance_ms(int64_t delta_ms)
{
	int64_t f = atomic_load(&frozen_ms);

	if (f != 0)
		atomic_store(&frozen_ms, f + delta_ms);
	else
		atomic_fetch_add(&offset_ms, delta_ms);
}

void anfu_clock_freeze(int frozen)
{
	if (frozen) {
		if (atomic_load(&frozen_ms) == 0)
			atomic_store(&frozen_ms, real_ms() + atomic_load(&offset_ms));
	} else {
		int64_t f = atomic_exchange(&frozen_ms, 0);

		/* Keep time continuous: unfreezing resumes from the frozen
		 * instant, not from where the real clock has gone since. */
		if (f != 0)
			atomic_store(&offset_ms, f - real_ms());
	}
}

void anfu_clock_reset(void)
{
	atomic_store(&frozen_ms, 0);
	atomic_store(&offset_ms, 0);
}
#endif
