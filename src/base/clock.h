/*
 * base/clock: the one injectable clock.
 *
 * Every rule that depends on time (lockouts, code expiry, sessions, audit
 * timestamps) reads anfu_clock_now_ms(). Builds with the test-hooks option
 * can shift or freeze it so tests cross 30-minute windows without sleeping;
 * production builds do not contain the setters. Durations that must not
 * move with the test clock (timeouts, latency metrics) use the monotonic
 * clock. Thread-safe.
 */
#ifndef ANFU_BASE_CLOCK_H
#define ANFU_BASE_CLOCK_H

#include <stddef.h>
#include <stdint.h>

/* Wall-clock UTC time in milliseconds since the Unix epoch. */
int64_t anfu_clock_now_ms(void);
/* Monotonic time in microseconds, for durations only. */
int64_t anfu_clock_mono_us(void);

/* Writes "2026-11-21T13:12:00.123Z" (24 chars + NUL) into out. */
void anfu_clock_format(int64_t ms, char out[32]);

/* Calendar days and local times of mainland China (Asia/Shanghai: UTC+8
 * all year, no daylight saving since 1991), on which daily limits and the
 * dates customers see are counted. */
#define ANFU_CLOCK_CN_OFFSET_MS (8LL * 3600 * 1000)
/* The Shanghai calendar day of ms as days since 1970-01-01 (floor
 * division: a time before 1970-01-01 00:00 in Shanghai is day -1). */
int64_t anfu_clock_day_cn(int64_t ms);
/* ms in Shanghai as "YYYY-MM-DD" into date and "HH:MM:SS" into tod (each
 * "" when the time cannot be shown). */
void anfu_clock_format_cn(int64_t ms, char date[16], char tod[16]);

#ifdef ANFU_TEST_HOOKS
/* Test hooks: move the clock forward by delta_ms (may be negative). */
void anfu_clock_advance_ms(int64_t delta_ms);
/* Test hooks: freeze at the current (shifted) time, or unfreeze. */
void anfu_clock_freeze(int frozen);
/* Test hooks: drop every shift and freeze. */
void anfu_clock_reset(void);
#endif

#endif
