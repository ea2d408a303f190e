/*
 * invite.h: the iCalendar part of an invitation, update or cancellation
 * (RFC 5545 objects, RFC 5546 REQUEST/CANCEL), built with libical.
 *
 * Pure; any thread (each call builds and frees its own component tree).
 */
#ifndef HB_INVITE_H
#define HB_INVITE_H

#include "util.h"

struct invite {
	const char	*uid;		/* stable per meeting: "m-forum-2026-12@example.org" */
	int		 sequence;	/* raised on every change and on cancellation */
	int		 rsvp;		/* 1: ATTENDEE RSVP=TRUE (replies come
					   back to [inbound] address) */
	int		 cancel;	/* 0: METHOD:REQUEST, STATUS:CONFIRMED;
					 * 1: METHOD:CANCEL, STATUS:CANCELLED */
	long long	 start, end;	/* epochs */
	const char	*tz;		/* IANA zone: DTSTART/DTEND carry TZID=<tz>
					 * and a VTIMEZONE with that TZID is
					 * included (UTC itself: times end in Z) */
	long long	 dtstamp;	/* epoch */
	const char	*summary;
	const char	*location;	/* may be NULL */
	const char	*description;	/* may be NULL */
	const char	*url;		/* may be NULL */
	const char	*organizer_name;	/* may be NULL */
	const char	*organizer_email;	/* required */
	const char	*attendee_name;		/* may be NULL */
	const char	*attendee_email;	/* required: the one recipient */
};

/* "REQUEST" or "CANCEL": for the MIME part's method= parameter. */
const char	*invite_method(const struct invite *);

/*
 * The iCalendar text: CRLF line ends, lines folded at 75 octets by libical.
 * Caller frees. NULL with e set when a required field is missing or wrong.
 */
char		*invite_build(const struct invite *, struct err *e);

#endif
