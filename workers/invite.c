/*
 * invite.c: the text/calendar part of invitations, updates and
 * cancellations. One VCALENDAR with METHOD:REQUEST or METHOD:CANCEL, the
 * VTIMEZONE of the meeting's zone and one VEVENT naming the one recipient.
 *
 * TZIDs read plainly ("Europe/London"): libical names zones built from the
 * system tzdata "/freeassociation.sourceforge.net/Europe/London" (and the
 * prefix cannot be set to ""), so we copy the zone's VTIMEZONE, rename its
 * TZID to the IANA name, and write DTSTART/DTEND as local wall time (from
 * clock.c) with that TZID parameter. No global libical state is changed, so
 * there is nothing to initialise.
 *
 * All TEXT escaping (commas, semicolons, backslashes, newlines) and line
 * folding is libical's. Threads: any worker; every call builds and frees its
 * own component tree. The shared zone is only read (libical loads builtin
 * zones under its own mutex; clock.c serialises the offset look-ups).
 *
 * Cutting a zone's VTIMEZONE down to the meeting's time is most of the cost
 * of an invitation (libical walks the zone's rules through ICU calendars),
 * and every invitation of a meeting asks for the same one. So each thread
 * keeps the last one it cut (zone and time), its own, never shared, freed
 * when the thread ends, and each invitation gets a copy of it.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <libical/ical.h>

#include "clock.h"
#include "invite.h"
#include "log.h"
#include "util.h"

#define INVITE_PRODID	"-//hearback//hearback 1.0//EN"
/* How far before the start the VTIMEZONE keeps its history. */
#define INVITE_TZ_BACK	(400LL * 86400)

const char *
invite_method(const struct invite *iv)
{
	return iv->cancel ? "CANCEL" : "REQUEST";
}

/* A DATE-TIME property at epoch t: local time with TZID, or UTC ("Z"). */
static icalproperty *
invite_time(icalproperty *(*make)(struct icaltimetype), long long t,
    const char *tz, int utc)
{
	struct icaltimetype	 it;
	struct clock_local	 cl;
	icalproperty		*p;

	if (utc)
		return make(icaltime_from_timet_with_zone((time_t)t, 0,
		    icaltimezone_get_utc_timezone()));
	clock_local(t, tz, &cl);
	it = icaltime_null_time();
	it.year = cl.year;
	it.month = cl.month;
	it.day = cl.day;
	it.hour = cl.hour;
	it.minute = cl.min;
	it.second = cl.sec;
	it.is_date = 0;
	p = make(it);		/* floating: no "Z" */
	icalproperty_add_parameter(p, icalparameter_new_tzid(tz));
	return p;
}

/* A copy of the zone's VTIMEZONE, TZID renamed, history trimmed. */
/* tz's VTIMEZONE from from on, with TZID tz. */
static icalcomponent *
invite_vtimezone_cut(const char *tz, long long from, struct err *e)
{
	icaltimezone	*z;
	icalcomponent	*c;
	icalproperty	*p;

	if ((z = icaltimezone_get_builtin_timezone(tz)) == NULL ||
	    (c = icaltimezone_get_component(z)) == NULL) {
		err_set(e, "no time zone data for \"%s\"", tz);
		return NULL;
	}
	c = icalcomponent_new_clone(c);
	icaltimezone_truncate_vtimezone(c, icaltime_from_timet_with_zone(
	    (time_t)from, 0, icaltimezone_get_utc_timezone()),
	    icaltime_null_time(), 1);
	if ((p = icalcomponent_get_first_property(c, ICAL_TZID_PROPERTY))
	    == NULL) {
		icalcomponent_free(c);
		err_set(e, "time zone data for \"%s\" has no TZID", tz);
		return NULL;
	}
	icalproperty_set_tzid(p, tz);
	return c;
}

/* The last VTIMEZONE this thread cut: zone, time, component. */
struct invite_tzlast {
	char		 tz[64];
	long long	 from;
	icalcomponent	*c;
};

static pthread_key_t	invite_tzkey;
static pthread_once_t	invite_tzonce = PTHREAD_ONCE_INIT;

static void
invite_tzlast_free(void *v)
{
	struct invite_tzlast	*l = v;

	if (l->c != NULL)
		icalcomponent_free(l->c);
	free(l);
}

static void
invite_tzkey_make(void)
{
	if (pthread_key_create(&invite_tzkey, invite_tzlast_free) != 0)
		fatalx("invite: cannot make a thread key");
}

/* What this thread keeps of its last cut; *hit: it is tz's at from. */
static struct invite_tzlast *
invite_tzlast(const char *tz, long long from, int *hit)
{
	struct invite_tzlast	*l;

	pthread_once(&invite_tzonce, invite_tzkey_make);
	if ((l = pthread_getspecific(invite_tzkey)) == NULL) {
		l = xcalloc(1, sizeof *l);
		if (pthread_setspecific(invite_tzkey, l) != 0)
			fatalx("invite: cannot keep a thread's zone");
	}
	*hit = l->c != NULL && l->from == from && strcmp(l->tz, tz) == 0;
	return l;
}

/* A copy of tz's VTIMEZONE from from on, TZID tz; this thread keeps the
 * cut for the next call. */
static icalcomponent *
invite_vtimezone(const char *tz, long long from, struct err *e)
{
	struct invite_tzlast	*l;
	icalcomponent		*c;
	int			 hit;

	l = invite_tzlast(tz, from, &hit);
	if (!hit && strlen(tz) < sizeof l->tz) {
		if ((c = invite_vtimezone_cut(tz, from, e)) == NULL)
			return NULL;
		if (l->c != NULL)
			icalcomponent_free(l->c);
		l->c = c;
		l->from = from;
		memcpy(l->tz, tz, strlen(tz) + 1);
	} else if (!hit)
		return invite_vtimezone_cut(tz, from, e);
	return icalcomponent_new_clone(l->c);
}

static icalproperty *
invite_person(icalproperty *(*make)(const char *), const char *name,
    const char *email)
{
	icalproperty	*p;
	char		*uri;

	uri = xasprintf("mailto:%s", email);
	p = make(uri);
	free(uri);
	if (name != NULL && name[0] != '\0')
		icalproperty_add_parameter(p, icalparameter_new_cn(name));
	return p;
}

static int
invite_check(const struct invite *iv, struct err *e)
{
	if (iv->uid == NULL || iv->uid[0] == '\0')
		return err_set(e, "calendar invitation: no UID");
	if (iv->summary == NULL || iv->summary[0] == '\0')
		return err_set(e, "calendar invitation: no title");
	if (iv->organizer_email == NULL || iv->organizer_email[0] == '\0')
		return err_set(e, "calendar invitation: no organiser email");
	if (iv->attendee_email == NULL || iv->attendee_email[0] == '\0')
		return err_set(e, "calendar invitation: no recipient email");
	if (iv->end <= iv->start)
		return err_set(e, "calendar invitation: the end is not after "
		    "the start");
	if (iv->sequence < 0)
		return err_set(e, "calendar invitation: negative SEQUENCE");
	if (!clock_tz_valid(iv->tz))
		return err_set(e, "calendar invitation: \"%.64s\" is not a "
		    "time zone", iv->tz ? iv->tz : "");
	return 0;
}

char *
invite_build(const struct invite *iv, struct err *e)
{
	icalcomponent	*cal = NULL, *ev, *vtz;
	icalproperty	*p;
	char		*s, *out = NULL;
	int		 utc;

	if (invite_check(iv, e) == -1)
		return NULL;
	utc = clock_tz_is_utc(iv->tz);

	cal = icalcomponent_vanew(ICAL_VCALENDAR_COMPONENT,
	    icalproperty_new_prodid(INVITE_PRODID),
	    icalproperty_new_version("2.0"),
	    icalproperty_new_calscale("GREGORIAN"),
	    icalproperty_new_method(iv->cancel ? ICAL_METHOD_CANCEL :
	    ICAL_METHOD_REQUEST),
	    (void *)0);
	if (!utc) {
		if ((vtz = invite_vtimezone(iv->tz, iv->start - INVITE_TZ_BACK,
		    e)) == NULL)
			goto err;
		icalcomponent_add_component(cal, vtz);
	}

	ev = icalcomponent_new_vevent();
	icalcomponent_add_component(cal, ev);
	icalcomponent_add_property(ev, icalproperty_new_uid(iv->uid));
	icalcomponent_add_property(ev,
	    icalproperty_new_sequence(iv->sequence));
	icalcomponent_add_property(ev, icalproperty_new_dtstamp(
	    icaltime_from_timet_with_zone((time_t)iv->dtstamp, 0,
	    icaltimezone_get_utc_timezone())));
	icalcomponent_add_property(ev, invite_time(icalproperty_new_dtstart,
	    iv->start, iv->tz, utc));
	icalcomponent_add_property(ev, invite_time(icalproperty_new_dtend,
	    iv->end, iv->tz, utc));
	icalcomponent_add_property(ev, icalproperty_new_summary(iv->summary));
	if (iv->location != NULL && iv->location[0] != '\0')
		icalcomponent_add_property(ev,
		    icalproperty_new_location(iv->location));
	if (iv->description != NULL && iv->description[0] != '\0')
		icalcomponent_add_property(ev,
		    icalproperty_new_description(iv->description));
	if (iv->url != NULL && iv->url[0] != '\0')
		icalcomponent_add_property(ev, icalproperty_new_url(iv->url));
	icalcomponent_add_property(ev, icalproperty_new_status(iv->cancel ?
	    ICAL_STATUS_CANCELLED : ICAL_STATUS_CONFIRMED));
	icalcomponent_add_property(ev, icalproperty_new_transp(
	    ICAL_TRANSP_OPAQUE));
	icalcomponent_add_property(ev, invite_person(
	    icalproperty_new_organizer, iv->organizer_name,
	    iv->organizer_email));
	p = invite_person(icalproperty_new_attendee, iv->attendee_name,
	    iv->attendee_email);
	icalproperty_add_parameter(p,
	    icalparameter_new_role(ICAL_ROLE_REQPARTICIPANT));
	icalproperty_add_parameter(p,
	    icalparameter_new_partstat(ICAL_PARTSTAT_NEEDSACTION));
	icalproperty_add_parameter(p, icalparameter_new_rsvp(iv->rsvp ?
	    ICAL_RSVP_TRUE : ICAL_RSVP_FALSE));
	icalcomponent_add_property(ev, p);

	if ((s = icalcomponent_as_ical_string_r(cal)) == NULL) {
		err_set(e, "calendar invitation: libical could not write it: "
		    "%s", icalerror_strerror(icalerrno));
		goto err;
	}
	out = xstrdup(s);
	icalmemory_free_buffer(s);
 err:
	if (cal != NULL)
		icalcomponent_free(cal);
	return out;
}
