/*
 * meeting_impl.h: what the meeting planner's files (meeting*.c) share, for
 * nobody else; the rest of the program uses plan.h (meeting_plan and the
 * venue planner) and meeting_page.h (a meeting planned in pages). Pure:
 * no I/O, any thread.
 *
 * The planner works on one version of a meeting (a record, against the
 * copy stored before it):
 *   meeting.c          what a version does (meeting_decide) and to whom
 *                      (meeting_person), and the whole planner, which does
 *                      it for everyone against one snapshot
 *   meeting_email.c    one person's emails: invitation, update,
 *                      cancellation, reminders, their supporter's and the
 *                      coordinator's copies, and what they wait for
 *   meeting_pending.c  the meeting's pending emails, found by their ids,
 *                      and withdrawing them
 *   meeting_change.c   what changed, in the words of an update
 *   meeting_notice.c   what is gathered over everyone (the unmet-access
 *                      notice, the call list) and the short-notice notice
 *   meeting_venue.c    venue access updates
 *   meeting_page.c     the same planning, a page of people at a time
 *                      (meeting_head.c, meeting_phase.c; venue_page.c
 *                      for a venue's access updates)
 *
 * What is gathered over everyone goes into a "part" object as each person
 * is planned: "a:<cid>" their access lines, "c:0:<cid>" (taken off) or
 * "c:1:<cid>" (anything else) their call list entry. The whole planner
 * keeps it in memory; a paged meeting stores it in Redis page by page and
 * reads it back at the end. Either way the notices are made from it once,
 * in the order of its keys (meeting_gathered), so they are the same.
 */
#ifndef HB_MEETING_IMPL_H
#define HB_MEETING_IMPL_H

#include <jansson.h>

#include "plan.h"
#include "record.h"

#define MEETING_MAX_LEADS	16

/* What a version of a meeting does. */
enum meeting_case {
	MEETING_NEW,		/* everyone is invited: a new meeting, or one
				 * back on after a cancellation (back_on) */
	MEETING_QUIET,		/* cancelled, and was already (or new and
				 * cancelled): stored, nothing sent */
	MEETING_CANCEL,		/* cancelled now: everyone invited is told */
	MEETING_CHANGE,		/* an update for those still invited, an
				 * invitation for those added, a cancellation
				 * for those taken off */
	MEETING_HELD,		/* it happened: nothing to anyone, nothing
				 * pending stays */
	MEETING_PAST		/* started or over: stored, nothing sent */
};

/*
 * A version, decided once from the record and the stored copy
 * (meeting_decide): the same for everyone it concerns. A paged meeting
 * keeps it in its marker (meeting_version_dump/_load), so that whoever
 * finishes the pages does what was decided.
 */
struct meeting_version {
	enum meeting_case	 what;
	int			 seq;		/* the new calendar SEQUENCE */
	int			 back_on;	/* NEW or QUIET after a
						 * cancellation: what was
						 * pending goes */
	int			 cancelled;	/* the record says cancelled */
	int			 time_changed;
	int			 timing_new;	/* check for short notice */
	int			 removals;	/* CHANGE: someone is taken off
						 * (the SEQUENCE went up) */
	json_t			*changes;	/* CHANGE: what changed (an
						 * array, maybe empty) */
	char			 today[16];	/* the day access is judged on
						 * (YYYY-MM-DD) */
};

/* One version being planned, for everyone (the whole planner) or for one
 * page of people (meeting_page.c). */
struct meeting_plan {
	const struct record		*r;
	json_t				*snap;
	const struct plan_ctx		*pc;
	json_t				*ops;
	const char			*mid;
	const char			*vid;
	long long			 start;		/* epoch seconds */
	long long			 end;
	int				 seq;
	const struct meeting_version	*mv;
	int				 paged;		/* each person's own
							 * pending emails are
							 * withdrawn with theirs */
	json_t				*pending;	/* meeting_pending() */
	json_t				*part;		/* what is gathered */
	json_t				*access;	/* meeting_access_now() */
};

/* What a person is, in this version. */
enum meeting_role {
	MEETING_INVITE,		/* invited now: invitation and reminders */
	MEETING_STAY,		/* invited before and still: an update if
				 * something changed, new reminders if the
				 * time did */
	MEETING_REMOVE,		/* taken off: a cancellation of their own */
	MEETING_CANCELLED	/* the meeting is cancelled: a cancellation */
};

/* meeting.c */
const char	*meeting_str(json_t *, const char *key);
/* Set up p for r; -1 with e if its start or end does not read. */
int	meeting_plan_init(struct meeting_plan *p, const struct record *r,
	    json_t *snap, const struct plan_ctx *pc, json_t *ops,
	    struct err *e);
/* Decide what this version does, against the stored wrapper old
 * ({"record", "meta"}, or NULL); removals: someone is known to be taken
 * off. Fills mv (meeting_version_clear() frees it). */
void	meeting_decide(struct meeting_plan *p, json_t *old, int removals,
	    struct meeting_version *mv);
void	meeting_version_clear(struct meeting_version *);
/* The version as JSON text (for a marker), and back (-1: not one). */
char	*meeting_version_dump(const struct meeting_version *);
int	meeting_version_load(const char *text, struct meeting_version *);
/* Plan one person's part in the version. */
void	meeting_person(struct meeting_plan *p, const char *cid,
	    enum meeting_role);
/* Who held an invitation before this version: the stored meta's list
 * ("invited", a legacy record) or the invited hash in snap, sorted; a new
 * array. */
json_t	*meeting_invited(json_t *snap, const char *mid);

/* meeting_email.c */
/* Until when a change's email may be tried: max_age, never past the
 * start. */
long long meeting_deadline(struct meeting_plan *p);
char	*meeting_refs(const char *mid, const char *cid, const char *vid);
void	meeting_email(struct meeting_plan *p, const char *prefix,
	    const char *kind, const char *cid, json_t *data, int removed);
void	meeting_reminders(struct meeting_plan *p, const char *cid);

/* meeting_pending.c */
json_t	*meeting_pending(struct meeting_plan *p);
/* Withdraw this meeting's pending emails of one kind ("rem"; NULL: all)
 * for one person (cid), or for everyone (cid NULL). */
void	meeting_drop(struct meeting_plan *p, const char *kind, const char *cid);
int	meeting_has_legacy(struct meeting_plan *p, const char *kind,
	    const char *cid);
/* Is did one of this version's own emails (its meeting, its SEQUENCE)? */
int	meeting_mine(struct meeting_plan *p, const char *did);
/* Is did a reminder (or a copy of one)? */
int	meeting_is_reminder(const char *did);
/* A paged meeting: withdraw one person's pending emails that are not this
 * version's own (kind "rem": reminders only). */
void	meeting_drop_stale(struct meeting_plan *p, const char *cid,
	    const char *kind);

/* meeting_change.c: what changed between the stored record old and
 * p->r, as the array an update carries; *time_changed says if the time
 * did. */
json_t	*meeting_changes(struct meeting_plan *p, json_t *old,
	    int *time_changed);

/* meeting_venue.c: the access words that changed, as data ([{word, was,
 * now}], a new array). */
json_t	*meeting_venue_changes(json_t *oa, json_t *na);
void	 meeting_venue_person(json_t *ops, const struct plan_ctx *,
	    const char *vid, const char *mid, const char *cid, json_t *c,
	    const char *h, long long start, json_t *data);

/* meeting_notice.c */
void	meeting_hash(json_t *v, char *buf, size_t len);
/* The short-notice notice, if the meeting starts too soon. */
void	meeting_short_notice(struct meeting_plan *p);
/* A person's unmet access needs, into p->part. */
void	meeting_access_lines(struct meeting_plan *p, const char *cid);
/* The notices made from p->part: unmet access and the call list. */
void	meeting_gathered(struct meeting_plan *p);

#endif
