/*
 * test_web.c: the pure parts of the pages server: form and query values
 * (web_param) and the pages server's head check (http_parse_page): GET,
 * HEAD and POST with a small Content-Length body only, the query kept
 * apart from the path, the health listener's rules unchanged.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http.h"
#include "web.h"

static int
param(const char *s, const char *name, char *out, size_t len)
{
	return web_param(s, strlen(s), name, out, len);
}

static void
test_param(void **state)
{
	char	v[16];

	assert_int_equal(param("t=abc&a=yes", "a", v, sizeof v), 1);
	assert_string_equal(v, "yes");
	assert_int_equal(param("t=abc&a=yes", "t", v, sizeof v), 1);
	assert_string_equal(v, "abc");
	assert_int_equal(param("ta=1&a=2", "a", v, sizeof v), 1);
	assert_string_equal(v, "2");
	assert_int_equal(param("t=abc", "a", v, sizeof v), 0);
	assert_int_equal(param("", "a", v, sizeof v), 0);
	/* Decoding: + and %XX; a bad escape is kept as it is. */
	assert_int_equal(param("d=2026-12-31&x=a+b%2Cc", "x", v, sizeof v), 1);
	assert_string_equal(v, "a b,c");
	assert_int_equal(param("x=%zz", "x", v, sizeof v), 1);
	assert_string_equal(v, "%zz");
	/* RFC 8058's body. */
	assert_int_equal(param("List-Unsubscribe=One-Click",
	    "List-Unsubscribe", v, sizeof v), 1);
	assert_string_equal(v, "One-Click");
	/* No value; a NUL; too long for out. */
	assert_int_equal(param("everything&x=1", "everything", v, sizeof v), 1);
	assert_string_equal(v, "");
	assert_int_equal(param("x=a%00b", "x", v, sizeof v), 0);
	assert_int_equal(param("x=0123456789abcdef", "x", v, sizeof v), 0);
}

static int
parse(const char *head, struct http_req *r)
{
	return http_parse_page(head, strlen(head), r);
}

static void
test_parse_page(void **state)
{
	struct http_req	r;

	assert_int_equal(parse("GET /answer?t=AbC-_&a=yes HTTP/1.1\r\n"
	    "Host: x\r\n\r\n", &r), 0);
	assert_int_equal(r.method, HTTP_GET);
	assert_string_equal(r.path, "/answer");
	assert_string_equal(r.query, "t=AbC-_&a=yes");
	assert_int_equal(r.content_length, -1);
	assert_int_equal(parse("HEAD /prefs HTTP/1.1\r\n\r\n", &r), 0);
	assert_string_equal(r.query, "");
	assert_int_equal(parse("POST /unsubscribe?t=x HTTP/1.1\r\n"
	    "Content-Type: application/x-www-form-urlencoded\r\n"
	    "Content-Length: 26\r\n\r\n", &r), 0);
	assert_int_equal(r.method, HTTP_POST);
	assert_int_equal(r.content_length, 26);
	assert_string_equal(r.content_type,
	    "application/x-www-form-urlencoded");
	/* Refusals. */
	assert_int_equal(parse("PUT /answer HTTP/1.1\r\n\r\n", &r), 405);
	assert_int_equal(parse("POST /answer HTTP/1.1\r\n\r\n", &r), 411);
	assert_int_equal(parse("POST /answer HTTP/1.1\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", &r), 411);
	assert_int_equal(parse("POST /answer HTTP/1.1\r\n"
	    "Content-Length: 4097\r\n\r\n", &r), 413);
	assert_int_equal(parse("POST /answer HTTP/1.1\r\n"
	    "Content-Length: 4096\r\n\r\n", &r), 0);
	assert_int_equal(parse("GET /answer HTTP/1.1\r\n"
	    "Content-Length: 5\r\n\r\n", &r), 413);
	assert_int_equal(parse("GET /answer HTTP/2.0\r\n\r\n", &r), 505);
	assert_int_equal(parse("GET answer HTTP/1.1\r\n\r\n", &r), 400);
	/* A query too long to keep is flagged, not cut silently. */
	{
		char	head[1200];

		snprintf(head, sizeof head, "GET /answer?t=%0700d HTTP/1.1\r\n"
		    "\r\n", 0);
		assert_int_equal(parse(head, &r), 0);
		assert_int_equal(r.query_long, 1);
	}
	/* The health listener still takes GET and HEAD only. */
	{
		const char *h = "POST /healthz HTTP/1.1\r\n"
		    "Content-Length: 0\r\n\r\n";

		assert_int_equal(http_parse(h, strlen(h), &r), 405);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_param),
		cmocka_unit_test(test_parse_page),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
