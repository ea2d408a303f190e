/*
 * test_clock.c: wall-clock parsing and formatting, clock changes, reminder
 * due times and quiet hours. Expected epochs were computed independently
 * (Python zoneinfo), not with clock.c.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "clock.h"

#define LON	"Europe/London"
#define H	3600LL
#define D	86400LL

static long long
parse_ok(const char *wall, const char *tz)
{
	struct err	e;
	long long	t = 0;

	memset(&e, 0, sizeof e);
	if (clock_parse_local(wall, tz, &t, &e) != 0)
		fail_msg("%s in %s: %s", wall, tz, e.msg);
	return t;
}

static void
parse_bad(const char *wall, const char *tz, const char *want)
{
	struct err	e;
	long long	t = 12345;

	memset(&e, 0, sizeof e);
	assert_int_equal(clock_parse_local(wall, tz, &t, &e), -1);
	assert_int_equal(t, 12345);
	if (strstr(e.msg, want) == NULL)
		fail_msg("%s: message \"%s\" lacks \"%s\"", wall, e.msg, want);
}

static void
test_parse_local(void **state)
{
	assert_int_equal(parse_ok("2026-12-10T17:30", LON), 1796923800LL);
	assert_int_equal(parse_ok("2026-12-10T17:30:00", LON), 1796923800LL);
	assert_int_equal(parse_ok("2026-12-10T17:30:15", LON), 1796923815LL);
	/* BST: one hour less than the same wall time in UTC */
	assert_int_equal(parse_ok("2026-06-15T09:00", LON), 1781510400LL);
	assert_int_equal(parse_ok("2026-06-15T08:00", "UTC"),
	    1781510400LL);
	assert_int_equal(parse_ok("2028-02-29T00:00", "UTC"), 1835395200LL);
}

static void
test_parse_malformed(void **state)
{
	const char	*bad[] = {
		"2026-13-01T18:00", "2026-02-29T10:00", "2026-04-31T10:00",
		"2026-12-10 17:30", "2026-12-10T24:00", "2026-12-10T17:3",
		"", "2026-12-10T17:30Z", "2026-12-10T17:30:60",
		"2026-12-10T17:30:5", "2026-12-10", "26-12-10T17:30",
		"2026-12-10T17:60", "2026-00-10T17:30", "+026-12-10T17:30",
		"2026-12-1OT17:30", NULL
	};
	int		 i;

	for (i = 0; bad[i] != NULL; i++)
		parse_bad(bad[i], LON, "is not a date and time");
}

static void
test_bad_zone(void **state)
{
	const char	*bad[] = {
		"Europe/Nowhere", "../zoneinfo/Europe/London", "", "/etc/passwd",
		"Europe/London/", "europe/london", "right/Europe/London",
		"Europe//London", "Europe/London ", "posixrules", NULL
	};
	int		 i;

	for (i = 0; bad[i] != NULL; i++) {
		if (clock_tz_valid(bad[i]))
			fail_msg("\"%s\" accepted as a zone", bad[i]);
		parse_bad("2026-12-10T17:30", bad[i], "is not a time zone");
	}
	assert_false(clock_tz_valid(NULL));
	assert_true(clock_tz_valid(LON));
	assert_true(clock_tz_valid("America/New_York"));
	assert_true(clock_tz_valid("UTC"));
	assert_true(clock_tz_is_utc("UTC"));
	assert_false(clock_tz_is_utc(LON));
}

static void
test_clock_change_london(void **state)
{
	struct err	e;
	long long	t;

	/* spring forward: 01:00 GMT -> 02:00 BST on 29 March 2026 */
	memset(&e, 0, sizeof e);
	assert_int_equal(clock_parse_local("2026-03-29T01:30", LON, &t, &e),
	    -1);
	assert_string_equal(e.msg, "2026-03-29T01:30 does not exist in "
	    "Europe/London (the clocks go forward)");
	parse_bad("2026-03-29T01:00", LON, "does not exist");
	parse_bad("2026-03-29T01:59:59", LON, "does not exist");
	assert_int_equal(parse_ok("2026-03-29T00:59", LON),
	    1774746000LL - 60);
	assert_int_equal(parse_ok("2026-03-29T02:00", LON), 1774746000LL);

	/* fall back: 01:30 happens twice on 25 October 2026; BST first */
	assert_int_equal(parse_ok("2026-10-25T01:30", LON), 1792888200LL);
	assert_int_not_equal(parse_ok("2026-10-25T01:30", LON),
	    1792891800LL);
	assert_int_equal(parse_ok("2026-10-25T02:00", LON),
	    1792888200LL + 3 * 1800);
}

static void
test_other_zones(void **state)
{
	char	buf[64];

	/* Sydney: 02:30 on 5 April 2026 happens twice; daylight first */
	assert_int_equal(parse_ok("2026-04-05T02:30", "Australia/Sydney"),
	    1775316600LL);
	parse_bad("2026-10-04T02:30", "Australia/Sydney", "does not exist");
	assert_int_equal(parse_ok("2026-10-04T03:00", "Australia/Sydney"),
	    1791043200LL);
	/* New York: a 7d reminder crosses the 8 March change */
	assert_int_equal(clock_reminder_due(
	    parse_ok("2026-03-10T12:00", "America/New_York"), 7 * D,
	    "America/New_York", -1, -1), 1772557200LL);
	clock_format_iso_local(1772557200LL, "America/New_York", buf,
	    sizeof buf);
	assert_string_equal(buf, "2026-03-03T12:00:00-05:00");
	clock_format_iso_local(1773158400LL, "America/New_York", buf,
	    sizeof buf);
	assert_string_equal(buf, "2026-03-10T12:00:00-04:00");
	clock_format_iso_local(1775316600LL, "Australia/Sydney", buf,
	    sizeof buf);
	assert_string_equal(buf, "2026-04-05T02:30:00+11:00");
	clock_format_iso_local(1775316600LL + 3600, "Australia/Sydney", buf,
	    sizeof buf);
	assert_string_equal(buf, "2026-04-05T02:30:00+10:00");
}

static void
test_parse_date(void **state)
{
	struct err	e;
	long long	t;

	memset(&e, 0, sizeof e);
	assert_int_equal(clock_parse_date("2026-12-01", LON, &t, &e), 0);
	assert_int_equal(t, 1796083200LL);
	assert_int_equal(clock_parse_date("2026-06-15", LON, &t, &e), 0);
	assert_int_equal(t, 1781478000LL);
	/* Santiago skips midnight on 6 September 2026: first moment 01:00 */
	assert_int_equal(clock_parse_date("2026-09-06", "America/Santiago",
	    &t, &e), 0);
	assert_int_equal(t, 1788667200LL);
	assert_int_equal(clock_parse_date("2026-02-30", LON, &t, &e), -1);
	assert_non_null(strstr(e.msg, "is not a date"));
	assert_int_equal(clock_parse_date("2026-12-01T00:00", LON, &t, &e),
	    -1);
	assert_int_equal(clock_parse_date("2026-12-01", "Mars/Olympus", &t,
	    &e), -1);
}

static void
test_format(void **state)
{
	char			buf[128];
	struct clock_local	cl;

	clock_format_human(1796923800LL, LON, buf, sizeof buf);
	assert_string_equal(buf, "Thursday 10 December 2026, 5:30pm");
	clock_format_human(parse_ok("2026-12-10T12:00", LON), LON, buf,
	    sizeof buf);
	assert_string_equal(buf, "Thursday 10 December 2026, 12 noon");
	clock_format_human(parse_ok("2026-12-11T00:00", LON), LON, buf,
	    sizeof buf);
	assert_string_equal(buf, "Friday 11 December 2026, 12 midnight");
	clock_format_human(parse_ok("2026-12-10T10:00", LON), LON, buf,
	    sizeof buf);
	assert_string_equal(buf, "Thursday 10 December 2026, 10am");
	clock_format_human(parse_ok("2026-12-10T00:05", LON), LON, buf,
	    sizeof buf);
	assert_string_equal(buf, "Thursday 10 December 2026, 12:05am");
	clock_format_human(parse_ok("2026-12-10T12:45", LON), LON, buf,
	    sizeof buf);
	assert_string_equal(buf, "Thursday 10 December 2026, 12:45pm");
	/* the same instant in summer time reads an hour later */
	clock_format_human(1781510400LL, LON, buf, sizeof buf);
	assert_string_equal(buf, "Monday 15 June 2026, 9am");
	clock_format_human(1781510400LL, "UTC", buf, sizeof buf);
	assert_string_equal(buf, "Monday 15 June 2026, 8am");

	clock_format_date(parse_ok("2026-12-01T09:00", LON), LON, buf,
	    sizeof buf);
	assert_string_equal(buf, "Tuesday 1 December 2026");
	clock_format_iso_utc(1796923800LL, buf, sizeof buf);
	assert_string_equal(buf, "2026-12-10T17:30:00Z");
	clock_format_iso_local(1796923800LL, LON, buf, sizeof buf);
	assert_string_equal(buf, "2026-12-10T17:30:00+00:00");
	clock_format_iso_local(1781510400LL, LON, buf, sizeof buf);
	assert_string_equal(buf, "2026-06-15T09:00:00+01:00");

	/* a small buffer truncates, never overflows */
	clock_format_human(1796923800LL, LON, buf, 9);
	assert_string_equal(buf, "Thursday");

	clock_local(1796923800LL, LON, &cl);
	assert_int_equal(cl.wday, 4);
	assert_int_equal(cl.offset, 0);
	assert_int_equal(clock_local_minutes(1781510400LL, LON), 540);
	assert_int_equal(clock_local_minutes(1781510400LL, "UTC"), 480);
	/* before 1970 */
	clock_format_iso_utc(-1, buf, sizeof buf);
	assert_string_equal(buf, "1969-12-31T23:59:59Z");
}

static void
test_format_range(void **state)
{
	char	buf[160];

	clock_format_range(1796923800LL, 1796931000LL, LON, buf, sizeof buf);
	assert_string_equal(buf,
	    "Thursday 10 December 2026, 5:30pm to 7:30pm");
	clock_format_range(1796943600LL, 1796950800LL, LON, buf, sizeof buf);
	assert_string_equal(buf, "Thursday 10 December 2026, 11pm to "
	    "Friday 11 December 2026, 1am");
	clock_format_range(parse_ok("2026-12-10T10:00", LON),
	    parse_ok("2026-12-10T12:00", LON), LON, buf, sizeof buf);
	assert_string_equal(buf,
	    "Thursday 10 December 2026, 10am to 12 noon");
}

static void
test_reminder_days(void **state)
{
	long long	start, due;
	char		buf[64];

	/* 7d before Thursday 2 April 17:30 BST: Thursday 26 March 17:30 GMT */
	start = parse_ok("2026-04-02T17:30", LON);
	assert_int_equal(start, 1775147400LL);
	due = clock_reminder_due(start, 7 * D, LON, -1, -1);
	assert_int_equal(due, 1774546200LL);
	assert_int_equal(start - due, 7 * D - H);
	clock_format_human(due, LON, buf, sizeof buf);
	assert_string_equal(buf, "Thursday 26 March 2026, 5:30pm");

	/* 1d before Monday 26 October 10:00 GMT: Sunday 25 October 10:00
	 * GMT. The clocks went back at 02:00 BST that Sunday morning, so both
	 * are GMT and the difference is exactly 24h. */
	start = parse_ok("2026-10-26T10:00", LON);
	due = clock_reminder_due(start, D, LON, -1, -1);
	assert_int_equal(due, 1792922400LL);
	assert_int_equal(start - due, 24 * H);
	/* 1d before Sunday 25 October 10:00 GMT: Saturday 24 October 10:00
	 * BST, 25h earlier */
	start = parse_ok("2026-10-25T10:00", LON);
	due = clock_reminder_due(start, D, LON, -1, -1);
	assert_int_equal(start - due, 25 * H);
	clock_format_iso_local(due, LON, buf, sizeof buf);
	assert_string_equal(buf, "2026-10-24T10:00:00+01:00");

	/* hours are exact seconds, even across the change */
	start = parse_ok("2026-03-29T03:00", LON);
	assert_int_equal(clock_reminder_due(start, 2 * H, LON, -1, -1),
	    start - 7200);
	start = parse_ok("2026-10-25T02:30", LON);
	assert_int_equal(clock_reminder_due(start, 2 * H, LON, -1, -1),
	    start - 7200);
	/* 90s and 25h are not whole days */
	assert_int_equal(clock_reminder_due(start, 90, LON, -1, -1),
	    start - 90);
	assert_int_equal(clock_reminder_due(start, 25 * H, LON, -1, -1),
	    start - 25 * H);

	/* 1d before 30 March 01:30 BST: 29 March 01:30 does not exist, so
	 * the moment just after the gap, 02:00 BST */
	start = parse_ok("2026-03-30T01:30", LON);
	assert_int_equal(start, 1774830600LL);
	assert_int_equal(clock_reminder_due(start, D, LON, -1, -1),
	    1774746000LL);

	/* never at or after the start */
	assert_int_equal(clock_reminder_due(start, 0, LON, -1, -1), -1);
	assert_int_equal(clock_reminder_due(start, -60, LON, -1, -1), -1);
}

static void
test_reminder_quiet(void **state)
{
	struct err	e;
	int		qs, qe;
	long long	start;

	memset(&e, 0, sizeof e);
	assert_int_equal(clock_parse_quiet("21:00-08:00", &qs, &qe, &e), 0);
	assert_int_equal(qs, 1260);
	assert_int_equal(qe, 480);

	/* 1d before 09:00: 09:00, not quiet */
	start = parse_ok("2026-06-15T09:00", LON);
	assert_int_equal(clock_reminder_due(start, D, LON, qs, qe),
	    parse_ok("2026-06-14T09:00", LON));
	/* 2h before 09:00: 07:00 is quiet, moves to 08:00 */
	assert_int_equal(clock_reminder_due(start, 2 * H, LON, qs, qe),
	    1781506800LL);
	/* 2h before 08:30: 06:30 quiet, 08:00 is before the start */
	start = parse_ok("2026-06-15T08:30", LON);
	assert_int_equal(clock_reminder_due(start, 2 * H, LON, qs, qe),
	    1781506800LL);
	/* 1h before 08:00: 07:00 quiet, 08:00 is not before the start, so
	 * the start of those quiet hours, 21:00 the evening before */
	start = parse_ok("2026-06-15T08:00", LON);
	assert_int_equal(clock_reminder_due(start, H, LON, qs, qe),
	    1781467200LL);
	/* 30m before 21:10: 20:40, not quiet */
	start = parse_ok("2026-06-15T21:10", LON);
	assert_int_equal(clock_reminder_due(start, 1800, LON, qs, qe),
	    1781552400LL);
	/* 5m before 21:10: 21:05 quiet; 08:00 tomorrow is too late; 21:00 */
	assert_int_equal(clock_reminder_due(start, 300, LON, qs, qe),
	    parse_ok("2026-06-15T21:00", LON));
	/* 2h before 23:30: 21:30 quiet (evening side); 21:00 same day */
	start = parse_ok("2026-06-15T23:30", LON);
	assert_int_equal(clock_reminder_due(start, 2 * H, LON, qs, qe),
	    parse_ok("2026-06-15T21:00", LON));
	/* 1d before 10:00 Tuesday with quiet 21:00-08:00 is fine, but 12h
	 * before 10:00 is 22:00 the evening before: moves to 08:00 */
	start = parse_ok("2026-06-16T10:00", LON);
	assert_int_equal(clock_reminder_due(start, 12 * H, LON, qs, qe),
	    parse_ok("2026-06-16T08:00", LON));
	/* without quiet hours the same reminder stays at 22:00 */
	assert_int_equal(clock_reminder_due(start, 12 * H, LON, -1, -1),
	    parse_ok("2026-06-15T22:00", LON));

	/* quiet hours that do not wrap midnight */
	assert_int_equal(clock_parse_quiet("12:00-14:00", &qs, &qe, &e), 0);
	start = parse_ok("2026-06-15T14:30", LON);
	assert_int_equal(clock_reminder_due(start, H, LON, qs, qe),
	    parse_ok("2026-06-15T14:00", LON));
	start = parse_ok("2026-06-15T13:30", LON);
	assert_int_equal(clock_reminder_due(start, H, LON, qs, qe),
	    parse_ok("2026-06-15T12:00", LON));
	assert_int_equal(clock_reminder_due(start, 2 * H, LON, qs, qe),
	    parse_ok("2026-06-15T11:30", LON));
}

static void
test_parse_quiet(void **state)
{
	struct err	 e;
	int		 qs, qe, i;
	const char	*bad[] = {
		"21-08", "25:00-08:00", "21:00-21:00", "21:00", "21:00-08:00x",
		"21:00-08:60", "9:00-17:00", "21:00--08:00", "-", "nothing",
		NULL
	};

	memset(&e, 0, sizeof e);
	assert_int_equal(clock_parse_quiet(" 22:30 - 07:15 ", &qs, &qe, &e),
	    0);
	assert_int_equal(qs, 1350);
	assert_int_equal(qe, 435);
	assert_int_equal(clock_parse_quiet("", &qs, &qe, &e), 0);
	assert_int_equal(qs, -1);
	assert_int_equal(qe, -1);
	qs = qe = 0;
	assert_int_equal(clock_parse_quiet("none", &qs, &qe, &e), 0);
	assert_int_equal(qs, -1);
	assert_int_equal(qe, -1);
	for (i = 0; bad[i] != NULL; i++) {
		qs = qe = 7;
		e.msg[0] = '\0';
		if (clock_parse_quiet(bad[i], &qs, &qe, &e) != -1)
			fail_msg("\"%s\" accepted", bad[i]);
		assert_int_equal(qs, 7);
		assert_true(e.msg[0] != '\0');
	}
}

/* Several threads at once, in several zones, must agree with one thread. */
static void *
worker(void *arg)
{
	static const char *const	 zones[] = { LON, "America/New_York",
	    "Australia/Sydney", "Asia/Tokyo", "Europe/Paris" };
	long long			*ok = arg, t;
	char				 buf[128];
	int				 i;

	for (i = 0; i < 2000; i++) {
		const char	*tz = zones[i % 5];
		struct err	 e;

		if (clock_parse_local("2030-07-01T12:00", tz, &t, &e) != 0)
			return NULL;
		clock_format_iso_local(t, tz, buf, sizeof buf);
		if (strncmp(buf, "2030-07-01T12:00:00", 19) != 0)
			return NULL;
		if (clock_reminder_due(t, 7 * D, tz, -1, -1) <= 0)
			return NULL;
	}
	*ok = 1;
	return NULL;
}

static void
test_threads(void **state)
{
	pthread_t	th[4];
	long long	ok[4] = { 0 };
	int		i;

	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&th[i], NULL, worker, &ok[i]),
		    0);
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(ok[i], 1);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_local),
		cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_bad_zone),
		cmocka_unit_test(test_clock_change_london),
		cmocka_unit_test(test_other_zones),
		cmocka_unit_test(test_parse_date),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_format_range),
		cmocka_unit_test(test_reminder_days),
		cmocka_unit_test(test_reminder_quiet),
		cmocka_unit_test(test_parse_quiet),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
