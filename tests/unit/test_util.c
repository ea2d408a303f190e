/*
 * test_util.c: the quoting every message that repeats input goes through,
 * the clock that tests move, and membership of a JSON array.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "util.h"

/* Controls, C1, and what hides or reorders text are escaped; the rest of
 * UTF-8 is kept as it is. */
static void
test_quote_escapes(void **state)
{
	char	b[256];

	assert_string_equal(util_quote(b, sizeof b, "a\"b\\c", 100),
	    "\"a\\\"b\\\\c\"");
	assert_string_equal(util_quote(b, sizeof b, "x\ny\x1b[2J", 100),
	    "\"x\\ny\\u001b[2J\"");
	assert_string_equal(util_quote(b, sizeof b, "c1\xc2\x85", 100),
	    "\"c1\\u0085\"");
	/* U+202E (right-to-left override), U+200B (zero width space),
	 * U+FEFF, U+2066 (left-to-right isolate), U+061C */
	assert_string_equal(util_quote(b, sizeof b,
	    "a\xe2\x80\xae" "b\xe2\x80\x8b" "c\xef\xbb\xbf" "d\xe2\x81\xa6"
	    "e\xd8\x9c", 100),
	    "\"a\\u202eb\\u200bc\\ufeffd\\u2066e\\u061c\"");
	assert_string_equal(util_quote(b, sizeof b, "Zoë 東京", 100),
	    "\"Zoë 東京\"");
	assert_string_equal(util_quote(b, sizeof b, "bad\xff", 100),
	    "\"bad\\xff\"");
	/* Cut at max characters, never inside one. */
	assert_string_equal(util_quote(b, sizeof b, "éééé", 2), "\"éé...\"");
}

/* HEARBACK_TEST_CLOCK: the offset in the file is added, and a change to
 * the file is seen. Runs in its own process (the clock is read once). */
static void
test_clock_offset(void **state)
{
	char		 path[] = "/tmp/hb-clock-XXXXXX";
	long long	 a, b;
	FILE		*f;
	int		 fd;

	assert_true((fd = mkstemp(path)) >= 0);
	close(fd);
	assert_non_null(f = fopen(path, "w"));
	fprintf(f, "3600000\n");
	fclose(f);
	setenv("HEARBACK_TEST_CLOCK", path, 1);
	a = util_now_ms();
	b = (long long)time(NULL) * 1000;
	assert_true(a - b > 3590000 && a - b < 3610000);

	assert_non_null(f = fopen(path, "w"));
	fprintf(f, "-86400000\n");
	fclose(f);
	usleep(50000);		/* longer than the re-read interval */
	a = util_now_ms();
	b = (long long)time(NULL) * 1000;
	assert_true(b - a > 86390000 && b - a < 86410000);
	unlink(path);
}

/* util_json_has: only a member string equal to s counts; whatever is not
 * an array has no members. */
static void
test_json_has(void **state)
{
	json_t	*a = json_pack("[s, i, n, [s], {s:s}, s, s]", "carers",
	    7, "staff", "staff", "staff", "Staff", "forum");
	json_t	*o = json_pack("{s:s}", "staff", "staff");
	json_t	*str = json_string("staff");

	assert_non_null(a);
	assert_true(util_json_has(a, "carers"));	/* first */
	assert_true(util_json_has(a, "forum"));		/* last, after others */
	assert_true(util_json_has(a, "Staff"));
	/* Inside a nested array or an object is not in the array. */
	assert_false(util_json_has(a, "staff"));
	assert_false(util_json_has(a, "carer"));
	assert_false(util_json_has(a, "carers "));
	assert_false(util_json_has(a, ""));
	assert_false(util_json_has(a, "7"));

	json_array_append_new(a, json_string(""));
	assert_true(util_json_has(a, ""));

	assert_false(util_json_has(NULL, "staff"));
	assert_false(util_json_has(o, "staff"));
	assert_false(util_json_has(str, "staff"));
	json_decref(str);
	json_decref(o);
	json_decref(a);
	a = json_array();
	assert_false(util_json_has(a, "staff"));
	json_decref(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quote_escapes),
		cmocka_unit_test(test_clock_offset),
		cmocka_unit_test(test_json_has),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
