/*
 * test_view.c: view_build's template context, from stored records as the
 * worker gets them: access as data (the states available, arranged for
 * this meeting, temporarily unavailable until a date, unavailable,
 * unknown; the person's own needs first, the rest grouped), venue changes
 * as data with the person's own first, meeting changes named by field,
 * phone numbers for tel: links, numbered agendas, reminders without a
 * lead time, outcome emails naming their topic and counting other
 * people's words, the calendar description taken from the templates
 * (view_calendar), and call lists (issue 14). The clock is held at
 * 1 December 2026 (clock_fix), since a temporary state that is over
 * reads unknown.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "config.h"
#include "view.h"
#include "util.h"

static const char *venue =
    "{\"type\": \"venue\", \"id\": \"v-1\", \"name\": \"Studio 2\","
    " \"address\": \"Lyric Square, London W6 0QL\","
    " \"on_the_day_contact\": \"Forum phone 020 7946 0000, ask for Sam\","
    " \"access\": {\"step-free\": \"Level entrance.\", \"hearing-loop\": true,"
    "  \"changing-places\": false,"
    "  \"lift\": {\"available\": false, \"details\": \"Out of order.\","
    "   \"until\": \"2026-12-20\"},"
    "  \"parking\": {\"available\": false, \"until\": \"2027-03-01\"},"
    "  \"bsl\": false}}";

static const char *meeting =
    "{\"type\": \"meeting\", \"id\": \"m-1\", \"title\": \"Forum\","
    " \"start\": \"2027-01-10T17:30\", \"end\": \"2027-01-10T19:30\","
    " \"timezone\": \"Europe/London\", \"venue\": \"v-1\","
    " \"online\": {\"url\": \"https://meet.example.org/f\","
    "  \"dial_in\": \"+44 20 7946 0001\"},"
    " \"agenda\": \"1. Welcome\\n2. Ideas\","
    " \"organiser\": {\"name\": \"Jo\", \"email\": \"jo@example.org\","
    "  \"phone\": \"020 7946 0002\"},"
    " \"access\": {\"bsl\": \"An interpreter is booked.\"},"
    " \"invitees\": [\"c-1\"]}";

static const char *collab =
    "{\"type\": \"collaborator\", \"id\": \"c-1\", \"name\": \"Amara\","
    " \"email\": \"amara@example.org\", \"consent\": true,"
    " \"format\": \"easy-read\","
    " \"access_needs\": [\"lift\", \"quiet-room\", \"bsl\"]}";

static struct config *
cf_new(void)
{
	struct config	*cf = config_default();

	free(cf->from_addr);
	free(cf->from_domain);
	free(cf->from_name);
	cf->from_addr = xstrdup("forum@example.org");
	cf->from_domain = xstrdup("example.org");
	cf->from_name = xstrdup("Forum team");
	return cf;
}

static json_t *
J(const char *s)
{
	json_error_t	 je;
	json_t		*j = json_loads(s, 0, &je);

	if (j == NULL)
		fail_msg("test JSON: %s", je.text);
	return j;
}

/* The job's data: the delivery and the records it refers to. */
static json_t *
data_new(const char *kind_data, json_t *extra)
{
	json_t		*recs = json_object(), *d;
	const char	*k;
	json_t		*v;

	json_object_set_new(recs, "rec:venue:v-1", json_pack("{s:o}",
	    "record", J(venue)));
	json_object_set_new(recs, "rec:meeting:m-1", json_pack("{s:o, s:{s:i}}",
	    "record", J(meeting), "meta", "seq", 2));
	json_object_set_new(recs, "rec:collaborator:c-1", json_pack("{s:o}",
	    "record", J(collab)));
	json_object_foreach(extra, k, v)
		json_object_set(recs, k, v);
	d = json_pack("{s:{s:s, s:s, s:s}, s:o}", "delivery", "mid", "m-1",
	    "src", "v-1", "data", kind_data ? kind_data : "{}", "records", recs);
	return d;
}

static json_t *
item(json_t *list, const char *word)
{
	json_t	*it;
	size_t	 i;

	json_array_foreach(list, i, it)
		if (strcmp(json_string_value(json_object_get(it, "word")),
		    word) == 0)
			return it;
	fail_msg("no %s in the list", word);
	return NULL;
}

static int
flag(json_t *o, const char *k)
{
	return json_is_true(json_object_get(o, k));
}

static void
test_access_states(void **state)
{
	struct config	*cf = cf_new();
	json_t		*data = data_new(NULL, NULL), *a, *it;
	struct view	 v;
	struct err	 e = { .msg = "" };

	(void)state;
	assert_int_equal(view_build("inv:m-1:c-1:2", "invitation", "c-1", data,
	    cf, &v, &e), 0);
	a = json_object_get(v.ctx, "access");
	assert_non_null(a);
	/* Own needs first, in the person's order, each with its state. */
	assert_int_equal(json_array_size(json_object_get(a, "yours")), 3);
	it = json_array_get(json_object_get(a, "yours"), 0);
	assert_string_equal(json_string_value(json_object_get(it, "word")),
	    "lift");
	assert_true(flag(it, "temporary"));
	assert_false(flag(it, "unavailable"));
	assert_string_equal(json_string_value(json_object_get(it, "until")),
	    "Sunday 20 December 2026");
	assert_string_equal(json_string_value(json_object_get(it, "detail")),
	    "Out of order.");
	/* Back by the meeting (10 January). */
	assert_true(flag(it, "back_by_meeting"));
	assert_true(flag(json_object_get(it, "is"), "lift"));
	assert_true(flag(json_array_get(json_object_get(a, "yours"), 1),
	    "unknown"));
	/* The meeting's own access overrides the venue's "false". */
	it = json_array_get(json_object_get(a, "yours"), 2);
	assert_true(flag(it, "arranged"));
	assert_string_equal(json_string_value(json_object_get(it, "detail")),
	    "An interpreter is booked.");
	assert_true(flag(a, "problems"));
	assert_false(flag(a, "all_met"));
	/* The rest: every other word once, grouped by state. */
	assert_int_equal(json_array_size(json_object_get(a, "others")), 13);
	assert_true(flag(item(json_object_get(a, "others_available"),
	    "hearing-loop"), "available"));
	assert_true(flag(item(json_object_get(a, "others_unavailable"),
	    "changing-places"), "unavailable"));
	it = item(json_object_get(a, "others_temporary"), "parking");
	assert_false(flag(it, "back_by_meeting"));
	assert_true(flag(a, "has_unknown"));
	assert_false(flag(a, "has_arranged"));
	it = json_object_get(a, "others_unknown");
	assert_true(flag(json_array_get(it, json_array_size(it) - 1), "last"));
	assert_true(flag(json_array_get(it, json_array_size(it) - 2),
	    "next_last"));
	/* No words made here: no labels. */
	assert_null(json_object_get(json_array_get(json_object_get(a, "yours"),
	    0), "label"));
	view_clear(&v);
	json_decref(data);
	config_unref(cf);
}

static void
test_phones_agenda_reminder(void **state)
{
	struct config	*cf = cf_new();
	json_t		*data = data_new("{\"lead\": 1920}", NULL), *m, *x;
	struct view	 v;
	struct err	 e = { .msg = "" };

	(void)state;
	assert_int_equal(view_build("rem:m-1:c-1:2:1920", "reminder", "c-1",
	    data, cf, &v, &e), 0);
	m = json_object_get(v.ctx, "meeting");
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    m, "contact"), "phone_tel")), "02079460002");
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    m, "online"), "dial_in_tel")), "+442079460001");
	x = json_object_get(json_object_get(m, "venue"), "on_the_day");
	assert_string_equal(json_string_value(json_object_get(x, "before")),
	    "Forum phone ");
	assert_string_equal(json_string_value(json_object_get(x, "number")),
	    "020 7946 0000");
	assert_string_equal(json_string_value(json_object_get(x, "after")),
	    ", ask for Sam");
	assert_string_equal(json_string_value(json_object_get(x, "tel")),
	    "02079460000");
	x = json_object_get(m, "agenda");
	assert_true(flag(x, "numbered"));
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(x, "items"), 1), "text")), "Ideas");
	/* A reminder has no lead time to say "in 32 minutes" with. */
	assert_non_null(json_object_get(v.ctx, "reminder"));
	assert_null(json_object_get(json_object_get(v.ctx, "reminder"),
	    "lead"));
	assert_null(v.ics);
	view_clear(&v);
	json_decref(data);
	config_unref(cf);
}

static void
test_venue_changes(void **state)
{
	struct config	*cf = cf_new();
	json_t		*data = data_new("{\"changes\": ["
	    "{\"word\": \"hearing-loop\", \"was\": null,"
	    " \"now\": {\"available\": true}},"
	    "{\"word\": \"lift\", \"was\": {\"available\": true},"
	    " \"now\": {\"available\": false, \"details\": \"Out of order.\","
	    "  \"until\": \"2026-12-20\"}},"
	    "{\"what\": \"Lift\", \"was\": \"available\", \"now\": \"x\"}]}",
	    NULL), *c, *x;
	struct view	 v;
	struct err	 e = { .msg = "" };

	(void)state;
	assert_int_equal(view_build("vup:v-1:m-1:c-1:h", "venue-update", "c-1",
	    data, cf, &v, &e), 0);
	c = json_object_get(v.ctx, "changes");
	assert_int_equal(json_array_size(c), 3);
	/* The person's own need first, then the rest, then old words. */
	x = json_array_get(c, 0);
	assert_string_equal(json_string_value(json_object_get(x, "word")),
	    "lift");
	assert_true(flag(x, "yours"));
	assert_true(flag(json_object_get(x, "was"), "available"));
	assert_true(flag(json_object_get(x, "now"), "temporary"));
	x = json_array_get(c, 1);
	assert_true(flag(json_object_get(x, "was"), "unknown"));
	assert_false(flag(x, "yours"));
	x = json_array_get(c, 2);
	assert_string_equal(json_string_value(json_object_get(x, "what")),
	    "Lift");
	view_clear(&v);
	json_decref(data);
	config_unref(cf);
}

static void
test_meeting_changes_and_calendar(void **state)
{
	struct config	*cf = cf_new();
	json_t		*data = data_new("{\"changes\": ["
	    "{\"field\": \"refreshments\", \"what\": \"Food and drink\","
	    " \"was\": \"Meal at 17:00.\", \"now\": \"Meal at 16:30.\"},"
	    "{\"field\": \"agenda\", \"what\": \"Agenda\", \"was\": \"1. A\","
	    " \"now\": \"1. A\\n2. B\"}]}", NULL), *c;
	struct view	 v;
	struct err	 e = { .msg = "" };

	(void)state;
	assert_int_equal(view_build("upd:m-1:c-1:2", "update", "c-1", data,
	    cf, &v, &e), 0);
	c = json_object_get(v.ctx, "changes");
	assert_true(flag(json_object_get(json_array_get(c, 0), "is"),
	    "refreshments"));
	assert_int_equal(json_array_size(json_object_get(json_array_get(c, 1),
	    "now_lines")), 2);
	/* The calendar: built, then built again with the templates' words. */
	assert_non_null(v.ics);
	assert_null(strstr(v.ics, "DESCRIPTION"));
	assert_true(flag(v.ctx, "calendar"));
	assert_int_equal(view_calendar(&v, "How to get in: the side door.", &e),
	    0);
	assert_non_null(strstr(v.ics, "DESCRIPTION:How to get in: the side "
	    "door."));
	assert_non_null(strstr(v.ics, "SEQUENCE:2"));
	/* Nothing to add: the part stays as it is. */
	assert_int_equal(view_calendar(&v, NULL, &e), 0);
	assert_non_null(strstr(v.ics, "DESCRIPTION:"));
	view_clear(&v);
	json_decref(data);
	config_unref(cf);
}

static void
test_outcome_whose_words(void **state)
{
	struct config	*cf = cf_new();
	json_t		*extra = json_object(), *data, *o;
	struct view	 v;
	struct err	 e = { .msg = "" };

	(void)state;
	json_object_set_new(extra, "rec:outcome:o-1", json_pack("{s:o}",
	    "record", J("{\"type\": \"outcome\", \"id\": \"o-1\","
	    " \"said\": [\"s-1\", \"s-2\", \"s-3\"], \"we_did\": \"Done it.\","
	    " \"status\": \"done\"}")));
	json_object_set_new(extra, "rec:said:s-1", json_pack("{s:o}",
	    "record", J("{\"type\": \"said\", \"id\": \"s-1\","
	    " \"collaborator\": \"c-1\", \"text\": \"Discharge letters arrive"
	    " after people are already home, every time.\"}")));
	data = data_new(NULL, extra);
	json_object_set_new(json_object_get(data, "delivery"), "src",
	    json_string("o-1"));
	json_object_set_new(json_object_get(data, "delivery"), "data",
	    json_string("{\"said\": [\"s-1\"]}"));
	assert_int_equal(view_build("out:o-1:c-1:1", "outcome", "c-1", data,
	    cf, &v, &e), 0);
	o = json_object_get(v.ctx, "outcome");
	/* No topic: their first words name the email. */
	assert_string_equal(json_string_value(json_object_get(o, "about")),
	    "Discharge letters arrive after people are…");
	assert_int_equal(json_integer_value(json_object_get(o,
	    "others_count")), 2);
	assert_true(flag(o, "others_many"));
	assert_int_equal(json_array_size(json_object_get(v.ctx, "items")), 1);
	view_clear(&v);
	json_decref(data);
	json_decref(extra);
	config_unref(cf);
}

/*
 * A call list (issue 14) to the coordinator: the person with a phone and
 * no email, their needs as the same items (a temporary state that is over
 * reads unknown: access_settled), and a meeting access change as words
 * ({word, was, now} states made into items).
 */
static void
test_calllist(void **state)
{
	struct config	*cf = cf_new();
	json_t		*extra = json_object(), *data, *p, *it, *ch, *w;
	struct view	 v;
	struct err	 e = { .msg = "" };

	(void)state;
	json_object_set_new(extra, "rec:venue:v-1", json_pack("{s:o}",
	    "record", J("{\"type\": \"venue\", \"id\": \"v-1\", "
	    "\"name\": \"Studio 2\", \"address\": \"Lyric Square\", "
	    "\"access\": {\"quiet-room\": {\"available\": false, "
	    "\"until\": \"2026-11-20\"}, \"parking\": {\"available\": "
	    "false, \"until\": \"2027-03-01\"}}}")));
	json_object_set_new(extra, "rec:collaborator:c-2", json_pack("{s:o}",
	    "record", J("{\"type\": \"collaborator\", \"id\": \"c-2\", "
	    "\"name\": \"Phil\", \"phone\": \"020 7946 0123\", "
	    "\"consent\": true, \"access_needs\": [\"bsl\", "
	    "\"quiet-room\", \"parking\"], \"communication\": "
	    "[\"interpreter:bfi\"]}")));
	data = data_new("{\"calls\": [{\"cid\": \"c-2\", \"kind\": "
	    "\"update\", \"changes\": [{\"field\": \"access\", \"what\": "
	    "\"Access arranged for this meeting\", \"was\": \"\", \"now\": "
	    "\"{}\", \"words\": [{\"word\": \"bsl\", \"was\": null, "
	    "\"now\": {\"available\": true, \"details\": \"Booked.\"}, "
	    "\"was_arranged\": false, \"now_arranged\": true}]}]}, "
	    "{\"cid\": \"c-gone\", \"kind\": \"invitation\"}]}", extra);
	json_object_set_new(json_object_get(data, "delivery"), "to",
	    json_string("coord@example.org"));
	assert_int_equal(view_build("call:m-1:2:h", "calllist", NULL, data, cf,
	    &v, &e), 0);
	assert_string_equal(v.to_addr, "coord@example.org");
	p = json_object_get(json_object_get(v.ctx, "calllist"), "people");
	/* Someone no longer stored is left out. */
	assert_int_equal(json_array_size(p), 1);
	p = json_array_get(p, 0);
	assert_string_equal(json_string_value(json_object_get(p, "phone")),
	    "020 7946 0123");
	assert_true(flag(p, "update"));
	/* The meeting's own "bsl" over the venue's silence. */
	it = item(json_object_get(p, "needs"), "bsl");
	assert_true(flag(it, "arranged"));
	/* Over on 20 November (the clock says 1 December): not known now. */
	assert_true(flag(item(json_object_get(p, "needs"), "quiet-room"),
	    "unknown"));
	assert_true(flag(item(json_object_get(p, "needs"), "parking"),
	    "temporary"));
	ch = json_array_get(json_object_get(p, "changes"), 0);
	assert_true(flag(json_object_get(ch, "is"), "access"));
	w = json_array_get(json_object_get(ch, "words"), 0);
	assert_true(flag(json_object_get(w, "is"), "bsl"));
	assert_true(flag(json_object_get(w, "was"), "unknown"));
	assert_true(flag(json_object_get(w, "now"), "arranged"));
	assert_string_equal(json_string_value(json_object_get(json_object_get(w,
	    "now"), "detail")), "Booked.");
	assert_string_equal(json_string_value(json_array_get(json_object_get(p,
	    "communication"), 0)), "an interpreter (language bfi)");
	/* Not cancelled: no reason. */
	assert_null(json_object_get(v.ctx, "cancellation"));
	view_clear(&v);
	json_decref(data);
	json_decref(extra);
	config_unref(cf);
}

/* The views read the clock (a temporary state that is over): hold it at
 * 1 December 2026, 12:00 UTC, so the fixed dates above keep their sense. */
static void
clock_fix(void)
{
	static char	path[] = "/tmp/test_view_clock.XXXXXX";
	struct timespec	ts;
	FILE		*f;
	int		fd;

	if ((fd = mkstemp(path)) == -1 || (f = fdopen(fd, "w")) == NULL) {
		perror("test_view: clock file");
		exit(1);
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	fprintf(f, "%lld\n", 1796126400000LL - ((long long)ts.tv_sec * 1000 +
	    ts.tv_nsec / 1000000));
	fclose(f);
	setenv("HEARBACK_TEST_CLOCK", path, 1);
}

int
main(void)
{
	int	rc;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_access_states),
		cmocka_unit_test(test_phones_agenda_reminder),
		cmocka_unit_test(test_venue_changes),
		cmocka_unit_test(test_meeting_changes_and_calendar),
		cmocka_unit_test(test_outcome_whose_words),
		cmocka_unit_test(test_calllist),
	};

	clock_fix();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(getenv("HEARBACK_TEST_CLOCK"));
	return rc;
}
