/*
 * meeting_email.c: one person's emails of a meeting version (meeting_impl.h):
 * invitation, update, cancellation and reminders, the copies for their
 * supporter and for the coordinator, and what a new email must wait for.
 * Pure, any thread.
 *
 * A person with no email address is never emailed: what they would have
 * got from one change (an invitation, an update, a cancellation) becomes
 * their entry of that change's call list (p->part, "c:..."; see
 * meeting_notice.c). Their reminders go to the coordinator as the
 * coordinator's copy ("a"), asking that someone phones them, each at its
 * own time (meeting_phoned).
 *
 * An update or a cancellation names the person's pending emails of the
 * meeting it must follow (meeting_after): one a worker has already taken
 * may carry the old facts, and the new email waits for it to settle.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "duration.h"
#include "meeting_impl.h"
#include "plan.h"
#include "store.h"

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

char *
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

static json_t *
meeting_who(struct meeting_plan *p, const char *cid)
{
	return plan_snaprec(p->snap, "collaborator", cid);
}

/* Has the person an email address? Else they are phoned. Someone not
 * in the snapshot (forgotten since) is left to the sender, which skips
 * people it no longer knows. */
static int
meeting_emailed(struct meeting_plan *p, const char *cid)
{
	json_t	*c = meeting_who(p, cid);

	return c == NULL || meeting_str(c, "email") != NULL;
}

static int
meeting_supported(struct meeting_plan *p, const char *cid)
{
	return json_object_get(meeting_who(p, cid), "supporter") != NULL;
}

/* Needs an email alone does not meet: the coordinator gets a copy of
 * each meeting email to them, to arrange it (emailed people only: the
 * call list already names them for the rest). */
static int
meeting_arranged(struct meeting_plan *p, const char *cid)
{
	json_t	*c = meeting_who(p, cid);

	return c != NULL && meeting_str(c, "email") != NULL &&
	    json_array_size(json_object_get(c, "communication")) > 0;
}

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

long long
meeting_deadline(struct meeting_plan *p)
{
	long long	d = p->pc->now_ms + p->pc->cf->max_age * 1000;

	return d < p->start * 1000 ? d : p->start * 1000;
}

/* The person's entry of this change's call list: "c:0:<cid>" for someone
 * taken off (they come first, as they always have), "c:1:<cid>" else. */
static void
meeting_call(struct meeting_plan *p, const char *kind, const char *cid,
    json_t *data, int removed)
{
	json_t	*call;
	char	*key;

	call = json_pack("{s:s, s:s}", "cid", cid, "kind", kind);
	if (data != NULL)
		json_object_update(call, data);
	key = xasprintf("c:%d:%s", removed ? 0 : 1, cid);
	json_object_set_new(p->part, key, call);
	free(key);
}

void
meeting_email(struct meeting_plan *p, const char *prefix, const char *kind,
    const char *cid, json_t *data, int removed)
{
	char	 seq[16], *did, *refs;

	snprintf(seq, sizeof seq, "%d", p->seq);
	refs = meeting_refs(p->mid, cid, p->vid);
	if (meeting_emailed(p, cid)) {
		did = store_did(prefix, p->mid, cid, seq, NULL);
		plan_delivery(p->ops, p->pc, did, kind, cid, p->mid,
		    p->pc->now_ms, meeting_deadline(p), refs, NULL, data,
		    p->mid);
		meeting_after_op(p, prefix, cid, 0);
		free(did);
	} else
		meeting_call(p, kind, cid, data, removed);
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

/* No email address and a phone: their reminders are the coordinator's to
 * phone (the coordinator's copy, which says so). */
static int
meeting_phoned(struct meeting_plan *p, const char *cid)
{
	json_t	*c = meeting_who(p, cid);

	return c != NULL && meeting_str(c, "email") == NULL &&
	    meeting_str(c, "phone") != NULL;
}

void
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
		if (meeting_arranged(p, cid) || meeting_phoned(p, cid))
			meeting_copy(p, 'a', "rem", "reminder", cid, lead, data,
			    due * 1000, p->start * 1000, refs);
		json_decref(data);
	}
	free(refs);
}
