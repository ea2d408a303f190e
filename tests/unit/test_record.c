/*
 * test_record.c: the form checks of records (record.c) and email addresses
 * (address.c), against the examples and rules of SPEC sections 2 and 3.
 *
 * JSON in this file is written with ' for " (see J()), so there are no
 * apostrophes in the test texts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <gmime/gmime.h>
#include <jansson.h>

#include "address.h"
#include "record.h"
#include "util.h"

static const struct record_opts opts = { "Europe/London", 65536 };

#define WORDS	"step-free, lift, accessible-toilet, changing-places, " \
		"hearing-loop, bsl, captions, quiet-room, seating, parking, " \
		"public-transport, assistance-dogs, lighting, large-print, " \
		"easy-read, non-clinical"

/* ' -> " so that test JSON is readable. */
static char *
J(const char *s)
{
	char	*t = xstrdup(s), *p;

	for (p = t; *p != '\0'; p++)
		if (*p == '\'')
			*p = '"';
	return t;
}

static int
parse(const char *json, struct record *r, struct err *e)
{
	char	*t = J(json);
	int	 rc;

	memset(e, 0, sizeof *e);
	rc = record_parse(t, strlen(t), &opts, r, e);
	free(t);
	return rc;
}

static void
ok(const char *json, enum record_type type, const char *id)
{
	struct record	r;
	struct err	e;

	if (parse(json, &r, &e) != 0)
		fail_msg("unexpected error: %s\nfor %s", e.msg, json);
	assert_int_equal(r.type, type);
	assert_string_equal(r.id, id);
	assert_non_null(r.json);
	assert_non_null(r.tz);
	record_clear(&r);
	assert_null(r.json);
}

static void
bad(const char *json, const char *msg)
{
	struct record	r;
	struct err	e;

	if (parse(json, &r, &e) == 0) {
		record_clear(&r);
		fail_msg("accepted, expected \"%s\"\nfor %s", msg, json);
	}
	assert_null(r.json);
	assert_string_equal(e.msg, msg);
}

/* base with the members of patch set (null stays null) and key removed. */
static char *
modify(const char *base, const char *patch, const char *remove)
{
	json_t		*b, *p;
	json_error_t	 je;
	char		*tb = J(base), *tp, *out;

	b = json_loads(tb, 0, &je);
	if (b == NULL)
		fail_msg("bad base in test: %s", je.text);
	if (patch != NULL) {
		tp = J(patch);
		if ((p = json_loads(tp, 0, &je)) == NULL)
			fail_msg("bad patch in test: %s", je.text);
		json_object_update(b, p);
		json_decref(p);
		free(tp);
	}
	if (remove != NULL)
		assert_int_equal(json_object_del(b, remove), 0);
	out = json_dumps(b, JSON_COMPACT);
	/* Back to ' so parse() can map it again. */
	for (char *q = out; *q != '\0'; q++)
		if (*q == '"')
			*q = '\'';
	json_decref(b);
	free(tb);
	return out;
}

static void
bad_mod(const char *base, const char *patch, const char *remove,
    const char *msg)
{
	char	*s = modify(base, patch, remove);

	bad(s, msg);
	free(s);
}

static void
ok_mod(const char *base, const char *patch, const char *remove)
{
	struct record	r;
	struct err	e;
	char		*s = modify(base, patch, remove);

	if (parse(s, &r, &e) != 0)
		fail_msg("unexpected error: %s\nfor %s", e.msg, s);
	record_clear(&r);
	free(s);
}

/* The examples of SPEC section 2. */
static const char *collaborator =
    "{'type': 'collaborator', 'id': 'c-amara', 'name': 'Amara Okafor',"
    " 'email': 'amara@example.org', 'consent': true,"
    " 'format': 'easy-read',"
    " 'access_needs': ['step-free', 'quiet-room'],"
    " 'reminders': ['7d', '1d', '2h'],"
    " 'groups': ['carers-forum']}";

static const char *venue =
    "{'type': 'venue', 'id': 'v-lyric', 'name': 'Lyric Hammersmith, Studio 2',"
    " 'address': 'Lyric Square, King Street, London W6 0QL',"
    " 'getting_there': 'Hammersmith station (step-free, 3 min walk). Buses 27, 190.',"
    " 'arrival': 'Use the main glass doors. Sam from the forum meets you in the foyer.',"
    " 'access': {'step-free': 'Level entrance and lift to Studio 2.',"
    "            'hearing-loop': true, 'changing-places': false,"
    "            'quiet-room': 'Green room on floor 1, ask at the front desk.'},"
    " 'on_the_day_contact': 'Forum phone 020 7946 0000',"
    " 'access_guide_url': 'https://www.accessable.co.uk/...',"
    " 'last_verified': '2026-10-01'}";

static const char *meeting =
    "{'type': 'meeting', 'id': 'm-forum-2026-12', 'title': 'Community forum: leaving hospital',"
    " 'start': '2026-12-10T17:30', 'end': '2026-12-10T19:30', 'timezone': 'Europe/London',"
    " 'venue': 'v-lyric',"
    " 'online': {'url': 'https://meet.example.org/forum', 'captions': true, 'dial_in': '020 7946 0001'},"
    " 'agenda': '1. Welcome\\n2. What happens on the day you leave hospital\\n3. Ideas',"
    " 'organiser': {'name': 'Jo Patel', 'email': 'jo@example.org', 'phone': '020 7946 0002'},"
    " 'invitees': ['c-amara', 'c-ben'], 'groups': ['carers-forum'],"
    " 'payment': {'travel': 'We pay travel, including a companion. Bring tickets or receipts.',"
    "             'fee': '\xc2\xa3" "20 for your time, paid on the day.',"
    "             'benefits': 'If a payment could affect your benefits, talk to Jo first.'},"
    " 'refreshments': 'Hot meal at 17:00. Vegetarian and halal options.',"
    " 'adjustments_by': '2026-12-01',"
    " 'reminders': ['7d', '1d'],"
    " 'status': 'scheduled'}";

static const char *announcement =
    "{'type': 'announcement', 'id': 'a-2026-11-survey', 'subject': 'Help us rewrite the discharge letter',"
    " 'body': 'Paragraphs of plain text.\\n\\nBlank lines separate paragraphs.',"
    " 'to': {'groups': ['carers-forum'], 'collaborators': ['c-dee'], 'all': false},"
    " 'send_at': '2026-11-28T10:00', 'timezone': 'Europe/London'}";

static const char *said =
    "{'type': 'said', 'id': 's-17', 'meeting': 'm-forum-2026-12', 'collaborator': 'c-amara',"
    " 'text': 'Discharge letters arrive after people are already home.', 'topic': 'discharge'}";

static const char *outcome =
    "{'type': 'outcome', 'id': 'o-5', 'said': ['s-17', 's-18'],"
    " 'we_did': 'Ward 3 now hands the discharge letter over before people leave.',"
    " 'status': 'done', 'reason': null}";

static const char *forget = "{'type': 'forget', 'collaborator': 'c-amara'}";

static void
test_spec_examples(void **state)
{
	ok(collaborator, REC_COLLABORATOR, "c-amara");
	ok(venue, REC_VENUE, "v-lyric");
	ok(meeting, REC_MEETING, "m-forum-2026-12");
	ok(announcement, REC_ANNOUNCEMENT, "a-2026-11-survey");
	ok(said, REC_SAID, "s-17");
	ok(outcome, REC_OUTCOME, "o-5");
	ok(forget, REC_FORGET, "c-amara");
	/* Minimal forms. */
	ok("{'type': 'collaborator', 'id': 'c-1', 'name': 'B', "
	    "'email': 'b@example.org', 'consent': false}", REC_COLLABORATOR,
	    "c-1");
	ok("{'type': 'said', 'id': 's-1', 'text': 'x'}", REC_SAID, "s-1");
	ok("{'type': 'venue', 'id': 'v', 'name': 'V', 'address': "
	    "'1 High St\\nLondon'}", REC_VENUE, "v");
	ok_mod(collaborator, "{'reminders': []}", NULL);
	ok_mod(collaborator, "{'coordinator': 'jo@example.org'}", NULL);
	ok_mod(meeting, "{'online': null}", NULL);
	ok_mod(meeting, NULL, "venue");
	ok_mod(meeting, "{'invitees': []}", NULL);
	ok_mod(meeting, "{'agenda': 'a\\n\\tb'}", NULL);
	ok_mod(meeting, "{'status': 'cancelled'}", NULL);
	ok_mod(meeting, "{'end': '2026-12-10T17:30:01'}", NULL);
	ok_mod(meeting, "{'adjustments_by': '2026-12-10'}", NULL);
	ok_mod(announcement, "{'to': {'all': true}}", NULL);
	ok_mod(outcome, "{'status': 'not-possible', 'reason': 'No budget.'}",
	    NULL);
}

static void
test_record_fields(void **state)
{
	struct record	r;
	struct err	e;
	char		*s;

	/* tz: the record's own, else the default. */
	assert_int_equal(parse(meeting, &r, &e), 0);
	assert_string_equal(r.tz, "Europe/London");
	record_clear(&r);
	s = modify(announcement, "{'timezone': 'America/New_York'}", NULL);
	assert_int_equal(parse(s, &r, &e), 0);
	assert_string_equal(r.tz, "America/New_York");
	record_clear(&r);
	free(s);
	s = modify(announcement, NULL, "timezone");
	assert_int_equal(parse(s, &r, &e), 0);
	assert_string_equal(r.tz, "Europe/London");
	assert_string_equal(json_string_value(json_object_get(r.json,
	    "subject")), "Help us rewrite the discharge letter");
	record_clear(&r);
	free(s);
	record_clear(&r);	/* twice is harmless */
}

static void
test_whole_record(void **state)
{
	struct record	r;
	struct err	e;
	char		*big;

	bad("{'type': 'venue',\n 'id': }",
	    "not JSON: line 2 column 8: unexpected token near '}'");
	bad("", "not JSON: line 1 column 0: the text is empty; a record is "
	    "one JSON object, {\"type\": ...}");
	bad("[{'type': 'forget', 'collaborator': 'c-amara'}]",
	    "not a JSON object");
	bad("42", "not a JSON object");
	bad("'forget'", "not a JSON object");
	bad("null", "not a JSON object");
	bad("{'type': 'forget', 'collaborator': 'c-1'} x",
	    "not JSON: line 1 column 43: there is more after the end of the "
	    "record; several records go in one list: [{...}, {...}]");
	/* A raw control character in the input is not echoed raw. */
	bad("{'type': 'said', 'id': 's', 'text': 'a\tb'}",
	    "not JSON: line 1 column 38: a line break or tab inside quotes; "
	    "write \\n for a new line");
	/* Duplicate keys. */
	bad("{'type': 'forget', 'collaborator': 'c-1', 'collaborator': 'c-2'}",
	    "not JSON: line 1 column 43: the field \"collaborator\" appears "
	    "twice in the same object (a duplicate key); keep one");

	/* Too large: checked before parsing (this is not even JSON). */
	big = xmalloc(70000);
	memset(big, '{', 70000);
	assert_int_equal(record_parse(big, 70000, &opts, &r, &e), -1);
	assert_string_equal(e.msg, "too large: 70000 bytes, limit 65536");
	assert_int_equal(record_parse(big, 65536, &opts, &r, &e), -1);
	assert_non_null(strstr(e.msg, "not JSON: line 1 column "));
	free(big);

	bad("{'id': 'x'}", "type: missing (required)");
	bad("{'type': null, 'id': 'x'}", "type: missing (required)");
	bad("{'type': 'meet', 'id': 'x'}", "type: unknown record type \"meet\"");
	bad("{'type': 7}", "type: expected a string, got a number");
	bad("{'type': 'forget', 'collaborator': 'c-1', 'id': 'c-1'}",
	    "id: unknown field");
}

static void
test_record_check(void **state)
{
	struct record		 r;
	struct err		 e;
	struct record_opts	 small = { "Europe/Paris", 100 };
	json_t			*a, *o;
	json_error_t		 je;
	char			*t;

	t = J("[{'type': 'forget', 'collaborator': 'c-1'}, [1]]");
	a = json_loads(t, 0, &je);
	free(t);
	assert_non_null(a);
	o = json_array_get(a, 0);
	assert_int_equal(record_check(o, &opts, &r, &e), 0);
	assert_int_equal(o->refcount, 2);
	assert_string_equal(r.id, "c-1");
	record_clear(&r);
	assert_int_equal(o->refcount, 1);
	assert_int_equal(record_check(json_array_get(a, 1), &opts, &r, &e),
	    -1);
	assert_string_equal(e.msg, "not a JSON object");

	/* The compact form is measured against the limit. */
	t = J("{'type': 'said', 'id': 's-1', 'text': '"
	    "0123456789012345678901234567890123456789012345678901234567890123"
	    "456789'}");
	o = json_loads(t, 0, &je);
	free(t);
	assert_int_equal(record_check(o, &small, &r, &e), -1);
	assert_string_equal(e.msg, "too large: 106 bytes, limit 100");
	assert_int_equal(record_check(o, NULL, &r, &e), 0);
	assert_string_equal(r.tz, "Europe/London");
	record_clear(&r);
	json_decref(o);
	json_decref(a);
}

static void
test_unknown_fields(void **state)
{
	bad_mod(collaborator, "{'acess': ['step-free']}", NULL,
	    "acess: unknown field");
	bad_mod(meeting, "{'online': {'urll': 'https://x.org'}}", NULL,
	    "online.urll: unknown field; did you mean \"url\"?");
	bad_mod(meeting, "{'payment': {'tip': 'x'}}", NULL,
	    "payment.tip: unknown field");
	bad_mod(meeting, "{'organiser': {'name': 'Jo', 'mobile': '1'}}", NULL,
	    "organiser.mobile: unknown field");
	bad_mod(announcement, "{'to': {'everyone': true}}", NULL,
	    "to.everyone: unknown field");
	bad_mod(said, "{'timezone': 'Europe/London'}", NULL,
	    "timezone: unknown field");
	bad("{'type': 'forget', 'collaborator': 'c-1', 'a\\nb': 1}",
	    "\"a\\nb\": unknown field");
	bad_mod(collaborator, "{'access_needs': ['step-free', 'lifts']}", NULL,
	    "access_needs[1]: \"lifts\" is not an access word; did you mean "
	    "\"lift\"? The access words are: " WORDS ".");
	bad_mod(venue, "{'access': {'lifts': true}}", NULL,
	    "access.lifts: \"lifts\" is not an access word; did you mean "
	    "\"lift\"? The access words are: " WORDS ".");
	bad_mod(venue, "{'access': {'lift': 1}}", NULL,
	    "access.lift: expected true, false, a description, or "
	    "{\"available\": true or false, \"details\": ..., \"until\": "
	    "DATE}, got a number");
	bad_mod(venue, "{'access': {'lift': ''}}", NULL,
	    "access.lift: is empty (leave the field out instead)");
	bad_mod(venue, "{'access': ['lift']}", NULL,
	    "access: expected an object, got an array");
	bad_mod(collaborator, "{'access_needs': ['lift', 'bsl', 'lift']}",
	    NULL, "access_needs[2]: \"lift\" is the same as access_needs[0]");
}

static void
test_missing_and_types(void **state)
{
	bad_mod(collaborator, NULL, "email", "email: missing (give an email "
	    "address, a phone number as \"phone\", or both)");
	bad_mod(collaborator, "{'email': null}", NULL,
	    "email: missing (give an email address, a phone number as "
	    "\"phone\", or both)");
	bad_mod(collaborator, NULL, "consent", "consent: missing (required)");
	bad_mod(collaborator, "{'consent': 'yes'}", NULL,
	    "consent: expected true or false, got a string");
	bad_mod(collaborator, "{'consent': 1}", NULL,
	    "consent: expected true or false, got a number");
	bad_mod(collaborator, "{'name': 42}", NULL,
	    "name: expected a string, got a number");
	bad_mod(collaborator, "{'name': ['Amara']}", NULL,
	    "name: expected a string, got an array");
	bad_mod(collaborator, "{'groups': 'carers-forum'}", NULL,
	    "groups: expected an array, got a string");
	bad_mod(collaborator, "{'groups': [true]}", NULL,
	    "groups[0]: expected a string, got true");
	bad_mod(collaborator, "{'format': 'easy read'}", NULL,
	    "format: \"easy read\" is not one of standard, easy-read, "
	    "large-print, plain-text; did you mean \"easy-read\"?");
	bad_mod(meeting, "{'invitees': {'c-amara': true}}", NULL,
	    "invitees: expected an array, got an object");
	bad_mod(meeting, "{'invitees': ['c-amara', null]}", NULL,
	    "invitees[1]: expected a string, got null");
	bad_mod(meeting, "{'online': ['https://x.org']}", NULL,
	    "online: expected an object, got an array");
	bad_mod(meeting, "{'online': {'url': 'https://x.org', 'captions': "
	    "'yes'}}", NULL,
	    "online.captions: expected true or false, got a string");
	bad_mod(meeting, "{'online': {'captions': true}}", NULL,
	    "online.url: missing (required)");
	bad_mod(meeting, "{'organiser': {'email': 'jo@example.org'}}", NULL,
	    "organiser.name: missing (required)");
	bad_mod(meeting, "{'payment': {'fee': 20}}", NULL,
	    "payment.fee: expected a string, got a number");
	bad_mod(meeting, "{'status': 'postponed'}", NULL,
	    "status: \"postponed\" is not one of scheduled, cancelled, held");
	bad_mod(meeting, "{'reminders': '7d'}", NULL,
	    "reminders: expected an array, got a string");
	bad_mod(meeting, "{'title': ''}", NULL,
	    "title: is empty (leave the field out instead)");
	bad_mod(meeting, "{'title': '   '}", NULL,
	    "title: is empty (leave the field out instead)");
	bad_mod(announcement, NULL, "to", "to: missing (required)");
	bad_mod(announcement, "{'to': {'all': 'true'}}", NULL,
	    "to.all: expected true or false, got a string");
	bad_mod(outcome, "{'said': []}", NULL,
	    "said: is empty (name at least one)");
	bad_mod(outcome, NULL, "status", "status: missing (required)");
	bad_mod(outcome, "{'status': 'finished'}", NULL,
	    "status: \"finished\" is not one of done, in-progress, planned, "
	    "not-possible");
	bad_mod(said, NULL, "text", "text: missing (required)");
	bad("{'type': 'forget'}", "collaborator: missing (required)");
	bad_mod(venue, "{'access_guide_url': 'ftp://x.org/a'}", NULL,
	    "access_guide_url: \"ftp://x.org/a\" is not a web address (it "
	    "must start with https:// or http://)");
	bad_mod(venue, "{'access_guide_url': 'https://x.org/a b'}", NULL,
	    "access_guide_url: \"https://x.org/a b\" is not a web address (it "
	    "must start with https:// or http://)");
	bad_mod(meeting, "{'online': {'url': 'https://'}}", NULL,
	    "online.url: \"https://\" is not a web address (it "
	    "must start with https:// or http://)");
	bad_mod(meeting, "{'online': {'url': 'javascript:alert(1)'}}", NULL,
	    "online.url: \"javascript:alert(1)\" is not a web address (it "
	    "must start with https:// or http://)");
}

static void
test_text(void **state)
{
	char	name[300], *patch;

	bad_mod(announcement, "{'subject': 'Help\\r\\nBcc: x@y.z'}", NULL,
	    "subject: contains a line break (not allowed in a subject)");
	bad_mod(announcement, "{'subject': 'Help\\nus'}", NULL,
	    "subject: contains a line break (not allowed in a subject)");
	bad_mod(announcement, "{'subject': 'Help\\u2028us'}", NULL,
	    "subject: contains a line break (not allowed in a subject)");
	bad_mod(collaborator, "{'name': 'Amara\\nOkafor'}", NULL,
	    "name: contains a line break (not allowed in a name)");
	bad_mod(collaborator, "{'name': 'Amara\\rOkafor'}", NULL,
	    "name: contains a line break (not allowed in a name)");
	bad_mod(collaborator, "{'name': 'Amara\\tOkafor'}", NULL,
	    "name: contains a control character (U+0009, a tab)");
	bad_mod(meeting, "{'title': 'Forum\\r'}", NULL,
	    "title: contains a line break (not allowed in a title)");
	bad_mod(meeting, "{'organiser': {'name': 'Jo\\nPatel'}}", NULL,
	    "organiser.name: contains a line break (not allowed in a name)");
	bad_mod(said, "{'topic': 'a\\nb'}", NULL,
	    "topic: contains a line break (not allowed in a topic)");
	bad_mod(meeting, "{'agenda': '1. Welcome\\r\\n2. Ideas'}", NULL,
	    "agenda: contains a carriage return (\\r); use \\n alone for a "
	    "new line");
	bad_mod(announcement, "{'body': 'a\\u0001b'}", NULL,
	    "body: contains a control character (U+0001)");
	bad_mod(said, "{'text': 'a\\u007fb'}", NULL,
	    "text: contains a control character (U+007F)");
	bad_mod(said, "{'text': 'a\\u0085b'}", NULL,
	    "text: contains a control character (U+0085)");
	bad_mod(meeting, "{'online': {'url': 'https://x.org', 'dial_in': "
	    "'1\\n2'}}", NULL,
	    "online.dial_in: contains a line break (this field is one line)");
	bad_mod(meeting, "{'payment': {'travel': 'a\\rb'}}", NULL,
	    "payment.travel: contains a carriage return (\\r); use \\n alone "
	    "for a new line");
	ok_mod(said, "{'text': 'Caf\xc3\xa9 \xe2\x80\x94 fine\\n\\tok'}",
	    NULL);

	memset(name, 'x', 201);
	name[201] = '\0';
	patch = xasprintf("{'name': '%s'}", name);
	bad_mod(collaborator, patch, NULL,
	    "name: is too long (201 characters, at most 200)");
	free(patch);
	name[200] = '\0';
	patch = xasprintf("{'name': '%s'}", name);
	ok_mod(collaborator, patch, NULL);
	free(patch);
	/* Characters, not bytes: 200 two-byte characters are fine. */
	for (int i = 0; i < 100; i++)
		memcpy(name + 2 * i, "\xc3\xa9", 2);
	name[200] = '\0';
	patch = xasprintf("{'name': '%s'}", name);
	ok_mod(collaborator, patch, NULL);
	free(patch);
}

static void
test_ids(void **state)
{
	char	id[140], *patch;

	bad_mod(collaborator, "{'id': 'c amara'}", NULL,
	    "id: \"c amara\" is not a valid id (letters, digits, and "
	    ". _ : - ; at most 128)");
	bad_mod(collaborator, "{'id': ''}", NULL,
	    "id: \"\" is not a valid id (letters, digits, and "
	    ". _ : - ; at most 128)");
	bad_mod(collaborator, "{'id': '-c'}", NULL,
	    "id: \"-c\" is not a valid id (letters, digits, and "
	    ". _ : - ; at most 128)");
	bad_mod(collaborator, "{'id': 'c\\nx'}", NULL,
	    "id: \"c\\nx\" is not a valid id (letters, digits, and "
	    ". _ : - ; at most 128)");
	bad_mod(collaborator, "{'id': 5}", NULL,
	    "id: expected a string, got a number");
	bad_mod(meeting, "{'invitees': ['c-amara', 'c/ben']}", NULL,
	    "invitees[1]: \"c/ben\" is not a valid id (letters, digits, and "
	    ". _ : - ; at most 128)");
	bad_mod(meeting, "{'venue': 'v lyric'}", NULL,
	    "venue: \"v lyric\" is not a valid id (letters, digits, and "
	    ". _ : - ; at most 128)");
	bad_mod(announcement, "{'to': {'collaborators': ['c dee']}}", NULL,
	    "to.collaborators[0]: \"c dee\" is not a valid id (letters, "
	    "digits, and . _ : - ; at most 128)");
	bad_mod(collaborator, "{'groups': ['carers forum']}", NULL,
	    "groups[0]: \"carers forum\" is not a valid group name (letters, "
	    "digits, and . _ : - ; at most 128)");
	bad_mod(meeting, "{'invitees': ['c-amara', 'c-ben', 'c-amara']}",
	    NULL, "invitees[2]: \"c-amara\" is the same as invitees[0]");
	bad_mod(outcome, "{'said': ['s-1', 's-1']}", NULL,
	    "said[1]: \"s-1\" is the same as said[0]");
	/* Longer lists than record_field.c compares element by element:
	 * repeats are found the same way, and said the same. */
	ok_mod(meeting, "{'invitees': ['c-0','c-1','c-2','c-3','c-4','c-5',"
	    "'c-6','c-7','c-8','c-9','c-10','c-11','c-12','c-13','c-14',"
	    "'c-15','c-16','c-17','c-18','c-19']}", NULL);
	bad_mod(meeting, "{'invitees': ['c-0','c-1','c-2','c-3','c-4','c-5',"
	    "'c-6','c-7','c-8','c-9','c-10','c-11','c-12','c-13','c-14',"
	    "'c-15','c-16','c-17','c-18','c-3']}", NULL,
	    "invitees[19]: \"c-3\" is the same as invitees[3]");
	bad_mod(meeting, "{'invitees': ['c-0','c-1','c-2','c-3','c-4','c-5',"
	    "'c-6','c-7','c-8','c-9','c-10','c-11','c-12','c-13','c-14',"
	    "'c-15','c-16','c-17','c-18','c-x y']}", NULL,
	    "invitees[19]: \"c-x y\" is not a valid id (letters, digits, "
	    "and . _ : - ; at most 128)");
	bad_mod(said, "{'meeting': 'm 1'}", NULL,
	    "meeting: \"m 1\" is not a valid id (letters, digits, and "
	    ". _ : - ; at most 128)");

	memset(id, 'a', 129);
	id[129] = '\0';
	assert_false(record_id_valid(id));
	patch = xasprintf("{'id': '%s'}", id);
	bad_mod(collaborator, patch, NULL,
	    "id: \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "...\" is not a valid id (letters, digits, and "
	    ". _ : - ; at most 128)");
	free(patch);
	id[128] = '\0';
	assert_true(record_id_valid(id));
	patch = xasprintf("{'id': '%s'}", id);
	ok_mod(collaborator, patch, NULL);
	free(patch);
	assert_true(record_id_valid("m:2026.12_a-b"));
	assert_false(record_id_valid("."));
	assert_false(record_id_valid(""));
}

static void
test_addresses(void **state)
{
	static const char *const good[] = {
		"amara@example.org", "o'neil+forum@mail.example.co.uk",
		"A.B@Example.ORG", "x@xn--exmple-cua.org", NULL
	};
	static const char *const badaddr[] = {
		"a@", "@b.c", "a b@c.d", "a@b", "a@b.c\r\nBcc: x@y.z",
		"Name <a@b.c>", "<a@b.c>", "a@b@c.d", "a..b@c.d", ".a@b.c",
		"a.@b.c", "a@-b.c", "a@b-.c", "a@b..c", "a@b.c.", "a@1.2.3.4",
		"a@[1.2.3.4]", "\"a b\"@c.d", "a@b.c,d@e.f", "a@b.c;", "",
		"a(x)@b.c", "\xc3\xa9@b.c", "a@b.c ", " a@b.c", "a@b_c.d",
		"a@ex\xc3\xa4mple.org",	/* not ASCII: see test_address.c */
		NULL
	};
	struct err	e;
	char		 local[80], longaddr[300], *name, *addr;
	int		 i;

	for (i = 0; good[i] != NULL; i++)
		if (address_check(good[i], &e) != 0)
			fail_msg("refused %s: %s", good[i], e.msg);
	for (i = 0; badaddr[i] != NULL; i++)
		if (address_check(badaddr[i], &e) == 0)
			fail_msg("accepted \"%s\"", badaddr[i]);
	assert_int_equal(address_check("a@b.c\r\nBcc: x@y.z", &e), -1);
	assert_string_equal(e.msg,
	    "\"a@b.c\\r\\nBcc: x@y.z\" is not an email address");

	memset(local, 'a', 64);
	strcpy(local + 64, "@b.cd");
	assert_int_equal(address_check(local, &e), 0);
	memset(local, 'a', 65);
	strcpy(local + 65, "@b.cd");
	assert_int_equal(address_check(local, &e), -1);
	/* 64 + 1 + 189 = 254 is fine, 255 is not. */
	memset(longaddr, 'a', 64);
	longaddr[64] = '@';
	for (i = 65; i < 254; i++)
		longaddr[i] = (i - 65) % 60 == 59 ? '.' : 'b';
	memcpy(longaddr + 250, ".org", 5);
	assert_int_equal(strlen(longaddr), 254);
	if (address_check(longaddr, &e) != 0)
		fail_msg("refused 254: %s", e.msg);
	memcpy(longaddr + 250, ".orgx", 6);
	assert_int_equal(address_check(longaddr, &e), -1);

	bad_mod(collaborator, "{'email': 'amara@'}", NULL,
	    "email: \"amara@\" is not an email "
	    "address (write just the address, like name@example.org)");
	bad_mod(collaborator, "{'email': 'Amara <amara@example.org>'}", NULL,
	    "email: \"Amara <amara@example.org>\" is not an email "
	    "address (write just the address, like name@example.org)");
	bad_mod(collaborator, "{'email': 'a@b.c\\r\\nBcc: x@y.z'}", NULL,
	    "email: \"a@b.c\\r\\nBcc: x@y.z\" is not an email "
	    "address (write just the address, like name@example.org)");
	bad_mod(said, "{'coordinator': 'jo'}", NULL,
	    "coordinator: \"jo\" is not an email "
	    "address (write just the address, like name@example.org)");
	bad_mod(meeting, "{'organiser': {'name': 'Jo', 'email': 'jo@x'}}",
	    NULL, "organiser.email: \"jo@x\" is not an email "
	    "address (write just the address, like name@example.org)");
	bad_mod(collaborator, "{'email': true}", NULL,
	    "email: expected a string, got true");

	/* Mailboxes with a display name, for [smtp] from. */
	assert_int_equal(address_parse_mailbox("Forum team <forum@example.org>",
	    &name, &addr, &e), 0);
	assert_string_equal(name, "Forum team");
	assert_string_equal(addr, "forum@example.org");
	free(name);
	free(addr);
	assert_int_equal(address_parse_mailbox(" forum@example.org ", &name,
	    &addr, &e), 0);
	assert_string_equal(name, "");
	assert_string_equal(addr, "forum@example.org");
	free(name);
	free(addr);
	assert_int_equal(address_parse_mailbox("\"Patel, Jo\" <jo@example.org>",
	    &name, &addr, &e), 0);
	assert_string_equal(name, "Patel, Jo");
	free(name);
	free(addr);
	assert_int_equal(address_parse_mailbox("Forum team forum@example.org",
	    &name, &addr, &e), -1);
	assert_null(name);
	assert_string_equal(e.msg, "\"Forum team forum@example.org\" is not a "
	    "mailbox (write Name <address@example.org> or just the address)");
	assert_int_equal(address_parse_mailbox("a@b.c, d@e.f", &name, &addr,
	    &e), -1);
	assert_int_equal(address_parse_mailbox("Forum <forum@example>", &name,
	    &addr, &e), -1);
	assert_string_equal(e.msg,
	    "\"forum@example\" is not an email address");
	assert_int_equal(address_parse_mailbox("Forum <f@example.org>\r\nBcc: "
	    "x@y.z", &name, &addr, &e), -1);
	assert_int_equal(address_parse_mailbox("", &name, &addr, &e), -1);
}

static void
test_times(void **state)
{
	struct tm	tm;

	bad_mod(meeting, "{'start': '2026-13-01T18:00'}", NULL,
	    "start: \"2026-13-01T18:00\" is not a date and time "
	    "(YYYY-MM-DDTHH:MM)");
	bad_mod(meeting, "{'start': '2026-02-29T18:00'}", NULL,
	    "start: \"2026-02-29T18:00\" is not a date and time "
	    "(YYYY-MM-DDTHH:MM)");
	bad_mod(meeting, "{'end': '2026-12-10 19:30'}", NULL,
	    "end: \"2026-12-10 19:30\" is not a date and time "
	    "(YYYY-MM-DDTHH:MM)");
	bad_mod(meeting, "{'end': '2026-12-10T24:00'}", NULL,
	    "end: \"2026-12-10T24:00\" is not a date and time "
	    "(YYYY-MM-DDTHH:MM)");
	bad_mod(announcement, "{'send_at': '2026-11-28T10:00Z'}", NULL,
	    "send_at: \"2026-11-28T10:00Z\" is not a date and time "
	    "(YYYY-MM-DDTHH:MM)");
	bad_mod(meeting, "{'adjustments_by': '2026-02-30'}", NULL,
	    "adjustments_by: \"2026-02-30\" is not a date (YYYY-MM-DD, for "
	    "example 2026-12-20)");
	bad_mod(venue, "{'last_verified': '2026-10-1'}", NULL,
	    "last_verified: \"2026-10-1\" is not a date (YYYY-MM-DD, for "
	    "example 2026-12-20)");
	ok_mod(meeting, "{'start': '2028-02-29T18:00', 'end': "
	    "'2028-02-29T19:00:30', 'adjustments_by': '2028-02-01'}", NULL);
	ok_mod(said, "{'said_at': '2026-11-02T10:15:00'}", NULL);

	assert_int_equal(record_time_parse("2000-02-29T23:59:59", &tm), 0);
	assert_int_equal(tm.tm_year, 100);
	assert_int_equal(tm.tm_mon, 1);
	assert_int_equal(tm.tm_mday, 29);
	assert_int_equal(tm.tm_hour, 23);
	assert_int_equal(tm.tm_min, 59);
	assert_int_equal(tm.tm_sec, 59);
	assert_int_equal(record_time_parse("1900-02-29T10:00", &tm), -1);
	assert_int_equal(record_time_parse("2026-04-31T10:00", &tm), -1);
	assert_int_equal(record_time_parse("2026-12-10T17:60", &tm), -1);
	assert_int_equal(record_time_parse("2026-12-10T17:30:60", &tm), -1);
	assert_int_equal(record_time_parse("2026-12-10T17:30:", &tm), -1);
	assert_int_equal(record_time_parse("2026-12-10", &tm), -1);
	assert_int_equal(record_date_parse("2026-12-10", &tm), 0);
	assert_int_equal(tm.tm_hour, 0);
	assert_int_equal(record_date_parse("2026-12-10T17:30", &tm), -1);
	assert_int_equal(record_date_parse("+026-12-10", &tm), -1);

	bad_mod(meeting, "{'timezone': 'Europe/Londn'}", NULL,
	    "timezone: \"Europe/Londn\" is not a known time zone");
	bad_mod(meeting, "{'timezone': ''}", NULL,
	    "timezone: \"\" is not a known time zone");
	ok_mod(meeting, "{'timezone': 'America/New_York'}", NULL);

	/* Rules between fields. */
	bad_mod(meeting, "{'end': '2026-12-10T17:00'}", NULL,
	    "end: \"2026-12-10T17:00\" is not after the start "
	    "(2026-12-10T17:30)");
	bad_mod(meeting, "{'end': '2026-12-10T17:30:00'}", NULL,
	    "end: \"2026-12-10T17:30:00\" is not after the start "
	    "(2026-12-10T17:30)");
	bad_mod(meeting, "{'adjustments_by': '2026-12-11'}", NULL,
	    "adjustments_by: \"2026-12-11\" is after the start date "
	    "(2026-12-10)");
}

static void
test_rules(void **state)
{
	char	*base;

	bad_mod(outcome, "{'status': 'not-possible'}", NULL,
	    "reason: required when status is \"not-possible\" (say honestly "
	    "why)");
	bad_mod(outcome, "{'status': 'not-possible', 'reason': ''}", NULL,
	    "reason: is empty (leave the field out instead)");
	base = modify(meeting, "{'online': null}", "venue");
	bad(base, "venue: missing (a meeting needs a venue, online details, "
	    "or both)");
	free(base);
	base = modify(meeting, "{'invitees': [], 'groups': []}", NULL);
	bad(base, "invitees: nobody is invited (a meeting needs invitees, "
	    "groups, or both)");
	free(base);
	base = modify(meeting, NULL, "invitees");
	ok_mod(base, NULL, NULL);
	bad_mod(base, NULL, "groups", "invitees: nobody is invited (a meeting "
	    "needs invitees, groups, or both)");
	free(base);
	bad_mod(announcement, "{'to': {'all': false, 'groups': []}}", NULL,
	    "to: names nobody (give groups, collaborators, or \"all\": true)");
	bad_mod(announcement, "{'to': {}}", NULL,
	    "to: names nobody (give groups, collaborators, or \"all\": true)");

	/* Reminders. */
	bad_mod(collaborator, "{'reminders': ['7d', 'soon']}", NULL,
	    "reminders[1]: \"soon\" is not a duration (use a number and "
	    "s, m, h or d, like 45s, 30m, 2h, 7d)");
	bad_mod(collaborator, "{'reminders': ['0m']}", NULL,
	    "reminders[0]: \"0m\" is not more than zero");
	bad_mod(meeting, "{'reminders': ['1d', '2h', '24h']}", NULL,
	    "reminders[2]: \"24h\" is the same as reminders[0]");
	bad_mod(meeting, "{'reminders': [1]}", NULL,
	    "reminders[0]: expected a string, got a number");
	bad_mod(meeting, "{'reminders': ['1s','2s','3s','4s','5s','6s','7s',"
	    "'8s','9s','10s','11s','12s','13s','14s','15s','16s','17s']}",
	    NULL, "reminders: more than 16 reminders");
}

struct refs {
	char	buf[1024];
};

static void
collect(const char *kind, const char *id, const char *path, void *arg)
{
	struct refs	*r = arg;
	size_t		 n = strlen(r->buf);

	snprintf(r->buf + n, sizeof r->buf - n, "%s %s %s;", kind, id, path);
}

static void
refs_of(const char *json, const char *want)
{
	struct record	r;
	struct err	e;
	struct refs	got;

	if (parse(json, &r, &e) != 0)
		fail_msg("unexpected error: %s", e.msg);
	got.buf[0] = '\0';
	record_refs(&r, collect, &got);
	assert_string_equal(got.buf, want);
	record_clear(&r);
}

static void
test_refs(void **state)
{
	refs_of(meeting, "venue v-lyric venue;"
	    "collaborator c-amara invitees[0];collaborator c-ben invitees[1];"
	    "group carers-forum groups[0];");
	refs_of(announcement, "group carers-forum to.groups[0];"
	    "collaborator c-dee to.collaborators[0];");
	refs_of(said, "meeting m-forum-2026-12 meeting;"
	    "collaborator c-amara collaborator;");
	refs_of(outcome, "said s-17 said[0];said s-18 said[1];");
	refs_of(forget, "collaborator c-amara collaborator;");
	refs_of(collaborator, "");
	refs_of(venue, "");
	refs_of("{'type': 'said', 'id': 's-1', 'text': 'x', 'meeting': null}",
	    "");
}

static void
test_vocabulary(void **state)
{
	enum record_type	t;
	int			i;

	assert_int_equal(record_naccess_words, 16);
	assert_null(record_access_words[16]);
	for (i = 0; i < record_naccess_words; i++)
		assert_true(record_access_word_valid(record_access_words[i]));
	assert_true(record_access_word_valid("non-clinical"));
	assert_false(record_access_word_valid("Step-free"));
	assert_false(record_access_word_valid(""));

	for (i = 0; i < REC_TYPE_MAX; i++) {
		assert_int_equal(record_type_from_name(record_type_name(i), &t),
		    0);
		assert_int_equal(t, i);
	}
	assert_string_equal(record_type_name(REC_OUTCOME), "outcome");
	assert_string_equal(record_type_name(REC_TYPE_MAX), "unknown");
	assert_int_equal(record_type_from_name("Meeting", &t), -1);
}

/* Issue 14: the facts a coordinator can now record, and errors in words. */
static void
test_coordinator_fields(void **state)
{
	struct record	r, w;
	struct err	e;
	json_t		*stored;

	/* Phone instead of email; both; neither. */
	ok_mod(collaborator, "{'phone': '020 7946 0000'}", "email");
	ok_mod(collaborator, "{'phone': '+44 (0)20 7946-0000'}", NULL);
	bad_mod(collaborator, "{'phone': 'call Sam'}", NULL,
	    "phone: \"call Sam\" is not a phone number (digits, spaces and "
	    "+ - ( ), for example \"020 7946 0000\" or \"+44 20 7946 "
	    "0000\")");
	bad_mod(collaborator, "{'phone': '12'}", "email",
	    "phone: \"12\" is not a phone number (digits, spaces and "
	    "+ - ( ), for example \"020 7946 0000\" or \"+44 20 7946 "
	    "0000\")");
	/* Supporter. */
	ok_mod(collaborator, "{'supporter': {'name': 'Kofi Okafor', "
	    "'email': 'kofi@example.org'}}", NULL);
	bad_mod(collaborator, "{'supporter': {'name': 'Kofi'}}", NULL,
	    "supporter.email: missing (required)");
	bad_mod(collaborator, "{'supporter': {'name': 'Kofi', 'email': "
	    "'kofi@', 'phone': '1'}}", NULL, "supporter.phone: unknown field");
	/* Communication needs. */
	ok_mod(collaborator, "{'communication': ['bsl-video', 'braille', "
	    "'audio', 'phone-call', 'interpreter:pl', 'interpreter:pt-BR']}",
	    NULL);
	bad_mod(collaborator, "{'communication': ['BSL video']}", NULL,
	    "communication[0]: \"BSL video\" is not a communication need; "
	    "did you mean \"bsl-video\"? The communication needs are: "
	    "bsl-video, braille, audio, phone-call, interpreter:LANG (LANG a "
	    "language tag, for example interpreter:pl for Polish).");
	bad_mod(collaborator, "{'communication': ['interpreter:Polish']}",
	    NULL, "communication[0]: \"interpreter:Polish\": after "
	    "\"interpreter:\" comes a language tag (BCP 47), for example "
	    "interpreter:pl (Polish), interpreter:pt-BR or interpreter:bfi "
	    "(British Sign Language)");
	bad_mod(collaborator, "{'communication': ['audio', 'audio']}", NULL,
	    "communication[1]: \"audio\" is the same as communication[0]");
	/* The access word a spreadsheet would hold. */
	bad_mod(collaborator, "{'access_needs': ['BSL']}", NULL,
	    "access_needs[0]: \"BSL\" is not an access word; did you mean "
	    "\"bsl\"? The access words are: " WORDS ".");
	bad_mod(collaborator, "{'access_needs': ['Step free']}", NULL,
	    "access_needs[0]: \"Step free\" is not an access word; did you "
	    "mean \"step-free\"? The access words are: " WORDS ".");
	bad_mod(collaborator, "{'access_needs': ['wheelchair']}", NULL,
	    "access_needs[0]: \"wheelchair\" is not an access word. The "
	    "access words are: " WORDS ".");

	/* A venue's temporary state. */
	ok_mod(venue, "{'access': {'lift': {'available': false, 'details': "
	    "'The lift is out of order.', 'until': '2026-12-20'}}}", NULL);
	bad_mod(venue, "{'access': {'lift': {'details': 'Broken.'}}}", NULL,
	    "access.lift.available: missing (required)");
	bad_mod(venue, "{'access': {'lift': {'available': false, 'until': "
	    "'20 December'}}}", NULL,
	    "access.lift.until: \"20 December\" is not a date (YYYY-MM-DD, for "
	    "example 2026-12-20)");

	/* A meeting's own arrangements, held, cancel_reason. */
	ok_mod(meeting, "{'access': {'bsl': 'An interpreter is booked.', "
	    "'captions': true}}", NULL);
	bad_mod(meeting, "{'access': {'BSL': true}}", NULL,
	    "access.BSL: \"BSL\" is not an access word; did you mean "
	    "\"bsl\"? The access words are: " WORDS ".");
	ok_mod(meeting, "{'status': 'held'}", NULL);
	ok_mod(meeting, "{'status': 'cancelled', 'cancel_reason': 'The venue "
	    "flooded.\\nWe will send a new date.'}", NULL);
	/* said_on, and the older said_at. */
	ok_mod(said, "{'said_on': '2026-11-02'}", NULL);
	bad_mod(said, "{'said_on': '2/11/2026'}", NULL,
	    "said_on: \"2/11/2026\" is not a date (YYYY-MM-DD, for "
	    "example 2026-12-20)");

	/* Merge: type, id and what changes. */
	assert_int_equal(parse("{'type': 'meeting', 'id': 'm-1', 'merge': true,"
	    " 'status': 'cancelled', 'cancel_reason': 'The venue flooded.'}",
	    &r, &e), 0);
	assert_int_equal(r.merge, 1);
	assert_null(json_object_get(r.json, "merge"));
	assert_string_equal(r.id, "m-1");
	bad("{'type': 'meeting', 'merge': true, 'title': 'x'}",
	    "id: missing (a merge record needs type, id and the fields that "
	    "change)");
	bad("{'type': 'said', 'id': 's-1', 'merge': true}",
	    "merge: only collaborator, venue and meeting records can be "
	    "partial; send the whole said record");
	bad("{'type': 'meeting', 'id': 'm-1', 'merge': 'yes'}",
	    "merge: expected true or false, got a string");
	bad("{'type': 'meeting', 'id': 'm-1', 'merge': false, 'title': 'x'}",
	    "start: missing (required)");
	bad("{'type': 'meeting', 'id': 'm-1', 'merge': true, 'start': 'soon'}",
	    "start: \"soon\" is not a date and time (YYYY-MM-DDTHH:MM)");
	bad("{'type': 'meeting', 'id': 'm-1', 'merge': true, 'stauts': 'held'}",
	    "stauts: unknown field; did you mean \"status\"?");
	/* A whole record with "merge": false is the same record. */
	{
		char *s = modify(venue, "{'merge': false}", NULL);
		struct record v;

		assert_int_equal(parse(s, &v, &e), 0);
		assert_int_equal(v.merge, 0);
		assert_null(json_object_get(v.json, "merge"));
		record_clear(&v);
		free(s);
	}

	/* Applied to the stored record and checked whole. */
	{
		char *t = J(meeting);

		stored = json_loads(t, 0, NULL);
		free(t);
	}
	assert_int_equal(record_merge(stored, &r, &opts, &w, &e), 0);
	assert_int_equal(w.merge, 0);
	assert_string_equal(json_string_value(json_object_get(w.json,
	    "status")), "cancelled");
	assert_string_equal(json_string_value(json_object_get(w.json,
	    "title")), "Community forum: leaving hospital");
	assert_string_equal(w.tz, "Europe/London");
	record_clear(&w);
	assert_int_equal(record_merge(NULL, &r, &opts, &w, &e), -1);
	assert_string_equal(e.msg, "id: no meeting \"m-1\" to change "
	    "(\"merge\": true changes a stored record: check the id, or send "
	    "the whole record without \"merge\")");
	record_clear(&r);
	/* null removes; the whole must still hold. */
	assert_int_equal(parse("{'type': 'meeting', 'id': 'm-1', 'merge': true,"
	    " 'title': null}", &r, &e), 0);
	assert_int_equal(record_merge(stored, &r, &opts, &w, &e), -1);
	assert_string_equal(e.msg, "title: missing (required)");
	record_clear(&r);
	assert_int_equal(parse("{'type': 'meeting', 'id': 'm-1', 'merge': true,"
	    " 'agenda': null, 'online': {'captions': false}}", &r, &e), 0);
	assert_int_equal(record_merge(stored, &r, &opts, &w, &e), 0);
	assert_null(json_object_get(w.json, "agenda"));
	assert_true(json_is_false(json_object_get(json_object_get(w.json,
	    "online"), "captions")));
	assert_non_null(json_object_get(json_object_get(w.json, "online"),
	    "url"));
	record_clear(&w);
	record_clear(&r);
	/* A later end before the merged start is the whole record's rule. */
	assert_int_equal(parse("{'type': 'meeting', 'id': 'm-1', 'merge': true,"
	    " 'start': '2026-12-10T20:00'}", &r, &e), 0);
	assert_int_equal(record_merge(stored, &r, &opts, &w, &e), -1);
	assert_string_equal(e.msg, "end: \"2026-12-10T19:30\" is not after "
	    "the start (2026-12-10T20:00)");
	record_clear(&r);
	json_decref(stored);
}

/* JSON mistakes, said where they are and what to do. */
static void
test_json_words(void **state)
{
	struct record	r;
	struct err	e;
	const char	*t;

	bad("{'type': 'forget',\n 'collaborator': 'c-1',\n}",
	    "not JSON: line 2 column 23: a comma before \"}\" with nothing "
	    "after it (a trailing comma); remove that comma");
	bad("[{'type': 'forget', 'collaborator': 'c-1'},]",
	    "not JSON: line 1 column 43: a comma before \"]\" with nothing "
	    "after it (a trailing comma); remove that comma");
	bad("{'type': \xe2\x80\x9c" "forget\xe2\x80\x9d}",
	    "not JSON: line 1 column 10: curly quotes (\xe2\x80\x9c "
	    "\xe2\x80\x9d) are not JSON quotes; use straight double quotes "
	    "(\") around names and text (turn off \"smart quotes\" in your "
	    "editor)");
	bad("{'type': 'forget' 'collaborator': 'c-1'}",
	    "not JSON: line 1 column 19: a comma is missing before "
	    "\"collaborator\" (items of a list or record are separated by "
	    "commas)");
	bad("{'type': 'collaborator', 'consent': TRUE}",
	    "not JSON: line 1 column 37: write true, false and null in small "
	    "letters, without quotes");
	bad("{'type': 'said', 'id': 's-1', 'text': 'costs \xa3" "20'}",
	    "not JSON: line 1 column 46: the text is not UTF-8 (byte 0xA3, "
	    "probably \"\xc2\xa3\" saved in another encoding); save the file "
	    "as UTF-8 (in a spreadsheet: \"CSV UTF-8\"; in a text editor: the "
	    "encoding \"UTF-8\") and try again");
	bad("\xff\xfe{", "not JSON: line 1 column 1: the text is UTF-16 "
	    "(\"Unicode text\"), not UTF-8; save the file as UTF-8 (in a "
	    "spreadsheet: \"CSV UTF-8\"; in a text editor: the encoding "
	    "\"UTF-8\") and try again");
	/* A byte order mark is accepted. */
	t = "\xef\xbb\xbf{\"type\": \"forget\", \"collaborator\": \"c-1\"}";
	assert_int_equal(record_parse(t, strlen(t), &opts, &r, &e), 0);
	assert_string_equal(r.id, "c-1");
	record_clear(&r);
}

/* Every problem of a record at once (a spreadsheet row's mistakes). */
static void
test_check_all(void **state)
{
	struct record	 r;
	json_t		*obj, *errs = json_array();
	char		*t;

	t = J("{'type': 'collaborator', 'id': 'c-1', 'name': 'Amara',"
	    " 'email': 'amara@', 'consent': 'yes', 'format': 'Easy Read',"
	    " 'access_needs': ['BSL', 'lift'], 'acess': ['lift'],"
	    " 'groups': ['carers forum']}");
	obj = json_loads(t, 0, NULL);
	free(t);
	assert_int_equal(record_check_all(obj, &opts, &r, errs), -1);
	assert_null(r.json);
	assert_int_equal(json_array_size(errs), 6);
	assert_string_equal(json_string_value(json_array_get(errs, 0)),
	    "acess: unknown field");
	assert_string_equal(json_string_value(json_array_get(errs, 1)),
	    "email: \"amara@\" is not an email address (write just the "
	    "address, like name@example.org)");
	assert_string_equal(json_string_value(json_array_get(errs, 2)),
	    "consent: expected true or false, got a string");
	assert_string_equal(json_string_value(json_array_get(errs, 3)),
	    "format: \"Easy Read\" is not one of standard, easy-read, "
	    "large-print, plain-text; did you mean \"easy-read\"?");
	assert_non_null(strstr(json_string_value(json_array_get(errs, 4)),
	    "access_needs[0]: \"BSL\" is not an access word; did you mean "
	    "\"bsl\"?"));
	assert_non_null(strstr(json_string_value(json_array_get(errs, 5)),
	    "groups[0]: \"carers forum\" is not a valid group name"));
	json_decref(obj);
	json_array_clear(errs);

	/* Fields right: the rules between them. */
	t = J("{'type': 'meeting', 'id': 'm-1', 'title': 'T',"
	    " 'start': '2026-12-10T18:00', 'end': '2026-12-10T17:00',"
	    " 'online': {'url': 'https://x.org'}, 'invitees': ['c-1']}");
	obj = json_loads(t, 0, NULL);
	free(t);
	assert_int_equal(record_check_all(obj, &opts, &r, errs), -1);
	assert_int_equal(json_array_size(errs), 1);
	assert_string_equal(json_string_value(json_array_get(errs, 0)),
	    "end: \"2026-12-10T17:00\" is not after the start "
	    "(2026-12-10T18:00)");
	json_decref(obj);
	json_array_clear(errs);

	/* Nothing wrong: nothing added, the record checked. */
	t = J(collaborator);
	obj = json_loads(t, 0, NULL);
	free(t);
	assert_int_equal(record_check_all(obj, &opts, &r, errs), 0);
	assert_int_equal(json_array_size(errs), 0);
	assert_string_equal(r.id, "c-amara");
	record_clear(&r);
	json_decref(obj);
	json_decref(errs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_examples),
		cmocka_unit_test(test_record_fields),
		cmocka_unit_test(test_whole_record),
		cmocka_unit_test(test_record_check),
		cmocka_unit_test(test_unknown_fields),
		cmocka_unit_test(test_missing_and_types),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_refs),
		cmocka_unit_test(test_vocabulary),
		cmocka_unit_test(test_coordinator_fields),
		cmocka_unit_test(test_json_words),
		cmocka_unit_test(test_check_all),
	};
	int	rc;

	g_mime_init();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	g_mime_shutdown();
	return rc;
}
