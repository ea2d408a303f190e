/*
 * test_names.c: what goes in an email header (name, title, subject, topic:
 * record_field.c) must show as written. Mail programs decode an RFC 2047
 * encoded word, "=?utf-8?b?SGFja2Vk?=" shows as "Hacked"; invisible and
 * direction-changing characters (U+200B..U+200F, U+202A..U+202E,
 * U+2066..U+2069, U+FEFF, U+061C, U+2060..U+2064) hide text or show it in
 * another order. Each is refused with a message naming the field, what is
 * wrong and what to do; ZWNJ and ZWJ inside a word of another script (as in
 * Persian or in emoji) stay allowed, and long text keeps what it had.
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

#include "record.h"
#include "util.h"

static const struct record_opts opts = { "Europe/London", 65536 };

/* A record of the given type with field set to value (JSON-encoded here,
 * so the value may hold anything). */
static char *
with(const char *base, const char *field, const char *value)
{
	json_error_t	 je;
	json_t		*j = json_loads(base, 0, &je), *o = j;
	char		*out, path[64], *dot;

	if (j == NULL)
		fail_msg("bad base in test: %s", je.text);
	snprintf(path, sizeof path, "%s", field);
	if ((dot = strchr(path, '.')) != NULL) {
		*dot = '\0';
		o = json_object_get(j, path);
		field = dot + 1;
	}
	json_object_set_new(o, field, json_string(value));
	out = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return out;
}

static const char *collaborator = "{\"type\": \"collaborator\", "
    "\"id\": \"c-1\", \"name\": \"Amara\", \"email\": \"a@example.org\", "
    "\"consent\": true}";
static const char *announcement = "{\"type\": \"announcement\", "
    "\"id\": \"a-1\", \"subject\": \"News\", \"body\": \"Text.\", "
    "\"to\": {\"all\": true}}";
static const char *meeting = "{\"type\": \"meeting\", \"id\": \"m-1\", "
    "\"title\": \"Forum\", \"start\": \"2026-12-01T18:00\", "
    "\"end\": \"2026-12-01T19:00\", \"organiser\": {\"name\": \"Jo\"}, "
    "\"online\": {\"url\": \"https://meet.example.org/f\"}, "
    "\"groups\": [\"g\"]}";
static const char *said = "{\"type\": \"said\", \"id\": \"s-1\", "
    "\"text\": \"We said.\", \"topic\": \"Letters\"}";
static const char *venue = "{\"type\": \"venue\", \"id\": \"v-1\", "
    "\"name\": \"Hall\", \"address\": \"1 Road\"}";

static void
refused(const char *base, const char *field, const char *value,
    const char *part1, const char *part2)
{
	char		*t = with(base, field, value);
	struct record	 r;
	struct err	 e;

	memset(&e, 0, sizeof e);
	if (record_parse(t, strlen(t), &opts, &r, &e) == 0) {
		record_clear(&r);
		fail_msg("%s: accepted %s", field, t);
	}
	if (strncmp(e.msg, field, strlen(field)) != 0 ||
	    strncmp(e.msg + strlen(field), ": ", 2) != 0)
		fail_msg("message \"%s\" does not start with \"%s: \"", e.msg,
		    field);
	if (strstr(e.msg, part1) == NULL || strstr(e.msg, part2) == NULL)
		fail_msg("message \"%s\" lacks \"%s\" or \"%s\"", e.msg,
		    part1, part2);
	free(t);
}

static void
accepted(const char *base, const char *field, const char *value)
{
	char		*t = with(base, field, value);
	struct record	 r;
	struct err	 e;

	memset(&e, 0, sizeof e);
	if (record_parse(t, strlen(t), &opts, &r, &e) != 0)
		fail_msg("%s: refused %s: %s", field, t, e.msg);
	record_clear(&r);
	free(t);
}

static void
test_encoded_words(void **state)
{
	refused(collaborator, "name", "=?utf-8?b?SGFja2Vk?=",
	    "\"=?utf-8?b?SGFja2Vk?=\"", "write the words themselves");
	refused(announcement, "subject", "Read this =?UTF-8?Q?Hacked?= now",
	    "RFC 2047 encoded word", "\"=?UTF-8?Q?Hacked?=\"");
	refused(meeting, "title", "=?iso-8859-1?q?caf=E9?=", "encoded word",
	    "write the words themselves");
	refused(meeting, "organiser.name", "Jo =?utf-8?b?SGk=?=",
	    "encoded word", "=?utf-8?b?SGk=?=");
	refused(said, "topic", "=?" "?=", "encoded word", "themselves");
	refused(venue, "name", "Hall=?x?q?y?=", "encoded word", "themselves");
	/* Near misses are words people write. */
	accepted(announcement, "subject", "Is 2+2=? Maybe?");
	accepted(announcement, "subject", "a =? b ?= c");
	accepted(collaborator, "name", "Amara = ? Okafor");
	/* Long text is not a header: unchanged. */
	accepted(announcement, "body", "=?utf-8?b?SGFja2Vk?=");
}

static void
test_hidden_characters(void **state)
{
	static const struct {
		const char	*utf8;
		const char	*code;
		int		 direction;
	} hidden[] = {
		{ "\xe2\x80\x8b", "U+200B", 0 },
		{ "\xe2\x80\x8c", "U+200C", 0 },
		{ "\xe2\x80\x8d", "U+200D", 0 },
		{ "\xe2\x80\x8e", "U+200E", 1 },
		{ "\xe2\x80\x8f", "U+200F", 1 },
		{ "\xe2\x80\xaa", "U+202A", 1 },
		{ "\xe2\x80\xab", "U+202B", 1 },
		{ "\xe2\x80\xac", "U+202C", 1 },
		{ "\xe2\x80\xad", "U+202D", 1 },
		{ "\xe2\x80\xae", "U+202E", 1 },
		{ "\xe2\x81\xa0", "U+2060", 0 },
		{ "\xe2\x81\xa6", "U+2066", 1 },
		{ "\xe2\x81\xa7", "U+2067", 1 },
		{ "\xe2\x81\xa8", "U+2068", 1 },
		{ "\xe2\x81\xa9", "U+2069", 1 },
		{ "\xef\xbb\xbf", "U+FEFF", 0 },
		{ "\xd8\x9c", "U+061C", 1 },
	};
	char	v[64];
	size_t	i;

	for (i = 0; i < sizeof hidden / sizeof hidden[0]; i++) {
		snprintf(v, sizeof v, "Am%sara", hidden[i].utf8);
		refused(collaborator, "name", v, hidden[i].code,
		    hidden[i].direction ? "changes the order in which text "
		    "is shown" : "an invisible character");
		refused(collaborator, "name", v, "remove it", "name: contains");
		snprintf(v, sizeof v, "%sNews", hidden[i].utf8);
		refused(announcement, "subject", v, hidden[i].code,
		    "remove it");
		snprintf(v, sizeof v, "Forum%s", hidden[i].utf8);
		refused(meeting, "title", v, hidden[i].code, "remove it");
		refused(meeting, "organiser.name", v, hidden[i].code,
		    "remove it");
		refused(said, "topic", v, hidden[i].code, "remove it");
		refused(venue, "name", v, hidden[i].code, "remove it");
	}
	/* "txt.exe" shown as "exe.txt": the classic. */
	refused(announcement, "subject", "Minutes \xe2\x80\xae" "fdp.exe",
	    "U+202E", "direction embedding or override");
}

static void
test_joiners_inside_other_scripts(void **state)
{
	/* Persian "mi-khaham", with a ZWNJ between two Arabic letters. */
	accepted(collaborator, "name", "\xd9\x85\xdb\x8c\xe2\x80\x8c"
	    "\xd8\xae\xd9\x88\xd8\xa7\xd9\x87\xd9\x85");
	/* Devanagari with a ZWJ after a virama. */
	accepted(meeting, "title", "\xe0\xa4\x95\xe0\xa5\x8d\xe2\x80\x8d"
	    "\xe0\xa4\xb7");
	/* An emoji sequence: woman, ZWJ, laptop. */
	accepted(announcement, "subject", "Help desk \xf0\x9f\x91\xa9"
	    "\xe2\x80\x8d\xf0\x9f\x92\xbb");
	/* Next to ASCII, or at an end: refused. */
	refused(collaborator, "name", "A\xe2\x80\x8c" "\xd9\x85",
	    "U+200C", "remove it");
	refused(collaborator, "name", "\xd9\x85\xe2\x80\x8d", "U+200D",
	    "remove it");
	refused(collaborator, "name", "\xe2\x80\x8c\xd9\x85", "U+200C",
	    "remove it");
}

static void
test_other_text_unchanged(void **state)
{
	/* Not a header: the body and the venue's address keep what they
	 * could hold (direction marks are how mixed-script text is
	 * written). */
	accepted(announcement, "body", "Hello \xe2\x80\x8f" "world");
	accepted(venue, "address", "1 Road \xe2\x80\xae" "x");
	/* Plain names in any script are fine. */
	accepted(collaborator, "name", "Zo\xc3\xab \xc5\x81\xc3\xb3" "d\xc5\xba");
	accepted(collaborator, "name", "\xe5\xb1\xb1\xe7\x94\xb0 "
	    "\xe5\xa4\xaa\xe9\x83\x8e");
	accepted(collaborator, "name", "\xd9\x85\xd8\xad\xd9\x85\xd8\xaf");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encoded_words),
		cmocka_unit_test(test_hidden_characters),
		cmocka_unit_test(test_joiners_inside_other_scripts),
		cmocka_unit_test(test_other_text_unchanged),
	};
	int	rc;

	g_mime_init();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	g_mime_shutdown();
	return rc;
}
