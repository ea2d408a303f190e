/*
 * plan.h: records become stored state and deliveries. Pure functions over a
 * snapshot of what Redis holds (see store.h); no I/O, any thread. The daemon
 * (intake.c) and the command (cli) share them, so a record is judged the same
 * way wherever it comes from.
 *
 * The loop is: need = plan_needs(rec, snap); fetch need into snap; repeat
 * until need is empty (at most PLAN_MAX_ROUNDS); plan_refcheck(); then
 * plan_apply() appends the ops that the commit script applies atomically.
 * Costs are linear in what the snapshot holds. The daemon does not plan an
 * announcement this way, with its whole audience in one snapshot: it fans
 * it out page by page (fanout.h), with the same emails; plan_apply() plans
 * one whole for the command (preview).
 */
#ifndef HB_PLAN_H
#define HB_PLAN_H

#include <jansson.h>

#include "config.h"
#include "record.h"
#include "store.h"
#include "util.h"

#define PLAN_MAX_ROUNDS	4

struct plan_ctx {
	const struct config	*cf;
	long long		 now_ms;
	const char		*entry_id;	/* inbox entry id, "" for none */
};

/* Append to need (a JSON array of key names) what snap still lacks. Returns
 * the number of keys added. */
int	plan_needs(const struct record *, json_t *snap, json_t *need);
/* The same into a set (a JSON object, key -> true, in the order added):
 * for several records planned against one snapshot. */
void	plan_needs_set(const struct record *, json_t *snap, json_t *need);

/* Is every id the record names present in snap (or, for the command, queued
 * earlier in the same invocation: known is a JSON object of "type:id" keys,
 * may be NULL)? On failure e says "invitees[1]: no collaborator \"c-zed\"". */
int	plan_refcheck(const struct record *, json_t *snap, json_t *known,
	    struct err *e);
/*
 * Everything the daemon refuses a record for, beyond its form (issue 14:
 * no silent mistakes), for the daemon and the command alike:
 *   - a merge record (r->merge) is applied to the stored copy in snap and
 *     the whole is checked (record_merge); no stored copy: an error, unless
 *     known holds "TYPE:ID" (queued earlier in the same invocation);
 *   - every id it names exists (as plan_refcheck);
 *   - forget: the collaborator exists (or was forgotten already);
 *   - a group it names has members, unless known holds "group:NAME" or the
 *     stored copy named it already; the error lists the groups with
 *     members;
 *   - a new scheduled meeting does not start in the past ("use held"); a
 *     held meeting does not start in the future.
 * now_ms 0 skips the time checks. max_bytes: the merged record's limit
 * (0: the default). plan_refcheck() is plan_verify() at util_now_ms().
 */
int	plan_verify(const struct record *, json_t *snap, json_t *known,
	    long long now_ms, size_t max_bytes, struct err *e);
/* The group check of plan_verify() alone, for the paged fan-out of an
 * announcement: a group's size is its set in snap or "#card:group:NAME"
 * (an integer; see store_snap_merge), and "groups" lists the names. */
int	plan_check_groups(const struct record *, json_t *snap, struct err *e);

/* Append the ops that store the record and create its deliveries. */
int	plan_apply(const struct record *, json_t *snap, const struct plan_ctx *,
	    json_t *ops, struct err *e);

/* The consenting collaborators an announcement reaches, sorted, unique. */
json_t	*plan_audience(const struct record *, json_t *snap);

/* A notice to a coordinator, as a delivery (kind "notice"). did must be
 * stable for the event it reports, so that it is sent once. */
void	plan_notice(json_t *ops, const struct plan_ctx *, const char *did,
	    const char *to, const char *title, json_t *lines,
	    const char *record_id);

/* The same notice, also to a meeting's organiser (their address, may be
 * NULL) unless that is the coordinator: under did + ":org", so each is
 * sent once. */
void	plan_notice_also(json_t *ops, const struct plan_ctx *, const char *did,
	    const char *to, const char *organiser, const char *title,
	    json_t *lines, const char *record_id);
/* A person in a notice: "Amara Okafor (c-amara)" (names are fine in an
 * email; logs keep ids only), "collaborator c-amara" without a record. */
char	*plan_person_words(json_t *collaborator, const char *cid);

/* The stored record object in snap (the "record" member), or NULL. */
json_t	*plan_snaprec(json_t *snap, const char *type, const char *id);
/* A Message-ID for a delivery id: "ann/a-1/c-amara@example.org". */
char	*plan_message_id(const char *did, const char *domain);

/*
 * Helpers for the per-type planners (plan_*.c, meeting*.c): pure, like the
 * rest.
 * Their need is a set: a JSON object (key -> true) in the order keys were
 * added, which plan_needs() turns into its array.
 */
void	plan_need(json_t *snap, json_t *need, const char *key);
void	plan_need_rec(json_t *snap, json_t *need, const char *type,
	    const char *id);
void	plan_need_set(json_t *snap, json_t *need, enum store_set,
	    const char *id);
json_t	*plan_members(json_t *snap, const char *key);
/* A set's members in snap (an array), or NULL if not fetched yet. */
json_t	*plan_set(json_t *snap, enum store_set, const char *id);
/* Add a record's key to a delivery's refs, once. */
void	plan_ref(struct buf *refs, const char *type, const char *id);
/* Append a group's members (if fetched) to ids. */
void	plan_add_group(json_t *snap, json_t *ids, const char *group);
/* Sorted unique ids of consenting collaborators among ids. */
json_t	*plan_people(json_t *snap, json_t *ids);
int	plan_unchanged(const struct record *, json_t *snap);
/* Was the stored copy of the record stored from a later inbox entry than
 * entry (its meta's src)? Then this one is older news: after a crash an
 * entry can be read again after one queued behind it was handled. */
int	plan_superseded(const struct record *, json_t *snap,
	    const char *entry);
/* Store the record; meta (may be NULL) gets src and at added. */
void	plan_store(json_t *ops, const struct record *,
	    const struct plan_ctx *, json_t *meta);
/* Create a delivery (DNEW) unless one with that id exists. */
void	plan_delivery(json_t *ops, const struct plan_ctx *, const char *did,
	    const char *kind, const char *cid, const char *mid, long long due_ms,
	    long long deadline_ms, const char *refs, const char *to,
	    json_t *data, const char *src);

/* Announcements, shared with the paged fan-out (fanout.c): when one goes
 * out (send_at in its time zone, or now; -1 with e if send_at does not
 * read) and until when it may be tried; one person's email (DNEW, or a
 * fan-out's DFAN when ver is not NULL); and withdrawing a person's
 * pending one (DDEL, or with ver DDELOLD: unless it is ver's). */
int	plan_announcement_due(const struct record *, const struct plan_ctx *,
	    long long *due_ms, long long *deadline_ms, struct err *e);
void	plan_announcement_email(json_t *ops, const struct plan_ctx *,
	    const char *aid, const char *cid, long long due_ms,
	    long long deadline_ms, const char *ver);
void	plan_announcement_drop(json_t *ops, const char *aid, const char *cid,
	    const char *ver);

/* meeting.c, meeting_venue.c: meetings and venues (meeting_impl.h has
 * how; the daemon pages a large meeting: meeting_page.h). */
void	meeting_needs(const struct record *, json_t *snap, json_t *need);
int	meeting_plan(const struct record *, json_t *snap,
	    const struct plan_ctx *, json_t *ops, struct err *e);
void	meeting_venue_needs(const struct record *, json_t *snap, json_t *need);
int	meeting_venue_plan(const struct record *, json_t *snap,
	    const struct plan_ctx *, json_t *ops, struct err *e);

#endif
