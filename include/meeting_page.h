/*
 * meeting_page.h: a meeting planned a page of people at a time, so that
 * planning a meeting of N people costs O(N) time, memory that does not grow
 * with N, and Redis calls that stay short (issue 11). Pure, like plan.h: no
 * I/O, any thread; intake_meeting.c drives it, doing the reads and commits
 * it asks for (store.h, "Meetings in pages").
 *
 * The steps:
 *   head     the stored meeting, its marker, the sizes of its invited
 *            hash, of its pending index and of the groups it names, its
 *            venues: read with the version. A marker there is a version
 *            paged before and not finished: it is finished first (resumed
 *            from the top: what is done stays done), by whoever finds it.
 *   whole    a small meeting (MPAGE_WHOLE people or fewer, no marker) is
 *            planned whole as it always was (plan_apply(), one commit with
 *            the acknowledgement), from a fetch at the same version.
 *   check    the collaborators the record names, a chunk at a time; then
 *            plan_verify() on what was read: the same refusals and words.
 *   start    what the version does is decided (meeting_decide); a change
 *            that alters nothing people read first looks through who is
 *            invited for someone taken off (which raises the SEQUENCE);
 *            then the record and the marker (with the decision) are
 *            committed at the version read.
 *   pages    each phase a page at a time, each page's ops committed in
 *            parts of at most MPAGE_OPS ops, each under the marker:
 *              drop    (a change) those invited before and taken off:
 *                      their pending emails withdrawn, a cancellation
 *              add     everyone invited now: an invitation, or an update
 *                      and new reminders; their unmet access needs and
 *                      call list entries gathered into mp:<m>
 *              withdraw (cancelled) before the cancelled record is
 *                      stored: everyone's pending emails withdrawn and
 *                      saved as what their cancellation follows; then
 *                      the record stored (an email that falls due
 *                      meanwhile goes as the meeting stood, never as
 *                      an invitation to a cancelled one)
 *              cancel  (cancelled) everyone invited: a cancellation
 *              clear   (back on, or nothing sent) the invited hash
 *                      emptied of earlier versions' people
 *              sweep   the meeting's pending index: what this version
 *                      made stale (every reminder after a change of
 *                      time; everything but its own emails after a
 *                      cancellation or a return; everything once held)
 *   gather   what the pages gathered, read back, made into the notices
 *            (meeting_gathered) in one commit that also marks the marker
 *            "gathered" and removes mp:<m>
 *   tail     the marker goes and the inbox entry is acknowledged
 * A person's emails are those meeting_person() plans whole, and notices
 * are made once from all of it, so a paged meeting sends what the whole
 * planner would (the same delivery ids).
 *
 * A venue record rides the same steps (venue_page.c): when its access
 * changed and the people invited to its upcoming meetings are many, its
 * access updates go out a meeting's page of people at a time.
 */
#ifndef HB_MEETING_PAGE_H
#define HB_MEETING_PAGE_H

#include <jansson.h>

#include "plan.h"
#include "record.h"
#include "store.h"
#include "util.h"

/* People read per page (and what was gathered for them), and ids of the
 * pending index read per page: each read stays well under a millisecond
 * or two. */
#define MPAGE_PAGE	64
#define MPAGE_SCAN	256
/* Ops per commit: a delivery costs Redis about 15 to 20 us to commit, so
 * a commit stays near 1 ms (meeting.py: median 1.0 ms at 20,000 people),
 * with room for a loaded machine (a person's ops are never split). */
#define MPAGE_OPS	64
/* A meeting this small is planned whole, in one commit, as ever: people
 * invited now (an upper bound: invitees and group sizes), people invited
 * before, and pending emails. (A build with -DMPAGE_WHOLE=0
 * -DMPAGE_WHOLE_PENDING=-1 pages every meeting: how the tests of small
 * meetings can be run through the pages.) */
#ifndef MPAGE_WHOLE
#define MPAGE_WHOLE		16
#endif
#ifndef MPAGE_WHOLE_PENDING
#define MPAGE_WHOLE_PENDING	256
#endif

struct mpage;

/* What the caller is to do next (mpage_next()). */
enum mpage_do {
	MPAGE_FETCH,		/* io->keys with store_mpage_fetch(), then
				 * mpage_fetched() */
	MPAGE_CHECK,		/* io->ids' records (store_page_ids(), with
				 * records), then mpage_checked() */
	MPAGE_PEOPLE,		/* io->people (store_mpage_people()), then
				 * mpage_people() */
	MPAGE_SWEEP,		/* io->key from io->cursor (store_page(), ids
				 * only), then mpage_swept() */
	MPAGE_GATHER,		/* io->key from io->cursor (store_mpage_hscan()),
				 * then mpage_gathered() */
	MPAGE_COMMIT,		/* io->ops with io->version and io->entry
				 * (store_commit()), then mpage_committed() */
	MPAGE_REJECT,		/* the record is refused: io->e */
	MPAGE_DONE		/* the entry is acknowledged: all is stored */
};

struct mpage_io {
	json_t			*keys;
	json_t			*ids;
	struct store_people	 people;
	char			 key[STORE_KEY_MAX];
	const char		*cursor;
	int			 count;
	json_t			*ops;
	const char		*version;
	const char		*entry;
	struct err		 e;
};

/* Does the daemon plan this record with mpage? (Meetings, venues.) */
int		 mpage_wants(const struct record *);
/* r stays the caller's and must outlive mp; entry is its inbox entry. */
struct mpage	*mpage_new(const struct record *r, const char *entry);
void		 mpage_free(struct mpage *);

/* The next thing to do; what io points into stays valid until the next
 * call. */
enum mpage_do	 mpage_next(struct mpage *, const struct plan_ctx *,
		    struct mpage_io *io);
/* What was read: a snapshot (store_snap_merge()) and its version; the
 * records of a chunk of ids (store_page_parse()); a page of people
 * (store_people_parse()); a page of the pending index (its ids); a page
 * of what was gathered (store_hscan_parse()). cursor "0": the last page. */
void		 mpage_fetched(struct mpage *, json_t *snap,
		    const char *version);
void		 mpage_checked(struct mpage *, json_t *snap);
void		 mpage_people(struct mpage *, const struct plan_ctx *,
		    const char *cursor, json_t *ids, json_t *snap,
		    json_t *info);
void		 mpage_swept(struct mpage *, const struct plan_ctx *,
		    const char *cursor, json_t *ids);
void		 mpage_gathered(struct mpage *, const char *cursor,
		    json_t *fields);
/* The commit's reply: 1 applied, 0 the version moved, 2 the marker is no
 * longer this version's. */
void		 mpage_committed(struct mpage *, int reply);

/* For logs and tests: what just began, once ("version ... begins"), into
 * buf, or NULL. */
const char	*mpage_note(struct mpage *, char *buf, size_t len);
const char	*mpage_version(const struct mpage *);
int		 mpage_paged(const struct mpage *);	/* 0: planned whole */
int		 mpage_pages(const struct mpage *);
long long	 mpage_planned(const struct mpage *);	/* ops committed */

#endif
