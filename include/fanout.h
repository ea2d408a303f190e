/*
 * fanout.h: planning a record that reaches a whole group (an announcement)
 * page by page. Pure, like plan.h: no I/O, any thread; intake_fanout.c drives
 * it and does the reading and committing (store.h, "Fan-outs").
 *
 * The steps, each a few small calls, none holding the group:
 *   check     the collaborators the record names one by one exist
 *             (fanout_check_ids, then fanout_check on what was read)
 *   head      the stored record and its fan-out marker (fanout_head_keys,
 *             read with the version): nothing to do, resume a fan-out in
 *             progress, or start one: store the record and the marker in
 *             one version-checked commit (fanout_head)
 *   pages     the audience, a page at a time (fanout_next says what to
 *             read, fanout_page plans it): deliveries, then the pending
 *             emails of earlier versions' audiences withdrawn
 *   tail      the marker goes and the inbox entry is acknowledged, in one
 *             commit (fanout_tail)
 * Every page commit applies only while the marker is still this
 * version's, and creates deliveries that cannot be doubled, so stopping
 * anywhere (a crash, Redis gone) and starting again from the top, by this
 * daemon or another, sends each person the email once.
 */
#ifndef HB_FANOUT_H
#define HB_FANOUT_H

#include <jansson.h>

#include "plan.h"
#include "record.h"
#include "util.h"

/* People per page: each page's read and commit stay far below 10 ms of
 * Redis time, also on a busy machine (a delivery costs Redis about 20 us
 * to commit). */
#define FANOUT_PAGE	64

struct fanout;

/* What fanout_head() decided. */
enum fanout_head {
	FANOUT_NOTHING,		/* unchanged, no fan-out in progress */
	FANOUT_STALE,		/* a later entry's version is stored: this
				 * one (read again after a crash) is old
				 * news, and changes nothing */
	FANOUT_START,		/* ops: the record and the marker */
	FANOUT_RESUME		/* a fan-out of this record is in progress */
};

/* A page to read: a set from cursor, or a list of ids; with the records
 * of its members if records. */
struct fanout_read {
	const char	*set;		/* NULL: ids */
	const char	*cursor;
	json_t		*ids;		/* borrowed */
	int		 records;
};

/* Does a record of this type fan out in pages? (Announcements; and
 * meetings, whose pages are meeting_page.h's: fanout_meeting() is their
 * state, NULL for an announcement.) */
int		 fanout_wants(const struct record *);
struct mpage	*fanout_meeting(struct fanout *);
/* r stays the caller's and must outlive the fan-out; entry is the inbox
 * entry that brought it. */
struct fanout	*fanout_new(const struct record *r, const char *entry);
void		 fanout_free(struct fanout *);

/* The next ids the record names to look up (with records), or NULL when
 * all are checked; then what was read (a snapshot as store_page_parse()
 * fills it): -1 with e ("to.collaborators[3]: no collaborator \"c-zed\"")
 * if one is not a collaborator, and was not forgotten. */
json_t		*fanout_check_ids(struct fanout *);
int		 fanout_check(struct fanout *, json_t *snap, struct err *e);

/* The keys to read (a new array) for fanout_head(): the stored record and
 * the marker. Then, from what they hold: what to do (-1 with e: the
 * record cannot be accepted). START's ops are committed with the version
 * the keys were read at, and only then are pages read. */
json_t		*fanout_head_keys(struct fanout *);
int		 fanout_head(struct fanout *, json_t *snap,
		    const struct plan_ctx *, json_t *ops, struct err *e);

/* The next page to read into *rd: 1, or 0 when the pages are done. */
int		 fanout_next(struct fanout *, struct fanout_read *rd);
/* Plan the page read (its ids in order; their records in snap; the cursor
 * to go on from) into ops, and move on. Returns how many ops there are to
 * commit: 0 means none (the page held no one). */
int		 fanout_page(struct fanout *, const char *cursor, json_t *ids,
		    json_t *snap, const struct plan_ctx *, json_t *ops);
/* The last commit's ops (the marker goes, if it is still ours). */
void		 fanout_tail(struct fanout *, json_t *ops);

/* For logs and tests: the version fanned out, pages read, and the emails
 * planned (DFAN ops; those that exist already are not made again). */
const char	*fanout_version(const struct fanout *);
int		 fanout_pages(const struct fanout *);
long long	 fanout_planned(const struct fanout *);

#endif
