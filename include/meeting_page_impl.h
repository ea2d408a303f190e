/*
 * meeting_page_impl.h: what meeting_page.c (the steps) and meeting_phase.c
 * (the pages) share, for nobody else; see meeting_page.h. Pure.
 */
#ifndef HB_MEETING_PAGE_IMPL_H
#define HB_MEETING_PAGE_IMPL_H

#include <jansson.h>

#include "meeting_impl.h"
#include "meeting_page.h"

enum mpage_step {
	MPAGE_S_HEAD,		/* reading the head */
	MPAGE_S_WHOLE,		/* small: fetching for plan_apply() */
	MPAGE_S_CHECK,		/* reading the invitees, a chunk at a time */
	MPAGE_S_MIGRATE,	/* a legacy list of invited into mi:<m> */
	MPAGE_S_SURVEY,		/* is anyone taken off? */
	MPAGE_S_START,		/* the record and the marker */
	MPAGE_S_PHASES,		/* the pages */
	MPAGE_S_GATHER,		/* what the pages gathered, read back */
	MPAGE_S_TAIL,		/* the marker goes, the entry is acknowledged */
	MPAGE_S_DONE,
	MPAGE_S_REJECT
};

enum mpage_phase {
	MPAGE_P_DROP,		/* those taken off */
	MPAGE_P_ADD,		/* everyone invited now */
	MPAGE_P_CANCEL,		/* everyone invited: cancelled */
	MPAGE_P_CLEAR,		/* earlier versions' people out of mi:<m> */
	MPAGE_P_SWEEP,		/* the pending index, of what went stale */
	MPAGE_P_WITHDRAW,	/* before a cancellation is stored: everyone's
				 * pending emails withdrawn, and saved as
				 * what their cancellation follows */
	MPAGE_P_STORE		/* the cancelled record stored (no read) */
};

/* What a commit was, to know what its reply means. */
enum mpage_commit {
	MPAGE_C_NONE,
	MPAGE_C_WHOLE,		/* plan_apply()'s, at the version, acked */
	MPAGE_C_ACK,		/* nothing to do: at the version, acked */
	MPAGE_C_MIGRATE,
	MPAGE_C_START,		/* at the version */
	MPAGE_C_PAGE,		/* under the marker */
	MPAGE_C_GATHER,		/* under the marker */
	MPAGE_C_TAIL
};

struct mpage {
	const struct record	*r;
	const char		*type;		/* "meeting" or "venue" */
	char			*entry;
	enum mpage_step		 step;
	int			 tries;		/* head read again */

	/* The head, and the fetches of a small meeting, at one version. */
	json_t			*snap;
	json_t			*need;		/* the keys asked */
	char			 version[32];
	int			 rounds;

	/* The version being planned: the record (mine, merged, or the
	 * stored one when a marker is finished), its inbox entry (ver),
	 * whether it is another entry's, and what it does. */
	struct record		 own;
	const struct record	*w;
	char			*ver;
	int			 other;
	struct meeting_version	 mv;
	int			 decided;
	json_t			*invitees;	/* w's, as a set */
	json_t			*groups;	/* w's names, unique */

	/* check */
	json_t			*chunks;
	size_t			 nchecked;
	json_t			*checksnap;
	/* migrate */
	json_t			*legacy;
	size_t			 nmigrated;
	/* survey */
	int			 removals;

	/* pages */
	json_t			*phases;	/* [{phase, src, ids}] */
	size_t			 at;
	char			 cursor[64];
	json_t			*chunk;		/* ops being filled */
	json_t			*commits;	/* [{ops, kind}] queued */
	json_t			*gathered;	/* field -> value */
	int			 gathered_all;	/* read to the end */

	/* the commit on the wire */
	enum mpage_commit	 inflight;
	json_t			*inflight_ops;

	char			 note[200];	/* for the log, once */
	json_t			*vplan;		/* a venue's: venue_page.c */
	int			 stored;	/* a cancellation's record is
						 * stored (MPAGE_P_STORE) */
	int			 paged;
	int			 pages;
	long long		 planned;
};

/* meeting_page.c */
void	mpage_queue(struct mpage *, json_t *ops, enum mpage_commit);
void	mpage_restart(struct mpage *);
int	mpage_consents(json_t *snap, const char *cid);

/* meeting_head.c: the head's keys still to read (a new array); what the
 * head says to do (the next step; io->e on a refusal); the invitees'
 * records read (mpage_checked, meeting_page.h) and then judged; what
 * the version does; a part of a legacy list moved; the start queued. */
json_t	*mpage_head_need(struct mpage *, const struct plan_ctx *);
void	mpage_headed(struct mpage *, const struct plan_ctx *,
	    struct mpage_io *);
void	mpage_checked_all(struct mpage *, const struct plan_ctx *,
	    struct mpage_io *);
void	mpage_decide(struct mpage *, const struct plan_ctx *, struct err *);
void	mpage_migrate(struct mpage *);
void	mpage_start(struct mpage *, const struct plan_ctx *);
/* The version's record stored, with the venue index in step. */
void	mpage_store(struct mpage *, const struct plan_ctx *, json_t *ops);
void	mpage_survey_read(struct mpage *, struct mpage_io *);
json_t	*mpage_stored_wrap(struct mpage *);
json_t	*mpage_mark(struct mpage *);
long long mpage_int(struct mpage *, const char *fmt, const char *key);
void	mpage_need(struct mpage *, json_t *need, const char *key);
int	mpage_whole(struct mpage *, const struct plan_ctx *, struct err *);
int	mpage_same(struct mpage *, const struct plan_ctx *, json_t *stored);

/* venue_page.c: a venue's access update in pages (its comment says
 * how): the head's keys, what the head says, the start, the phases, a
 * page of one meeting's people. */
void	venue_page_need(struct mpage *, json_t *need);
void	venue_page_headed(struct mpage *, const struct plan_ctx *,
	    struct mpage_io *);
void	venue_page_start(struct mpage *, const struct plan_ctx *);
void	venue_page_phases(struct mpage *);
void	venue_page_people(struct mpage *, const struct plan_ctx *,
	    const char *cursor, json_t *phase, json_t *ids, json_t *snap);

/* meeting_phase.c */
void	mpage_phases(struct mpage *);
/* One person's ops into the commit being filled; the end of a page; on
 * to the next page (cursor "0": the next phase). */
void	mpage_add_ops(struct mpage *, json_t *ops);
void	mpage_flush(struct mpage *);
void	mpage_advance(struct mpage *, const char *cursor);
int	mpage_gathers(const struct mpage *);
/* The read of the phase at hand into io (an MPAGE_PEOPLE or MPAGE_SWEEP),
 * or 0 when the phases are done. */
int	mpage_phase_read(struct mpage *, const struct plan_ctx *,
	    struct mpage_io *, enum mpage_do *);
void	mpage_phase_people(struct mpage *, const struct plan_ctx *,
	    const char *cursor, json_t *ids, json_t *snap, json_t *info);
void	mpage_phase_swept(struct mpage *, const struct plan_ctx *,
	    const char *cursor, json_t *ids);
void	mpage_gather_ops(struct mpage *, const struct plan_ctx *);
void	mpage_survey_people(struct mpage *, const char *cursor, json_t *ids,
	    json_t *snap, json_t *info);

#endif
