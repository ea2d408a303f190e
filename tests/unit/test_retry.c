/*
 * test_retry.c: the back-off policy (retry.c), SPEC section 5: "exponential
 * backoff and jitter from retry_min to retry_max, until the email's deadline".
 *
 * With full jitter the delay after n failed tries is uniform over
 * [retry_min, cap(n)], cap(n) = min(retry_min * 2^(n-1), retry_max). Since
 * the draw is rnd % (cap - min + 1), rnd = cap - min gives exactly cap and
 * rnd = 0 gives exactly min: that is how these tests read the cap.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "retry.h"

/* A small deterministic generator (xorshift32) for "many random values". */
static unsigned
rnd_next(unsigned *s)
{
	unsigned x = *s;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *s = x;
}

static long long
cap_ms(const struct config *cf, int attempts)
{
	long long	cap = cf->retry_min * 1000;
	int		i;

	for (i = 1; i < attempts; i++) {
		cap *= 2;
		if (cap >= cf->retry_max * 1000)
			return cf->retry_max * 1000;
	}
	return cap < cf->retry_max * 1000 ? cap : cf->retry_max * 1000;
}

static void
test_first_try(void **state)
{
	struct config	*cf = config_default();
	unsigned	 s = 12345;
	int		 i;

	/* Defaults: 1m to 1h. */
	assert_int_equal(cf->retry_min, 60);
	assert_int_equal(cf->retry_max, 3600);
	for (i = 0; i < 1000; i++)
		assert_int_equal(retry_delay_ms(cf, 1, rnd_next(&s)), 60000);
	assert_int_equal(retry_delay_ms(cf, 1, 0), 60000);
	assert_int_equal(retry_delay_ms(cf, 1, 0xffffffffu), 60000);
	config_unref(cf);
}

static void
test_bounds(void **state)
{
	struct config	*cf = config_default();
	unsigned	 s = 0x9e3779b9u;
	long long	 d, lo, hi;
	int		 n, i, saw_low, saw_high;

	for (n = 1; n <= 40; n++) {
		hi = cap_ms(cf, n);
		lo = cf->retry_min * 1000;
		saw_low = saw_high = 0;
		for (i = 0; i < 5000; i++) {
			d = retry_delay_ms(cf, n, rnd_next(&s));
			if (d < lo || d > hi)
				fail_msg("attempts %d: delay %lld outside "
				    "[%lld, %lld]", n, d, lo, hi);
			if (d < lo + (hi - lo) / 4)
				saw_low = 1;
			if (d > hi - (hi - lo) / 4)
				saw_high = 1;
		}
		/* Jitter spreads over the whole range, not one value. */
		if (hi > lo && (!saw_low || !saw_high))
			fail_msg("attempts %d: no spread over [%lld, %lld]",
			    n, lo, hi);
	}
	config_unref(cf);
}

static void
test_cap_doubles(void **state)
{
	struct config	*cf = config_default();
	long long	 min = 60000, want;
	int		 n;

	/* 1m, 2m, 4m, 8m, 16m, 32m, then 1h for ever. */
	const long long caps[] = { 60000, 120000, 240000, 480000, 960000,
	    1920000, 3600000, 3600000, 3600000 };

	for (n = 1; n <= 9; n++) {
		want = caps[n - 1];
		assert_int_equal(retry_delay_ms(cf, n, (unsigned)(want - min)),
		    want);
		/* One more wraps to the bottom: the cap is exactly want. */
		assert_int_equal(retry_delay_ms(cf, n,
		    (unsigned)(want - min + 1)), min);
		assert_int_equal(retry_delay_ms(cf, n, 0), min);
	}
	/* Far past the cap, no overflow in the doubling. */
	assert_int_equal(retry_delay_ms(cf, 1000000, 3540000u), 3600000);
	assert_int_equal(retry_delay_ms(cf, 0x7fffffff, 3540000u), 3600000);
	config_unref(cf);
}

static void
test_min_equals_max(void **state)
{
	struct config	*cf = config_default();
	unsigned	 s = 7;
	int		 n;

	cf->retry_min = cf->retry_max = 30;
	for (n = 1; n < 50; n++)
		assert_int_equal(retry_delay_ms(cf, n, rnd_next(&s)), 30000);

	/* A max that is not a power-of-two multiple of min is still the cap. */
	cf->retry_min = 60;
	cf->retry_max = 300;
	assert_int_equal(retry_delay_ms(cf, 3, 180000u), 240000);
	assert_int_equal(retry_delay_ms(cf, 4, 240000u), 300000);
	assert_int_equal(retry_delay_ms(cf, 4, 240001u), 60000);
	assert_int_equal(retry_delay_ms(cf, 5, 240000u), 300000);
	config_unref(cf);
}

static void
test_next(void **state)
{
	struct config	*cf = config_default();
	long long	 now = 1795000000000LL;

	/* No deadline (0): always a time. */
	assert_int_equal(retry_next_ms(cf, 1, now, 0, 0), now + 60000);
	/* Well before the deadline. */
	assert_int_equal(retry_next_ms(cf, 1, now, now + 3600000, 0),
	    now + 60000);
	/* Just before it. */
	assert_int_equal(retry_next_ms(cf, 1, now, now + 60001, 0),
	    now + 60000);
	/* At it, or after: expired. */
	assert_int_equal(retry_next_ms(cf, 1, now, now + 60000, 0), -1);
	assert_int_equal(retry_next_ms(cf, 1, now, now + 59999, 0), -1);
	assert_int_equal(retry_next_ms(cf, 1, now, now, 0), -1);
	assert_int_equal(retry_next_ms(cf, 1, now, now - 1000, 0), -1);
	/* The jittered delay is the one compared. */
	assert_int_equal(retry_next_ms(cf, 3, now, now + 240000, 180000u), -1);
	assert_int_equal(retry_next_ms(cf, 3, now, now + 240001, 180000u),
	    now + 240000);
	config_unref(cf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_try),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_cap_doubles),
		cmocka_unit_test(test_min_equals_max),
		cmocka_unit_test(test_next),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
