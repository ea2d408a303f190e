/*
 * compose.h: one RFC 5322 message (MIME, built with GMime 3) from rendered
 * words, ready for libESMTP: CRLF line ends only, 7-bit, NUL-terminated, no
 * line over 998 octets.
 *
 * Any thread: everything is built and freed inside the call. g_mime_init()
 * must have been called once (by main) before any thread calls this.
 */
#ifndef HB_COMPOSE_H
#define HB_COMPOSE_H

#include <stddef.h>

#include "util.h"

struct mail {
	const char	*from_name, *from_addr;		/* [smtp] from */
	const char	*to_name, *to_addr;
	const char	*reply_to_name, *reply_to_addr;	/* addr NULL: no Reply-To */
	const char	*subject;		/* UTF-8, one line */
	const char	*message_id;		/* "ann.a-1.c-amara@example.org", no <> */
	long long	 date;			/* epoch seconds */
	const char	*text;			/* UTF-8 text part, LF line ends */
	const char	*html;			/* NULL: text/plain only (plain-text) */
	const char	*ics;			/* NULL: no calendar; else iCalendar */
	const char	*ics_method;		/* "REQUEST" or "CANCEL" */
	const char	*list_unsubscribe;	/* NULL, or an https URL: RFC 8058
						 * List-Unsubscribe and -Post */
};

/*
 * Structure:
 *   no ics:   text/plain                         (html NULL)
 *             multipart/alternative [text, html]
 *   with ics: multipart/mixed [
 *                 multipart/alternative [text, html (if any),
 *                     text/calendar; method=M],
 *                 invite.ics (application/ics, attachment) ]
 * Headers: From, To, Reply-To (if given), Subject, Date, Message-ID,
 * MIME-Version, Auto-Submitted: auto-generated, and List-Unsubscribe
 * with List-Unsubscribe-Post (RFC 8058) when given; non-ASCII encoded per
 * RFC 2047 by GMime. Header inputs holding CR or LF are refused.
 *
 * On success *out is malloc'd (caller frees) and *len excludes the NUL.
 */
int	compose_message(const struct mail *, char **out, size_t *len,
	    struct err *e);

/* Check a finished message: CRLF only, no bare CR or LF, 7-bit, no NUL, no
 * line over 998 octets. */
int	compose_check(const char *msg, size_t len, struct err *e);

#endif
