/*
 * store.h: hearback's Redis data model, in one place: daemon/store/.
 *
 * Only daemon/store/ knows key names and Lua. The model is a few Lua
 * scripts (daemon/store/NAME.lua, embedded at build time by scripts.S) and
 * the C that speaks to them. A script is sent with EVALSHA; on NOSCRIPT (a
 * Redis that has not seen it, or flushed it) it is sent once whole with
 * EVAL, which also loads it.
 *
 * Everything else calls typed operations: the planner names the keys it
 * needs with store_setkey()/store_reckey() and builds a plan with
 * store_op_*(); the daemon commits plans, leases due deliveries, settles
 * them (store_op_sent/retry/dead/unlease in a committed plan), runs the
 * digest, reads the inbox and the gauges. Key names, ops and parsing are
 * pure, any thread; the calls that take a struct rconn are the daemon's
 * (main thread only, like rconn), those ending in _sync the command's
 * (a blocking context). Both send the same bytes.
 *
 * Keys (all under "{P}:", one cluster slot):
 *   inbox, dead, audit          streams
 *   version                     counter, raised by every record commit
 *   rec:<type>:<id>             a stored record: {"record":{...},"meta":{...}}
 *   collaborators               set of collaborator ids
 *   group:<name>                set of collaborator ids
 *   cs:<collab>                 set of said ids attributed to a collaborator
 *   vm:<venue>                  set of meeting ids at a venue
 *   d:<delivery>                hash: one email to one person (see plan.c),
 *                               holding only what its id does not say
 *                               (lib.lua: read back whole by the scripts)
 *   schedule                    zset: delivery id by due time (ms); a leased
 *                               delivery is pushed lease ms into the future
 *   cd:<collab>, md:<meeting>   sets of pending delivery ids, for forget and
 *                               for meeting changes
 *   mr:<meeting>, cr:<collab>   hashes: the reminders still waiting, which
 *                               have no d: hash (lib.lua: cid -> their
 *                               due times; mid -> "1"); the scripts read
 *                               them as part of md: and cd:
 *   after:<delivery>            set of delivery ids held until that one,
 *                               leased when they were planned, settles
 *                               (lib.lua's after_release, commit.lua's DNEW)
 *   stats                       hash of counters for `hearback status`
 *   said, said:open             all said ids; open ones scored by when said
 *   notices                     ids of coordinator notices (forget scrubs)
 *   forgotten                   ids of collaborators who were forgotten
 *   forgetting                  ids of collaborators being scrubbed from
 *                               every key (see "Forget" below)
 *   forget:<collab>             hash: their name, email and phone, and how
 *                               far the scrub has walked; gone at its end
 *   so:<said>                   outcome ids that answer a said item
 *   digest:<coordinator>        last overdue digest time (ms)
 *   fanout:<type>:<id>          hash {ver, old}: a record's fan-out in
 *                               progress (see "Fan-outs" below); a
 *                               meeting's is {ver, plan, gathered, and
 *                               for a cancellation rec and stored}, a
 *                               venue's {ver, plan}
 *   mi:<meeting>                hash: who holds an invitation to the
 *                               meeting, collaborator id -> the inbox entry
 *                               id of the version that invited them ("" for
 *                               one from before); a meeting stored before
 *                               this hash existed lists them in its meta
 *                               ("invited") until it is planned again
 *   mp:<meeting>                hash: what a meeting's version planned in
 *                               pages gathers for its notices (see
 *                               "Meetings in pages" below)
 *
 * The snapshot ("snap") is a JSON object from relative key name to value:
 * a stored record (parsed), an array (a set's members), or null (absent).
 * An op list is a JSON array of arrays of strings, applied atomically by the
 * commit script, which also checks the version the snapshot was taken at and
 * acknowledges and deletes the inbox entry: a record leaves the inbox only
 * when everything it causes is stored, in the same atomic step.
 *
 * Fan-outs. A record that reaches a whole group (an announcement) is not
 * planned from one snapshot of the group: its audience is read and
 * committed in pages of a few hundred (store_page()), so that no call
 * holds Redis for long and no one holds the group in memory. Its first
 * commit stores the record and a marker, fanout:<type>:<id> = {ver: the
 * version being fanned out (the inbox entry id that brought it), old:
 * the audiences of earlier versions, whose pending emails it may have to
 * withdraw}. Each page's commit applies only while the marker is still
 * that version's (IFMARK; else the reply is 2: a later version took
 * over, or the fan-out is over), and creates its deliveries with DFAN:
 * only for a person who still consents, never twice, tagged with the
 * version. The last commit removes the marker and acknowledges the inbox
 * entry. An entry read again while its marker is there (after a crash)
 * fans out again, which changes nothing that is done already.
 *
 * Meetings in pages. A meeting whose people are many is planned like an
 * announcement's fan-out (meeting_page.h): its first commit stores the
 * record and its marker, {ver, plan: what the version does, decided once
 * (meeting_impl.h's struct meeting_version)}; then pages of its people,
 * each read with their invitation (mi:<m>) and their pending emails of
 * the meeting (cd:<c> meets md:<m>), each committed under IFMARK; then
 * what the pages gathered into mp:<m> (each person's unmet access needs,
 * their call list entry) is read back in pages and made into one notice
 * of each (the marker's "gathered" says so); the last commit removes
 * marker and mp:<m> and acknowledges the inbox entry. A meeting's marker
 * is finished, by whoever finds it, before a later version is planned.
 * A cancellation keeps its record in the marker ("rec") while everyone's
 * pending emails are withdrawn, each person's saved in mp:<m> as
 * g:<cid> (what their cancellation must follow), and stores it after
 * ("stored"). A venue whose access changed pages its access updates the
 * same way, over the invited hashes of its upcoming meetings.
 *
 * Forget. The forget commit removes what the plan knows of (the profile,
 * pending emails, memberships) and, with store_op_forget(), leaves a
 * marker naming the person's name, email and phone, and walks the first
 * page in the same step. Then store_scrub() walks every key under the
 * prefix in pages (scrub.lua and forget.lua, with the matcher match.lua;
 * retention.c calls it): any value holding them in any spelling or
 * escaping (JSON \u escapes, %XX, upper case...) is rewritten without
 * them or deleted, and their own deliveries and notice lines about them
 * go; state added later is covered without naming it here. The marker
 * goes when the walk is over; a daemon that dies mid-walk leaves it for
 * the next call.
 */
#ifndef HB_STORE_H
#define HB_STORE_H

#include <hiredis/hiredis.h>
#include <hiredis/async.h>
#include <jansson.h>

#include "util.h"

struct rconn;

/* The stream group every daemon joins on the inbox. */
#define STORE_INBOX_GROUP	"hearbackd"
/* How long a sent or dead delivery's hash is kept (seconds): re-planning
 * the same email within that time finds it and does not send it again. */
#define STORE_KEEP_SETTLED	(90LL * 86400)
/* Room for a key name built here (ids are at most 128 bytes). */
#define STORE_KEY_MAX		300

/*
 * Key names, relative to "{P}:", as they appear in a snapshot and a plan.
 */
enum store_set {
	STORE_COLLABORATORS,		/* every collaborator id */
	STORE_FORGOTTEN,		/* forgotten collaborator ids */
	STORE_SAID,			/* every said id */
	STORE_NOTICES,			/* coordinator notice delivery ids */
	STORE_GROUPS,			/* every group name ever given (a
					 * group may since have emptied) */
	STORE_GROUP,			/* a group's collaborator ids */
	STORE_COLLAB_SAID,		/* said ids attributed to a person */
	STORE_VENUE_MEETINGS,		/* meeting ids at a venue */
	STORE_SAID_OUTCOMES,		/* outcome ids answering a said item */
	STORE_COLLAB_DELIVERIES,	/* pending delivery ids of a person */
	STORE_MEETING_DELIVERIES	/* pending delivery ids of a meeting */
};

/* A set's key name into buf (id: NULL for the first five); returns buf. */
const char *store_setkey(enum store_set, const char *id, char *buf,
	    size_t len);
/* A stored record's key name ("rec:<type>:<id>") into buf; returns buf. */
const char *store_reckey(const char *type, const char *id, char *buf,
	    size_t len);
/* A fan-out's marker ("fanout:<type>:<id>") into buf; returns buf. */
const char *store_markkey(const char *type, const char *id, char *buf,
	    size_t len);
/* A meeting's invited hash ("mi:<m>") and what its paged version gathers
 * ("mp:<m>"), into buf; return buf. */
const char *store_invkey(const char *mid, char *buf, size_t len);
const char *store_partkey(const char *mid, char *buf, size_t len);

/*
 * Delivery ids say what an email is for: a kind, then ids and numbers,
 * joined by ':' ("inv:m-1:c-amara:3"). Ids may hold ':', so in each part
 * '%' and ':' are written "%25" and "%3A": two different emails never get
 * the same id, and an id whose parts hold no ':' reads as it always has
 * (so deliveries made before keep theirs). Ids and numbers only, never
 * names or addresses.
 */
/* kind, part, ..., NULL -> a new string. */
char	*store_did(const char *kind, ...) __attribute__((sentinel));
/* The id of an email about another delivery ("notice:failed:<did>"): that
 * delivery's id goes last as it is (it is unambiguous already, and the
 * rest of the id is all of it). */
char	*store_did_about(const char *kind, const char *what, const char *did);
/* The parts of an id, unescaped: ["inv", "m-1", "c-amara", "3"]. */
json_t	*store_did_parts(const char *did);

/*
 * Snapshots: fetched values merged into a JSON object by key name.
 */
/* Merge a fetched value into snap; value is a JSON text (string keys), an
 * array of members (set keys), or NULL (absent). */
int	store_snap_put_string(json_t *snap, const char *key, const char *v,
	    size_t len, struct err *e);
void	store_snap_put_set(json_t *snap, const char *key, json_t *members);
void	store_snap_put_null(json_t *snap, const char *key);
/* One person's record as page.lua gives it (text, 1: forgotten, or nil)
 * into snap; -1 (put as null, e set) for a record that is not JSON. */
int	store_snap_put_person(json_t *snap, const char *id,
	    const redisReply *v, struct err *e);
/* Merge a fetch reply for the keys in need into snap; the version it was
 * read at into version (may be NULL). A need "#card:KEY" (a set's size,
 * not its members) is merged as an integer. Returns how many stored values were
 * not JSON (put as null; e says the last), or -1 (e set) for a reply that
 * is not a fetch reply. */
int	store_snap_merge(json_t *snap, json_t *need, const redisReply *,
	    char *version, size_t vlen, struct err *e);

/*
 * Plans: op lists, applied in one atomic step by store_commit(). Each
 * function appends one op (two for store_op_scrub).
 */
/* Store a record (text: {"record":...,"meta":...}), or delete it. */
void	store_op_record(json_t *ops, const char *type, const char *id,
	    const char *text);
void	store_op_record_del(json_t *ops, const char *type, const char *id);
/* Set membership; and deleting a whole set. */
void	store_op_sadd(json_t *ops, enum store_set, const char *id,
	    const char *member);
void	store_op_srem(json_t *ops, enum store_set, const char *id,
	    const char *member);
void	store_op_set_del(json_t *ops, enum store_set, const char *id);
/* A said item waits for an outcome from at_ms; answered, it waits no more. */
void	store_op_said_open(json_t *ops, const char *sid, long long at_ms);
/* A new time for a said item still open (answered ones stay answered). */
void	store_op_said_moved(json_t *ops, const char *sid, long long at_ms);
void	store_op_said_answered(json_t *ops, const char *sid);
/* One more of a counter shown by `hearback status` ("sent:<kind>", ...). */
void	store_op_count(json_t *ops, const char *name);
/* Append ops to into, each counter's ones folded into one op (a commit
 * that settles many emails counts each kind once). */
void	store_ops_join(json_t *into, json_t *ops);
/* An audit entry: field, value, ..., NULL. Ids only, never names or
 * addresses (SPEC section 5). */
void	store_op_audit(json_t *ops, ...) __attribute__((sentinel));
/* Dead entries (SPEC section 5): a record that was not accepted (text is
 * bytes, kept as they are), or an email that failed for good or expired. */
void	store_op_dead_record(json_t *ops, const char *why, const char *at,
	    const char *text, size_t len, const char *entry, const char *type,
	    const char *id);
void	store_op_dead_delivery(json_t *ops, const char *why, const char *at,
	    const char *did, const char *kind, const char *cid,
	    const char *attempts, const char *first, const char *last,
	    const char *reply);
/* Forget: drop dead entries and coordinator notices holding any needle. */
void	store_op_scrub(json_t *ops, const char *const *needles, size_t n);
/* Forget: start the scrub of every key for the person (any may be NULL;
 * their supporter's name and address are looked for too, except in other
 * people's profiles), walking the first STORE_FORGET_BUDGET units
 * (forget.lua) in the commit itself; their preferences (pref:<cid>) go at
 * once and their answer in every ans:<meeting> as the walk meets it. Put
 * it after the forget's other ops. */
#define STORE_FORGET_BUDGET	1000
void	store_op_forget(json_t *ops, const char *cid, const char *name,
	    const char *email, const char *phone, const char *sname,
	    const char *semail);

/* One email to one person (or a coordinator). */
struct store_delivery {
	const char	*did;
	const char	*kind;
	const char	*cid;		/* collaborator, "" for a coordinator */
	const char	*mid;		/* meeting, "" for other emails */
	long long	 due_ms;
	long long	 deadline_ms;
	long long	 created_ms;
	const char	*refs;		/* record keys (store_reckey), space-
					 * separated: read at send time */
	const char	*to;		/* coordinator address, notices only */
	const char	*data;		/* JSON text for the templates */
	const char	*src;		/* the record it came from */
};

/* Create a delivery, unless one with that id exists (sent, dead or
 * pending): planning twice never sends twice. It goes on the schedule and
 * into its person's and its meeting's indexes. */
void	store_op_delivery(json_t *ops, const struct store_delivery *);
/* A fan-out's delivery (DFAN, version ver): created only if its person
 * (d->cid) is, when it is applied, a collaborator who consents; never
 * twice; one an earlier version planned and still pending becomes ver's
 * (due d->due_ms, unless leased or waiting for a retry). */
void	store_op_fan(json_t *ops, const struct store_delivery *,
	    const char *ver);
/* Drop a delivery if it is pending and not version ver's (DDELOLD). */
void	store_op_drop_stale(json_t *ops, const char *did, const char *ver);
/* Fan-out markers: set one for ver (old: a JSON text, the earlier
 * audiences); apply the plan only if the marker is still ver's (else the
 * commit replies 2 and applies nothing); remove it if it is still ver's. */
void	store_op_mark(json_t *ops, const char *type, const char *id,
	    const char *ver, const char *old);
void	store_op_ifmark(json_t *ops, const char *type, const char *id,
	    const char *ver);
void	store_op_unmark(json_t *ops, const char *type, const char *id,
	    const char *ver);
/* A meeting's marker: set one for ver with the version's plan (a JSON
 * text); set one more field of it (e.g. "gathered"). */
void	store_op_mark_plan(json_t *ops, const char *type, const char *id,
	    const char *ver, const char *plan);
void	store_op_mark_set(json_t *ops, const char *type, const char *id,
	    const char *field, const char *value);
/* A field of a marker as fetched (its flat array), or NULL. */
const char *store_mark_field(json_t *v, const char *field);
/* A meeting's invited hash: these people invited by version ver (an array
 * of ids); one taken off; all of it gone. */
void	store_op_invite(json_t *ops, const char *mid, json_t *cids,
	    const char *ver);
void	store_op_uninvite(json_t *ops, const char *mid, const char *cid);
void	store_op_invited_del(json_t *ops, const char *mid);
/* What a paged meeting gathers (mp:<m>): a field set; a person's fields
 * ("a:<cid>", "c:0:<cid>", "c:1:<cid>", "g:<cid>") gone; all of it
 * gone. */
void	store_op_part_put(json_t *ops, const char *mid, const char *field,
	    const char *value);
void	store_op_part_forget(json_t *ops, const char *mid, const char *cid);
void	store_op_part_del(json_t *ops, const char *mid);
/* A marker as fetched (a hash: its flat array in a snapshot) -> a new
 * {"ver": ..., "old": [...]}, or NULL if there is none. */
json_t	*store_mark_parse(json_t *v);
/* Drop a delivery if it is still pending; every pending one in an index
 * (STORE_COLLAB_DELIVERIES or STORE_MEETING_DELIVERIES), and the index. */
void	store_op_drop(json_t *ops, const char *did);
void	store_op_drop_all(json_t *ops, enum store_set index, const char *id);
/* Settle a leased delivery: sent (or skipped); to be tried again at due_ms;
 * dead; or given back untouched (not tried). */
void	store_op_sent(json_t *ops, const char *did, const char *reply);
void	store_op_retry(json_t *ops, const char *did, long long due_ms,
	    int attempts, const char *first, const char *last,
	    const char *reply);
void	store_op_dead(json_t *ops, const char *did, const char *first,
	    const char *last, const char *attempts, const char *reply);
void	store_op_unlease(json_t *ops, const char *did, long long due_ms);
/* The deliveries a plan creates, as [{"did":..., "delivery":{field:
 * value...}}]: what a lease would hand out (for `hearback preview`). */
json_t	*store_plan_deliveries(json_t *ops);
/* Pack a JSON value as a compact string (sorted keys: stable bytes). */
char	*store_dump(json_t *v);

/*
 * Leases: what store_lease() hands out, parsed.
 * [{"did":..., "delivery":{field: value...}, "records":{key: stored record
 * or null}}], and the next due time after them (0: none).
 */
json_t	*store_lease_parse(const redisReply *, long long *next_due_ms);

/* Gauges for /metrics, STATUS= and `hearback status`. */
struct store_gauges {
	long long	 inbox_backlog;
	long long	 scheduled;
	long long	 next_due_ms;		/* 0: nothing scheduled */
	long long	 dead;
	long long	 said_open;
	long long	 said_overdue;
	json_t		*sent;			/* kind -> count */
};
/* 0, or -1 for a reply that is not a gauges reply. Free with
 * store_gauges_clear(). */
int	store_gauges_parse(const redisReply *, struct store_gauges *);
void	store_gauges_clear(struct store_gauges *);

/*
 * The daemon's calls (main thread). Each returns -1 when not connected
 * (fn is then not called); fn gets the reply, or NULL if the connection
 * went away.
 */
/* [version, value...] for the keys in need: see store_snap_merge(). */
int	store_fetch(struct rconn *, const char *prefix, json_t *need,
	    redisCallbackFn *fn, void *priv);
/* Apply ops; version "" = no check, else only if the version is still
 * that (and it moves on); entry "" = none, else those inbox entries (ids
 * separated by spaces) are acknowledged and deleted in the same step.
 * Reply 1 applied, 0 the version moved (plan again), 2 an IFMARK failed
 * (nothing applied). */
int	store_commit(struct rconn *, const char *prefix, const char *version,
	    const char *entry, json_t *ops, redisCallbackFn *fn, void *priv);
/* One page of a fan-out's audience: up to about count members of a set,
 * from cursor ("0" to begin), or the given ids; with their collaborator
 * records if records. See store_page_parse(). */
int	store_page(struct rconn *, const char *prefix, int records,
	    const char *set, const char *cursor, int count,
	    redisCallbackFn *fn, void *priv);
int	store_page_ids(struct rconn *, const char *prefix, int records,
	    json_t *ids, redisCallbackFn *fn, void *priv);
/* A page reply: the cursor to go on from into cursor ("0": the set is
 * done); the page's ids into *ids (a new array); each one's record into
 * snap as rec:collaborator:<id> (null if none), and forgotten ones added
 * to snap's "forgotten" array. Returns how many records were not JSON (e
 * says the last), or -1 (e set) for a reply that is not a page. */
int	store_page_parse(const redisReply *, char *cursor, size_t clen,
	    json_t *snap, json_t **ids, struct err *e);
/*
 * Reads of a meeting planned in pages (page.lua; mpage.c has the calls and
 * the parsers, meeting_page.h the planner).
 */
/* Like store_fetch(), but "#hlen:KEY" is a hash's size. */
int	store_mpage_fetch(struct rconn *, const char *prefix, json_t *keys,
	    redisCallbackFn *fn, void *priv);
/* A page of people: from a set ("s:KEY") or a hash's fields ("h:KEY")
 * from cursor, or the given ids (src NULL); want has letters: r their
 * records, i their field of mi:<mid>, g whether they are in one of the
 * groups, p their pending emails of the meeting, or a (instead of p)
 * their field g:<id> of mp:<mid> as the one element of that array. */
struct store_people {
	const char	*mid;
	const char	*want;
	const char	*src;
	const char	*cursor;
	int		 count;
	json_t		*groups;		/* names, may be NULL */
	json_t		*ids;			/* src NULL */
};
int	store_mpage_people(struct rconn *, const char *prefix,
	    const struct store_people *, redisCallbackFn *fn, void *priv);
/* A people page reply: the cursor; the ids (*ids, a new array); each
 * one's record into snap as store_page_parse() does; and *info (a new
 * object) id -> {"mi": their field or null, "in": true|false, "pend":
 * [did...]}. Returns how many records were not JSON, or -1 (e set). */
int	store_people_parse(const redisReply *, char *cursor, size_t clen,
	    json_t *snap, json_t **ids, json_t **info, struct err *e);
/* A page of a hash: [cursor, field, value...]. */
int	store_mpage_hscan(struct rconn *, const char *prefix, const char *key,
	    const char *cursor, int count, redisCallbackFn *fn, void *priv);
/* A hash page reply: the cursor, and *fields (a new object, field ->
 * value as a string). -1 (e set) for a reply that is not one. */
int	store_hscan_parse(const redisReply *, char *cursor, size_t clen,
	    json_t **fields, struct err *e);
/* Lease up to max due deliveries for lease_ms: see store_lease_parse().
 * summaries: a meeting's first reminder marks its answers summary due
 * (only when answers can come back: [web] or [inbound]). */
int	store_lease(struct rconn *, const char *prefix, long long now_ms,
	    long long lease_ms, int max, int summaries, redisCallbackFn *fn,
	    void *priv);
/* Make the overdue "you said" digests that are due; reply: how many. */
int	store_digest(struct rconn *, const char *prefix, long long now_ms,
	    long long due_ms, long long every_ms, const char *coordinator,
	    long long max_age_ms, redisCallbackFn *fn, void *priv);
/* Said items open since before overdue_ms count as overdue. */
int	store_gauges(struct rconn *, const char *prefix, long long overdue_ms,
	    redisCallbackFn *fn, void *priv);
/* [retention]: remove audit entries older than audit_min_ms and dead ones
 * older than dead_min_ms, at most batch of each; the reply is how many
 * went (call again while it is a full batch). */
int	store_trim(struct rconn *, const char *prefix, long long audit_min_ms,
	    long long dead_min_ms, int batch, redisCallbackFn *fn, void *priv);
/* One page (about budget elements) of forget's scrub; the reply is how
 * many people are still being forgotten (call again while not 0). */
int	store_scrub(struct rconn *, const char *prefix, int budget,
	    redisCallbackFn *fn, void *priv);
/* The inbox, as consumer group STORE_INBOX_GROUP: create the group; read
 * (block_ms < 0: this consumer's own pending entries, else new ones,
 * waiting up to block_ms); claim entries idle longer than idle_ms; list
 * pending entries (for their delivery counts); ask for the oldest entry
 * pending under any consumer (store_inbox_oldest_id() reads the reply: 1
 * and its id in buf, 0 when none is pending, -1 for a reply it cannot
 * read); acknowledge one that is gone (fn may be NULL). */
int	store_inbox_group(struct rconn *, const char *prefix,
	    redisCallbackFn *fn, void *priv);
int	store_inbox_read(struct rconn *, const char *prefix,
	    const char *consumer, int count, int block_ms, redisCallbackFn *fn,
	    void *priv);
int	store_inbox_claim(struct rconn *, const char *prefix,
	    const char *consumer, long long idle_ms, int count,
	    redisCallbackFn *fn, void *priv);
int	store_inbox_pending(struct rconn *, const char *prefix, int count,
	    redisCallbackFn *fn, void *priv);
int	store_inbox_oldest(struct rconn *, const char *prefix,
	    redisCallbackFn *fn, void *priv);
int	store_inbox_oldest_id(const redisReply *, char *buf, size_t len);
int	store_inbox_ack(struct rconn *, const char *prefix, const char *entry);

/*
 * The command's calls (a blocking context). Each returns 0, or -1 with e
 * saying what Redis said ("Redis: ..."): the command then exits 69.
 */
/* Fetch the keys in need into snap (see store_snap_merge(); values that
 * are not JSON become null); the version into version (may be NULL). */
int	store_fetch_sync(redisContext *, const char *prefix, json_t *need,
	    json_t *snap, char *version, size_t vlen, struct err *e);
/* Queue records (JSON texts) on the inbox in one step; their entry ids
 * into *ids (a new array, same order). */
int	store_enqueue_sync(redisContext *, const char *prefix, json_t *texts,
	    json_t **ids, struct err *e);
int	store_gauges_sync(redisContext *, const char *prefix,
	    long long overdue_ms, struct store_gauges *, struct err *e);
/* Said items still waiting for an outcome: *open gets said id -> when it
 * was said (ms). */
int	store_said_open_sync(redisContext *, const char *prefix, json_t **open,
	    struct err *e);
/* Dead entries, oldest first, or just the one with that id (id NULL: all):
 * *entries gets [{"id":..., "fields":{field: value...}}] (values are the
 * bytes stored, fields in their order). */
int	store_dead_entries_sync(redisContext *, const char *prefix,
	    const char *id, json_t **entries, struct err *e);
/* Retry a dead entry through the normal path, in one step: a record is
 * queued again; an email goes back on the schedule due now_ms, with the
 * same id, until deadline_ms (never after its meeting starts), and into
 * every index a pending delivery is in, so that a later change withdraws
 * it like any other. The entry leaves the dead stream. */
enum store_retried {
	STORE_RETRIED_RECORD,		/* id: the new inbox entry */
	STORE_RETRIED_DELIVERY,		/* id: the delivery */
	STORE_RETRIED_NONE,		/* no such dead entry */
	STORE_RETRIED_GONE,		/* id: the delivery, no longer stored */
	STORE_RETRIED_SENT,		/* id: the delivery, sent since */
	STORE_RETRIED_WITHDRAWN,	/* id: the delivery, whose meeting was
					 * cancelled, or its person taken
					 * off it, since */
	STORE_RETRIED_EMPTY		/* the entry holds nothing to retry */
};
struct store_retry {
	enum store_retried	 what;
	char			 id[2048];	/* a delivery id may be long */
};
int	store_dead_retry_sync(redisContext *, const char *prefix,
	    const char *entry, long long now_ms, long long deadline_ms,
	    struct store_retry *, struct err *e);
/* Drop a dead entry: 1 dropped, 0 there was none, -1 error. */
int	store_dead_drop_sync(redisContext *, const char *prefix, const char *id,
	    struct err *e);

/*
 * The scripts as calls: what the operations above send (tests run them
 * directly). store_send takes a; store_call_sync frees it and returns NULL
 * with e set ("Redis: ...") on a lost connection or an error reply.
 */
struct store_argv {
	int		 argc;
	int		 cap;		/* room in argv and lens */
	char		**argv;
	size_t		*lens;
	const char	*script;	/* the text, for the EVAL fallback */
};

void	store_argv_free(struct store_argv *);
void	store_fetch_argv(const char *prefix, json_t *keys, struct store_argv *);
void	store_commit_argv(const char *prefix, const char *version,
	    const char *entry, json_t *ops, struct store_argv *);
void	store_lease_argv(const char *prefix, long long now_ms,
	    long long lease_ms, int max, int summaries, struct store_argv *);
void	store_digest_argv(const char *prefix, long long now_ms, long long due_ms,
	    long long every_ms, const char *coordinator, long long max_age_ms,
	    struct store_argv *);
void	store_gauges_argv(const char *prefix, long long overdue_ms,
	    struct store_argv *);
void	store_trim_argv(const char *prefix, long long audit_min_ms,
	    long long dead_min_ms, int batch, struct store_argv *);
void	store_scrub_argv(const char *prefix, int budget,
	    struct store_argv *);
void	store_enqueue_argv(const char *prefix, json_t *texts,
	    struct store_argv *);
void	store_page_argv(const char *prefix, int records, const char *set,
	    const char *cursor, int count, struct store_argv *);
void	store_page_ids_argv(const char *prefix, int records, json_t *ids,
	    struct store_argv *);
void	store_mpage_fetch_argv(const char *prefix, json_t *keys,
	    struct store_argv *);
void	store_mpage_people_argv(const char *prefix,
	    const struct store_people *, struct store_argv *);
void	store_mpage_hscan_argv(const char *prefix, const char *key,
	    const char *cursor, int count, struct store_argv *);
void	store_retry_argv(const char *prefix, const char *entry,
	    long long now_ms, long long deadline_ms, struct store_argv *);
int	store_send(struct rconn *, struct store_argv *a, redisCallbackFn *fn,
	    void *priv);
redisReply *store_call_sync(redisContext *, struct store_argv *a,
	    struct err *e);

/*
 * Reads for the command's `list`, `show` and `scheduled` (read.c): SCAN
 * and plain reads, never a write. Each returns 0, or -1 with e saying
 * what Redis said.
 */
/* The ids of the stored records of a type, sorted. */
int	store_record_ids_sync(redisContext *, const char *prefix,
	    const char *type, json_t **ids, struct err *e);
/* Groups with members: {name: how many}. */
int	store_groups_sync(redisContext *, const char *prefix, json_t **groups,
	    struct err *e);
/* Deliveries on the schedule (mid non-NULL: that meeting's), by due time
 * (a meeting's by id): [{"did", "kind", "cid", "mid", "state", "due",
 * "attempts", "to": strings, as the scripts read them (lib.lua), "at_ms":
 * when the schedule next looks at it}]. */
int	store_schedule_sync(redisContext *, const char *prefix,
	    const char *mid, json_t **out, struct err *e);

#endif
