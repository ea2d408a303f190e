/*
 * test_invite.c: build REQUEST and CANCEL calendars and read them back with
 * libical's parser; check the wire form (CRLF, 75-octet lines, UTF-8).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libical/ical.h>

#include "clock.h"
#include "invite.h"

#define LON	"Europe/London"
#define SUMMARY	"Community forum: leaving hospital, food; and \"more\"\n" \
		"line two, with a long tail of words that must fold \xc2\xa3" \
		"20 caf\xc3\xa9 \xf0\x9f\x99\x82 back\\slash"

static long long
at(const char *wall, const char *tz)
{
	struct err	e;
	long long	t = 0;

	if (clock_parse_local(wall, tz, &t, &e) != 0)
		fail_msg("%s: %s", wall, e.msg);
	return t;
}

static void
sample(struct invite *iv)
{
	memset(iv, 0, sizeof *iv);
	iv->uid = "m-forum-2026-12@example.org";
	iv->sequence = 0;
	iv->start = at("2026-12-10T17:30", LON);
	iv->end = at("2026-12-10T19:30", LON);
	iv->tz = LON;
	iv->dtstamp = 1790000000LL;
	iv->summary = SUMMARY;
	iv->location = "Lyric Hammersmith, Lyric Square; King Street";
	iv->description = "1. Welcome\n2. What happens, on the day; you "
	    "leave hospital\n3. Ideas";
	iv->url = "https://meet.example.org/forum";
	iv->organizer_name = "Jo Patel";
	iv->organizer_email = "jo@example.org";
	iv->attendee_name = "Amara \"Mara\" Okafor, carer";
	iv->attendee_email = "amara+forum@example.net";
}

/* CRLF only, no line over 75 octets, each line valid UTF-8 on its own. */
static void
check_wire(const char *s)
{
	const char		*line = s, *p;
	size_t			 n;
	const unsigned char	*u;
	int			 follow;

	for (p = s; *p != '\0'; p++) {
		if (*p == '\r')
			assert_int_equal(p[1], '\n');
		if (*p == '\n') {
			assert_true(p > s && p[-1] == '\r');
			n = (size_t)(p - 1 - line);
			if (n > 75)
				fail_msg("line of %zu octets: %.*s", n,
				    (int)n, line);
			follow = 0;
			for (u = (const unsigned char *)line;
			    u < (const unsigned char *)p - 1; u++) {
				if (follow > 0) {
					assert_int_equal(*u & 0xc0, 0x80);
					follow--;
				} else if (*u >= 0xf0)
					follow = 3;
				else if (*u >= 0xe0)
					follow = 2;
				else if (*u >= 0xc0)
					follow = 1;
				else
					assert_true(*u < 0x80);
			}
			if (follow != 0)
				fail_msg("line splits a UTF-8 character: "
				    "%.*s", (int)n, line);
			line = p + 1;
		}
	}
	assert_true(p > s && p[-1] == '\n');	/* ends with CRLF */
}

static icalcomponent *
parse(const char *s)
{
	icalcomponent	*c;

	c = icalparser_parse_string(s);
	assert_non_null(c);
	assert_int_equal(icalcomponent_isa(c), ICAL_VCALENDAR_COMPONENT);
	return c;
}

static const char *
param(icalproperty *p, icalparameter_kind k)
{
	icalparameter	*x;

	x = icalproperty_get_first_parameter(p, k);
	return x == NULL ? NULL : icalparameter_as_ical_string(x);
}

/* The TZID, wall time and (through the calendar's own VTIMEZONE) epoch. */
static void
check_time(icalcomponent *cal, icalproperty *p, const char *tzid,
    const char *wall, long long epoch)
{
	struct icaltimetype	 t;
	icalcomponent		*vtz;
	icaltimezone		*z;
	icalparameter		*tp;

	assert_non_null(p);
	tp = icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER);
	assert_non_null(tp);
	assert_string_equal(icalparameter_get_tzid(tp), tzid);
	assert_string_equal(icalproperty_get_value_as_string(p), wall);

	/* our VTIMEZONE, not libical's builtin, must give the right instant */
	for (vtz = icalcomponent_get_first_component(cal,
	    ICAL_VTIMEZONE_COMPONENT); vtz != NULL;
	    vtz = icalcomponent_get_next_component(cal,
	    ICAL_VTIMEZONE_COMPONENT))
		if (strcmp(icalproperty_get_tzid(
		    icalcomponent_get_first_property(vtz, ICAL_TZID_PROPERTY)),
		    tzid) == 0)
			break;
	assert_non_null(vtz);
	z = icaltimezone_new();
	assert_true(icaltimezone_set_component(z,
	    icalcomponent_new_clone(vtz)));
	t = icaltime_from_string(wall);
	t = icaltime_set_timezone(&t, z);
	assert_int_equal((long long)icaltime_as_timet_with_zone(t, z), epoch);
	icaltimezone_free(z, 1);
}

static void
test_request(void **state)
{
	struct invite	 iv;
	struct err	 e;
	char		*s;
	icalcomponent	*cal, *ev, *vtz;
	icalproperty	*p;
	int		 nvtz = 0;

	sample(&iv);
	iv.sequence = 3;
	s = invite_build(&iv, &e);
	if (s == NULL)
		fail_msg("%s", e.msg);
	check_wire(s);
	assert_null(strstr(s, "freeassociation"));
	assert_string_equal(invite_method(&iv), "REQUEST");

	cal = parse(s);
	assert_int_equal(icalcomponent_get_method(cal), ICAL_METHOD_REQUEST);
	assert_non_null(icalcomponent_get_first_property(cal,
	    ICAL_PRODID_PROPERTY));
	assert_string_equal(icalproperty_get_version(
	    icalcomponent_get_first_property(cal, ICAL_VERSION_PROPERTY)),
	    "2.0");

	for (vtz = icalcomponent_get_first_component(cal,
	    ICAL_VTIMEZONE_COMPONENT); vtz != NULL;
	    vtz = icalcomponent_get_next_component(cal,
	    ICAL_VTIMEZONE_COMPONENT)) {
		nvtz++;
		assert_string_equal(icalproperty_get_tzid(
		    icalcomponent_get_first_property(vtz,
		    ICAL_TZID_PROPERTY)), LON);
	}
	assert_int_equal(nvtz, 1);

	ev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
	assert_non_null(ev);
	assert_null(icalcomponent_get_next_component(cal,
	    ICAL_VEVENT_COMPONENT));
	assert_string_equal(icalcomponent_get_uid(ev),
	    "m-forum-2026-12@example.org");
	assert_int_equal(icalcomponent_get_sequence(ev), 3);
	assert_int_equal(icalcomponent_get_status(ev), ICAL_STATUS_CONFIRMED);
	assert_string_equal(icalcomponent_get_summary(ev), SUMMARY);
	assert_string_equal(icalcomponent_get_location(ev), iv.location);
	assert_string_equal(icalcomponent_get_description(ev),
	    iv.description);
	assert_string_equal(icalproperty_get_url(
	    icalcomponent_get_first_property(ev, ICAL_URL_PROPERTY)), iv.url);
	/* escaped on the wire, not by hand */
	assert_non_null(strstr(s, "LOCATION:Lyric Hammersmith\\, Lyric "
	    "Square\\; King Street\r\n"));

	check_time(cal, icalcomponent_get_first_property(ev,
	    ICAL_DTSTART_PROPERTY), LON, "20261210T173000", iv.start);
	check_time(cal, icalcomponent_get_first_property(ev,
	    ICAL_DTEND_PROPERTY), LON, "20261210T193000", iv.end);
	p = icalcomponent_get_first_property(ev, ICAL_DTSTAMP_PROPERTY);
	assert_string_equal(icalproperty_get_value_as_string(p),
	    "20260921T141320Z");

	p = icalcomponent_get_first_property(ev, ICAL_ATTENDEE_PROPERTY);
	assert_non_null(p);
	assert_null(icalcomponent_get_next_property(ev,
	    ICAL_ATTENDEE_PROPERTY));
	assert_string_equal(icalproperty_get_attendee(p),
	    "mailto:amara+forum@example.net");
	assert_string_equal(icalparameter_get_cn(
	    icalproperty_get_first_parameter(p, ICAL_CN_PARAMETER)),
	    iv.attendee_name);
	assert_string_equal(param(p, ICAL_ROLE_PARAMETER),
	    "ROLE=REQ-PARTICIPANT");
	assert_string_equal(param(p, ICAL_PARTSTAT_PARAMETER),
	    "PARTSTAT=NEEDS-ACTION");
	assert_string_equal(param(p, ICAL_RSVP_PARAMETER), "RSVP=FALSE");

	p = icalcomponent_get_first_property(ev, ICAL_ORGANIZER_PROPERTY);
	assert_non_null(p);
	assert_string_equal(icalproperty_get_organizer(p),
	    "mailto:jo@example.org");
	assert_string_equal(icalparameter_get_cn(
	    icalproperty_get_first_parameter(p, ICAL_CN_PARAMETER)),
	    "Jo Patel");

	icalcomponent_free(cal);
	free(s);
}

static void
test_cancel(void **state)
{
	struct invite	 iv;
	struct err	 e;
	char		*s;
	icalcomponent	*cal, *ev;

	sample(&iv);
	iv.cancel = 1;
	iv.sequence = 4;
	s = invite_build(&iv, &e);
	if (s == NULL)
		fail_msg("%s", e.msg);
	check_wire(s);
	assert_string_equal(invite_method(&iv), "CANCEL");
	assert_non_null(strstr(s, "\r\nMETHOD:CANCEL\r\n"));
	assert_null(strstr(s, "REQUEST"));

	cal = parse(s);
	assert_int_equal(icalcomponent_get_method(cal), ICAL_METHOD_CANCEL);
	ev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
	assert_non_null(ev);
	assert_string_equal(icalcomponent_get_uid(ev),
	    "m-forum-2026-12@example.org");
	assert_int_equal(icalcomponent_get_sequence(ev), 4);
	assert_int_equal(icalcomponent_get_status(ev), ICAL_STATUS_CANCELLED);
	assert_non_null(icalcomponent_get_first_property(ev,
	    ICAL_ATTENDEE_PROPERTY));
	check_time(cal, icalcomponent_get_first_property(ev,
	    ICAL_DTSTART_PROPERTY), LON, "20261210T173000", iv.start);
	icalcomponent_free(cal);
	free(s);
}

/* Summer time, another zone, optional fields absent. */
static void
test_zones_and_optional(void **state)
{
	struct invite	 iv;
	struct err	 e;
	char		*s;
	icalcomponent	*cal, *ev;
	icalproperty	*p;

	sample(&iv);
	iv.start = at("2026-06-15T09:00", LON);
	iv.end = at("2026-06-15T10:30", LON);
	iv.location = iv.description = iv.url = NULL;
	iv.organizer_name = NULL;
	iv.attendee_name = "";
	s = invite_build(&iv, &e);
	assert_non_null(s);
	check_wire(s);
	cal = parse(s);
	ev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
	check_time(cal, icalcomponent_get_first_property(ev,
	    ICAL_DTSTART_PROPERTY), LON, "20260615T090000", iv.start);
	assert_null(icalcomponent_get_first_property(ev,
	    ICAL_LOCATION_PROPERTY));
	assert_null(icalcomponent_get_first_property(ev,
	    ICAL_DESCRIPTION_PROPERTY));
	assert_null(icalcomponent_get_first_property(ev, ICAL_URL_PROPERTY));
	p = icalcomponent_get_first_property(ev, ICAL_ORGANIZER_PROPERTY);
	assert_null(icalproperty_get_first_parameter(p, ICAL_CN_PARAMETER));
	p = icalcomponent_get_first_property(ev, ICAL_ATTENDEE_PROPERTY);
	assert_null(icalproperty_get_first_parameter(p, ICAL_CN_PARAMETER));
	icalcomponent_free(cal);
	free(s);

	/* New York, across the November change (00:30 EDT to 03:00 EST) */
	sample(&iv);
	iv.tz = "America/New_York";
	iv.start = at("2026-11-01T00:30", iv.tz);
	iv.end = at("2026-11-01T03:00", iv.tz);
	assert_int_equal(iv.end - iv.start, 3 * 3600 + 1800);
	s = invite_build(&iv, &e);
	assert_non_null(s);
	check_wire(s);
	assert_non_null(strstr(s, "\r\nTZID:America/New_York\r\n"));
	cal = parse(s);
	ev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
	check_time(cal, icalcomponent_get_first_property(ev,
	    ICAL_DTSTART_PROPERTY), "America/New_York", "20261101T003000",
	    iv.start);
	check_time(cal, icalcomponent_get_first_property(ev,
	    ICAL_DTEND_PROPERTY), "America/New_York", "20261101T030000",
	    iv.end);
	icalcomponent_free(cal);
	free(s);

	/*
	 * 01:30 happens twice that night; clock.c takes the first (EDT), and
	 * RFC 5545 3.3.5 says a repeated local time means the first
	 * occurrence, so the wall time is all we write. (libical 3.0.16's own
	 * icaltime_as_timet_with_zone reads it as the second, so it is not
	 * used for the epoch check here.)
	 */
	iv.start = at("2026-11-01T01:30", iv.tz);
	assert_int_equal(iv.start, 1793511000LL);
	s = invite_build(&iv, &e);
	assert_non_null(s);
	assert_non_null(strstr(s, "\r\nDTSTART;TZID=America/New_York:"
	    "20261101T013000\r\n"));
	free(s);

	/* UTC itself: times in Z, no TZID, no VTIMEZONE */
	sample(&iv);
	iv.tz = "UTC";
	s = invite_build(&iv, &e);
	assert_non_null(s);
	check_wire(s);
	assert_non_null(strstr(s, "\r\nDTSTART:20261210T173000Z\r\n"));
	assert_null(strstr(s, "TZID"));
	assert_null(strstr(s, "VTIMEZONE"));
	free(s);
}

/* The first DTSTART inside the VTIMEZONE: "YYYYMMDD..." (static). */
static const char *
zone_start(const char *s)
{
	static char	 d[9];
	const char	*v = strstr(s, "BEGIN:VTIMEZONE"), *p;

	assert_non_null(v);
	p = strstr(v, "DTSTART:");
	assert_non_null(p);
	assert_true(p < strstr(v, "END:VTIMEZONE"));
	memcpy(d, p + 8, 8);
	d[8] = '\0';
	return d;
}

/* Each thread keeps the zone it last cut: what comes out is the same
 * whether it was kept or cut again, and a later meeting gets its own. */
static void
test_zone_kept(void **state)
{
	struct invite	 iv;
	struct err	 e;
	char		*a, *b, *c, *d;

	sample(&iv);
	a = invite_build(&iv, &e);
	b = invite_build(&iv, &e);
	assert_non_null(a);
	assert_non_null(b);
	assert_string_equal(a, b);
	/* Cut a year before the meeting: London's rules since 1981. */
	assert_string_equal(zone_start(a), "19810329");

	/* A meeting in 1975 is cut at 1974, under older rules. */
	iv.start = at("1975-06-12T10:00", LON);
	iv.end = at("1975-06-12T12:00", LON);
	c = invite_build(&iv, &e);
	assert_non_null(c);
	assert_true(strcmp(zone_start(c), "19750101") < 0);
	assert_non_null(strstr(c, "\r\nTZID:Europe/London\r\n"));

	sample(&iv);
	d = invite_build(&iv, &e);
	assert_non_null(d);
	assert_string_equal(a, d);
	free(a);
	free(b);
	free(c);
	free(d);
}

static void
test_bad(void **state)
{
	struct invite	iv;
	struct err	e;

	sample(&iv);
	iv.organizer_email = NULL;
	assert_null(invite_build(&iv, &e));
	assert_non_null(strstr(e.msg, "organiser"));

	sample(&iv);
	iv.attendee_email = "";
	assert_null(invite_build(&iv, &e));
	assert_non_null(strstr(e.msg, "recipient"));

	sample(&iv);
	iv.uid = NULL;
	assert_null(invite_build(&iv, &e));
	assert_non_null(strstr(e.msg, "UID"));

	sample(&iv);
	iv.end = iv.start;
	assert_null(invite_build(&iv, &e));
	assert_non_null(strstr(e.msg, "end"));

	sample(&iv);
	iv.tz = "../../etc/passwd";
	assert_null(invite_build(&iv, &e));
	assert_non_null(strstr(e.msg, "time zone"));

	sample(&iv);
	iv.summary = NULL;
	assert_null(invite_build(&iv, &e));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_zones_and_optional),
		cmocka_unit_test(test_zone_kept),
		cmocka_unit_test(test_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
