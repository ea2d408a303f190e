/*
 * test_token.c: the tokens in links (token.c, SPEC section 9): a token
 * opens to what was sealed; a changed byte, another key, another purpose
 * or a time past its expiry is refused with the right status; nothing of
 * the person's id shows in the text; every token differs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "token.h"
#include "util.h"

static const char key[] = "0123456789abcdef0123456789abcdef";

static struct token
tok(enum token_purpose p, const char *person, const char *subject,
    long long expires)
{
	struct token	t;

	memset(&t, 0, sizeof t);
	t.purpose = p;
	t.expires = expires;
	snprintf(t.person, sizeof t.person, "%s", person);
	snprintf(t.subject, sizeof t.subject, "%s", subject);
	return t;
}

static void
test_round_trip(void **state)
{
	struct token	t = tok(TOKEN_ANSWER, "c-alice", "m-2026-forum",
			    2000000000LL), o;
	char		*s, *s2;
	const char	*c;

	assert_non_null(s = token_make(key, &t, NULL));
	for (c = s; *c; c++)
		assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklm"
		    "nopqrstuvwxyz0123456789-_", *c));
	/* Nothing readable: not the id, nor its base64. */
	assert_null(strstr(s, "alice"));
	assert_null(strstr(s, "YWxpY2")); /* base64 "alice" */
	assert_int_equal(token_open(key, s, TOKEN_ANSWER, 1900000000LL, &o),
	    TOKEN_OK);
	assert_int_equal(o.purpose, TOKEN_ANSWER);
	assert_int_equal(o.expires, 2000000000LL);
	assert_string_equal(o.person, "c-alice");
	assert_string_equal(o.subject, "m-2026-forum");
	/* A fresh IV each time. */
	assert_non_null(s2 = token_make(key, &t, NULL));
	assert_string_not_equal(s, s2);
	assert_int_equal(token_open(key, s2, TOKEN_ANSWER, 0, &o), TOKEN_OK);
	free(s);
	free(s2);

	/* An empty subject and the longest ids. */
	t = tok(TOKEN_PREFS, "p", "", 10);
	assert_non_null(s = token_make(key, &t, NULL));
	assert_int_equal(token_open(key, s, TOKEN_PREFS, 9, &o), TOKEN_OK);
	assert_string_equal(o.subject, "");
	free(s);
	memset(&t, 0, sizeof t);
	t.purpose = TOKEN_UNSUB;
	t.expires = 10;
	memset(t.person, 'x', TOKEN_ID_MAX);
	memset(t.subject, 'y', TOKEN_ID_MAX);
	assert_non_null(s = token_make(key, &t, NULL));
	assert_int_equal(token_open(key, s, TOKEN_UNSUB, 9, &o), TOKEN_OK);
	assert_int_equal(strlen(o.person), TOKEN_ID_MAX);
	assert_int_equal(strlen(o.subject), TOKEN_ID_MAX);
	free(s);
}

static void
test_refused(void **state)
{
	struct token	t = tok(TOKEN_UNSUB, "c-bob", "announcements", 1000),
			o;
	char		*s, *bad;
	size_t		i, n;
	struct err	e;

	assert_non_null(s = token_make(key, &t, NULL));
	n = strlen(s);
	/* Every single changed character is refused (forged or garbled). */
	for (i = 0; i < n; i++) {
		bad = xstrdup(s);
		bad[i] = bad[i] == 'A' ? 'B' : 'A';
		assert_true(token_open(key, bad, TOKEN_UNSUB, 0, &o) < 0);
		assert_string_equal(o.person, "");
		free(bad);
	}
	/* Cut short, longer, with padding or foreign characters. */
	bad = xstrndup(s, n - 4);
	assert_true(token_open(key, bad, TOKEN_UNSUB, 0, &o) < 0);
	free(bad);
	bad = xasprintf("%sAAAA", s);
	assert_int_equal(token_open(key, bad, TOKEN_UNSUB, 0, &o),
	    TOKEN_FORGED);
	free(bad);
	bad = xasprintf("%s=", s);
	assert_int_equal(token_open(key, bad, TOKEN_UNSUB, 0, &o),
	    TOKEN_MALFORMED);
	free(bad);
	assert_int_equal(token_open(key, "", TOKEN_UNSUB, 0, &o),
	    TOKEN_MALFORMED);
	assert_int_equal(token_open(key, "a+b/", TOKEN_UNSUB, 0, &o),
	    TOKEN_MALFORMED);
	assert_int_equal(token_open(key, NULL, TOKEN_UNSUB, 0, &o),
	    TOKEN_MALFORMED);
	/* Another key: forged. */
	assert_int_equal(token_open("another key, just as long!!", s,
	    TOKEN_UNSUB, 0, &o), TOKEN_FORGED);
	/* Another purpose: wrong. */
	assert_int_equal(token_open(key, s, TOKEN_ANSWER, 0, &o), TOKEN_WRONG);
	assert_int_equal(token_open(key, s, TOKEN_PREFS, 0, &o), TOKEN_WRONG);
	/* Expiry: good up to the second before, refused from then. */
	assert_int_equal(token_open(key, s, TOKEN_UNSUB, 999, &o), TOKEN_OK);
	assert_int_equal(token_open(key, s, TOKEN_UNSUB, 1000, &o),
	    TOKEN_EXPIRED);
	assert_string_equal(o.person, "c-bob");	/* for the page's format */
	free(s);

	/* Statuses the pages answer with. */
	assert_int_equal(token_http_status(TOKEN_OK), 200);
	assert_int_equal(token_http_status(TOKEN_MALFORMED), 400);
	assert_int_equal(token_http_status(TOKEN_FORGED), 403);
	assert_int_equal(token_http_status(TOKEN_WRONG), 403);
	assert_int_equal(token_http_status(TOKEN_EXPIRED), 410);

	/* Ids that do not fit are refused when making. */
	t = tok(TOKEN_PREFS, "", "", 1);
	assert_null(token_make(key, &t, &e));
	assert_non_null(strstr(e.msg, "token"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
