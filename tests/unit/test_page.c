/*
 * test_page.c: the pages of SPEC section 9 rendered from the shipped
 * templates (config/templates/page_*) on the contexts daemon/page.c
 * builds: the words by format, the markup qualities (lang, <main>, labels,
 * forms that POST with the token in a hidden field, no script), every
 * message the daemon can show, and page_check / tmplset refusing a set
 * without a page.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "page.h"
#include "tmpl_fixture.h"

/* Render and return the page (free it); fails the test on an error. */
static char *
render(void **state, const char *kind, const char *fmt, json_t *ctx)
{
	struct buf	b;
	struct err	e;

	buf_init(&b);
	if (page_render(*state, kind, fmt, ctx, &b, &e) == -1)
		fail_msg("%s %s: %s", kind, fmt, e.msg);
	json_decref(ctx);
	return buf_take(&b);
}

static void
has(const char *page, const char *s)
{
	if (strstr(page, s) == NULL)
		fail_msg("missing \"%s\" in:\n%s", s, page);
}

static void
hasnt(const char *page, const char *s)
{
	if (strstr(page, s) != NULL)
		fail_msg("unexpected \"%s\" in:\n%s", s, page);
}

/* What every page has. */
static void
common(const char *p)
{
	has(p, "<!DOCTYPE html>");
	has(p, "<html lang=\"en-GB\">");
	has(p, "<main>");
	has(p, "</main>");
	has(p, "<title>");
	has(p, "<h1>");
	hasnt(p, "<script");
	hasnt(p, "{{");
	hasnt(p, "}}");
	hasnt(p, "<h1></h1>");
	hasnt(p, "<title></title>");
}

static void
test_answer(void **state)
{
	char	*p;
	json_t	*now;

	p = render(state, "page_answer", "standard", page_answer_ctx(
	    "standard", "TOK", "no", 0, "Forum <one>", "Thursday", NULL));
	common(p);
	has(p, "font-size:1.15rem");
	has(p, "<title>Your answer</title>");
	has(p, "Send my answer: I can\u2019t come</button>");
	has(p, "<form method=\"post\" action=\"answer?t=TOK&amp;a=no\">");
	has(p, "<input type=\"hidden\" name=\"t\" value=\"TOK\">");
	has(p, "<input type=\"hidden\" name=\"a\" value=\"no\">");
	has(p, "Forum &lt;one&gt;");
	has(p, "<a href=\"answer?t=TOK&amp;a=yes\">I can come</a>");
	has(p, "<a href=\"answer?t=TOK&amp;a=maybe\">I am not sure yet</a>");
	hasnt(p, "<a href=\"answer?t=TOK&amp;a=no\">");
	hasnt(p, "Your answer now");
	free(p);

	/* Easy read words; the current answer, and a stale one. */
	now = json_pack("{s:s}", "a", "no");
	p = render(state, "page_answer", "easy-read", page_answer_ctx(
	    "easy-read", "TOK", "yes", 0, "Forum", "Thursday", now));
	common(p);
	has(p, "font-size:1.4rem");
	has(p, "<h1>Can you come to the meeting?</h1>");
	has(p, "Your answer now: <strong>I cannot come</strong>");
	json_object_set_new(now, "stale", json_true());
	free(p);
	p = render(state, "page_answer", "large-print", page_answer_ctx(
	    "large-print", "TOK", "yes", 0, "Forum", "Thursday", now));
	common(p);
	has(p, "font-size:1.75rem");
	has(p, "Before the meeting changed, you said: <strong>I can\u2019t "
	    "come</strong>");
	json_decref(now);
	free(p);

	/* After the POST. */
	p = render(state, "page_answer", "standard", page_answer_ctx(
	    "standard", "TOK", "no", 1, "Forum", "Thursday", NULL));
	common(p);
	has(p, "We have your answer: <strong>I can\u2019t come</strong>.");
	has(p, "we have told the organiser");
	hasnt(p, "<form");
	free(p);
	p = render(state, "page_answer", "easy-read", page_answer_ctx(
	    "easy-read", "TOK", "yes", 1, "Forum", "Thursday", NULL));
	has(p, "We have your answer: <strong>I can come</strong>.");
	hasnt(p, "told the organiser");
	free(p);
}

static void
test_prefs(void **state)
{
	char	*p;
	json_t	*prefs, *collab;
	char	 ms[32];

	prefs = json_pack("{s:s,s:s}", "stop:outcomes", "1", "consent",
	    "false");
	snprintf(ms, sizeof ms, "%lld", util_now_ms() + 10LL * 86400000);
	json_object_set_new(prefs, "pause_until", json_string(ms));
	collab = json_pack("{s:s}", "format", "large-print");
	p = render(state, "page_prefs", "large-print", page_prefs_ctx(
	    "large-print", "TOK", 0, prefs, collab, "Europe/London"));
	common(p);
	has(p, "font-size:1.75rem");
	has(p, "<form method=\"post\" action=\"prefs?t=TOK\">");
	has(p, "<input type=\"hidden\" name=\"t\" value=\"TOK\">");
	has(p, "value=\"large-print\" checked><label for=\"f-large-print\">"
	    "Large print</label>");
	has(p, "value=\"standard\"><label for=\"f-standard\">Standard</label>");
	has(p, "id=\"s-outcomes\" value=\"1\" checked><label "
	    "for=\"s-outcomes\">Stop \u201cyou said, we did\u201d emails");
	has(p, "id=\"s-meetings\" value=\"1\"><label for=\"s-meetings\">Stop "
	    "meeting invitations, updates and reminders");
	has(p, "id=\"all\" value=\"1\" checked>");
	has(p, "<label for=\"pause\">");
	has(p, "name=\"pause_until\" value=\"20");	/* a date */
	has(p, "<title>Your email choices</title>");
	free(p);
	json_object_set_new(prefs, "format", json_string("easy-read"));
	p = render(state, "page_prefs", "easy-read", page_prefs_ctx(
	    "easy-read", "TOK", 1, prefs, collab, "Europe/London"));
	common(p);
	has(p, "<h1>Your choices are saved</h1>");
	has(p, "value=\"easy-read\" checked>");
	free(p);
	json_decref(prefs);
	json_decref(collab);
}

static void
test_unsub(void **state)
{
	char	*p;

	p = render(state, "page_unsub", "standard", page_unsub_ctx("standard",
	    "TOK", "announcements", 0));
	common(p);
	has(p, "<form method=\"post\" action=\"unsubscribe?t=TOK\">");
	has(p, "<input type=\"hidden\" name=\"t\" value=\"TOK\">");
	has(p, "<input type=\"hidden\" name=\"List-Unsubscribe\" "
	    "value=\"One-Click\">");
	has(p, "<button type=\"submit\">Stop announcements</button>");
	free(p);
	p = render(state, "page_unsub", "easy-read", page_unsub_ctx(
	    "easy-read", "TOK", "meetings", 1));
	common(p);
	has(p, "We will send you no more meeting invitations, updates and "
	    "reminders.");
	hasnt(p, "<form");
	free(p);
}

/* Every message the daemon shows has its title and text. */
static void
test_messages(void **state)
{
	static const char *const whys[] = { "link_expired", "link_wrong",
	    "link_incomplete", "unsub_incomplete", "not_found", "unavailable",
	    "answer_not_saved", "choice_not_saved", "meeting_gone",
	    "meeting_broken", "meeting_cancelled", "meeting_started",
	    "no_emails", "choices_wrong" };
	size_t	 i;
	char	*p;

	for (i = 0; i < sizeof whys / sizeof whys[0]; i++) {
		p = render(state, "page_message", "easy-read",
		    page_message_ctx("easy-read", whys[i]));
		common(p);
		hasnt(p, "<p></p>");
		free(p);
	}
	p = render(state, "page_message", "standard", page_message_ctx(
	    "standard", "link_expired"));
	has(p, "<h1>This link has expired</h1>");
	free(p);
}

static void
write_file(const char *dir, const char *name, const char *text)
{
	char	path[512];
	FILE	*f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

/* A set without the pages is refused by page_check; a page kind needs
 * only its standard html, and that one it needs. */
static void
test_check(void **state)
{
	char		 dir[] = "/tmp/hb-test-page-XXXXXX", cmd[600];
	struct tmplset	*t;
	struct err	 e;

	assert_int_equal(page_check(*state, &e), 0);
	assert_non_null(mkdtemp(dir));
	write_file(dir, "x.standard.subject", "s");
	write_file(dir, "x.standard.txt", "t");
	write_file(dir, "x.standard.html", "<p>h</p>");
	assert_non_null(t = tmplset_load(dir, &e));
	assert_int_equal(page_check(t, &e), -1);
	assert_non_null(strstr(e.msg, "page_answer.standard.html"));
	tmplset_unref(t);
	write_file(dir, "page_answer.easy-read.html", "<p>h</p>");
	assert_null(tmplset_load(dir, &e));
	assert_non_null(strstr(e.msg, "page_answer.standard.html"));
	write_file(dir, "page_answer.standard.html", "<p>h</p>");
	assert_non_null(t = tmplset_load(dir, &e));
	assert_non_null(tmplset_get(t, "page_answer", "easy-read", "html"));
	tmplset_unref(t);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_answer),
		cmocka_unit_test(test_prefs),
		cmocka_unit_test(test_unsub),
		cmocka_unit_test(test_messages),
		cmocka_unit_test(test_check),
	};

	return cmocka_run_group_tests(tests, tmpl_fixture_setup,
	    tmpl_fixture_teardown);
}
