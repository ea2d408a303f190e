/*
 * test_meeting_templates.c: the shipped meeting templates (config/templates,
 * run from the repository root) rendered with render_email against the
 * context the daemon passes: invitation, update, cancellation, reminder and
 * venue-update, in every format. Checks the facts a reader needs are there
 * (what, when, where, every access word with its state, the person's own
 * needs first, agenda as a list, what changed), the formats (plain-text has
 * no HTML, large print is 22px, easy read has its own words), escaping, and
 * that optional keys may be absent without leaving holes or tags behind.
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
#define NFORMATS	(sizeof formats / sizeof formats[0])

static const char *kinds[] = {
	"invitation", "update", "cancellation", "reminder", "venue-update"
};
#define NKINDS		(sizeof kinds / sizeof kinds[0])

/* The context of the brief, with every optional key present. */
static const char *meeting_ctx =
    "{\"lang\": \"en-GB\", \"format\": \"standard\","
    " \"team\": {\"name\": \"Forum team\", \"email\": \"forum@example.org\"},"
    " \"recipient\": {\"name\": \"Amara Okafor\", \"id\": \"c-amara\"},"
    " \"reply_to\": {\"name\": \"Jo Patel\", \"email\": \"jo@example.org\"},"
    " \"meeting\": {"
    "  \"id\": \"m-forum-2026-12\","
    "  \"title\": \"Community forum: leaving hospital\","
    "  \"when\": \"Thursday 10 December 2026, 5:30pm to 7:30pm\","
    "  \"date\": \"Thursday 10 December 2026\","
    "  \"starts\": \"5:30pm\", \"ends\": \"7:30pm\","
    "  \"venue\": {\"name\": \"Lyric Hammersmith, Studio 2\","
    "   \"address\": \"Lyric Square, King Street, London W6 0QL\","
    "   \"getting_there\": \"Hammersmith station is a 3 minute walk.\","
    "   \"arrival\": \"Use the main doors on Lyric Square and ask at the desk.\","
    "   \"on_the_day_contact\": \"Forum phone 020 7946 0000\","
    "   \"on_the_day\": {\"text\": \"Forum phone 020 7946 0000\","
    "    \"before\": \"Forum phone \", \"number\": \"020 7946 0000\","
    "    \"after\": \"\", \"tel\": \"02079460000\"},"
    "   \"access_guide_url\": \"https://example.org/lyric/access?a=1&b=2\","
    "   \"last_verified\": \"1 October 2026\"},"
    "  \"online\": {\"url\": \"https://meet.example.org/forum\","
    "   \"captions\": true, \"dial_in\": \"020 7946 0001\","
    "   \"dial_in_tel\": \"02079460001\"},"
    "  \"agenda\": {\"numbered\": true, \"items\": ["
    "   {\"n\": 1, \"text\": \"Welcome\"},"
    "   {\"n\": 2, \"text\": \"What happens on the day you leave hospital\"},"
    "   {\"n\": 3, \"text\": \"Ideas\"}]},"
    "  \"payment\": {\"travel\": \"We pay travel costs back. Keep tickets.\","
    "   \"fee\": \"GBP 25 an hour, by bank transfer.\","
    "   \"benefits\": \"Ask us for a letter if you get benefits.\"},"
    "  \"refreshments\": \"Hot meal at 17:00. Vegetarian and halal options.\","
    "  \"adjustments_by\": \"Tuesday 1 December 2026\","
    "  \"contact\": {\"name\": \"Jo Patel\", \"email\": \"jo@example.org\","
    "   \"phone\": \"020 7946 0002\", \"phone_tel\": \"02079460002\"}"
    " },"
    " \"access\": {"
    "  \"has_yours\": true,"
    "  \"yours\": ["
    "   {\"word\": \"step-free\", \"is\": {\"step-free\": true},"
    "    \"available\": true,"
    "    \"detail\": \"Level entrance and lift to Studio 2.\"},"
    "   {\"word\": \"quiet-room\", \"is\": {\"quiet-room\": true},"
    "    \"unknown\": true}],"
    "  \"has_others\": true, \"has_available\": true,"
    "  \"has_unavailable\": true, \"has_unknown\": true,"
    "  \"others_available\": [{\"word\": \"hearing-loop\","
    "    \"is\": {\"hearing-loop\": true}, \"available\": true,"
    "    \"last\": true}],"
    "  \"others_unavailable\": [{\"word\": \"changing-places\","
    "    \"is\": {\"changing-places\": true}, \"unavailable\": true,"
    "    \"last\": true}],"
    "  \"others_temporary\": [{\"word\": \"lift\","
    "    \"is\": {\"lift\": true}, \"temporary\": true,"
    "    \"until\": \"Sunday 20 December 2026\","
    "    \"detail\": \"The lift is out of order.\"}],"
    "  \"others_unknown\": [{\"word\": \"bsl\", \"is\": {\"bsl\": true},"
    "    \"unknown\": true, \"next_last\": true},"
    "   {\"word\": \"captions\", \"is\": {\"captions\": true},"
    "    \"unknown\": true, \"last\": true}],"
    "  \"problems\": true"
    " },"
    " \"calendar\": true,"
    " \"changes\": [{\"field\": \"time\", \"is\": {\"time\": true},"
    "   \"what\": \"Date and time\","
    "   \"was\": \"Thursday 10 December 2026, 5:30pm to 7:30pm\","
    "   \"now\": \"Friday 11 December 2026, 5:30pm to 7:30pm\"}],"
    " \"reminder\": {},"
    " \"cancellation\": {\"removed\": false}}";

/* Labels of the template partial _access_label (standard). */
static const char *labels[] = {
	"Step-free access", "Quiet room", "Hearing loop",
	"Changing Places toilet", "British Sign Language (BSL) interpreter",
	"Lift", "Captions in the room"
};
#define NLABELS		(sizeof labels / sizeof labels[0])

static json_t *
ctx_new(void)
{
	json_error_t	 je;
	json_t		*j = json_loads(meeting_ctx, 0, &je);

	if (j == NULL)
		fail_msg("test JSON: line %d: %s", je.line, je.text);
	return j;
}

static void
must_render(void **state, const char *kind, const char *format, json_t *ctx,
    struct rendered *r)
{
	struct err	e = { .msg = "" };

	if (render_email(*state, kind, format, ctx, r, &e) == -1)
		fail_msg("%s %s: %s", kind, format, e.msg);
}

/* In out as it is, or with the text part's wrapping undone. */
static int
found(const char *out, const char *what)
{
	char	*fo, *fw;
	int	 yes;

	if (out == NULL)
		return 0;
	if (strstr(out, what) != NULL)
		return 1;
	fo = tmpl_fixture_flat(out);
	fw = tmpl_fixture_flat(what);
	yes = strstr(fo, fw) != NULL;
	free(fo);
	free(fw);
	return yes;
}

/* Fails with the whole output shown, so a reader sees what was missing. */
static void
has(const char *out, const char *what, const char *kind, const char *format)
{
	if (!found(out, what)) {
		fprintf(stderr, "%s\n", out ? out : "(null)");
		fail_msg("%s %s: no \"%s\" in the output above", kind, format,
		    what);
	}
}

static void
hasnt(const char *out, const char *what, const char *kind,
    const char *format)
{
	if (found(out, what)) {
		fprintf(stderr, "%s\n", out);
		fail_msg("%s %s: unexpected \"%s\" in the output above", kind,
		    format, what);
	}
}

/* The HTML a reader meets: without <!-- comments -->. Caller frees. */
static char *
uncommented(const char *html)
{
	struct buf	 b;
	const char	*p = html, *c, *end;

	buf_init(&b);
	while ((c = strstr(p, "<!--")) != NULL) {
		buf_add(&b, p, c - p);
		assert_non_null(end = strstr(c + 4, "-->"));
		p = end + 3;
	}
	buf_adds(&b, p);
	return buf_take(&b);
}

/* Where what is, in out with its wrapping undone (order is kept). */
static size_t
offset(const char *out, const char *what, const char *kind,
    const char *format)
{
	char	*fo = tmpl_fixture_flat(out), *fw = tmpl_fixture_flat(what);
	size_t	 at;

	has(out, what, kind, format);
	at = strstr(fo, fw) - fo;
	free(fo);
	free(fw);
	return at;
}

/* Every kind renders in every format; no tags left; text part well formed. */
static void
test_all_kinds_all_formats(void **state)
{
	json_t		*ctx = ctx_new();
	struct rendered	 r;
	size_t		 k, f, len;

	for (k = 0; k < NKINDS; k++)
		for (f = 0; f < NFORMATS; f++) {
			must_render(state, kinds[k], formats[f], ctx, &r);
			has(r.subject, "Community forum: leaving hospital",
			    kinds[k], formats[f]);
			has(r.text, "Community forum: leaving hospital",
			    kinds[k], formats[f]);
			has(r.text, "Amara Okafor", kinds[k], formats[f]);
			has(r.text, "Jo Patel", kinds[k], formats[f]);
			hasnt(r.subject, "{{", kinds[k], formats[f]);
			hasnt(r.text, "{{", kinds[k], formats[f]);
			hasnt(r.text, "}}", kinds[k], formats[f]);
			len = strlen(r.text);
			assert_true(len > 100);
			assert_int_equal(r.text[len - 1], '\n');
			assert_null(strstr(r.text, "\n\n\n"));
			if (strcmp(formats[f], "plain-text") == 0) {
				assert_null(r.html);
			} else {
				assert_non_null(r.html);
				has(r.html, "<html lang=\"en-GB\">", kinds[k],
				    formats[f]);
				has(r.html, "<h1", kinds[k], formats[f]);
				has(r.html, "<h2", kinds[k], formats[f]);
				has(r.html, "Community forum: leaving hospital",
				    kinds[k], formats[f]);
				has(r.html, "</html>\n", kinds[k], formats[f]);
				hasnt(r.html, "{{", kinds[k], formats[f]);
				hasnt(r.html, "}}", kinds[k], formats[f]);
				hasnt(r.html, "<img", kinds[k], formats[f]);
			}
			rendered_clear(&r);
		}
	json_decref(ctx);
}

static void
test_subjects(void **state)
{
	json_t		*ctx = ctx_new();
	struct rendered	 r;
	size_t		 f;

	for (f = 0; f < NFORMATS; f++) {
		must_render(state, "invitation", formats[f], ctx, &r);
		assert_string_equal(r.subject, "Invitation: Community forum: "
		    "leaving hospital, Thursday 10 December 2026");
		rendered_clear(&r);
		must_render(state, "update", formats[f], ctx, &r);
		assert_string_equal(r.subject,
		    "Changed: Community forum: leaving hospital");
		rendered_clear(&r);
		must_render(state, "cancellation", formats[f], ctx, &r);
		assert_string_equal(r.subject,
		    "Cancelled: Community forum: leaving hospital");
		rendered_clear(&r);
		must_render(state, "reminder", formats[f], ctx, &r);
		assert_string_equal(r.subject, "Reminder: Community forum: "
		    "leaving hospital, Thursday 10 December 2026, 5:30pm to "
		    "7:30pm");
		rendered_clear(&r);
		must_render(state, "venue-update", formats[f], ctx, &r);
		assert_string_equal(r.subject,
		    "Access update: Community forum: leaving hospital");
		rendered_clear(&r);
	}
	json_decref(ctx);
}

/*
 * Invitation and reminder: when, where, how to get there and in, online,
 * every access label with its state, the person's needs first, each in
 * full, the rest grouped by state (easy read has its own words).
 */
static void
check_access(const char *out, const char *kind, const char *format,
    int html)
{
	size_t	i, yours, others;
	int	easy = strcmp(format, "easy-read") == 0;

	for (i = 0; i < NLABELS; i++)
		if (!easy || strcmp(labels[i], "Step-free access") != 0)
			has(out, labels[i], kind, format);
	yours = offset(out, easy ? "What you need" : "Your access needs", kind,
	    format);
	others = offset(out, easy ? "Other things at this place" :
	    "Other access at this venue", kind, format);
	assert_true(yours < others);
	/* Own needs under their heading, before the others' heading. */
	assert_true(offset(out, "Quiet room", kind, format) > yours);
	assert_true(offset(out, "Quiet room", kind, format) < others);
	assert_true(offset(out, "Hearing loop", kind, format) > others);
	assert_true(offset(out, "Changing Places toilet", kind, format) >
	    others);
	has(out, "Level entrance and lift to Studio 2.", kind, format);
	has(out, "The lift is out of order.", kind, format);
	has(out, "Sunday 20 December 2026", kind, format);
	if (easy) {
		has(out, html ? "<strong>Quiet room:</strong> We do not know "
		    "yet." : "- Quiet room: We do not know yet.", kind, format);
		has(out, html ? "<strong>It does not have:</strong> Changing "
		    "Places toilet." : "- It does not have: Changing Places "
		    "toilet.", kind, format);
		has(out, html ? "<strong>It has:</strong> Hearing loop." :
		    "- It has: Hearing loop.", kind, format);
		has(out, "checking:", kind, format);
		has(out, "British Sign Language (BSL) interpreter and Captions "
		    "in the room.", kind, format);
		has(out, "It should work again on Sunday 20 December 2026.",
		    kind, format);
	} else if (html) {
		has(out, "<strong>Quiet room:</strong> Not yet confirmed",
		    kind, format);
		has(out, "<strong>Step-free access:</strong> Yes. Level",
		    kind, format);
		has(out, "<strong>Not available:</strong> Changing Places "
		    "toilet.", kind, format);
		has(out, "<strong>Available:</strong> Hearing loop.", kind,
		    format);
		has(out, "<strong>Not yet confirmed (we are checking):</strong> "
		    "British Sign Language (BSL) interpreter and Captions in "
		    "the room.", kind, format);
		has(out, "<strong>Lift:</strong> Not available until Sunday 20 "
		    "December 2026. The lift is out of order.", kind, format);
	} else {
		has(out, "- Quiet room: Not yet confirmed", kind, format);
		has(out, "- Not available: Changing Places toilet.", kind,
		    format);
		has(out, "- Available: Hearing loop.", kind, format);
		has(out, "- Step-free access: Yes. Level entrance", kind,
		    format);
		has(out, "- Not yet confirmed (we are checking): British Sign "
		    "Language (BSL) interpreter and Captions in the room.", kind,
		    format);
		has(out, "- Lift: Not available until Sunday 20 December 2026.",
		    kind, format);
	}
	/* Never the old contradiction, nor "No" for a lift out of order. */
	hasnt(out, "Live captions will be on", kind, format);
	hasnt(out, "does not have this", kind, format);
	/* problems: true: say the organisers know, and whom to talk to. */
	has(out, "We have told", kind, format);
	has(out, "1 October 2026", kind, format);
}

static void
test_invitation_reminder_facts(void **state)
{
	static const char *two[] = { "invitation", "reminder" };
	json_t		*ctx = ctx_new();
	struct rendered	 r;
	size_t		 k, f;
	const char	*kind;

	for (k = 0; k < 2; k++)
		for (f = 0; f < NFORMATS; f++) {
			kind = two[k];
			must_render(state, kind, formats[f], ctx, &r);
			has(r.text, "5:30pm", kind, formats[f]);
			has(r.text, "Lyric Hammersmith, Studio 2", kind,
			    formats[f]);
			has(r.text, "Lyric Square, King Street, London W6 0QL",
			    kind, formats[f]);
			has(r.text, "Hammersmith station is a 3 minute walk.",
			    kind, formats[f]);
			has(r.text, "Use the main doors on Lyric Square", kind,
			    formats[f]);
			has(r.text, "Forum phone 020 7946 0000", kind,
			    formats[f]);
			has(r.text, "https://meet.example.org/forum", kind,
			    formats[f]);
			has(r.text, "020 7946 0001", kind, formats[f]);
			has(r.text, "020 7946 0002", kind, formats[f]);
			has(r.text, "We pay travel costs back.", kind,
			    formats[f]);
			has(r.text, "GBP 25 an hour", kind, formats[f]);
			check_access(r.text, kind, formats[f], 0);
			if (r.html != NULL) {
				check_access(r.html, kind, formats[f], 1);
				/* A link that makes sense alone, and the URL. */
				has(r.html, "<a href=\"https://meet.example.org/"
				    "forum\"", kind, formats[f]);
				has(r.html, ">Join the meeting online</a>", kind,
				    formats[f]);
				has(r.html, "https://example.org/lyric/access?"
				    "a=1&amp;b=2", kind, formats[f]);
				hasnt(r.html, "a=1&b=2", kind, formats[f]);
				has(r.html, "<ul>", kind, formats[f]);
			}
			rendered_clear(&r);
		}
	json_decref(ctx);
}

static void
test_invitation_only(void **state)
{
	json_t		*ctx = ctx_new();
	struct rendered	 r;
	size_t		 f;

	for (f = 0; f < NFORMATS; f++) {
		must_render(state, "invitation", formats[f], ctx, &r);
		has(r.text, "Thursday 10 December 2026", "invitation",
		    formats[f]);
		has(r.text, "2. What happens on the day you leave hospital",
		    "invitation", formats[f]);
		has(r.text, "Vegetarian and halal", "invitation", formats[f]);
		has(r.text, "Tuesday 1 December 2026", "invitation",
		    formats[f]);
		has(r.text, "Ask us for a letter if you get benefits.",
		    "invitation", formats[f]);
		has(r.text, "calendar", "invitation", formats[f]);
		has(r.text, "jo@example.org", "invitation", formats[f]);
		if (r.html != NULL) {
			/* A numbered list, numbered by <ol> (easy read
			 * styles its <li>s). */
			has(r.html, ">Welcome</li>\n<li", "invitation",
			    formats[f]);
			has(r.html, ">What happens on the day you leave "
			    "hospital</li>\n<li", "invitation", formats[f]);
			has(r.html, ">Ideas</li>\n</ol>", "invitation",
			    formats[f]);
			hasnt(r.html, ">1. Welcome", "invitation", formats[f]);
			if (strcmp(formats[f], "easy-read") != 0)
				has(r.html, "<ol>\n<li>Welcome</li>",
				    "invitation", formats[f]);
			/* Phone numbers can be tapped. */
			has(r.html, "href=\"tel:02079460002\"", "invitation",
			    formats[f]);
			has(r.html, "href=\"tel:02079460000\"", "invitation",
			    formats[f]);
			has(r.html, "<main>", "invitation", formats[f]);
			has(r.html, "<title>", "invitation", formats[f]);
			has(r.html, "href=\"mailto:jo@example.org\"",
			    "invitation", formats[f]);
			hasnt(r.html, "<!--", "invitation", formats[f]);
		}
		rendered_clear(&r);
	}
	json_decref(ctx);
}

static void
test_update(void **state)
{
	json_t		*ctx = ctx_new();
	struct rendered	 r;
	size_t		 f, was, now;

	for (f = 0; f < NFORMATS; f++) {
		must_render(state, "update", formats[f], ctx, &r);
		has(r.text, "Date and time", "update", formats[f]);
		was = offset(r.text, "Thursday 10 December 2026, 5:30pm",
		    "update", formats[f]);
		now = offset(r.text, "Friday 11 December 2026, 5:30pm",
		    "update", formats[f]);
		assert_true(was < now);
		has(r.text, "Now: Friday 11 December 2026", "update",
		    formats[f]);
		/* Key details again, with the person's own needs. */
		has(r.text, "Lyric Square, King Street", "update", formats[f]);
		has(r.text, "https://meet.example.org/forum", "update",
		    formats[f]);
		if (strcmp(formats[f], "easy-read") == 0) {
			has(r.text, "No steps (step-free)", "update",
			    formats[f]);
			has(r.text, "Quiet room: We do not know yet", "update",
			    formats[f]);
		} else {
			has(r.text, "Step-free access", "update", formats[f]);
			has(r.text, "Quiet room: Not yet confirmed", "update",
			    formats[f]);
		}
		/* What to do, before the rest. */
		assert_true(offset(r.text, "Can you come?", "update",
		    formats[f]) < offset(r.text, "Food and drink\n---",
		    "update", formats[f]));
		has(r.text, "update the meeting in your calendar", "update",
		    formats[f]);
		if (r.html != NULL) {
			has(r.html, "<strong>Date and time</strong>",
			    "update", formats[f]);
			has(r.html, "Friday 11 December 2026", "update",
			    formats[f]);
		}
		rendered_clear(&r);
	}

	/* Food and the agenda are changes people act on: named, with the
	 * food's before and now; the agenda points to the new one. */
	json_array_append_new(json_object_get(ctx, "changes"), json_pack(
	    "{s:s, s:{s:b}, s:s, s:s, s:s}", "field", "refreshments", "is",
	    "refreshments", 1, "what", "Food and drink", "was", "Hot meal at "
	    "17:00.", "now", "Hot meal at 16:30."));
	json_array_append_new(json_object_get(ctx, "changes"), json_pack(
	    "{s:s, s:{s:b}, s:s, s:s, s:s}", "field", "agenda", "is",
	    "agenda", 1, "what", "Agenda", "was", "1. Welcome", "now",
	    "1. Welcome\n2. Ideas"));
	for (f = 0; f < NFORMATS; f++) {
		must_render(state, "update", formats[f], ctx, &r);
		was = offset(r.text, "Before: Hot meal at 17:00.", "update",
		    formats[f]);
		now = offset(r.text, "Now: Hot meal at 16:30.", "update",
		    formats[f]);
		assert_true(was < now);
		assert_true(now < offset(r.text, "Food and drink\n---",
		    "update", formats[f]));
		has(r.text, "What we will talk about", "update", formats[f]);
		has(r.text, "new plan", "update", formats[f]);
		rendered_clear(&r);
	}
	json_decref(ctx);
}

static void
test_cancellation(void **state)
{
	json_t		*ctx = ctx_new();
	struct rendered	 r;
	size_t		 f;

	for (f = 0; f < NFORMATS; f++) {
		must_render(state, "cancellation", formats[f], ctx, &r);
		has(r.text, "cancelled", "cancellation", formats[f]);
		if (strcmp(formats[f], "easy-read") == 0)
			has(r.text, "Have you already spent money on travel?\n"
			    "Please contact Jo Patel about expenses.",
			    "cancellation", formats[f]);
		else
			has(r.text, "If you have already spent money on travel, "
			    "contact Jo Patel about expenses.", "cancellation",
			    formats[f]);
		has(r.text, "remove the meeting from your calendar",
		    "cancellation", formats[f]);
		hasnt(r.text, "still going ahead", "cancellation",
		    formats[f]);
		rendered_clear(&r);
	}

	/* Removed from the list: the meeting goes on; kindly worded. */
	json_object_set_new(json_object_get(ctx, "cancellation"), "removed",
	    json_true());
	for (f = 0; f < NFORMATS; f++) {
		must_render(state, "cancellation", formats[f], ctx, &r);
		assert_string_equal(r.subject, "Change to your invitation: "
		    "Community forum: leaving hospital");
		has(r.text, "no longer on the list", "cancellation",
		    formats[f]);
		has(r.text, "still going ahead", "cancellation", formats[f]);
		hasnt(r.text, "has been cancelled", "cancellation",
		    formats[f]);
		has(r.text, "contact Jo Patel about expenses",
		    "cancellation", formats[f]);
		if (r.html != NULL)
			has(r.html, "<h1 style=\"font-size:1.6em; "
			    "line-height:1.3; margin:0 0 0.8em 0;\">Change to "
			    "your invitation", "cancellation", formats[f]);
		rendered_clear(&r);
	}
	json_decref(ctx);
}

/* A reminder says the day and the time, never "in N minutes" (wrong by
 * the time it is read), even when an old context still has a lead. */
static void
test_reminder_lead(void **state)
{
	json_t		*ctx = ctx_new();
	struct rendered	 r;
	size_t		 f;

	json_object_set_new(json_object_get(ctx, "reminder"), "lead",
	    json_string("32 minutes"));
	for (f = 0; f < NFORMATS; f++) {
		must_render(state, "reminder", formats[f], ctx, &r);
		has(r.text, "Thursday 10 December 2026", "reminder",
		    formats[f]);
		has(r.text, "5:30pm", "reminder", formats[f]);
		hasnt(r.text, "32 minutes", "reminder", formats[f]);
		hasnt(r.text, "It is in", "reminder", formats[f]);
		hasnt(r.text, " is in ", "reminder", formats[f]);
		if (r.html != NULL)
			hasnt(r.html, "32 minutes", "reminder", formats[f]);
		rendered_clear(&r);
	}
	json_decref(ctx);
}

/* An access update: each change as data, worded by the same templates as
 * the access section (_access_label, _access_state): the person's own need
 * first and marked, a lift out of order with its date. */
static void
test_venue_update(void **state)
{
	json_t		*ctx = ctx_new();
	struct rendered	 r;
	size_t		 f, i;
	int		 easy;

	json_object_set_new(ctx, "changes", tmpl_fixture_json("["
	    "{\"word\": \"step-free\", \"is\": {\"step-free\": true},"
	    " \"yours\": true,"
	    " \"was\": {\"is\": {\"step-free\": true}, \"available\": true},"
	    " \"now\": {\"is\": {\"step-free\": true}, \"temporary\": true,"
	    "  \"until\": \"Sunday 20 December 2026\","
	    "  \"detail\": \"The lift is out of order.\"}},"
	    "{\"word\": \"hearing-loop\", \"is\": {\"hearing-loop\": true},"
	    " \"was\": {\"is\": {\"hearing-loop\": true}, \"unknown\": true},"
	    " \"now\": {\"is\": {\"hearing-loop\": true},"
	    "  \"available\": true}}]"));
	for (f = 0; f < NFORMATS; f++) {
		easy = strcmp(formats[f], "easy-read") == 0;
		must_render(state, "venue-update", formats[f], ctx, &r);
		has(r.text, "Hearing loop", "venue-update", formats[f]);
		has(r.text, easy ? "Now: Yes, it is there." : "Now: Yes.",
		    "venue-update", formats[f]);
		has(r.text, easy ? "Before: We do not know yet." :
		    "Before: Not yet confirmed.", "venue-update", formats[f]);
		has(r.text, easy ? "It should work again on Sunday 20 "
		    "December 2026. The lift is out of order." : "Now: Not "
		    "available until Sunday 20 December 2026. The lift is out "
		    "of order.", "venue-update", formats[f]);
		has(r.text, easy ? "(you need this)" :
		    "(you told us you need this)", "venue-update", formats[f]);
		/* Never words made in C. */
		hasnt(r.text, "Before: available", "venue-update", formats[f]);
		/* Changes first, the person's own one first, then needs. */
		assert_true(offset(r.text, "Before: Yes", "venue-update",
		    formats[f]) < offset(r.text, easy ? "Before: We do not" :
		    "Before: Not yet", "venue-update", formats[f]));
		assert_true(offset(r.text, "Hearing loop", "venue-update",
		    formats[f]) < offset(r.text, easy ? "What you need" :
		    "Your access needs", "venue-update", formats[f]));
		for (i = 0; i < NLABELS; i++)
			if (!easy || i != 0)
				has(r.text, labels[i], "venue-update",
				    formats[f]);
		has(r.text, "Jo Patel", "venue-update", formats[f]);
		/* The access section proper, after the list of changes. */
		if (r.html != NULL)
			check_access(strstr(r.html, easy ? ">What you need<" :
			    ">Your access needs<"), "venue-update", formats[f],
			    1);
		else
			check_access(strstr(r.text, "Your access needs\n---"),
			    "venue-update", formats[f], 0);
		rendered_clear(&r);
	}
	json_decref(ctx);
}

static void
test_formats(void **state)
{
	/* An easy-read opening line of each kind, one idea to a line. */
	static const char *easy[] = {
		"We would like to invite you to a meeting.",
		"Something about your meeting has changed.",
		"A meeting has been cancelled.",
		"This is a reminder about your meeting.",
		"Some access information has changed."
	};
	json_t		*ctx = ctx_new();
	struct rendered	 std, er, lp;
	size_t		 k;
	char		 p[128];

	for (k = 0; k < NKINDS; k++) {
		must_render(state, kinds[k], "standard", ctx, &std);
		must_render(state, kinds[k], "easy-read", ctx, &er);
		must_render(state, kinds[k], "large-print", ctx, &lp);
		/* Easy read has its own words in both parts. */
		assert_string_not_equal(std.text, er.text);
		assert_string_not_equal(std.html, er.html);
		snprintf(p, sizeof p, "\n%s\n", easy[k]);
		has(er.text, p, kinds[k], "easy-read");
		hasnt(std.text, easy[k], kinds[k], "standard");
		snprintf(p, sizeof p, "<p>%s</p>", easy[k]);
		has(er.html, p, kinds[k], "easy-read");
		hasnt(std.html, easy[k], kinds[k], "standard");
		hasnt(lp.html, easy[k], kinds[k], "large-print");
		/* Large print: at least 20px body text (22px). */
		has(lp.html, "font-size:22px", kinds[k], "large-print");
		hasnt(std.html, "font-size:22px", kinds[k], "standard");
		rendered_clear(&std);
		rendered_clear(&er);
		rendered_clear(&lp);
	}
	json_decref(ctx);
}

static void
test_escaping(void **state)
{
	json_t		*ctx = ctx_new();
	json_t		*m = json_object_get(ctx, "meeting");
	struct rendered	 r;
	size_t		 k, f;

	json_object_set_new(m, "title", json_string("Forum <b>& friends"));
	json_object_set_new(json_object_get(m, "online"), "url",
	    json_string("https://x.example/\"><script>"));
	for (k = 0; k < NKINDS; k++)
		for (f = 0; f < NFORMATS; f++) {
			must_render(state, kinds[k], formats[f], ctx, &r);
			/* Subject and text are text: as written. */
			has(r.subject, "Forum <b>& friends", kinds[k],
			    formats[f]);
			has(r.text, "Forum <b>& friends", kinds[k], formats[f]);
			if (r.html != NULL) {
				has(r.html, "Forum &lt;b&gt;&amp; friends",
				    kinds[k], formats[f]);
				hasnt(r.html, "<b>", kinds[k], formats[f]);
				hasnt(r.html, "<script", kinds[k], formats[f]);
			}
			rendered_clear(&r);
		}
	json_decref(ctx);
}

/*
 * Only the keys that are always there: no venue (so no access), no online,
 * agenda, payment, refreshments, adjustments date, reply_to, calendar or
 * phone. Nothing may be left half-said, and the HTML has no empty list.
 */
static void
test_minimal_context(void **state)
{
	json_t		*ctx = ctx_new();
	json_t		*m = json_object_get(ctx, "meeting");
	struct rendered	 r;
	size_t		 k, f;
	static const char *gone[] = { "venue", "online", "agenda", "payment",
	    "refreshments", "adjustments_by" };

	for (k = 0; k < sizeof gone / sizeof gone[0]; k++)
		json_object_del(m, gone[k]);
	json_object_del(json_object_get(m, "contact"), "phone");
	json_object_del(ctx, "access");
	json_object_del(ctx, "reply_to");
	json_object_del(ctx, "calendar");
	for (k = 0; k < NKINDS; k++)
		for (f = 0; f < NFORMATS; f++) {
			must_render(state, kinds[k], formats[f], ctx, &r);
			hasnt(r.text, "{{", kinds[k], formats[f]);
			hasnt(r.text, "Lyric", kinds[k], formats[f]);
			hasnt(r.text, "calendar file", kinds[k], formats[f]);
			hasnt(r.text, "Phone:", kinds[k], formats[f]);
			hasnt(r.text, "Other access", kinds[k], formats[f]);
			/* Lines that lost their value. */
			hasnt(r.text, ": \n", kinds[k], formats[f]);
			hasnt(r.text, " by .", kinds[k], formats[f]);
			has(r.text, "jo@example.org", kinds[k], formats[f]);
			if (r.html != NULL) {
				char *seen = uncommented(r.html);

				hasnt(seen, "<ul>\n</ul>", kinds[k], formats[f]);
				hasnt(seen, "<p></p>", kinds[k], formats[f]);
				free(seen);
				hasnt(r.html, "href=\"\"", kinds[k],
				    formats[f]);
			}
			rendered_clear(&r);
		}

	/* The invitation says where to ask, rather than nothing at all. */
	must_render(state, "invitation", "standard", ctx, &r);
	has(r.text, "Please ask Jo Patel where it will be", "invitation",
	    "standard");
	has(r.text, "Please ask Jo Patel about payment", "invitation",
	    "standard");
	has(r.text, "as soon as you can", "invitation", "standard");
	has(r.html, "We have not shared a plan", "invitation", "standard");
	/* No empty agenda list at all, and no food section left blank. */
	hasnt(r.html, "<ul>\n</ul>", "invitation", "standard");
	hasnt(r.html, "<ol>\n</ol>", "invitation", "standard");
	has(r.text, "We have not said anything about food", "invitation",
	    "standard");
	rendered_clear(&r);
	json_decref(ctx);
}

/* No needs of one's own: still a heading, saying so; everything else listed. */
static void
test_no_needs_of_own(void **state)
{
	json_t		*ctx = ctx_new();
	json_t		*a = json_object_get(ctx, "access");
	struct rendered	 r;
	size_t		 f;

	json_object_set_new(a, "has_yours", json_false());
	json_object_set_new(a, "yours", json_array());
	json_object_set_new(a, "problems", json_false());
	for (f = 0; f < NFORMATS; f++) {
		must_render(state, "invitation", formats[f], ctx, &r);
		has(r.text, strcmp(formats[f], "easy-read") == 0 ?
		    "What you need" : "Your access needs", "invitation",
		    formats[f]);
		has(r.text, "have not told us", "invitation", formats[f]);
		has(r.text, "Hearing loop", "invitation", formats[f]);
		hasnt(r.text, "Quiet room", "invitation", formats[f]);
		hasnt(r.text, "We have told", "invitation", formats[f]);
		if (r.html != NULL) {
			char *seen = uncommented(r.html);

			hasnt(seen, "<ul>\n</ul>", "invitation", formats[f]);
			free(seen);
		}
		rendered_clear(&r);
	}
	json_decref(ctx);
}

/* An online-only meeting: the link, no place to travel to. */
static void
test_online_only(void **state)
{
	json_t		*ctx = ctx_new();
	struct rendered	 r;
	size_t		 f;

	json_object_del(json_object_get(ctx, "meeting"), "venue");
	json_object_del(ctx, "access");
	json_object_set_new(json_object_get(json_object_get(ctx, "meeting"),
	    "online"), "captions", json_false());
	for (f = 0; f < NFORMATS; f++) {
		must_render(state, "invitation", formats[f], ctx, &r);
		has(r.text, "online", "invitation", formats[f]);
		has(r.text, "https://meet.example.org/forum", "invitation",
		    formats[f]);
		has(r.text, "captions", "invitation", formats[f]);
		hasnt(r.text, "Live captions will be on", "invitation",
		    formats[f]);
		hasnt(r.text, "where it will be", "invitation", formats[f]);
		rendered_clear(&r);
	}
	json_decref(ctx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_kinds_all_formats),
		cmocka_unit_test(test_subjects),
		cmocka_unit_test(test_invitation_reminder_facts),
		cmocka_unit_test(test_invitation_only),
		cmocka_unit_test(test_update),
		cmocka_unit_test(test_cancellation),
		cmocka_unit_test(test_reminder_lead),
		cmocka_unit_test(test_venue_update),
		cmocka_unit_test(test_formats),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_minimal_context),
		cmocka_unit_test(test_no_needs_of_own),
		cmocka_unit_test(test_online_only),
	};

	return cmocka_run_group_tests(tests, tmpl_fixture_setup, tmpl_fixture_teardown);
}
