/*
 * retry.c: the back-off policy, in one small place (OpenSMTPD keeps its
 * scheduler_backoff the same way). Exponential from retry_min, doubling per
 * failed try, capped at retry_max; "full jitter" spreads each wait uniformly
 * over [retry_min, cap] so that a relay that comes back is not hit by every
 * waiting email at the same moment. Pure; any thread.
 */
#include "config.h"
#include "retry.h"

long long
retry_delay_ms(const struct config *cf, int attempts, unsigned rnd)
{
	long long	min = cf->retry_min * 1000, max = cf->retry_max * 1000;
	long long	cap = min;
	int		i;

	for (i = 1; i < attempts && cap < max; i++)
		cap *= 2;
	if (cap > max)
		cap = max;
	if (cap <= min)
		return min;
	return min + (long long)(rnd % (unsigned long long)(cap - min + 1));
}

long long
retry_next_ms(const struct config *cf, int attempts, long long now_ms,
    long long deadline_ms, unsigned rnd)
{
	long long	next = now_ms + retry_delay_ms(cf, attempts, rnd);

	if (deadline_ms > 0 && next >= deadline_ms)
		return -1;
	return next;
}
