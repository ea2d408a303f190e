/*
 * meeting_phase.c: the pages of a meeting planned in pages (meeting_page.h,
 * meeting_page_impl.h): which phases a version has, what each page reads,
 * and what each person in it gets (and the survey's pages, which only
 * look); the notices from what was gathered. Pure: no I/O, any thread.
 *
 * A page of people comes with each one's record, their field of the
 * invited hash (the entry that invited them: this version's own, an
 * earlier one's, or none), whether they belong to one of the meeting's
 * groups, and their pending emails of the meeting. From those the page
 * decides each person's role (meeting_impl.h) exactly as the whole
 * planner does from its one snapshot, and meeting_person() plans it. Each
 * person's ops stay together in one commit; a commit holds up to
 * MPAGE_OPS ops, first of all IFMARK.
 *
 * What the whole planner gathers in memory (meeting_notice.c) a page
 * writes to mp:<m>, the person's old fields removed first: so a page
 * planned again leaves what it says now, never both.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meeting_impl.h"
#include "meeting_page.h"
#include "meeting_page_impl.h"
#include "plan.h"
#include "store.h"

static void
mpage_phase(struct mpage *mp, enum mpage_phase ph, const char *src,
    json_t *ids)
{
	json_t	*e = json_pack("{s:i}", "phase", (int)ph);

	if (src != NULL)
		json_object_set_new(e, "src", json_string(src));
	if (ids != NULL)
		json_object_set(e, "ids", ids);
	json_array_append_new(mp->phases, e);
}

/* A phase over the invited hash. */
static void
mpage_phase_invited(struct mpage *mp, enum mpage_phase ph)
{
	char	key[STORE_KEY_MAX + 2];

	snprintf(key, sizeof key, "h:");
	store_invkey(mp->w->id, key + 2, sizeof key - 2);
	mpage_phase(mp, ph, key, NULL);
}

/* Everyone invited now: the groups' sets, then the invitees in chunks
 * (someone in both is planned twice, which makes nothing twice). */
static void
mpage_phase_add(struct mpage *mp)
{
	char	 key[STORE_KEY_MAX + 2];
	json_t	*g, *cur = NULL, *chunks = json_array();
	size_t	 i;

	json_array_foreach(mp->groups, i, g) {
		snprintf(key, sizeof key, "s:");
		store_setkey(STORE_GROUP, json_string_value(g), key + 2,
		    sizeof key - 2);
		mpage_phase(mp, MPAGE_P_ADD, key, NULL);
	}
	json_array_foreach(json_object_get(mp->w->json, "invitees"), i, g) {
		if (cur == NULL || json_array_size(cur) >= MPAGE_PAGE) {
			cur = json_array();
			json_array_append_new(chunks, cur);
		}
		json_array_append(cur, g);
	}
	json_array_foreach(chunks, i, cur)
		mpage_phase(mp, MPAGE_P_ADD, NULL, cur);
	json_decref(chunks);
}

void
mpage_phases(struct mpage *mp)
{
	const struct meeting_version	*mv = &mp->mv;

	json_decref(mp->phases);
	mp->phases = json_array();
	mp->at = 0;
	mp->cursor[0] = '\0';
	switch (mv->what) {
	case MEETING_NEW:
		if (mv->back_on)
			mpage_phase_invited(mp, MPAGE_P_CLEAR);
		mpage_phase_add(mp);
		if (mv->back_on)
			mpage_phase(mp, MPAGE_P_SWEEP, NULL, NULL);
		break;
	case MEETING_QUIET:
		if (mv->back_on)
			mpage_phase(mp, MPAGE_P_SWEEP, NULL, NULL);
		mpage_phase_invited(mp, MPAGE_P_CLEAR);
		break;
	case MEETING_CANCEL:
		if (!mp->stored) {
			mpage_phase_invited(mp, MPAGE_P_WITHDRAW);
			mpage_phase(mp, MPAGE_P_STORE, NULL, NULL);
		}
		mpage_phase_invited(mp, MPAGE_P_CANCEL);
		mpage_phase(mp, MPAGE_P_SWEEP, NULL, NULL);
		break;
	case MEETING_CHANGE:
		if (mv->removals)
			mpage_phase_invited(mp, MPAGE_P_DROP);
		mpage_phase_add(mp);
		if (mv->time_changed)
			mpage_phase(mp, MPAGE_P_SWEEP, NULL, NULL);
		break;
	case MEETING_HELD:
		mpage_phase(mp, MPAGE_P_SWEEP, NULL, NULL);
		break;
	case MEETING_PAST:
		if (mv->cancelled)
			mpage_phase_invited(mp, MPAGE_P_CLEAR);
		break;
	}
}

/* Does the version make notices from what its pages gather? */
int
mpage_gathers(const struct mpage *mp)
{
	if (mp->r->type == REC_VENUE)
		return 0;
	return mp->mv.what == MEETING_NEW || mp->mv.what == MEETING_CHANGE ||
	    mp->mv.what == MEETING_CANCEL;
}

static const char *const mpage_wants_of[] = {
	[MPAGE_P_DROP] = "rigp",
	[MPAGE_P_ADD] = "rip",
	[MPAGE_P_CANCEL] = "ria",
	[MPAGE_P_CLEAR] = "i",
	[MPAGE_P_SWEEP] = "",
	[MPAGE_P_WITHDRAW] = "rip",
	[MPAGE_P_STORE] = ""
};

/* The cancelled record stored, under the marker, which says so. */
static void
mpage_phase_store(struct mpage *mp, const struct plan_ctx *pc)
{
	json_t	*ops = json_array();

	store_op_ifmark(ops, mp->type, mp->w->id, mp->ver);
	mpage_store(mp, pc, ops);
	store_op_mark_set(ops, mp->type, mp->w->id, "stored", "1");
	mpage_queue(mp, ops, MPAGE_C_PAGE);
	mp->stored = 1;
	mp->at++;
	mp->cursor[0] = '\0';
}

/* The read of the phase at hand into io (1), a commit queued instead
 * (-1), or 0: the phases are done. */
int
mpage_phase_read(struct mpage *mp, const struct plan_ctx *pc,
    struct mpage_io *io, enum mpage_do *d)
{
	json_t			*e = json_array_get(mp->phases, mp->at);
	enum mpage_phase	 ph;

	if (e == NULL)
		return 0;
	ph = (enum mpage_phase)json_integer_value(json_object_get(e, "phase"));
	if (ph == MPAGE_P_STORE) {
		mpage_phase_store(mp, pc);
		return -1;
	}
	io->cursor = mp->cursor[0] ? mp->cursor : "0";
	if (ph == MPAGE_P_SWEEP) {
		store_setkey(STORE_MEETING_DELIVERIES, mp->w->id, io->key,
		    sizeof io->key);
		io->count = MPAGE_SCAN;
		*d = MPAGE_SWEEP;
		return 1;
	}
	memset(&io->people, 0, sizeof io->people);
	io->people.mid = mp->w->id;
	io->people.want = mpage_wants_of[ph];
	if (mp->r->type == REC_VENUE) {
		/* A meeting's people at a venue: their records only. */
		io->people.mid = json_string_value(json_object_get(e, "mid"));
		io->people.want = "r";
	}
	io->people.src = json_string_value(json_object_get(e, "src"));
	io->people.cursor = io->cursor;
	io->people.count = MPAGE_PAGE;
	io->people.groups = mp->groups;
	io->people.ids = json_object_get(e, "ids");
	*d = MPAGE_PEOPLE;
	return 1;
}

/* On from the page just read: the same source from its cursor, or the
 * next phase. */
void
mpage_advance(struct mpage *mp, const char *cursor)
{
	json_t	*e = json_array_get(mp->phases, mp->at);

	mp->pages++;
	if (json_object_get(e, "ids") == NULL && strcmp(cursor, "0") != 0) {
		snprintf(mp->cursor, sizeof mp->cursor, "%s", cursor);
		return;
	}
	mp->at++;
	mp->cursor[0] = '\0';
}

/* One person's ops (or a page's withdrawals) into the commit being
 * filled; a full one is queued, and so is what is left at the end of a
 * page (mpage_flush): a page is read only once the one before it is
 * stored, so it sees what that one did. */
void
mpage_add_ops(struct mpage *mp, json_t *ops)
{
	if (json_array_size(ops) == 0)
		return;
	if (mp->chunk == NULL) {
		mp->chunk = json_array();
		store_op_ifmark(mp->chunk, mp->type, mp->w->id, mp->ver);
	}
	json_array_extend(mp->chunk, ops);
	if (json_array_size(mp->chunk) >= MPAGE_OPS) {
		mpage_queue(mp, mp->chunk, MPAGE_C_PAGE);
		mp->chunk = NULL;
	}
}

void
mpage_flush(struct mpage *mp)
{
	if (mp->chunk != NULL)
		mpage_queue(mp, mp->chunk, MPAGE_C_PAGE);
	mp->chunk = NULL;
}

/* The person's gathered fields, as they stand after this page. */
static void
mpage_part_ops(struct meeting_plan *p, const char *cid)
{
	const char	*f;
	json_t		*v;
	char		*text;

	store_op_part_forget(p->ops, p->mid, cid);
	json_object_foreach(p->part, f, v) {
		text = store_dump(v);
		store_op_part_put(p->ops, p->mid, f, text);
		free(text);
	}
	json_object_clear(p->part);
}

/* Before a cancellation is stored: the person's pending emails of the
 * meeting withdrawn, and saved (g:<cid> in mp:<m>) as what their
 * cancellation must follow (meeting_after): one a worker has taken stays
 * a tombstone until it settles, and the cancellation waits for it. Read
 * again after a crash, a person with nothing pending keeps what was
 * saved. */
static void
mpage_withdraw(struct meeting_plan *p, const char *cid, json_t *in)
{
	json_t	*pend = json_object_get(in, "pend");
	char	*text, *key;

	if (json_string_value(json_object_get(in, "mi")) == NULL ||
	    json_array_size(pend) == 0)
		return;
	meeting_drop_stale(p, cid, NULL);
	text = store_dump(pend);
	key = xasprintf("g:%s", cid);
	store_op_part_put(p->ops, p->mid, key, text);
	free(key);
	free(text);
}

/* Is the person invited now (the whole planner's "people")? */
static int
mpage_member(struct mpage *mp, json_t *snap, const char *cid, json_t *in)
{
	return mpage_consents(snap, cid) &&
	    (json_object_get(mp->invitees, cid) != NULL ||
	    json_is_true(json_object_get(in, "in")));
}

/* One person of a page: their role in the phase, and its ops in p->ops. */
static void
mpage_person(struct mpage *mp, struct meeting_plan *p, enum mpage_phase ph,
    const char *cid, json_t *in)
{
	const char	*was = json_string_value(json_object_get(in, "mi"));
	int		 mine = was != NULL && strcmp(was, mp->ver) == 0;
	json_t		*one;

	switch (ph) {
	case MPAGE_P_ADD:
		if (mpage_consents(p->snap, cid)) {
			if (mp->mv.what == MEETING_NEW || was == NULL || mine)
				meeting_person(p, cid, MEETING_INVITE);
			else
				meeting_person(p, cid, MEETING_STAY);
			if (!mine && (mp->mv.what == MEETING_NEW ||
			    was == NULL)) {
				one = json_pack("[s]", cid);
				store_op_invite(p->ops, p->mid, one, mp->ver);
				json_decref(one);
			}
			meeting_access_lines(p, cid);
		}
		mpage_part_ops(p, cid);
		break;
	case MPAGE_P_DROP:
		if (was == NULL || mine || mpage_member(mp, p->snap, cid, in))
			break;
		meeting_person(p, cid, MEETING_REMOVE);
		store_op_uninvite(p->ops, p->mid, cid);
		mpage_part_ops(p, cid);
		break;
	case MPAGE_P_WITHDRAW:
		mpage_withdraw(p, cid, in);
		break;
	case MPAGE_P_CANCEL:
		if (was == NULL)
			break;
		meeting_person(p, cid, MEETING_CANCELLED);
		store_op_uninvite(p->ops, p->mid, cid);
		mpage_part_ops(p, cid);
		break;
	case MPAGE_P_CLEAR:
		if (was != NULL && !mine)
			store_op_uninvite(p->ops, p->mid, cid);
		break;
	case MPAGE_P_STORE:
	case MPAGE_P_SWEEP:
		break;
	}
}

/* The page's snapshot for the planner: its people's records, the venue,
 * and their pending emails together as the meeting's index (for a
 * cancellation, those saved before they were withdrawn). */
static void
mpage_page_snap(struct mpage *mp, json_t *snap, json_t *ids, json_t *info,
    enum mpage_phase ph)
{
	char		 key[STORE_KEY_MAX];
	const char	*vid = meeting_str(mp->w->json, "venue");
	json_t		*md = json_array(), *v, *pend, *saved;
	size_t		 i;

	if (vid != NULL) {
		store_reckey("venue", vid, key, sizeof key);
		json_object_set(snap, key, json_object_get(mp->snap, key));
	}
	json_array_foreach(ids, i, v) {
		pend = json_object_get(json_object_get(info,
		    json_string_value(v)), "pend");
		if (ph != MPAGE_P_CANCEL) {
			json_array_extend(md, pend);
			continue;
		}
		saved = json_loads(json_string_value(json_array_get(pend, 0)) ?
		    json_string_value(json_array_get(pend, 0)) : "[]", 0, NULL);
		if (json_is_array(saved))
			json_array_extend(md, saved);
		json_decref(saved);
	}
	json_object_set_new(snap, store_setkey(STORE_MEETING_DELIVERIES,
	    mp->w->id, key, sizeof key), md);
}

void
mpage_phase_people(struct mpage *mp, const struct plan_ctx *pc,
    const char *cursor, json_t *ids, json_t *snap, json_t *info)
{
	json_t			*e = json_array_get(mp->phases, mp->at), *v;
	json_t			*ops;
	enum mpage_phase	 ph;
	struct meeting_plan	 p;
	struct err		 err;
	size_t			 i;

	if (mp->r->type == REC_VENUE) {
		venue_page_people(mp, pc, cursor, e, ids, snap);
		return;
	}
	ph = (enum mpage_phase)json_integer_value(json_object_get(e, "phase"));
	mpage_page_snap(mp, snap, ids, info, ph);
	if (meeting_plan_init(&p, mp->w, snap, pc, NULL, &err) == -1) {
		mpage_advance(mp, "0");
		return;
	}
	p.paged = 1;
	p.mv = &mp->mv;
	p.seq = mp->mv.seq;
	json_array_foreach(ids, i, v) {
		ops = json_array();
		p.ops = ops;
		mpage_person(mp, &p, ph, json_string_value(v),
		    json_object_get(info, json_string_value(v)));
		mpage_add_ops(mp, ops);
		json_decref(ops);
	}
	json_decref(p.pending);
	json_decref(p.part);
	json_decref(p.access);
	mpage_flush(mp);
	mpage_advance(mp, cursor);
}

/* A page of the pending index: what this version made stale goes. */
void
mpage_phase_swept(struct mpage *mp, const struct plan_ctx *pc,
    const char *cursor, json_t *ids)
{
	struct meeting_plan	 p;
	struct err		 err;
	json_t			*ops = json_array(), *v;
	const char		*did;
	size_t			 i;
	int			 drop;

	if (meeting_plan_init(&p, mp->w, mp->snap, pc, ops, &err) == 0) {
		p.seq = mp->mv.seq;
		json_array_foreach(ids, i, v) {
			did = json_string_value(v);
			if (mp->mv.what == MEETING_HELD)
				drop = 1;
			else if (mp->mv.what == MEETING_CHANGE)
				drop = meeting_is_reminder(did) &&
				    !meeting_mine(&p, did);
			else
				drop = !meeting_mine(&p, did);
			if (drop)
				store_op_drop(ops, did);
		}
		json_decref(p.part);
	}
	mpage_add_ops(mp, ops);
	json_decref(ops);
	mpage_flush(mp);
	mpage_advance(mp, cursor);
}

/* Is anyone invited before not invited now? The first one found is
 * enough: the SEQUENCE goes up, and the drop phase finds them all. */
void
mpage_survey_people(struct mpage *mp, const char *cursor, json_t *ids,
    json_t *snap, json_t *info)
{
	json_t		*v, *in;
	size_t		 i;

	json_array_foreach(ids, i, v) {
		in = json_object_get(info, json_string_value(v));
		if (json_string_value(json_object_get(in, "mi")) != NULL &&
		    !mpage_member(mp, snap, json_string_value(v), in))
			mp->removals = 1;
	}
	mp->pages++;
	snprintf(mp->cursor, sizeof mp->cursor, "%s", cursor);
	if (mp->removals || strcmp(cursor, "0") == 0) {
		mp->cursor[0] = '\0';
		mp->step = MPAGE_S_START;
	}
}

/* What the pages gathered, made into the notices, under the marker; the
 * marker says it is done, and the gathered hash goes. */
void
mpage_gather_ops(struct mpage *mp, const struct plan_ctx *pc)
{
	struct meeting_plan	 p;
	struct err		 err;
	json_t			*ops = json_array();

	store_op_ifmark(ops, "meeting", mp->w->id, mp->ver);
	if (meeting_plan_init(&p, mp->w, mp->snap, pc, ops, &err) == 0) {
		p.mv = &mp->mv;
		p.seq = mp->mv.seq;
		json_decref(p.part);
		p.part = mp->gathered ? mp->gathered : json_object();
		mp->gathered = NULL;
		if (mp->mv.timing_new)
			meeting_short_notice(&p);
		meeting_gathered(&p);
		json_decref(p.part);
	}
	store_op_mark_set(ops, "meeting", mp->w->id, "gathered", "1");
	store_op_part_del(ops, mp->w->id);
	mpage_queue(mp, ops, MPAGE_C_GATHER);
}
