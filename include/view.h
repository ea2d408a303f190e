/*
 * view.h: what an email says, before templates. Pure; runs in a worker
 * thread on the job it owns.
 *
 * From a job's data (the delivery and the current records it refers to)
 * view_build makes the template context (dates written for people, the
 * access section in the person's order, paragraphs), and the envelope: who
 * it goes to, the Reply-To, the stable Message-ID, and a calendar part when
 * there is one. One function per kind of email.
 */
#ifndef HB_VIEW_H
#define HB_VIEW_H

#include <jansson.h>

#include "util.h"

struct config;
struct invite;
struct job;

struct view {
	json_t		*ctx;		/* template context */
	const char	*kind;		/* template kind */
	const char	*format;	/* standard, easy-read, large-print, plain-text */
	char		*to_name;
	char		*to_addr;
	char		*reply_name;	/* NULL: no Reply-To */
	char		*reply_addr;
	char		*message_id;
	char		*ics;		/* NULL: no calendar part */
	const char	*ics_method;	/* "REQUEST" or "CANCEL" */
	struct invite	*inv;		/* what ics was built from, or NULL */
	char		*inv_uid;
	char		*inv_loc;
};

/* Build the view of a delivery. kind, cid and data are as in struct job. */
int	view_build(const char *did, const char *kind, const char *cid,
	    json_t *data, const struct config *, struct view *, struct err *e);
/* Builds the calendar part again with the description the templates
 * gave (render.c: the _calendar partial); nothing when there is none. */
int	view_calendar(struct view *, const char *description, struct err *e);
void	view_clear(struct view *);

#endif
