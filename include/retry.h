/*
 * retry.h: when to try a temporarily failed email again. Pure; any thread.
 */
#ifndef HB_RETRY_H
#define HB_RETRY_H

struct config;

/* Delay in ms before the next try after `attempts` failed tries (>= 1):
 * exponential from retry_min, capped at retry_max, with full jitter over
 * [retry_min, cap] drawn from rnd (any 32-bit random number). */
long long	retry_delay_ms(const struct config *, int attempts, unsigned rnd);

/* When the next try is due, or -1 if it would be at or after the deadline
 * (the email has expired). */
long long	retry_next_ms(const struct config *, int attempts, long long now_ms,
		    long long deadline_ms, unsigned rnd);

#endif
