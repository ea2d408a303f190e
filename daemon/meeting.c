/*
 * meeting.c: the planner for meetings (plan.h, meeting_impl.h). Pure, like
 * plan.c, whose helpers it uses: a checked record and a snapshot in, ops
 * out; any thread.
 *
 * A version of a meeting is planned in two steps: meeting_decide() says
 * what it does (invite everyone, tell everyone of a cancellation, tell
 * each person what changed...) and with which calendar SEQUENCE; then
 * meeting_person() plans each person's part (meeting_email.c). The whole
 * planner here does both for everyone against one snapshot, in one
 * commit; the daemon pages a large meeting instead (meeting_page.c), with
 * the same two steps and the same emails.
 *
 * A stored meeting carries meta: seq (the calendar SEQUENCE, raised
 * whenever people are sent a calendar change: time, place, online details,
 * a cancellation, or someone removed) and start (epoch seconds, for
 * "upcoming" tests by the venue planner). Who holds an invitation now is
 * kept apart, in the store's invited hash (mi:<m>, store.h), because every
 * email to the meeting's people reads the record: a record that listed
 * them all grew with the group. A record stored before lists them in its
 * meta ("invited"), read until the meeting is planned again
 * (meeting_invited).
 *
 * Delivery ids say what an email is for, so re-planning never sends twice
 * (store_did joins the parts, escaping any ':' in them):
 *   inv:<m>:<c>:<seq>          invitation (calendar REQUEST)
 *   upd:<m>:<c>:<seq>          update saying what changed (REQUEST)
 *   can:<m>:<c>:<seq>          cancellation, or "you are no longer on the
 *                              list" (CANCEL)
 *   rem:<m>:<c>:<seq>:<lead>   reminder, lead in seconds
 *   vup:<v>:<m>:<c>:<hash>     venue access update (meeting_venue.c)
 *   notice:short:<m>:<start>, notice:access:<m>:<hash>   to the coordinator
 *   sinv, supd, scan, srem     the same emails, a copy for the person's
 *                              supporter (same parts as inv, upd...)
 *   ainv, aupd, acan, arem     the same emails, to the coordinator, for a
 *                              person with "communication" needs: what
 *                              to arrange, with the email's text
 *   call:<m>:<seq>:<hash>      the call list: to the coordinator, the
 *                              people of this change who have no email
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "meeting_impl.h"
#include "plan.h"
#include "record.h"
#include "store.h"

const char *
meeting_str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
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

/* A legacy record's list of who is invited (its meta's "invited"), or
 * NULL: the invited hash holds them. */
static json_t *
meeting_legacy_invited(json_t *snap, const char *mid)
{
	char	 key[STORE_KEY_MAX];
	json_t	*w;

	w = json_object_get(snap, store_reckey("meeting", mid, key,
	    sizeof key));
	w = json_object_get(json_object_get(w, "meta"), "invited");
	return json_is_array(w) ? w : NULL;
}

static int
meeting_cmpstr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

json_t *
meeting_invited(json_t *snap, const char *mid)
{
	char		  key[STORE_KEY_MAX];
	json_t		 *legacy = meeting_legacy_invited(snap, mid), *h;
	json_t		 *out = json_array();
	const char	**v;
	size_t		  i, n = 0;

	if (legacy != NULL) {
		json_array_extend(out, legacy);
		return out;
	}
	/* The hash as fetched: [cid, version, cid, version...]. */
	h = plan_members(snap, store_invkey(mid, key, sizeof key));
	v = xcalloc(json_array_size(h) / 2 + 1, sizeof *v);
	for (i = 0; i + 1 < json_array_size(h); i += 2)
		if (json_is_string(json_array_get(h, i)))
			v[n++] = json_string_value(json_array_get(h, i));
	qsort(v, n, sizeof *v, meeting_cmpstr);
	for (i = 0; i < n; i++)
		json_array_append_new(out, json_string(v[i]));
	free(v);
	return out;
}

void
meeting_needs(const struct record *r, json_t *snap, json_t *need)
{
	json_t		*ids, *v, *old, *inv;
	size_t		 i;
	const char	*ov;
	char		 key[STORE_KEY_MAX];

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
		if (meeting_legacy_invited(snap, r->id) == NULL)
			plan_need(snap, need, store_invkey(r->id, key,
			    sizeof key));
		inv = meeting_invited(snap, r->id);
		json_array_foreach(inv, i, v)
			plan_need_rec(snap, need, "collaborator",
			    json_string_value(v));
		json_decref(inv);
	}
}

int
meeting_plan_init(struct meeting_plan *p, const struct record *r,
    json_t *snap, const struct plan_ctx *pc, json_t *ops, struct err *e)
{
	memset(p, 0, sizeof *p);
	p->r = r;
	p->snap = snap;
	p->pc = pc;
	p->ops = ops;
	p->mid = r->id;
	p->vid = meeting_str(r->json, "venue");
	if (clock_parse_local(meeting_str(r->json, "start"), r->tz, &p->start,
	    e) == -1) {
		err_prefix(e, "start");
		return -1;
	}
	if (clock_parse_local(meeting_str(r->json, "end"), r->tz, &p->end,
	    e) == -1) {
		err_prefix(e, "end");
		return -1;
	}
	p->part = json_object();
	return 0;
}

static void
meeting_plan_clear(struct meeting_plan *p)
{
	json_decref(p->pending);
	json_decref(p->part);
	json_decref(p->access);
	p->pending = p->part = p->access = NULL;
}

static int
meeting_status_is(json_t *m, const char *status)
{
	const char	*s = meeting_str(m, "status");

	return strcmp(s ? s : "scheduled", status) == 0;
}

void
meeting_decide(struct meeting_plan *p, json_t *old, int removals,
    struct meeting_version *mv)
{
	json_t	*orec = json_object_get(old, "record");
	char	 today[64];

	memset(mv, 0, sizeof *mv);
	mv->seq = (int)json_integer_value(json_object_get(json_object_get(old,
	    "meta"), "seq"));
	mv->cancelled = meeting_status_is(p->r->json, "cancelled");
	clock_format_iso_local(p->pc->now_ms / 1000, p->r->tz, today,
	    sizeof today);
	memcpy(mv->today, today, 10);
	mv->today[10] = '\0';
	if (meeting_status_is(p->r->json, "held"))
		mv->what = MEETING_HELD;
	else if (p->start * 1000 <= p->pc->now_ms)
		mv->what = MEETING_PAST;
	else if (orec == NULL || meeting_status_is(orec, "cancelled")) {
		/* New, or back on: everyone is invited (again). */
		mv->back_on = orec != NULL;
		mv->seq += mv->back_on;
		mv->what = mv->cancelled ? MEETING_QUIET : MEETING_NEW;
		mv->timing_new = !mv->cancelled;
	} else if (mv->cancelled) {
		mv->what = MEETING_CANCEL;
		mv->seq++;
	} else {
		mv->what = MEETING_CHANGE;
		mv->changes = meeting_changes(p, orec, &mv->time_changed);
		mv->removals = removals;
		if (json_array_size(mv->changes) > 0 || removals)
			mv->seq++;
		mv->timing_new = mv->time_changed;
	}
	p->seq = mv->seq;
	p->mv = mv;
}

void
meeting_version_clear(struct meeting_version *mv)
{
	json_decref(mv->changes);
	mv->changes = NULL;
}

char *
meeting_version_dump(const struct meeting_version *mv)
{
	json_t	*j;
	char	*s;

	j = json_pack("{s:i, s:i, s:b, s:b, s:b, s:b, s:b, s:O?, s:s}",
	    "case", (int)mv->what, "seq", mv->seq, "back_on", mv->back_on,
	    "cancelled", mv->cancelled, "time_changed", mv->time_changed,
	    "timing_new", mv->timing_new, "removals", mv->removals,
	    "changes", mv->changes, "today", mv->today);
	s = store_dump(j);
	json_decref(j);
	return s;
}

int
meeting_version_load(const char *text, struct meeting_version *mv)
{
	json_t		*j = text ? json_loads(text, 0, NULL) : NULL;
	json_t		*ch = NULL;
	const char	*today = NULL;
	int		 what = -1;

	memset(mv, 0, sizeof *mv);
	if (j == NULL || json_unpack(j, "{s:i, s:i, s:b, s:b, s:b, s:b, s:b, "
	    "s?o, s:s}", "case", &what, "seq", &mv->seq, "back_on",
	    &mv->back_on, "cancelled", &mv->cancelled, "time_changed",
	    &mv->time_changed, "timing_new", &mv->timing_new, "removals",
	    &mv->removals, "changes", &ch, "today", &today) == -1 ||
	    what < MEETING_NEW || what > MEETING_PAST) {
		json_decref(j);
		return -1;
	}
	mv->what = (enum meeting_case)what;
	mv->changes = json_is_array(ch) ? json_incref(ch) : NULL;
	snprintf(mv->today, sizeof mv->today, "%s", today);
	json_decref(j);
	return 0;
}

void
meeting_person(struct meeting_plan *p, const char *cid, enum meeting_role role)
{
	const struct meeting_version	*mv = p->mv;
	json_t				*data;

	switch (role) {
	case MEETING_INVITE:
		meeting_email(p, "inv", "invitation", cid, NULL, 0);
		meeting_reminders(p, cid);
		break;
	case MEETING_STAY:
		/* Planned even if their invitation is pending: it may be in
		 * flight with the old facts (meeting_after says when it is
		 * not sent). */
		if (json_array_size(mv->changes) > 0 &&
		    !meeting_has_legacy(p, "inv", cid)) {
			data = json_pack("{s:O}", "changes", mv->changes);
			meeting_email(p, "upd", "update", cid, data, 0);
			json_decref(data);
		}
		if (mv->time_changed) {
			if (p->paged)
				meeting_drop_stale(p, cid, "rem");
			meeting_reminders(p, cid);
		}
		break;
	case MEETING_REMOVE:
		/* Taken off: a cancellation of their own, nothing more. */
		meeting_drop(p, NULL, cid);
		data = json_pack("{s:b}", "removed", 1);
		meeting_email(p, "can", "cancellation", cid, data, 1);
		json_decref(data);
		break;
	case MEETING_CANCELLED:
		/* Paged, their pending emails were withdrawn before the
		 * cancelled record was stored (meeting_phase.c); whole, with
		 * the meeting's all. */
		data = json_pack("{s:b}", "removed", 0);
		meeting_email(p, "can", "cancellation", cid, data, 0);
		json_decref(data);
		break;
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

/* A change: those taken off, then everyone still or newly invited. */
static void
meeting_whole_change(struct meeting_plan *p, json_t *people, json_t *oldinv)
{
	json_t		*peopleset = meeting_set(people);
	json_t		*oldset = meeting_set(oldinv), *v;
	const char	*cid;
	size_t		 i;

	json_array_foreach(oldinv, i, v)
		if (json_object_get(peopleset, json_string_value(v)) == NULL)
			meeting_person(p, json_string_value(v), MEETING_REMOVE);
	if (p->mv->time_changed)
		meeting_drop(p, "rem", NULL);
	json_array_foreach(people, i, v) {
		cid = json_string_value(v);
		meeting_person(p, cid, json_object_get(oldset, cid) != NULL ?
		    MEETING_STAY : MEETING_INVITE);
	}
	json_decref(peopleset);
	json_decref(oldset);
}

/* Everyone's part in the version; returns who is invited after it. */
static json_t *
meeting_whole_people(struct meeting_plan *p, json_t *people, json_t *oldinv)
{
	const struct meeting_version	*mv = p->mv;
	json_t				*newinv = json_array(), *v;
	size_t				 i;

	switch (mv->what) {
	case MEETING_HELD:
		/* It happened: recorded so said items can name it.
		 * Nothing goes to anyone, coordinators included; nothing
		 * pending stays. */
		store_op_drop_all(p->ops, STORE_MEETING_DELIVERIES, p->mid);
		json_array_extend(newinv, oldinv);
		break;
	case MEETING_PAST:
		/* Already started or over: store it, send nothing. */
		if (!mv->cancelled)
			json_array_extend(newinv, oldinv);
		break;
	case MEETING_QUIET:
	case MEETING_NEW:
		if (mv->back_on)
			store_op_drop_all(p->ops, STORE_MEETING_DELIVERIES,
			    p->mid);
		if (mv->what == MEETING_QUIET)
			break;
		json_array_extend(newinv, people);
		json_array_foreach(people, i, v)
			meeting_person(p, json_string_value(v),
			    MEETING_INVITE);
		break;
	case MEETING_CANCEL:
		store_op_drop_all(p->ops, STORE_MEETING_DELIVERIES, p->mid);
		json_array_foreach(oldinv, i, v)
			meeting_person(p, json_string_value(v),
			    MEETING_CANCELLED);
		break;
	case MEETING_CHANGE:
		meeting_whole_change(p, people, oldinv);
		json_array_extend(newinv, people);
		break;
	}
	return newinv;
}

/* Is anyone invited before not among people now? */
static int
meeting_removals(json_t *people, json_t *oldinv)
{
	json_t	*set = meeting_set(people), *v;
	size_t	 i;
	int	 any = 0;

	json_array_foreach(oldinv, i, v)
		if (json_object_get(set, json_string_value(v)) == NULL)
			any = 1;
	json_decref(set);
	return any;
}

int
meeting_plan(const struct record *r, json_t *snap, const struct plan_ctx *pc,
    json_t *ops, struct err *e)
{
	struct meeting_plan	 p;
	struct meeting_version	 mv;
	json_t			*ids, *people, *oldinv, *newinv, *old, *meta, *v;
	const char		*ov;
	char			 key[STORE_KEY_MAX];
	size_t			 i;

	if (meeting_plan_init(&p, r, snap, pc, ops, e) == -1)
		return -1;
	ids = meeting_ids(r->json, snap);
	people = plan_people(snap, ids);
	json_decref(ids);
	old = json_object_get(snap, store_reckey("meeting", r->id, key,
	    sizeof key));
	old = json_is_object(old) ? old : NULL;
	oldinv = meeting_invited(snap, r->id);
	meeting_decide(&p, old, meeting_removals(people, oldinv), &mv);
	newinv = meeting_whole_people(&p, people, oldinv);

	/* Keep the venue's index of meetings in step. */
	ov = meeting_str(json_object_get(old, "record"), "venue");
	if (ov && (p.vid == NULL || strcmp(ov, p.vid) != 0))
		store_op_srem(ops, STORE_VENUE_MEETINGS, ov, p.mid);
	if (p.vid)
		store_op_sadd(ops, STORE_VENUE_MEETINGS, p.vid, p.mid);
	meta = json_pack("{s:i, s:I}", "seq", p.seq, "start",
	    (json_int_t)p.start);
	plan_store(ops, r, pc, meta);
	json_decref(meta);
	/* Who is invited now, in the store's hash (no longer in the record,
	 * which every email to them reads). */
	store_op_invited_del(ops, p.mid);
	store_op_invite(ops, p.mid, newinv, pc->entry_id);
	if (mv.what == MEETING_NEW || mv.what == MEETING_CHANGE) {
		if (mv.timing_new)
			meeting_short_notice(&p);
		json_array_foreach(people, i, v)
			meeting_access_lines(&p, json_string_value(v));
	}
	meeting_gathered(&p);
	meeting_plan_clear(&p);
	meeting_version_clear(&mv);
	json_decref(newinv);
	json_decref(oldinv);
	json_decref(people);
	return 0;
}
