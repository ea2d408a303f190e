/*
 * test_duration.c: durations (duration.c), SPEC sections 2 and 7: "a number
 * and a unit: 45s, 30m, 2h, 7d", lists like "7d, 1d, 2h", and formatting
 * back to the largest exact unit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "duration.h"
#include "util.h"

static long long
parse_ok(const char *s)
{
	struct err	e;
	long long	v = -12345;

	memset(&e, 0, sizeof e);
	if (duration_parse(s, &v, &e) != 0)
		fail_msg("\"%s\": unexpected error: %s", s, e.msg);
	return v;
}

static void
parse_bad(const char *s, const char *want)
{
	struct err	e;
	long long	v = -12345;

	memset(&e, 0, sizeof e);
	if (duration_parse(s, &v, &e) != -1)
		fail_msg("\"%s\" was accepted as %lld", s, v);
	assert_int_equal(v, -12345);	/* untouched on failure */
	if (strstr(e.msg, want) == NULL)
		fail_msg("\"%s\": message \"%s\" lacks \"%s\"", s, e.msg, want);
}

static void
test_units(void **state)
{
	assert_int_equal(parse_ok("45s"), 45);
	assert_int_equal(parse_ok("30m"), 30 * 60);
	assert_int_equal(parse_ok("2h"), 2 * 3600);
	assert_int_equal(parse_ok("7d"), 7 * 86400);
	assert_int_equal(parse_ok("0s"), 0);
	assert_int_equal(parse_ok("0d"), 0);
	assert_int_equal(parse_ok("1s"), 1);
	assert_int_equal(parse_ok("90m"), 5400);
	/* Nine digits is the most; the result does not overflow. */
	assert_int_equal(parse_ok("999999999d"), 999999999LL * 86400);
	assert_int_equal(parse_ok("999999999s"), 999999999LL);
}

static void
test_bad(void **state)
{
	parse_bad("", "is not a duration");
	parse_bad("5x", "\"5x\" is not a duration");
	parse_bad("d", "\"d\" is not a duration");
	parse_bad("7", "\"7\" is not a duration");
	parse_bad("1.5h", "is not a duration");
	parse_bad("-1d", "is not a duration");
	parse_bad("+1d", "is not a duration");
	parse_bad(" 7d", "is not a duration");
	parse_bad("7d ", "is not a duration");
	parse_bad("7 d", "is not a duration");
	parse_bad("7D", "is not a duration");
	parse_bad("7dd", "is not a duration");
	parse_bad("7days", "is not a duration");
	parse_bad("1h30m", "is not a duration");
	parse_bad("99999999999d", "too long");
	parse_bad("1000000000s", "too long");
	/* The message tells the operator what a duration looks like. */
	parse_bad("soon", "45s, 30m, 2h, 7d");
}

static void
list_ok(const char *s, int nwant, const long long *want)
{
	struct err	e;
	long long	out[8];
	int		n = -1, i;

	memset(&e, 0, sizeof e);
	if (duration_parse_list(s, out, 8, &n, &e) != 0)
		fail_msg("\"%s\": unexpected error: %s", s, e.msg);
	assert_int_equal(n, nwant);
	for (i = 0; i < n; i++)
		assert_int_equal(out[i], want[i]);
}

static void
list_bad(const char *s, int max, const char *want)
{
	struct err	e;
	long long	out[8];
	int		n = -1;

	memset(&e, 0, sizeof e);
	if (duration_parse_list(s, out, max, &n, &e) != -1)
		fail_msg("\"%s\" was accepted (%d items)", s, n);
	if (strstr(e.msg, want) == NULL)
		fail_msg("\"%s\": message \"%s\" lacks \"%s\"", s, e.msg, want);
}

static void
test_lists(void **state)
{
	const long long	three[] = { 7 * 86400, 86400, 2 * 3600 };
	const long long	two[] = { 40, 20 };
	const long long	one[] = { 45 };

	list_ok("7d, 1d, 2h", 3, three);
	list_ok("7d,1d,2h", 3, three);
	list_ok("  7d ,\t1d ,2h  ", 3, three);
	list_ok("40s, 20s", 2, two);
	list_ok("45s", 1, one);
	list_ok(" 45s ", 1, one);
	list_ok("", 0, NULL);
	list_ok("   ", 0, NULL);

	list_bad("7d,,1d", 8, "is not a list of durations");
	list_bad("7d,", 8, "is not a list of durations");
	list_bad(",7d", 8, "is not a list of durations");
	list_bad("7d, 1x", 8, "\"1x\" is not a duration");
	list_bad("7d 1d", 8, "is not a duration");
	list_bad("1s,2s,3s", 2, "more than 2 durations");
	/* An item too long for the item buffer is an error, not a cut. */
	list_bad("1d, 11111111111111111111111111111111111111111111111111111111"
	    "111111111111s", 8, "is not a list of durations");
}

static void
format_is(long long secs, const char *want)
{
	char	buf[32];

	duration_format(secs, buf, sizeof buf);
	assert_string_equal(buf, want);
}

static void
test_format(void **state)
{
	const long long	 vals[] = { 0, 1, 45, 59, 60, 90, 120, 3599, 3600,
	    5400, 7200, 86399, 86400, 90000, 172800, 604800, 999999999LL * 86400 };
	char		 buf[32];
	size_t		 i;

	format_is(0, "0s");
	format_is(45, "45s");
	format_is(90, "90s");
	format_is(60, "1m");
	format_is(5400, "90m");
	format_is(7200, "2h");
	format_is(90000, "25h");
	format_is(86400, "1d");
	format_is(172800, "2d");
	format_is(604800, "7d");

	/* Round trips: what is formatted parses back to the same value. */
	for (i = 0; i < sizeof vals / sizeof vals[0]; i++) {
		duration_format(vals[i], buf, sizeof buf);
		assert_int_equal(parse_ok(buf), vals[i]);
	}
	/* And the other way, for canonical text. */
	{
		const char *txt[] = { "45s", "30m", "2h", "7d", "0s", "25h" };

		for (i = 0; i < sizeof txt / sizeof txt[0]; i++) {
			duration_format(parse_ok(txt[i]), buf, sizeof buf);
			assert_string_equal(buf, txt[i]);
		}
	}
	/* A short buffer is cut, never overrun. */
	{
		char small[3] = { 'x', 'x', 'x' };

		duration_format(172800, small, 2);
		assert_string_equal(small, "2");
		assert_int_equal(small[2], 'x');
	}
}

/* In words, for notices and digests: "1 minute", never "1m". */
static void
test_words(void **state)
{
	const struct {
		long long	 secs;
		const char	*want;
	} t[] = {
		{ 0, "0 seconds" }, { 1, "1 second" }, { 45, "45 seconds" },
		{ 60, "1 minute" }, { 90, "90 seconds" }, { 5400, "90 minutes" },
		{ 3600, "1 hour" }, { 7200, "2 hours" }, { 86400, "1 day" },
		{ 1209600, "14 days" }, { 2419200, "28 days" },
	};
	char	buf[64];
	size_t	i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		duration_words(t[i].secs, buf, sizeof buf);
		assert_string_equal(buf, t[i].want);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_units),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
