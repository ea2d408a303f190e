/*
 * venue_page.c: a venue whose access changed, planned in pages when the
 * people it tells are many (meeting_page.h; meeting_venue.c plans a small
 * one whole). Pure: no I/O, any thread; it runs on meeting_page.c's
 * steps, with its own head, start and pages.
 *
 * Everyone invited to an upcoming meeting at the venue, who consents and
 * has an email address, gets an access update naming what changed
 * (meeting_venue.c has the ids and the data). Here the head reads the
 * venue, its marker, the meetings at it and how many each invites; the
 * start stores the venue and a marker holding the plan ({changes, hash,
 * meetings: [{id, start}]}), committed at the version read; then each
 * meeting's invited hash (or a record's legacy list, in chunks) is read a
 * page at a time, each page's updates committed under the marker; the
 * last commit removes it and acknowledges the entry. Updates made twice
 * are made once (their ids hold the hash of the changes), so a marker
 * found at the head is finished from the top, whoever's it is.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meeting_impl.h"
#include "meeting_page.h"
#include "meeting_page_impl.h"
#include "plan.h"
#include "record.h"
#include "store.h"

/* The meetings at the venue, and how many each invites. */
void
venue_page_need(struct mpage *mp, json_t *need)
{
	char	 key[STORE_KEY_MAX], k2[STORE_KEY_MAX + 8];
	json_t	*ms, *v;
	size_t	 i;

	mpage_need(mp, need, store_setkey(STORE_VENUE_MEETINGS, mp->r->id,
	    key, sizeof key));
	ms = plan_set(mp->snap, STORE_VENUE_MEETINGS, mp->r->id);
	json_array_foreach(ms, i, v) {
		mpage_need(mp, need, store_reckey("meeting",
		    json_string_value(v), key, sizeof key));
		snprintf(k2, sizeof k2, "#hlen:%s", store_invkey(
		    json_string_value(v), key, sizeof key));
		mpage_need(mp, need, k2);
	}
}

static json_t *
venue_page_meeting(struct mpage *mp, const char *mid)
{
	char	 key[STORE_KEY_MAX];
	json_t	*w = json_object_get(mp->snap, store_reckey("meeting", mid,
	    key, sizeof key));

	return json_is_object(w) ? w : NULL;
}

/* A meeting's legacy list of invited (its meta), or NULL. */
static json_t *
venue_page_legacy(struct mpage *mp, const char *mid)
{
	json_t	*l = json_object_get(json_object_get(venue_page_meeting(mp,
	    mid), "meta"), "invited");

	return json_is_array(l) ? l : NULL;
}

/* The upcoming meetings still at the venue ([{id, start}]), and how many
 * people they invite in all. */
static json_t *
venue_page_meetings(struct mpage *mp, const struct plan_ctx *pc,
    long long *people)
{
	json_t		*out = json_array(), *v, *mw, *m;
	const char	*mid, *st, *vid;
	long long	 start;
	size_t		 i;

	*people = 0;
	json_array_foreach(plan_set(mp->snap, STORE_VENUE_MEETINGS, mp->r->id),
	    i, v) {
		mid = json_string_value(v);
		if ((mw = venue_page_meeting(mp, mid)) == NULL)
			continue;
		m = json_object_get(mw, "record");
		st = meeting_str(m, "status");
		vid = meeting_str(m, "venue");
		start = json_integer_value(json_object_get(json_object_get(mw,
		    "meta"), "start"));
		if (m == NULL || (st && (strcmp(st, "cancelled") == 0 ||
		    strcmp(st, "held") == 0)) || start * 1000 <= pc->now_ms ||
		    vid == NULL || strcmp(vid, mp->r->id) != 0)
			continue;
		json_array_append_new(out, json_pack("{s:s, s:I}", "id", mid,
		    "start", (json_int_t)start));
		*people += venue_page_legacy(mp, mid) != NULL ?
		    (long long)json_array_size(venue_page_legacy(mp, mid)) :
		    mpage_int(mp, "#hlen:mi:%s", mid);
	}
	return out;
}

/* A marker at the head: that version's pages are finished first. */
static void
venue_page_finish(struct mpage *mp, const struct plan_ctx *pc,
    const char *mver)
{
	json_t		*stored = plan_snaprec(mp->snap, "venue", mp->r->id);
	const char	*plan = store_mark_field(mpage_mark(mp), "plan");
	struct record_opts o = { pc->cf->timezone, 1 << 24 };
	struct err	 e;

	mp->ver = xstrdup(mver);
	mp->other = 1;
	mp->vplan = plan ? json_loads(plan, 0, NULL) : NULL;
	if (stored == NULL || !json_is_object(mp->vplan) ||
	    record_check(stored, &o, &mp->own, &e) == -1) {
		mp->step = MPAGE_S_TAIL;
		return;
	}
	if (strcmp(mver, mp->entry) == 0 || mpage_same(mp, pc, stored))
		mp->other = 0;
	snprintf(mp->note, sizeof mp->note, "finishing version %s, paged "
	    "before and not finished%s", mver, mp->other ? " (this entry's "
	    "comes after)" : "");
	mp->w = &mp->own;
	mp->paged = 1;
	venue_page_phases(mp);
	mp->step = MPAGE_S_PHASES;
}

/* Stored, with nothing to tell anyone: one commit, as ever. */
static void
venue_page_store(struct mpage *mp, const struct plan_ctx *pc)
{
	json_t	*ops = json_array();

	plan_store(ops, mp->w, pc, NULL);
	mpage_queue(mp, ops, MPAGE_C_WHOLE);
}

void
venue_page_headed(struct mpage *mp, const struct plan_ctx *pc,
    struct mpage_io *io)
{
	const char	*mver = store_mark_field(mpage_mark(mp), "ver");
	json_t		*old, *oa, *na, *changes, *ms;
	long long	 people;
	char		 h[32];

	if (mver != NULL) {
		venue_page_finish(mp, pc, mver);
		return;
	}
	if (mp->w == NULL && mpage_whole(mp, pc, &io->e) == -1) {
		mp->step = MPAGE_S_REJECT;
		return;
	}
	if (plan_verify(mp->w, mp->snap, NULL, pc->now_ms,
	    (size_t)pc->cf->max_record_bytes, &io->e) == -1) {
		mp->step = MPAGE_S_REJECT;
		return;
	}
	if (plan_unchanged(mp->w, mp->snap) ||
	    plan_superseded(mp->w, mp->snap, mp->entry)) {
		mpage_queue(mp, json_array(), MPAGE_C_ACK);
		return;
	}
	old = plan_snaprec(mp->snap, "venue", mp->r->id);
	oa = json_object_get(old, "access");
	na = json_object_get(mp->w->json, "access");
	if (old == NULL || json_equal(oa ? oa : json_null(), na ? na :
	    json_null())) {
		venue_page_store(mp, pc);
		return;
	}
	changes = meeting_venue_changes(oa, na);
	ms = venue_page_meetings(mp, pc, &people);
	if (json_array_size(changes) == 0 || json_array_size(ms) == 0) {
		json_decref(changes);
		json_decref(ms);
		venue_page_store(mp, pc);
		return;
	}
	if (people <= MPAGE_WHOLE) {
		json_decref(changes);
		json_decref(ms);
		mp->step = MPAGE_S_WHOLE;
		mp->rounds = 0;
		return;
	}
	meeting_hash(changes, h, sizeof h);
	mp->vplan = json_pack("{s:o, s:s, s:o}", "changes", changes, "hash", h,
	    "meetings", ms);
	mp->paged = 1;
	mp->step = MPAGE_S_START;
}

/* The venue and its marker, at the version read. */
void
venue_page_start(struct mpage *mp, const struct plan_ctx *pc)
{
	json_t	*ops = json_array();
	char	*plan;

	plan_store(ops, mp->w, pc, NULL);
	plan = store_dump(mp->vplan);
	store_op_mark_plan(ops, "venue", mp->r->id, mp->entry, plan);
	free(plan);
	free(mp->ver);
	mp->ver = xstrdup(mp->entry);
	mp->other = 0;
	snprintf(mp->note, sizeof mp->note, "version %s begins, in pages "
	    "(access updates)", mp->ver);
	mpage_queue(mp, ops, MPAGE_C_START);
}

/* A page for each meeting's people: its invited hash, or its record's
 * legacy list in chunks. */
void
venue_page_phases(struct mpage *mp)
{
	json_t		*m, *legacy, *cur, *e, *v;
	const char	*mid;
	char		 key[STORE_KEY_MAX + 2];
	size_t		 i, j;

	json_decref(mp->phases);
	mp->phases = json_array();
	mp->at = 0;
	mp->cursor[0] = '\0';
	json_array_foreach(json_object_get(mp->vplan, "meetings"), i, m) {
		mid = meeting_str(m, "id");
		if ((legacy = venue_page_legacy(mp, mid)) == NULL) {
			snprintf(key, sizeof key, "h:");
			store_invkey(mid, key + 2, sizeof key - 2);
			json_array_append_new(mp->phases, json_pack("{s:i, s:s, "
			    "s:s}", "phase", MPAGE_P_ADD, "mid", mid, "src",
			    key));
			continue;
		}
		cur = NULL;
		json_array_foreach(legacy, j, v) {
			if (cur == NULL || json_array_size(cur) >= MPAGE_PAGE) {
				cur = json_array();
				e = json_pack("{s:i, s:s, s:o}", "phase",
				    MPAGE_P_ADD, "mid", mid, "ids", cur);
				json_array_append_new(mp->phases, e);
			}
			json_array_append(cur, v);
		}
	}
}

static long long
venue_page_start_of(struct mpage *mp, const char *mid)
{
	json_t	*m;
	size_t	 i;

	json_array_foreach(json_object_get(mp->vplan, "meetings"), i, m)
		if (strcmp(meeting_str(m, "id"), mid) == 0)
			return json_integer_value(json_object_get(m, "start"));
	return 0;
}

/* A page of one meeting's people: an access update each. */
void
venue_page_people(struct mpage *mp, const struct plan_ctx *pc,
    const char *cursor, json_t *phase, json_t *ids, json_t *snap)
{
	const char	*mid = meeting_str(phase, "mid"), *cid;
	const char	*h = meeting_str(mp->vplan, "hash");
	long long	 start = venue_page_start_of(mp, mid);
	json_t		*data, *v, *ops;
	size_t		 i;

	data = json_pack("{s:O}", "changes", json_object_get(mp->vplan,
	    "changes"));
	json_array_foreach(ids, i, v) {
		cid = json_string_value(v);
		ops = json_array();
		meeting_venue_person(ops, pc, mp->r->id, mid, cid,
		    plan_snaprec(snap, "collaborator", cid), h, start, data);
		if (json_array_size(ops) > 0)
			mpage_add_ops(mp, ops);
		json_decref(ops);
	}
	json_decref(data);
	mpage_flush(mp);
	mpage_advance(mp, cursor);
}
