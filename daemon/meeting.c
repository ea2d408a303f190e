/*
 * meeting.c: the planner for meetings and venues (issue: meetings). Pure,
 * like plan.c, whose helpers it uses: a checked record and a snapshot in,
 * ops out; any thread.
 *
 * A stored meeting carries meta: seq (the calendar SEQUENCE, raised whenever
 * people are sent a calendar change: time, place, online details, a
 * cancellation, or someone removed), invited (who holds an invitation now)
 * and start (epoch seconds, for "upcoming" tests by the venue planner).
 *
 * Delivery ids say what an email is for, so re-planning never sends twice
 * (store_did joins the parts, escaping any ':' in them):
 *   inv:<m>:<c>:<seq>          invitation (calendar REQUEST)
 *   upd:<m>:<c>:<seq>          update saying what changed (REQUEST)
 *   can:<m>:<c>:<seq>          cancellation, or "you are no longer on the
 *                              list" (CANCEL)
 *   rem:<m>:<c>:<seq>:<lead>   reminder, lead in seconds
 *   vup:<v>:<m>:<c>:<hash>     venue access update
 *   notice:short:<m>:<start>, notice:access:<m>:<hash>   to the coordinator
 *   sinv, supd, scan, srem     the same emails, a copy for the person's
 *                              supporter (same parts as inv, upd...)
 *   ainv, aupd, acan, arem     the same emails, to the coordinator, for a
 *                              person with "communication" needs: what
 *                              to arrange, with the email's text
 *   call:<m>:<seq>:<hash>      the call list: to the coordinator, the
 *                              people of this change who have no email
 *
 * A person with no email is never emailed: what they would have got from
 * one change (an invitation, an update, a cancellation) is a line of that
 * change's one call list. Reminders are not on a call list.
 *
 * An update or a cancellation names the person's pending emails of the
 * meeting it must follow (meeting_after): one a worker has already taken
 * may carry the old facts, and the new email waits for it to settle.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "clock.h"
#include "duration.h"
#include "plan.h"
#include "record.h"
#include "store.h"

#define MEETING_MAX_LEADS	16

static const char *
meeting_str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* FNV-1a of a JSON value's stable text: short ids for content. */
static void
meeting_hash(json_t *v, char *buf, size_t len)
{
	char		*s = store_dump(v);
	unsigned long long h = 1469598103934665603ULL;
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p; p++) {
		h ^= *p;
		h *= 1099511628211ULL;
	}
	free(s);
	snprintf(buf, len, "%012llx", h & 0xffffffffffffULL);
}

/* Everyone the meeting invites, before consent: invitees + group members. */
static json_t *
meeting_ids(json_t *m, json_t *snap)
{
	json_t	*ids = json_array(), *v;
	size_t	 i;

	json_array_foreach(json_object_get(m, "invitees"), i, v)
		json_array_append(ids, v);
	json_array_foreach(json_object_get(m, "groups"), i, v)
		plan_add_group(snap, ids, json_string_value(v));
	return ids;
}

void
meeting_needs(const struct record *r, json_t *snap, json_t *need)
{
	json_t		*ids, *v, *old;
	size_t		 i;
	const char	*ov;

	plan_need_set(snap, need, STORE_MEETING_DELIVERIES, r->id);
	ids = meeting_ids(r->json, snap);
	json_array_foreach(ids, i, v)
		plan_need_rec(snap, need, "collaborator", json_string_value(v));
	json_decref(ids);
	/* The old venue, to say what changed. */
	if ((old = plan_snaprec(snap, "meeting", r->id)) != NULL &&
	    (ov = meeting_str(old, "venue")) != NULL)
		plan_need_rec(snap, need, "venue", ov);
	/* Who holds an invitation now: told by email, by a call or through
	 * their supporter if it is cancelled or they are taken off. */
	if (old != NULL) {
		char	key[STORE_KEY_MAX];

		json_array_foreach(json_object_get(json_object_get(
		    json_object_get(snap, store_reckey("meeting", r->id, key,
		    sizeof key)), "meta"), "invited"), i, v)
			plan_need_rec(snap, need, "collaborator",
			    json_string_value(v));
	}
}

/* An array of ids as a set (id -> true): membership by lookup. */
static json_t *
meeting_set(json_t *arr)
{
	json_t	*set = json_object(), *v;
	size_t	 i;

	json_array_foreach(arr, i, v)
		json_object_set_new(set, json_string_value(v), json_true());
	return set;
}

static int
meeting_contains(json_t *set, const char *s)
{
	return json_object_get(set, s) != NULL;
}

/* Lead times for one person: theirs, else the meeting's, else config's. */
static int
meeting_leads(json_t *c, json_t *m, const struct config *cf, long long *out)
{
	json_t		*l = json_object_get(c, "reminders"), *v;
	size_t		 i;
	int		 n = 0;
	struct err	 e;

	if (l == NULL)
		l = json_object_get(m, "reminders");
	if (l == NULL) {
		memcpy(out, cf->reminders, sizeof cf->reminders[0] *
		    cf->nreminders);
		return cf->nreminders;
	}
	json_array_foreach(l, i, v)
		if (n < MEETING_MAX_LEADS &&
		    duration_parse(json_string_value(v), &out[n], &e) == 0)
			n++;
	return n;
}

static char *
meeting_refs(const char *mid, const char *cid, const char *vid)
{
	struct buf	refs;

	buf_init(&refs);
	plan_ref(&refs, "meeting", mid);
	plan_ref(&refs, "collaborator", cid);
	if (vid != NULL)
		plan_ref(&refs, "venue", vid);
	return buf_take(&refs);
}

struct meeting_plan {
	const struct record	*r;
	json_t			*snap;
	const struct plan_ctx	*pc;
	json_t			*ops;
	const char		*mid;
	const char		*vid;
	long long		 start;		/* epoch seconds */
	long long		 end;
	int			 seq;
	json_t			*pending;	/* see meeting_pending() */
	json_t			*calls;		/* this change's call list */
};

static json_t *
meeting_person(struct meeting_plan *p, const char *cid)
{
	return plan_snaprec(p->snap, "collaborator", cid);
}

/* Has the person an email address? Else they are phoned. Someone not
 * in the snapshot (forgotten since) is left to the sender, which skips
 * people it no longer knows. */
static int
meeting_emailed(struct meeting_plan *p, const char *cid)
{
	json_t	*c = meeting_person(p, cid);

	return c == NULL || meeting_str(c, "email") != NULL;
}

static int
meeting_supported(struct meeting_plan *p, const char *cid)
{
	return json_object_get(meeting_person(p, cid), "supporter") != NULL;
}

/* Needs an email alone does not meet: the coordinator gets a copy of
 * each meeting email to them, to arrange it (emailed people only: the
 * call list already names them for the rest). */
static int
meeting_arranged(struct meeting_plan *p, const char *cid)
{
	json_t	*c = meeting_person(p, cid);

	return c != NULL && meeting_str(c, "email") != NULL &&
	    json_array_size(json_object_get(c, "communication")) > 0;
}

static json_t	*meeting_pending(struct meeting_plan *);

/*
 * What a new update or cancellation to a person must wait for: their
 * pending emails of this meeting that a worker may have taken already, in
 * the same stream (the person's own, or the same copy: which is 's', 'a'
 * or 0), as commit.lua's DNEW "after" field, "F:did ..." (NULL: none).
 *
 * The worker renders an email from the records it reads when it takes it
 * (lease.lua). So an invitation still waiting when the meeting changes is
 * sent with the change in it; one already taken may go out with the old
 * facts. Only the commit knows which (the planner's snapshot does not say
 * what is leased), so the planner names the candidates and commit.lua
 * decides, atomically with the lease:
 *   - a guard in flight (leased): the new email is held until it settles,
 *     so it arrives after it (a cancellation after the invitation it
 *     cancels; an update after the email whose facts it corrects);
 *   - F=1 (an invitation, for an update): if it is waiting, or it is tried
 *     again (a retry, a lease given back or run out: taken again, so
 *     rendered again, with the change and the new SEQUENCE), no update is
 *     sent: that invitation carries the change, and an update as well
 *     would tell it twice. The update goes only if the invitation was
 *     sent by the lease that was in flight when the change was planned
 *     (lease.lua compares the lease counts).
 *   - F=0 (an earlier update, a reminder; anything, for a cancellation):
 *     order only; the new email goes once the guard settles however it
 *     settles (an update's changes are fixed when it is planned, so a
 *     retried one does not carry the newer change).
 * The invitation comes first: it decides whether an update goes at all.
 */
static char *
meeting_after(struct meeting_plan *p, const char *cid, char which,
    int update)
{
	json_t		*l, *v;
	struct buf	 b;
	const char	*kind, *did;
	size_t		 i;
	int		 pass, inv;

	l = json_object_get(json_object_get(meeting_pending(p), "by"), cid);
	buf_init(&b);
	for (pass = 0; pass < 2; pass++)
		json_array_foreach(l, i, v) {
			kind = json_string_value(json_array_get(v, 0));
			did = json_string_value(json_array_get(v, 1));
			inv = strcmp(kind, "inv") == 0;
			if (inv != (pass == 0) || (!inv &&
			    strcmp(kind, "upd") != 0 && strcmp(kind, "rem") != 0))
				continue;
			/* The same stream: "inv:..." for the person's
			 * own, "sinv:..." for their supporter's copy. */
			if (which != 0 && *did++ != which)
				continue;
			if (strncmp(did, kind, 3) != 0 || did[3] != ':')
				continue;
			buf_printf(&b, "%s%d:%s", b.len ? " " : "",
			    update && inv, json_string_value(json_array_get(v,
			    1)));
		}
	if (b.len == 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_take(&b);
}

/* The DNEW just planned (the last op) waits for guards (commit.lua). */
static void
meeting_after_op(struct meeting_plan *p, const char *prefix, const char *cid,
    char which)
{
	json_t	*op = json_array_get(p->ops, json_array_size(p->ops) - 1);
	char	*after;
	int	 upd = strcmp(prefix, "upd") == 0;

	if (!upd && strcmp(prefix, "can") != 0)
		return;
	if (op == NULL || strcmp(json_string_value(json_array_get(op, 0)),
	    "DNEW") != 0)
		return;
	if ((after = meeting_after(p, cid, which, upd)) == NULL)
		return;
	json_array_append_new(op, json_string("after"));
	json_array_append_new(op, json_string(after));
	free(after);
}

/* A copy of one email: the supporter's ("s") or the coordinator's ("a"). */
static void
meeting_copy(struct meeting_plan *p, char which, const char *prefix,
    const char *kind, const char *cid, const char *tail, json_t *data,
    long long due_ms, long long deadline_ms, const char *refs)
{
	char	 sp[16], seq[16], *did;
	json_t	*copy;

	snprintf(sp, sizeof sp, "%c%s", which, prefix);
	snprintf(seq, sizeof seq, "%d", p->seq);
	did = store_did(sp, p->mid, cid, seq, tail, NULL);
	copy = data ? json_copy(data) : json_object();
	json_object_set_new(copy, which == 's' ? "supporter" : "arrange",
	    json_true());
	plan_delivery(p->ops, p->pc, did, kind, cid, p->mid, due_ms,
	    deadline_ms, refs, NULL, copy, p->mid);
	meeting_after_op(p, prefix, cid, which);
	json_decref(copy);
	free(did);
}

static long long
meeting_deadline(struct meeting_plan *p)
{
	long long	d = p->pc->now_ms + p->pc->cf->max_age * 1000;

	return d < p->start * 1000 ? d : p->start * 1000;
}

static void
meeting_email(struct meeting_plan *p, const char *prefix, const char *kind,
    const char *cid, json_t *data)
{
	char	 seq[16], *did, *refs;
	json_t	*call;

	snprintf(seq, sizeof seq, "%d", p->seq);
	refs = meeting_refs(p->mid, cid, p->vid);
	if (meeting_emailed(p, cid)) {
		did = store_did(prefix, p->mid, cid, seq, NULL);
		plan_delivery(p->ops, p->pc, did, kind, cid, p->mid,
		    p->pc->now_ms, meeting_deadline(p), refs, NULL, data,
		    p->mid);
		meeting_after_op(p, prefix, cid, 0);
		free(did);
	} else {
		call = json_pack("{s:s, s:s}", "cid", cid, "kind", kind);
		if (data != NULL)
			json_object_update(call, data);
		json_array_append_new(p->calls, call);
	}
	/* A copy for their supporter, in their format; one for the
	 * coordinator to arrange what the email alone does not meet. */
	if (meeting_supported(p, cid))
		meeting_copy(p, 's', prefix, kind, cid, NULL, data,
		    p->pc->now_ms, meeting_deadline(p), refs);
	if (meeting_arranged(p, cid))
		meeting_copy(p, 'a', prefix, kind, cid, NULL, data,
		    p->pc->now_ms, meeting_deadline(p), refs);
	free(refs);
}

/*
 * The call list of this change: one email to the coordinator naming
 * everyone with no email address it concerns (their records are read when
 * it is sent, so it holds ids only).
 */
static void
meeting_calllist(struct meeting_plan *p)
{
	const char	*coord = meeting_str(p->r->json, "coordinator");
	char		 seq[16], h[32], *did;
	struct buf	 refs;
	json_t		*v, *data;
	size_t		 i;

	if (json_array_size(p->calls) == 0)
		return;
	if (coord == NULL)
		coord = p->pc->cf->coordinator;
	buf_init(&refs);
	plan_ref(&refs, "meeting", p->mid);
	if (p->vid != NULL)
		plan_ref(&refs, "venue", p->vid);
	json_array_foreach(p->calls, i, v)
		plan_ref(&refs, "collaborator", meeting_str(v, "cid"));
	snprintf(seq, sizeof seq, "%d", p->seq);
	data = json_pack("{s:O}", "calls", p->calls);
	meeting_hash(data, h, sizeof h);
	did = store_did("call", p->mid, seq, h, NULL);
	plan_delivery(p->ops, p->pc, did, "calllist", "", p->mid,
	    p->pc->now_ms, meeting_deadline(p), refs.s, coord, data, p->mid);
	free(did);
	json_decref(data);
	buf_free(&refs);
}

static void
meeting_reminders(struct meeting_plan *p, const char *cid)
{
	json_t		*c = plan_snaprec(p->snap, "collaborator", cid);
	long long	 leads[MEETING_MAX_LEADS], due;
	int		 n, i;
	char		 seq[16], lead[32], *did, *refs;
	json_t		*data;
	const struct config *cf = p->pc->cf;

	n = meeting_leads(c, p->r->json, cf, leads);
	refs = meeting_refs(p->mid, cid, p->vid);
	for (i = 0; i < n; i++) {
		due = clock_reminder_due(p->start, leads[i], p->r->tz,
		    cf->quiet_start, cf->quiet_end);
		if (due < 0 || due * 1000 <= p->pc->now_ms)
			continue;	/* too late for this one */
		snprintf(seq, sizeof seq, "%d", p->seq);
		snprintf(lead, sizeof lead, "%lld", leads[i]);
		data = json_pack("{s:I}", "lead", (json_int_t)leads[i]);
		if (meeting_emailed(p, cid)) {
			did = store_did("rem", p->mid, cid, seq, lead, NULL);
			plan_delivery(p->ops, p->pc, did, "reminder", cid,
			    p->mid, due * 1000, p->start * 1000, refs, NULL,
			    data, p->mid);
			free(did);
		}
		if (meeting_supported(p, cid))
			meeting_copy(p, 's', "rem", "reminder", cid, lead, data,
			    due * 1000, p->start * 1000, refs);
		if (meeting_arranged(p, cid))
			meeting_copy(p, 'a', "rem", "reminder", cid, lead, data,
			    due * 1000, p->start * 1000, refs);
		json_decref(data);
	}
	free(refs);
}

/*
 * A pending delivery of this meeting (a member of md:<m>), from its id:
 * its kind and the person it is for (layouts at the top). An id made
 * before ids were escaped, with ':' inside an id, has more parts than its
 * kind has: it is matched the old way, by text (legacy).
 */
struct meeting_did {
	json_t		*parts;
	const char	*kind;
	const char	*cid;		/* NULL: not one of ours */
	int		 legacy;
};

static void
meeting_did(struct meeting_plan *p, const char *did, struct meeting_did *d)
{
	size_t		 n, want = 0, at = 0;
	const char	*m;

	d->parts = store_did_parts(did);
	n = json_array_size(d->parts);
	d->kind = json_string_value(json_array_get(d->parts, 0));
	d->cid = NULL;
	/* A copy goes with the person's email of its kind. */
	if ((d->kind[0] == 's' || d->kind[0] == 'a') && (strcmp(d->kind + 1, "inv") == 0 ||
	    strcmp(d->kind + 1, "upd") == 0 || strcmp(d->kind + 1, "can") == 0 ||
	    strcmp(d->kind + 1, "rem") == 0))
		d->kind++;
	if (strcmp(d->kind, "inv") == 0 || strcmp(d->kind, "upd") == 0 ||
	    strcmp(d->kind, "can") == 0)
		want = 4, at = 1;
	else if (strcmp(d->kind, "rem") == 0)
		want = 5, at = 1;
	else if (strcmp(d->kind, "vup") == 0)
		want = 5, at = 2;
	d->legacy = want > 0 && n > want;
	m = json_string_value(json_array_get(d->parts, at));
	if (want > 0 && n == want && strcmp(m, p->mid) == 0)
		d->cid = json_string_value(json_array_get(d->parts, at + 1));
}

/*
 * The meeting's pending deliveries (md:<m> in the snapshot), indexed once
 * so that asking about one person costs a lookup, not a pass over the set:
 * {"by": {cid: [[kind, did], ...]}, "legacy": [did, ...]}. Legacy ids are
 * matched the old way, by text (they are few, and only from before ids
 * were escaped).
 */
static json_t *
meeting_pending(struct meeting_plan *p)
{
	struct meeting_did	 d;
	json_t			*by, *legacy, *v, *l;
	size_t			 i;

	if (p->pending != NULL)
		return p->pending;
	by = json_object();
	legacy = json_array();
	json_array_foreach(plan_set(p->snap, STORE_MEETING_DELIVERIES, p->mid),
	    i, v) {
		meeting_did(p, json_string_value(v), &d);
		if (d.legacy)
			json_array_append(legacy, v);
		else {
			/* Not one of ours ("" is no one's id): dropped only
			 * with all of its kind. */
			if (d.cid == NULL)
				d.cid = "";
			if ((l = json_object_get(by, d.cid)) == NULL) {
				l = json_array();
				json_object_set_new(by, d.cid, l);
			}
			json_array_append_new(l, json_pack("[s, O]", d.kind,
			    v));
		}
		json_decref(d.parts);
	}
	p->pending = json_pack("{s:o, s:o}", "by", by, "legacy", legacy);
	return p->pending;
}

/* Drop a person's pending deliveries of one kind (kind NULL: all) from
 * their list in the index. */
static void
meeting_drop_list(struct meeting_plan *p, json_t *l, const char *kind)
{
	json_t	*v;
	size_t	 i;

	json_array_foreach(l, i, v)
		if (kind == NULL || strcmp(json_string_value(json_array_get(v,
		    0)), kind) == 0)
			store_op_drop(p->ops, json_string_value(
			    json_array_get(v, 1)));
}

/* Drop this meeting's pending deliveries, for one person (cid) or all of
 * one kind ("rem"), from the md:<m> set in the snapshot. */
static void
meeting_drop(struct meeting_plan *p, const char *kind, const char *cid)
{
	json_t		*pend = meeting_pending(p), *by, *v;
	char		 pat[300], pre[16];
	const char	*c;
	size_t		 i;

	by = json_object_get(pend, "by");
	if (cid != NULL)
		meeting_drop_list(p, json_object_get(by, cid), kind);
	else
		json_object_foreach(by, c, v)
			meeting_drop_list(p, v, kind);
	snprintf(pat, sizeof pat, ":%s:%s:", p->mid, cid ? cid : "");
	snprintf(pre, sizeof pre, "%s:", kind ? kind : "");
	json_array_foreach(json_object_get(pend, "legacy"), i, v) {
		const char *did = json_string_value(v);

		if ((kind == NULL || strncmp(did, pre, strlen(pre)) == 0) &&
		    (cid == NULL || strstr(did, pat) != NULL))
			store_op_drop(p->ops, did);
	}
}

/* A pending delivery of this kind for cid with an id made before ids were
 * escaped (meeting_after does not name those: matched by text, as ever). */
static int
meeting_has_legacy(struct meeting_plan *p, const char *kind,
    const char *cid)
{
	json_t	*pend = meeting_pending(p), *v;
	char	 pat[300];
	size_t	 i;

	snprintf(pat, sizeof pat, "%s:%s:%s:", kind, p->mid, cid);
	json_array_foreach(json_object_get(pend, "legacy"), i, v)
		if (strncmp(json_string_value(v), pat, strlen(pat)) == 0)
			return 1;
	return 0;
}

static char *
meeting_place(json_t *snap, json_t *m)
{
	const char	*vid = meeting_str(m, "venue");
	json_t		*v = vid ? plan_snaprec(snap, "venue", vid) : NULL;

	if (v == NULL)
		return xstrdup(json_object_get(m, "online") ? "Online only" :
		    "No place given");
	return xasprintf("%s, %s", meeting_str(v, "name"),
	    meeting_str(v, "address"));
}

static char *
meeting_online(json_t *m)
{
	json_t		*o = json_object_get(m, "online");
	const char	*d;

	if (o == NULL)
		return xstrdup("None");
	d = meeting_str(o, "dial_in");
	return xasprintf("%s%s%s%s", meeting_str(o, "url"),
	    json_is_true(json_object_get(o, "captions")) ? ", with captions" :
	    "", d ? ", dial in on " : "", d ? d : "");
}

/* "field" names the change for the templates; "what" is for people who
 * read the raw record (coordinators' tools). */
static void
meeting_change(json_t *changes, const char *field, const char *what,
    char *was, char *now)
{
	json_array_append_new(changes, json_pack("{s:s, s:s, s:s, s:s}",
	    "field", field, "what", what, "was", was, "now", now));
	free(was);
	free(now);
}

/* A text field of the meeting that people act on: "" when absent. */
static void
meeting_text_change(json_t *changes, json_t *old, json_t *m,
    const char *field, const char *what)
{
	json_t	*a = json_object_get(old, field), *b = json_object_get(m, field);
	char	*sa, *sb;

	if (json_equal(a ? a : json_null(), b ? b : json_null()))
		return;
	sa = json_is_string(a) ? xstrdup(json_string_value(a)) : a ?
	    json_dumps(a, JSON_COMPACT | JSON_SORT_KEYS) : xstrdup("");
	sb = json_is_string(b) ? xstrdup(json_string_value(b)) : b ?
	    json_dumps(b, JSON_COMPACT | JSON_SORT_KEYS) : xstrdup("");
	meeting_change(changes, field, what, sa, sb);
}

/*
 * The meeting's own access arrangements changed (an interpreter booked):
 * one change with field "access" when a word reads differently over the
 * venue's words, "words" listing each such word as data ({word, was, now},
 * states or null; the templates word them). Arrangements that change
 * nothing people read are not an update.
 */
static void
meeting_access_changes(struct meeting_plan *p, json_t *old, json_t *changes)
{
	json_t	*oa = json_object_get(old, "access"), *base, *a, *b, *words;
	json_t	*na = json_object_get(p->r->json, "access"), *sa, *sb;
	char	*da, *db;
	int	 k;

	if (json_equal(oa ? oa : json_null(), na ? na : json_null()))
		return;
	base = p->vid ? json_object_get(plan_snaprec(p->snap, "venue", p->vid),
	    "access") : NULL;
	a = access_merged(base, oa);
	b = access_merged(base, na);
	words = json_array();
	for (k = 0; k < record_naccess_words; k++) {
		sa = access_state(a, record_access_words[k]);
		sb = access_state(b, record_access_words[k]);
		if (!json_equal(sa ? sa : json_null(), sb ? sb : json_null()))
			json_array_append_new(words, json_pack("{s:s, s:o, "
			    "s:o, s:b, s:b}", "word", record_access_words[k],
			    "was", sa ? sa : json_null(), "now", sb ? sb :
			    json_null(), "was_arranged", json_object_get(oa,
			    record_access_words[k]) != NULL, "now_arranged",
			    json_object_get(na, record_access_words[k]) !=
			    NULL));
		else {
			json_decref(sa);
			json_decref(sb);
		}
	}
	json_decref(a);
	json_decref(b);
	if (json_array_size(words) == 0) {
		json_decref(words);
		return;
	}
	da = oa ? json_dumps(oa, JSON_COMPACT | JSON_SORT_KEYS) : xstrdup("");
	db = na ? json_dumps(na, JSON_COMPACT | JSON_SORT_KEYS) : xstrdup("");
	meeting_change(changes, "access", "Access arranged for this meeting",
	    da, db);
	json_object_set_new(json_array_get(changes,
	    json_array_size(changes) - 1), "words", words);
}

/* Coordinator notices: short notice, and access needs not met. */
static void
meeting_notices(struct meeting_plan *p, json_t *people, int timing_new)
{
	const struct config	*cf = p->pc->cf;
	const char		*coord = meeting_str(p->r->json, "coordinator");
	const char		*org;
	json_t			*lines, *v, *n, *venue = NULL, *access;
	char			 h[32], when[128], *did, *line, *who;
	size_t			 i, j;

	if (coord == NULL)
		coord = cf->coordinator;
	org = meeting_str(json_object_get(p->r->json, "organiser"), "email");
	if (timing_new && (p->start * 1000 - p->pc->now_ms) <
	    cf->min_notice * 1000) {
		char d[32];

		duration_words(cf->min_notice, d, sizeof d);
		clock_format_human(p->start, p->r->tz, when, sizeof when);
		lines = json_array();
		line = xasprintf("Meeting %s (\"%s\") starts %s: less than the "
		    "%s notice people need to arrange travel, support and "
		    "adjustments.", p->mid, meeting_str(p->r->json, "title"),
		    when, d);
		json_array_append_new(lines, json_string(line));
		free(line);
		json_array_append_new(lines, json_string("Invitations have "
		    "gone out. Please check with each person that they can "
		    "still come, and whether they need anything arranged."));
		snprintf(h, sizeof h, "%lld", p->start);
		did = store_did("notice", "short", p->mid, h, NULL);
		plan_notice_also(p->ops, p->pc, did, coord, org, "Short notice "
		    "for a meeting", lines, p->mid);
		free(did);
		json_decref(lines);
	}
	if (p->vid == NULL ||
	    (venue = plan_snaprec(p->snap, "venue", p->vid)) == NULL)
		return;
	/* The meeting's own arrangements over the venue's, as they stand
	 * today. */
	{
		json_t	*m;
		char	 today[64];

		clock_format_iso_local(p->pc->now_ms / 1000, p->r->tz, today,
		    sizeof today);
		today[10] = '\0';
		m = access_merged(json_object_get(venue, "access"),
		    json_object_get(p->r->json, "access"));
		access = access_settled(m, today);
		json_decref(m);
	}
	lines = json_array();
	json_array_foreach(people, i, v) {
		json_t *c = plan_snaprec(p->snap, "collaborator",
		    json_string_value(v));

		json_array_foreach(json_object_get(c, "access_needs"), j, n) {
			const char *w = json_string_value(n);
			enum access_status st = access_status(access, w, NULL);

			if (st == ACCESS_YES)
				continue;
			who = plan_person_words(c, json_string_value(v));
			line = xasprintf("%s needs %s (%s): the venue %s %s.",
			    who, access_label(w), w, p->vid, st == ACCESS_NO ?
			    "says it is not available" : "has not confirmed it");
			json_array_append_new(lines, json_string(line));
			free(line);
			free(who);
		}
	}
	if (json_array_size(lines) > 0) {
		json_array_append_new(lines, json_string("Please arrange it, "
		    "or talk with them about what would work, and update the "
		    "venue record when it is confirmed."));
		meeting_hash(lines, h, sizeof h);
		did = store_did("notice", "access", p->mid, h, NULL);
		line = xasprintf("Access needs not met for meeting %s", p->mid);
		plan_notice_also(p->ops, p->pc, did, coord, org, line, lines,
		    p->mid);
		free(line);
		free(did);
	}
	json_decref(lines);
	json_decref(access);
}

int
meeting_plan(const struct record *r, json_t *snap, const struct plan_ctx *pc,
    json_t *ops, struct err *e)
{
	struct meeting_plan	 p;
	json_t			*ids, *people, *oldw, *old = NULL, *meta;
	json_t			*oldinv = NULL, *newinv, *changes, *v, *data;
	const char		*ov = NULL;
	char			 key[STORE_KEY_MAX];
	size_t			 i;
	int			 cancelled, old_cancelled = 0, timing_new = 0;
	int			 time_changed = 0, bump = 0, held;
	long long		 ostart = 0, oend = 0;

	memset(&p, 0, sizeof p);
	p.r = r;
	p.snap = snap;
	p.pc = pc;
	p.ops = ops;
	p.mid = r->id;
	p.vid = meeting_str(r->json, "venue");
	if (clock_parse_local(meeting_str(r->json, "start"), r->tz, &p.start,
	    e) == -1) {
		err_prefix(e, "start");
		return -1;
	}
	if (clock_parse_local(meeting_str(r->json, "end"), r->tz, &p.end,
	    e) == -1) {
		err_prefix(e, "end");
		return -1;
	}
	cancelled = strcmp(meeting_str(r->json, "status") ?
	    meeting_str(r->json, "status") : "scheduled", "cancelled") == 0;
	held = strcmp(meeting_str(r->json, "status") ?
	    meeting_str(r->json, "status") : "scheduled", "held") == 0;
	ids = meeting_ids(r->json, snap);
	people = plan_people(snap, ids);
	json_decref(ids);
	p.calls = json_array();

	oldw = json_object_get(snap, store_reckey("meeting", r->id, key,
	    sizeof key));
	if (json_is_object(oldw)) {
		old = json_object_get(oldw, "record");
		meta = json_object_get(oldw, "meta");
		p.seq = (int)json_integer_value(json_object_get(meta, "seq"));
		oldinv = json_object_get(meta, "invited");
		old_cancelled = meeting_str(old, "status") &&
		    strcmp(meeting_str(old, "status"), "cancelled") == 0;
		ov = meeting_str(old, "venue");
		const char *otz = meeting_str(old, "timezone") ?
		    meeting_str(old, "timezone") : pc->cf->timezone;
		if (clock_parse_local(meeting_str(old, "start"), otz, &ostart,
		    NULL) == -1 || clock_parse_local(meeting_str(old, "end"),
		    otz, &oend, NULL) == -1)
			ostart = oend = 0;
	}
	if (oldinv == NULL)
		oldinv = json_array();
	else
		json_incref(oldinv);

	newinv = json_array();
	if (held) {
		/* It happened: recorded so said items can name it. Nothing
		 * goes to anyone, coordinators included; nothing pending
		 * stays. */
		store_op_drop_all(ops, STORE_MEETING_DELIVERIES, p.mid);
		json_array_extend(newinv, oldinv);
	} else if (p.start * 1000 <= pc->now_ms) {
		/* Already started or over: store it, send nothing. */
		if (!cancelled)
			json_array_extend(newinv, oldinv);
	} else if (old == NULL || old_cancelled) {
		if (old != NULL) {
			/* Back on: everyone is invited again. */
			p.seq++;
			store_op_drop_all(ops, STORE_MEETING_DELIVERIES,
			    p.mid);
		}
		if (!cancelled) {
			timing_new = 1;
			json_array_extend(newinv, people);
			json_array_foreach(people, i, v) {
				meeting_email(&p, "inv", "invitation",
				    json_string_value(v), NULL);
				meeting_reminders(&p, json_string_value(v));
			}
		}
	} else if (cancelled) {
		p.seq++;
		store_op_drop_all(ops, STORE_MEETING_DELIVERIES, p.mid);
		json_array_foreach(oldinv, i, v) {
			data = json_pack("{s:b}", "removed", 0);
			meeting_email(&p, "can", "cancellation",
			    json_string_value(v), data);
			json_decref(data);
		}
	} else {
		json_t	*peopleset = meeting_set(people);
		json_t	*oldset = meeting_set(oldinv);

		changes = json_array();
		time_changed = ostart != p.start || oend != p.end;
		if (time_changed) {
			char a[160], b[160];

			clock_format_range(ostart, oend, meeting_str(old,
			    "timezone") ? meeting_str(old, "timezone") :
			    pc->cf->timezone, a, sizeof a);
			clock_format_range(p.start, p.end, r->tz, b, sizeof b);
			meeting_change(changes, "time", "Date and time", xstrdup(a),
			    xstrdup(b));
		}
		if ((ov == NULL) != (p.vid == NULL) ||
		    (ov && p.vid && strcmp(ov, p.vid) != 0))
			meeting_change(changes, "place", "Place", meeting_place(snap, old),
			    meeting_place(snap, r->json));
		if (!json_equal(json_object_get(old, "online") ?
		    json_object_get(old, "online") : json_null(),
		    json_object_get(r->json, "online") ?
		    json_object_get(r->json, "online") : json_null()))
			meeting_change(changes, "online",
			    "Online joining details",
			    meeting_online(old), meeting_online(r->json));
		/* What else people act on: food, agenda, money, access. */
		meeting_text_change(changes, old, r->json, "refreshments",
		    "Food and drink");
		meeting_text_change(changes, old, r->json, "agenda", "Agenda");
		meeting_text_change(changes, old, r->json, "payment",
		    "Payment and expenses");
		meeting_text_change(changes, old, r->json, "adjustments_by",
		    "Date to ask for adjustments");
		meeting_access_changes(&p, old, changes);
		json_array_foreach(oldinv, i, v)
			if (!meeting_contains(peopleset, json_string_value(v)))
				bump = 1;
		if (json_array_size(changes) > 0 || bump)
			p.seq++;
		/* Removed: a cancellation of their own, nothing more. */
		json_array_foreach(oldinv, i, v) {
			const char *cid = json_string_value(v);

			if (meeting_contains(peopleset, cid))
				continue;
			meeting_drop(&p, NULL, cid);
			data = json_pack("{s:b}", "removed", 1);
			meeting_email(&p, "can", "cancellation", cid, data);
			json_decref(data);
		}
		if (time_changed)
			meeting_drop(&p, "rem", NULL);
		json_array_extend(newinv, people);
		json_array_foreach(people, i, v) {
			const char *cid = json_string_value(v);

			if (!meeting_contains(oldset, cid)) {
				meeting_email(&p, "inv", "invitation", cid,
				    NULL);
				meeting_reminders(&p, cid);
				continue;
			}
			/* Planned even if their invitation is pending: it
			 * may be in flight with the old facts (meeting_after
			 * says when it is not sent). */
			if (json_array_size(changes) > 0 &&
			    !meeting_has_legacy(&p, "inv", cid)) {
				data = json_pack("{s:O}", "changes", changes);
				meeting_email(&p, "upd", "update", cid, data);
				json_decref(data);
			}
			if (time_changed)
				meeting_reminders(&p, cid);
		}
		timing_new = time_changed;
		json_decref(changes);
		json_decref(peopleset);
		json_decref(oldset);
	}

	/* Keep the venue's index of meetings in step. */
	if (ov && (p.vid == NULL || strcmp(ov, p.vid) != 0))
		store_op_srem(ops, STORE_VENUE_MEETINGS, ov, p.mid);
	if (p.vid)
		store_op_sadd(ops, STORE_VENUE_MEETINGS, p.vid, p.mid);
	meta = json_pack("{s:i, s:O, s:I}", "seq", p.seq, "invited", newinv,
	    "start", (json_int_t)p.start);
	plan_store(ops, r, pc, meta);
	json_decref(meta);
	if (!cancelled && !held && p.start * 1000 > pc->now_ms)
		meeting_notices(&p, people, timing_new);
	meeting_calllist(&p);
	json_decref(p.calls);
	json_decref(newinv);
	json_decref(oldinv);
	json_decref(people);
	json_decref(p.pending);
	return 0;
}

void
meeting_venue_needs(const struct record *r, json_t *snap, json_t *need)
{
	char	 key[STORE_KEY_MAX];
	json_t	*v, *w, *mw, *ms;
	size_t	 i, j;

	plan_need_set(snap, need, STORE_VENUE_MEETINGS, r->id);
	ms = plan_set(snap, STORE_VENUE_MEETINGS, r->id);
	json_array_foreach(ms, i, v) {
		plan_need_rec(snap, need, "meeting", json_string_value(v));
		mw = json_object_get(snap, store_reckey("meeting",
		    json_string_value(v), key, sizeof key));
		json_array_foreach(json_object_get(json_object_get(mw, "meta"),
		    "invited"), j, w)
			plan_need_rec(snap, need, "collaborator",
			    json_string_value(w));
	}
}

int
meeting_venue_plan(const struct record *r, json_t *snap,
    const struct plan_ctx *pc, json_t *ops, struct err *e)
{
	json_t		*old = plan_snaprec(snap, "venue", r->id), *changes;
	json_t		*oa, *na, *v, *w, *c, *data, *ms;
	char		 key[STORE_KEY_MAX], h[32], *did, *refs;
	size_t		 i, j;
	int		 k;

	plan_store(ops, r, pc, NULL);
	if (old == NULL)
		return 0;
	oa = json_object_get(old, "access");
	na = json_object_get(r->json, "access");
	if (json_equal(oa ? oa : json_null(), na ? na : json_null()))
		return 0;
	changes = json_array();
	/* Data, not words: the templates say it (view.c, _access_state). */
	for (k = 0; k < record_naccess_words; k++) {
		const char *word = record_access_words[k];
		json_t *a = access_state(oa, word), *b = access_state(na, word);

		if (!json_equal(a ? a : json_null(), b ? b : json_null()))
			json_array_append_new(changes, json_pack("{s:s, s:o, "
			    "s:o}", "word", word, "was", a ? a : json_null(),
			    "now", b ? b : json_null()));
		else {
			json_decref(a);
			json_decref(b);
		}
	}
	if (json_array_size(changes) == 0) {
		json_decref(changes);
		return 0;
	}
	meeting_hash(changes, h, sizeof h);
	data = json_pack("{s:O}", "changes", changes);
	ms = plan_set(snap, STORE_VENUE_MEETINGS, r->id);
	json_array_foreach(ms, i, v) {
		const char	*mid = json_string_value(v);
		json_t		*mw = json_object_get(snap, store_reckey("meeting",
		    mid, key, sizeof key));
		json_t		*m = json_object_get(mw, "record");
		long long	 start = json_integer_value(json_object_get(
		    json_object_get(mw, "meta"), "start"));
		const char	*st = meeting_str(m, "status");

		if (m == NULL || (st && (strcmp(st, "cancelled") == 0 ||
		    strcmp(st, "held") == 0)) ||
		    start * 1000 <= pc->now_ms ||
		    strcmp(meeting_str(m, "venue") ? meeting_str(m, "venue") :
		    "", r->id) != 0)
			continue;
		json_array_foreach(json_object_get(json_object_get(mw, "meta"),
		    "invited"), j, w) {
			const char *cid = json_string_value(w);

			c = plan_snaprec(snap, "collaborator", cid);
			if (c == NULL || !json_is_true(json_object_get(c,
			    "consent")) || json_object_get(c, "email") == NULL)
				continue;
			did = store_did("vup", r->id, mid, cid, h, NULL);
			refs = meeting_refs(mid, cid, r->id);
			plan_delivery(ops, pc, did, "venue-update", cid, mid,
			    pc->now_ms, start * 1000, refs, NULL, data, r->id);
			free(refs);
			free(did);
		}
	}
	json_decref(data);
	json_decref(changes);
	(void)e;
	return 0;
}
