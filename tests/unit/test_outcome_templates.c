/*
 * test_outcome_templates.c: the shipped "you said, we did" (outcome) and
 * overdue-feedback digest templates (config/templates, run from the
 * repository root), through render_email: every format and status, their
 * words quoted, the reason for "not possible" as prominent as a success,
 * easy read, large print, escaping, missing optional fields, the digest.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
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

static const struct status {
	const char	*status;	/* the record's word */
	const char	*flag;		/* the context's boolean */
	const char	*text;		/* status_text (the view's; unused) */
	const char	*heading;	/* heading over we_did (standard) */
	const char	*said;		/* the status, said once (standard) */
	const char	*easy;		/* the same in easy read */
	const char	*subject;	/* in the subject */
} statuses[] = {
	{ "done", "done", "Done", "What we did",
	    "Done: this change has been made.", "We did it.", "done" },
	{ "in-progress", "in_progress", "We are working on it",
	    "What we are doing", "In progress: we have started",
	    "It is not finished yet.", "in progress" },
	{ "planned", "planned", "Planned", "What we plan to do",
	    "Planned: we have agreed to do this", "We are going to do it.",
	    "planned" },
	{ "not-possible", "not_possible", "Not possible", "What we did",
	    "Not possible: we could not make this change.",
	    "We could not do it.", "not possible" },
};

#define WORDS	"Discharge letters arrive after people are already home."
#define WE_DID	"Ward 3 now hands the discharge letter over before people leave."
#define REASON	"The ward has no one to write letters at weekends."

static const char *outcome_ctx =
    "{\"lang\": \"en-GB\", \"format\": \"standard\","
    " \"team\": {\"name\": \"Forum team\", \"email\": \"forum@example.org\"},"
    " \"recipient\": {\"name\": \"Amara Okafor\", \"id\": \"c-amara\"},"
    " \"reply_to\": {\"name\": \"\", \"email\": \"coordinator@example.org\"},"
    " \"outcome\": {\"id\": \"o-5\", \"about\": \"discharge\","
    "   \"we_did\": \"" WE_DID "\","
    "   \"we_did_paragraphs\": [\"" WE_DID "\"]},"
    " \"items\": [{\"text\": \"" WORDS "\", \"topic\": \"discharge\","
    "   \"meeting_title\": \"Community forum: leaving hospital\","
    "   \"meeting_date\": \"Thursday 10 December 2026\"}]}";

static const char *digest_ctx =
    "{\"lang\": \"en-GB\", \"format\": \"standard\","
    " \"team\": {\"name\": \"Forum team\", \"email\": \"forum@example.org\"},"
    " \"recipient\": {\"name\": \"Coordinator\"},"
    " \"digest\": {\"count\": 2, \"feedback_due\": \"28 days\", \"items\": ["
    "  {\"id\": \"s-17\", \"text\": \"" WORDS "\", \"topic\": \"discharge\","
    "   \"meeting\": \"m-forum-2026-12\","
    "   \"meeting_title\": \"Community forum: leaving hospital\","
    "   \"waited\": \"35 days\", \"attributed\": true},"
    "  {\"id\": \"s-18\", \"text\": \"Nobody <script>asks</script> us.\","
    "   \"meeting\": \"m-gone\", \"waited\": \"29 days\","
    "   \"attributed\": false}]}}";

/* The outcome context with status st (and its flag), reason if not NULL. */
static json_t *
outcome_of(const struct status *st, const char *reason)
{
	json_t	*ctx = tmpl_fixture_json(outcome_ctx);
	json_t	*o = json_object_get(ctx, "outcome");

	json_object_set_new(o, "status", json_string(st->status));
	json_object_set_new(o, "status_text", json_string(st->text));
	json_object_set_new(o, st->flag, json_true());
	if (reason != NULL) {
		json_object_set_new(o, "reason", json_string(reason));
		json_object_set_new(o, "reason_paragraphs",
		    json_pack("[s]", reason));
	}
	return ctx;
}

static void
must_render(void **state, const char *kind, const char *format, json_t *ctx,
    struct rendered *r)
{
	struct err	e = { .msg = "" };

	if (render_email(*state, kind, format, ctx, r, &e) == -1)
		fail_msg("%s %s: %s", kind, format, e.msg);
}

/* The font-size in the body tag's style, in px; 0 if none. */
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

/* Where needle is in hay; fails when it is not there. */
static const char *
at(const char *hay, const char *needle)
{
	const char	*p = strstr(hay, needle);

	if (p == NULL)
		fail_msg("\"%s\" is missing from:\n%s", needle, hay);
	return p;
}

static void
text_well_formed(const char *text)
{
	size_t	len = strlen(text);

	assert_true(len >= 2);
	assert_int_equal(text[len - 1], '\n');
	assert_int_not_equal(text[len - 2], '\n');
	assert_null(strstr(text, "\n\n\n"));
	assert_int_not_equal(text[0], '\n');
	assert_null(strstr(text, "{{"));
	assert_null(strstr(text, "}}"));
}

static void
html_well_formed(const char *html)
{
	at(html, "<!DOCTYPE html>");
	at(html, "<html lang=\"en-GB\">");
	at(html, "<h1");
	at(html, "<h2");
	at(html, "<blockquote");
	at(html, "</html>\n");
	assert_null(strstr(html, "<img"));
	assert_null(strstr(html, "{{"));
	assert_null(strstr(html, "}}"));
}

/* Every status in every format: the words, what was done, the status. */
static void
test_outcome_every_status_and_format(void **state)
{
	struct rendered	 r;
	json_t		*ctx;
	size_t		 s, f;
	int		 np, easy;
	char		 subject[128];

	for (s = 0; s < sizeof statuses / sizeof statuses[0]; s++) {
		np = strcmp(statuses[s].status, "not-possible") == 0;
		ctx = outcome_of(&statuses[s], np ? REASON : NULL);
		for (f = 0; f < sizeof formats / sizeof formats[0]; f++) {
			must_render(state, "outcome", formats[f], ctx, &r);
			easy = strcmp(formats[f], "easy-read") == 0;
			/* The topic and the status: two outcome emails
			 * never share a subject. */
			snprintf(subject, sizeof subject, "You said, we did: "
			    "discharge (%s)", statuses[s].subject);
			assert_string_equal(r.subject, subject);
			text_well_formed(r.text);
			at(r.text, "Hello Amara Okafor,");
			/* Their own words, quoted. */
			at(r.text, "\xe2\x80\x9c" WORDS "\xe2\x80\x9d");
			at(r.text, "Community forum: leaving hospital");
			at(r.text, "Thursday 10 December 2026");
			at(r.text, WE_DID);
			at(r.text, easy ? statuses[s].easy : statuses[s].said);
			/* Said once, plainly. */
			assert_null(strstr(r.text, "Where this is now"));
			at(r.text, "coordinator@example.org");
			if (np)
				at(r.text, REASON);
			else
				assert_null(strstr(r.text, "could not do"));
			if (strcmp(formats[f], "plain-text") == 0) {
				assert_null(r.html);
				rendered_clear(&r);
				continue;
			}
			assert_non_null(r.html);
			html_well_formed(r.html);
			at(r.html, "<p style=\"white-space:pre-line;\">" WORDS
			    "</p>\n</blockquote>");
			at(r.html, "<p>" WE_DID "</p>");
			at(r.html, easy ? statuses[s].easy : statuses[s].said);
			if (np)
				at(r.html, "<p>" REASON "</p>");
			at(r.html, statuses[s].heading);
			if (strcmp(formats[f], "large-print") == 0)
				assert_int_equal(body_px(r.html), 22);
			else
				assert_true(body_px(r.html) < 22);
			rendered_clear(&r);
		}
		json_decref(ctx);
	}
}

/*
 * "Not possible" is said at the top and the reason has its own heading, as
 * high up as what was done: before "Talk to us" and the footer, never after.
 */
static void
test_outcome_reason_prominent(void **state)
{
	struct rendered	 r;
	json_t		*ctx = outcome_of(&statuses[3], REASON);
	const char	*status, *words, *reason, *talk, *foot, *head;
	size_t		 f;

	for (f = 0; f < sizeof formats / sizeof formats[0]; f++) {
		must_render(state, "outcome", formats[f], ctx, &r);
		status = at(r.text, strcmp(formats[f], "easy-read") == 0 ?
		    "We could not do it." : "Not possible:");
		reason = at(r.text, REASON);
		talk = at(r.text, "Talk to us");
		foot = at(r.text, "\n-- \n");
		head = strcmp(formats[f], "easy-read") == 0 ?
		    at(r.text, "Why we could not do it\n---") :
		    at(r.text, "Why we could not do this\n---");
		assert_true(head < reason);
		assert_true(reason < talk);
		assert_true(talk < foot);
		if (strcmp(formats[f], "easy-read") != 0) {
			/* The standard format says it before their words. */
			words = at(r.text, WORDS);
			assert_true(status < words);
		}
		if (r.html != NULL) {
			head = at(r.html, "<h2 style=\"font-size:1.3em; "
			    "line-height:1.3; margin:1em 0 0.5em 0;\">Why we "
			    "could not do");
			reason = at(r.html, "<p>" REASON "</p>");
			foot = at(r.html, "<footer");
			assert_true(head < reason);
			assert_true(reason < foot);
			at(r.html, "<strong>");
		}
		rendered_clear(&r);
	}
	json_decref(ctx);

	/* A not-possible outcome without paragraphs still shows the reason. */
	ctx = outcome_of(&statuses[3], REASON);
	json_object_del(json_object_get(ctx, "outcome"), "reason_paragraphs");
	must_render(state, "outcome", "standard", ctx, &r);
	at(r.html, "<p style=\"white-space:pre-line;\">" REASON "</p>");
	at(r.text, REASON);
	rendered_clear(&r);
	json_decref(ctx);
}

/* A reason on other statuses is optional: shown when given, else nothing. */
static void
test_outcome_optional_reason(void **state)
{
	struct rendered	 r;
	json_t		*ctx;

	ctx = outcome_of(&statuses[1], "Staff are being trained first.");
	must_render(state, "outcome", "standard", ctx, &r);
	at(r.text, "More about this\n---");
	at(r.text, "Staff are being trained first.");
	at(r.html, "<p>Staff are being trained first.</p>");
	assert_null(strstr(r.text, "could not"));
	rendered_clear(&r);
	json_decref(ctx);

	ctx = outcome_of(&statuses[0], NULL);
	must_render(state, "outcome", "easy-read", ctx, &r);
	assert_null(strstr(r.text, "More about this"));
	assert_null(strstr(r.html, "More about this"));
	at(r.text, "We did it.");
	rendered_clear(&r);
	json_decref(ctx);
}

/* Easy read: its own words, one short sentence a line. */
static void
test_outcome_easy_read(void **state)
{
	struct rendered	 std, er;
	json_t		*ctx = outcome_of(&statuses[3], REASON);
	const char	*line, *eol;
	size_t		 longest_std = 0, longest_er = 0;

	must_render(state, "outcome", "standard", ctx, &std);
	must_render(state, "outcome", "easy-read", ctx, &er);
	assert_string_not_equal(std.text, er.text);
	assert_string_not_equal(std.html, er.html);
	at(er.text, "Thank you for talking to us.\n"
	    "This email tells you what happened next.\n");
	at(er.text, "We could not do it.\nWe tell you why below.\n");
	at(er.html, "<strong>We could not do it.</strong></p>");
	assert_null(strstr(std.text, "We could not do it."));

	for (line = er.text; *line != '\0'; line = eol + 1) {
		eol = strchr(line, '\n');
		if ((size_t)(eol - line) > longest_er)
			longest_er = eol - line;
	}
	for (line = std.text; *line != '\0'; line = eol + 1) {
		eol = strchr(line, '\n');
		if ((size_t)(eol - line) > longest_std)
			longest_std = eol - line;
	}
	/* Both wrapped at 72 (render.c); the standard one fills its lines,
	 * easy read keeps to one short sentence a line. */
	assert_true(longest_std <= 72 && longest_std > 60);
	assert_true(longest_er <= 72);
	rendered_clear(&std);
	rendered_clear(&er);
	json_decref(ctx);
}

/* Record data is escaped in HTML, as written in text, never expanded. */
static void
test_outcome_escaping(void **state)
{
	struct rendered	 r;
	json_t		*ctx = outcome_of(&statuses[3], "<b>Staff</b> & money");
	json_t		*it = json_array_get(json_object_get(ctx, "items"), 0);
	size_t		 f;

	json_object_set_new(it, "text",
	    json_string("They <script>alert('x')</script> ignore us"));
	json_object_set_new(it, "meeting_title",
	    json_string("Forum \"A\" {{team.email}}"));
	json_object_set_new(json_object_get(ctx, "recipient"), "name",
	    json_string("{{#items}}x{{/items}}"));
	for (f = 0; f < sizeof formats / sizeof formats[0]; f++) {
		must_render(state, "outcome", formats[f], ctx, &r);
		at(r.text, "They <script>alert('x')</script> ignore us");
		at(r.text, "<b>Staff</b> & money");
		at(r.text, "Forum \"A\" {{team.email}}");
		at(r.text, "Hello {{#items}}x{{/items}},");
		if (r.html != NULL) {
			assert_null(strstr(r.html, "<script"));
			assert_null(strstr(r.html, "<b>"));
			at(r.html, "They &lt;script&gt;alert(&#39;x&#39;)"
			    "&lt;/script&gt; ignore us");
			at(r.html, "&lt;b&gt;Staff&lt;/b&gt; &amp; money");
			at(r.html, "Forum &quot;A&quot; {{team.email}}");
		}
		rendered_clear(&r);
	}
	json_decref(ctx);
}

/*
 * Optional parts missing: no meeting, no paragraphs, no reply_to, several
 * items, no status flag at all (a context builder's bug must not blank the
 * heading).
 */
static void
test_outcome_optional_parts(void **state)
{
	struct rendered	 r;
	json_t		*ctx = outcome_of(&statuses[0], NULL);
	json_t		*o = json_object_get(ctx, "outcome");
	json_t		*items = json_object_get(ctx, "items");
	const char	*a, *b;
	char		*flat;

	json_object_del(ctx, "reply_to");
	json_object_del(o, "we_did_paragraphs");
	json_array_append_new(items, json_pack("{s:s}", "text",
	    "Nobody told my family.\nThey found out from me."));
	must_render(state, "outcome", "standard", ctx, &r);
	flat = tmpl_fixture_flat(r.text);
	a = at(flat, "At Community forum: leaving hospital on Thursday 10 "
	    "December 2026, you said: \xe2\x80\x9c" WORDS);
	b = at(flat, "You said: \xe2\x80\x9cNobody told my family. "
	    "They found out from me.\xe2\x80\x9d");
	assert_true(a < b);
	at(flat, "write to Forum team at forum@example.org.");
	free(flat);
	at(r.html, "<p style=\"white-space:pre-line;\">" WE_DID "</p>");
	at(r.html, "Nobody told my family.\nThey found out from me.</p>");
	at(r.html, "write to Forum team at forum@example.org.");
	rendered_clear(&r);

	json_object_del(o, "done");
	must_render(state, "outcome", "easy-read", ctx, &r);
	at(r.html, ">What we did</h2>");
	at(r.text, "What we did\n---");
	assert_null(strstr(r.text, "We did it."));
	rendered_clear(&r);
	json_decref(ctx);
}

/* An outcome that also answers other people: "you said" is theirs, the
 * others are a count, never their words. */
static void
test_outcome_others(void **state)
{
	struct rendered	 r;
	json_t		*ctx = outcome_of(&statuses[0], NULL);
	json_t		*o = json_object_get(ctx, "outcome");
	size_t		 f;

	must_render(state, "outcome", "standard", ctx, &r);
	assert_null(strstr(r.text, "other people"));
	assert_null(strstr(r.text, "other person"));
	rendered_clear(&r);
	json_object_set_new(o, "others_count", json_integer(3));
	json_object_set_new(o, "others_many", json_true());
	for (f = 0; f < sizeof formats / sizeof formats[0]; f++) {
		must_render(state, "outcome", formats[f], ctx, &r);
		at(r.text, "3 other people");
		assert_true(at(r.text, WORDS) < at(r.text, "3 other people"));
		rendered_clear(&r);
	}
	json_object_del(o, "others_many");
	json_object_set_new(o, "others_one", json_true());
	must_render(state, "outcome", "standard", ctx, &r);
	at(r.text, "what 1 other person said");
	rendered_clear(&r);
	json_decref(ctx);
}

static void
test_outcome_bad_format(void **state)
{
	struct rendered	 r;
	struct err	 e = { .msg = "" };
	json_t		*ctx = outcome_of(&statuses[0], NULL);

	assert_int_equal(render_email(*state, "outcome", "braille", ctx, &r,
	    &e), -1);
	assert_non_null(strstr(e.msg, "unknown format"));
	assert_null(r.text);
	json_decref(ctx);
}

static void
test_digest(void **state)
{
	struct rendered	 r;
	json_t		*ctx = tmpl_fixture_json(digest_ctx);
	const char	*a, *b, *how;

	must_render(state, "digest", "standard", ctx, &r);
	assert_string_equal(r.subject,
	    "2 \"you said\" items are waiting for an answer");
	text_well_formed(r.text);
	html_well_formed(r.html);
	at(r.text, "Hello Coordinator,");
	at(r.text, "longer than 28 days");
	at(r.text, "People are waiting to hear back.");
	a = at(r.text, "- Community forum: leaving hospital\n");
	at(r.text, "\xe2\x80\x9c" WORDS "\xe2\x80\x9d");
	at(r.text, "Topic: discharge. Waiting for 35 days. Item id: s-17");
	b = at(r.text, "- Meeting m-gone\n");
	at(r.text, "Waiting for 29 days. Item id: s-18");
	at(r.text, "Nobody <script>asks</script> us.");
	at(r.text, "Said anonymously");
	how = at(r.text, "How to answer");
	assert_true(a < b && b < how);
	at(how, "{\"type\": \"outcome\"");
	at(how, "\"said\": [");
	at(how, "not-possible");
	at(how, "\"reason\" is required");

	at(r.html, "<ul>\n<li");
	at(r.html, "<code>s-17</code>");
	at(r.html, "Waiting for 35 days");
	at(r.html, "<strong>Community forum: leaving hospital</strong>");
	at(r.html, "Nobody &lt;script&gt;asks&lt;/script&gt; us.");
	assert_null(strstr(r.html, "<script"));
	at(r.html, ">How to answer</h2>");
	at(r.html, "\"type\": \"outcome\"");
	rendered_clear(&r);

	/* One item: the singular. */
	json_array_remove(json_object_get(json_object_get(ctx, "digest"),
	    "items"), 1);
	json_object_set_new(json_object_get(ctx, "digest"), "count",
	    json_integer(1));
	json_object_set_new(json_object_get(ctx, "digest"), "one", json_true());
	must_render(state, "digest", "standard", ctx, &r);
	assert_string_equal(r.subject,
	    "1 \"you said\" item is waiting for an answer");
	at(r.text, "This \"you said\" item has had no outcome");
	assert_null(strstr(r.text, "m-gone"));
	rendered_clear(&r);
	json_decref(ctx);
}

/* A coordinator whose profile asks for another format still gets one. */
static void
test_digest_other_formats(void **state)
{
	struct rendered	 r;
	json_t		*ctx = tmpl_fixture_json(digest_ctx);
	size_t		 f;

	for (f = 0; f < sizeof formats / sizeof formats[0]; f++) {
		must_render(state, "digest", formats[f], ctx, &r);
		at(r.text, WORDS);
		at(r.text, "s-18");
		if (strcmp(formats[f], "plain-text") == 0)
			assert_null(r.html);
		else
			html_well_formed(r.html);
		rendered_clear(&r);
	}
	json_decref(ctx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_outcome_every_status_and_format),
		cmocka_unit_test(test_outcome_reason_prominent),
		cmocka_unit_test(test_outcome_optional_reason),
		cmocka_unit_test(test_outcome_easy_read),
		cmocka_unit_test(test_outcome_escaping),
		cmocka_unit_test(test_outcome_optional_parts),
		cmocka_unit_test(test_outcome_others),
		cmocka_unit_test(test_outcome_bad_format),
		cmocka_unit_test(test_digest),
		cmocka_unit_test(test_digest_other_formats),
	};

	return cmocka_run_group_tests(tests, tmpl_fixture_setup, tmpl_fixture_teardown);
}
