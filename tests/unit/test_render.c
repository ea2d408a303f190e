/*
 * test_render.c: render_email over the shipped templates (config/templates,
 * run from the repository root): every format of an announcement, a notice,
 * escaping, the large-print size, and refusals.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "render.h"
#include "tmpl.h"
#include "util.h"
#include "tmpl_fixture.h"

static const char *formats[] = {
	"standard", "easy-read", "large-print", "plain-text"
};

static const char *ann_ctx =
    "{\"lang\": \"en-GB\", \"format\": \"standard\","
    " \"recipient\": {\"name\": \"Amara Okafor\", \"id\": \"c-amara\"},"
    " \"team\": {\"name\": \"Forum team\", \"email\": \"forum@example.org\"},"
    " \"reply_to\": {\"name\": \"Jo Patel\", \"email\": \"jo@example.org\"},"
    " \"announcement\": {\"subject\": \"Help us rewrite the discharge letter\","
    "   \"paragraphs\": [\"First para about the letter & why.\","
    "                    \"Second para.\\nWith a line break.\"]}}";

static const char *notice_ctx =
    "{\"lang\": \"en-GB\", \"recipient\": {\"name\": \"Coordinator\"},"
    " \"team\": {\"name\": \"Forum team\", \"email\": \"forum@example.org\"},"
    " \"notice\": {\"title\": \"A record was rejected\","
    "   \"lines\": [\"m.json[2].start: not a date\", \"Fix it and queue it again.\"],"
    "   \"record_id\": \"m-1\"}}";

static void
must_render(void **state, const char *kind, const char *format, json_t *ctx,
    struct rendered *r)
{
	struct err	e = { .msg = "" };

	if (render_email(*state, kind, format, ctx, r, &e) == -1)
		fail_msg("%s %s: %s", kind, format, e.msg);
}

/* The largest "font-size:NNpx" in the body tag's style. */
static int
body_px(const char *html)
{
	const char	*b, *end, *p;

	assert_non_null(b = strstr(html, "<body"));
	assert_non_null(end = strchr(b, '>'));
	if ((p = strstr(b, "font-size:")) == NULL || p > end)
		return 0;
	return atoi(p + strlen("font-size:"));
}

/* The "line-height:N" in the body tag's style (0 without one). */
static double
body_line_height(const char *html)
{
	const char	*b, *end, *p;

	assert_non_null(b = strstr(html, "<body"));
	assert_non_null(end = strchr(b, '>'));
	if ((p = strstr(b, "line-height:")) == NULL || p > end)
		return 0;
	return atof(p + strlen("line-height:"));
}

static void
text_well_formed(const char *text)
{
	size_t	len = strlen(text);

	assert_true(len >= 2);
	assert_int_equal(text[len - 1], '\n');
	assert_int_not_equal(text[len - 2], '\n');
	assert_null(strstr(text, "\n\n\n"));
	assert_null(strchr(text, '\r'));
	assert_int_not_equal(text[0], '\n');
}

static void
test_announcement_all_formats(void **state)
{
	json_t		*ctx = tmpl_fixture_json(ann_ctx);
	struct rendered	 r;
	char		*flat;
	size_t		 i;

	for (i = 0; i < sizeof formats / sizeof formats[0]; i++) {
		must_render(state, "announcement", formats[i], ctx, &r);
		assert_string_equal(r.subject,
		    "Help us rewrite the discharge letter");
		text_well_formed(r.text);
		assert_non_null(strstr(r.text, "Hello Amara Okafor,"));
		/* Text mode: no escaping, paragraphs apart. */
		assert_non_null(strstr(r.text,
		    "First para about the letter & why.\n\nSecond para.\n"
		    "With a line break.\n"));
		/* The footer: automatic, and who gets replies. */
		flat = tmpl_fixture_flat(r.text);
		assert_non_null(strstr(flat, "Jo Patel at jo@example.org"));
		/* Why the person gets it, and how to change or stop. */
		assert_non_null(strstr(flat, "You get this email because"));
		assert_non_null(strstr(flat, "stop getting them"));
		free(flat);
		if (strcmp(formats[i], "plain-text") == 0) {
			assert_null(r.html);
		} else {
			assert_non_null(r.html);
			assert_non_null(strstr(r.html, "<!DOCTYPE html>"));
			assert_non_null(strstr(r.html, "<html lang=\"en-GB\">"));
			assert_non_null(strstr(r.html, "<meta charset=\"utf-8\">"));
			assert_non_null(strstr(r.html, "<title>Help us rewrite "
			    "the discharge letter</title>"));
			assert_non_null(strstr(r.html, "<h1"));
			assert_non_null(strstr(r.html, "<p>First para about the "
			    "letter &amp; why.</p>"));
			assert_non_null(strstr(r.html, "max-width:"));
			assert_non_null(strstr(r.html, "</html>\n"));
			assert_null(strstr(r.html, "<img"));
			assert_null(strstr(r.html, "{{"));
		}
		assert_null(strstr(r.text, "{{"));
		rendered_clear(&r);
		assert_null(r.text);
	}
	json_decref(ctx);
}

static void
test_font_sizes(void **state)
{
	json_t		*ctx = tmpl_fixture_json(ann_ctx);
	struct rendered	 r;

	must_render(state, "announcement", "large-print", ctx, &r);
	assert_true(body_px(r.html) >= 20);
	/* Tight enough for two phone screens (issue 16), never cramped. */
	assert_true(body_line_height(r.html) >= 1.4);
	rendered_clear(&r);

	must_render(state, "announcement", "standard", ctx, &r);
	assert_int_equal(body_px(r.html), 16);
	rendered_clear(&r);

	must_render(state, "announcement", "easy-read", ctx, &r);
	assert_true(body_px(r.html) >= 18);
	rendered_clear(&r);
	json_decref(ctx);
}

static void
test_easy_read_words(void **state)
{
	json_t		*ctx = tmpl_fixture_json(ann_ctx);
	struct rendered	 r;

	must_render(state, "announcement", "easy-read", ctx, &r);
	assert_non_null(strstr(r.text, "We have some news for you.\n"
	    "Please read it below.\n"));
	assert_non_null(strstr(r.text,
	    "If you have questions, reply to this email."));
	assert_non_null(strstr(r.html, "<p>We have some news for you.</p>"));
	rendered_clear(&r);

	/* The standard format does not carry the easy-read sentences. */
	must_render(state, "announcement", "standard", ctx, &r);
	assert_null(strstr(r.text, "We have some news for you."));
	rendered_clear(&r);
	json_decref(ctx);
}

static void
test_no_reply_to(void **state)
{
	json_t		*ctx = tmpl_fixture_json(ann_ctx);
	struct rendered	 r;
	char		*flat;

	json_object_del(ctx, "reply_to");
	must_render(state, "announcement", "standard", ctx, &r);
	flat = tmpl_fixture_flat(r.text);
	assert_non_null(strstr(flat,
	    "Your reply goes to Forum team at forum@example.org."));
	free(flat);
	assert_null(strstr(r.text, "Jo Patel"));
	assert_non_null(strstr(r.html, "Your reply goes to Forum team at "
	    "<a href=\"mailto:forum@example.org\""));
	rendered_clear(&r);
	json_decref(ctx);
}

static void
test_escaped_name(void **state)
{
	json_t		*ctx = tmpl_fixture_json(ann_ctx);
	struct rendered	 r;

	json_object_set_new(json_object_get(ctx, "recipient"), "name",
	    json_string("<script>alert('x')</script>"));
	must_render(state, "announcement", "standard", ctx, &r);
	assert_null(strstr(r.html, "<script"));
	assert_non_null(strstr(r.html,
	    "Hello &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;,"));
	/* The text part is text: as written. */
	assert_non_null(strstr(r.text, "Hello <script>alert('x')</script>,"));
	rendered_clear(&r);
	json_decref(ctx);
}

static void
test_notice(void **state)
{
	json_t		*ctx = tmpl_fixture_json(notice_ctx);
	struct rendered	 r;
	size_t		 i;

	for (i = 0; i < sizeof formats / sizeof formats[0]; i++) {
		must_render(state, "notice", formats[i], ctx, &r);
		assert_string_equal(r.subject, "Notice: A record was rejected");
		text_well_formed(r.text);
		assert_non_null(strstr(r.text,
		    "- m.json[2].start: not a date\n"
		    "- Fix it and queue it again.\n"));
		assert_non_null(strstr(r.text, "Record: m-1"));
		if (r.html != NULL) {
			assert_non_null(strstr(r.html, "<ul>\n<li>m.json[2]."
			    "start: not a date</li>\n<li>Fix it"));
			assert_non_null(strstr(r.html, "m-1"));
		} else
			assert_string_equal(formats[i], "plain-text");
		rendered_clear(&r);
	}
	json_decref(ctx);
}

static void
test_refusals(void **state)
{
	json_t		*ctx = tmpl_fixture_json(ann_ctx);
	struct rendered	 r;
	struct err	 e = { .msg = "" };

	/* A subject that renders to two lines. */
	json_object_set_new(json_object_get(ctx, "announcement"), "subject",
	    json_string("Hello\nBcc: everyone@example.org"));
	assert_int_equal(render_email(*state, "announcement", "standard", ctx,
	    &r, &e), -1);
	assert_non_null(strstr(e.msg, "more than one line"));
	assert_null(r.subject);
	assert_null(r.text);

	/* An empty subject. */
	json_object_set_new(json_object_get(ctx, "announcement"), "subject",
	    json_string("  "));
	assert_int_equal(render_email(*state, "announcement", "standard", ctx,
	    &r, &e), -1);
	assert_non_null(strstr(e.msg, "empty"));

	/* Surrounding white space is trimmed. */
	json_object_set_new(json_object_get(ctx, "announcement"), "subject",
	    json_string("  Spaced out \t"));
	must_render(state, "announcement", "standard", ctx, &r);
	assert_string_equal(r.subject, "Spaced out");
	rendered_clear(&r);

	assert_int_equal(render_email(*state, "announcement", "braille", ctx,
	    &r, &e), -1);
	assert_non_null(strstr(e.msg, "unknown format"));
	assert_int_equal(render_email(*state, "no-such-kind", "standard", ctx,
	    &r, &e), -1);
	assert_non_null(strstr(e.msg, "no template"));
	json_decref(ctx);
}

/* Workers render from one shared set at the same time. */
struct rthread {
	struct tmplset	*set;
	int		 bad;
};

static void *
render_thread(void *arg)
{
	struct rthread	*rt = arg;
	struct rendered	 r;
	struct err	 e;
	json_t		*ctx;
	json_error_t	 je;
	int		 i;

	ctx = json_loads(ann_ctx, 0, &je);
	for (i = 0; i < 200; i++) {
		if (render_email(rt->set, "announcement", formats[i % 4], ctx,
		    &r, &e) == -1 || strstr(r.text, "Amara Okafor") == NULL)
			rt->bad++;
		rendered_clear(&r);
	}
	json_decref(ctx);
	tmplset_unref(rt->set);
	return NULL;
}

static void
test_threads(void **state)
{
	pthread_t	t[4];
	struct rthread	rt[4];
	int		i;

	for (i = 0; i < 4; i++) {
		rt[i].set = tmplset_ref(*state);
		rt[i].bad = 0;
		assert_int_equal(pthread_create(&t[i], NULL, render_thread,
		    &rt[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(rt[i].bad, 0);
	}
}

/*
 * The text part is wrapped at 72 at spaces; a URL longer than that keeps a
 * line of its own, whole; the web links (prefs_url, unsubscribe_url) show
 * in the footer instead of "reply to change".
 */
static void
test_wrap(void **state)
{
	static const char *url = "https://example.org/a/very/long/address/"
	    "that/does/not/fit/on/one/line/of/seventy-two/characters";
	json_t		*ctx = tmpl_fixture_json(ann_ctx);
	struct rendered	 r;
	const char	*p, *nl;
	char		*para;
	int		 words = 0;

	para = xasprintf("%s %s %s", "Many short words make a long line "
	    "that a reader should never have to scroll sideways to read, not "
	    "even on a small phone.", url, "And more after it.");
	json_array_append_new(json_object_get(json_object_get(ctx,
	    "announcement"), "paragraphs"), json_string(para));
	json_object_set_new(ctx, "prefs_url", json_string(
	    "https://forum.example.org/p/abc"));
	json_object_set_new(ctx, "unsubscribe_url", json_string(
	    "https://forum.example.org/u/abc"));
	must_render(state, "announcement", "plain-text", ctx, &r);
	for (p = r.text; *p != '\0'; p = nl + 1) {
		nl = strchr(p, '\n');
		assert_non_null(nl);
		if (strncmp(p, url, strlen(url)) == 0)
			assert_int_equal(nl - p, strlen(url));
		else
			assert_true(nl - p <= 72);
		words++;
	}
	assert_true(words > 5);
	assert_non_null(strstr(r.text, "\nMany short words make a long line"));
	assert_non_null(strstr(r.text, url));
	assert_non_null(strstr(r.text, "https://forum.example.org/u/abc"));
	assert_null(strstr(r.text, "reply to this email and tell us"));
	rendered_clear(&r);
	must_render(state, "announcement", "standard", ctx, &r);
	assert_non_null(strstr(r.html, "<a href=\"https://forum.example.org/"
	    "p/abc\""));
	assert_non_null(strstr(r.html, ">Stop getting these emails</a>"));
	assert_non_null(strstr(r.html, "<main>"));
	assert_non_null(strstr(r.html, "overflow-wrap:anywhere"));
	rendered_clear(&r);
	free(para);
	json_decref(ctx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_announcement_all_formats),
		cmocka_unit_test(test_font_sizes),
		cmocka_unit_test(test_easy_read_words),
		cmocka_unit_test(test_no_reply_to),
		cmocka_unit_test(test_escaped_name),
		cmocka_unit_test(test_notice),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_wrap),
	};

	return cmocka_run_group_tests(tests, tmpl_fixture_setup, tmpl_fixture_teardown);
}
