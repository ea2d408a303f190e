/*
 * meeting_head.c: a meeting planned in pages (meeting_page.h), up to its
 * first commit: the head (what is stored, the marker, the sizes), whether
 * it is small enough to plan whole, the check of the collaborators it
 * names, what the version does (with the survey for someone taken off),
 * a legacy list of invited moved into the hash, and the start: the record
 * and the marker, committed at the version the head was read at. Pure:
 * no I/O, any thread.
 *
 * A marker found at the head is a version paged before and not finished:
 * it is finished first, as it was decided (the marker keeps the
 * decision), with the stored record; this entry's own version comes
 * after, unless it asks for what is stored already.
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
#include "util.h"

void
mpage_need(struct mpage *mp, json_t *need, const char *key)
{
	if (json_object_get(mp->snap, key) != NULL ||
	    util_json_has(need, key))
		return;
	json_array_append_new(need, json_string(key));
}

/* A meeting record's venue, and its groups' sizes. */
static void
mpage_need_record(struct mpage *mp, json_t *need, json_t *m)
{
	char		 key[STORE_KEY_MAX], card[STORE_KEY_MAX + 8];
	const char	*v = meeting_str(m, "venue");
	json_t		*g;
	size_t		 i;

	if (v != NULL)
		mpage_need(mp, need, store_reckey("venue", v, key, sizeof key));
	json_array_foreach(json_object_get(m, "groups"), i, g) {
		if (!json_is_string(g))
			continue;
		snprintf(card, sizeof card, "#card:%s", store_setkey(
		    STORE_GROUP, json_string_value(g), key, sizeof key));
		mpage_need(mp, need, card);
	}
}

/* The head's keys still to read (a new array). A merge record's whole is
 * made once the stored record is read, to read what it names. */
json_t *
mpage_head_need(struct mpage *mp, const struct plan_ctx *pc)
{
	json_t	*need = json_array();
	char	 key[STORE_KEY_MAX], k2[STORE_KEY_MAX + 8];
	json_t	*stored;

	mpage_need(mp, need, store_reckey(mp->type, mp->r->id, key,
	    sizeof key));
	mpage_need(mp, need, store_markkey(mp->type, mp->r->id, key,
	    sizeof key));
	if (mp->r->type == REC_VENUE) {
		venue_page_need(mp, need);
		return need;
	}
	snprintf(k2, sizeof k2, "#hlen:%s", store_invkey(mp->r->id, key,
	    sizeof key));
	mpage_need(mp, need, k2);
	snprintf(k2, sizeof k2, "#card:%s", store_setkey(
	    STORE_MEETING_DELIVERIES, mp->r->id, key, sizeof key));
	mpage_need(mp, need, k2);
	mpage_need(mp, need, store_setkey(STORE_GROUPS, NULL, key,
	    sizeof key));
	if (!mp->r->merge)
		mpage_need_record(mp, need, mp->r->json);
	if (json_object_get(mp->snap, store_reckey("meeting", mp->r->id, key,
	    sizeof key)) == NULL)
		return need;
	if ((stored = plan_snaprec(mp->snap, "meeting", mp->r->id)) != NULL)
		mpage_need_record(mp, need, stored);
	if (mp->w == NULL && mp->r->merge)
		(void)mpage_whole(mp, pc, NULL);
	if (mp->w != NULL)
		mpage_need_record(mp, need, mp->w->json);
	return need;
}

json_t *
mpage_stored_wrap(struct mpage *mp)
{
	char	 key[STORE_KEY_MAX];
	json_t	*w = json_object_get(mp->snap, store_reckey(mp->type,
	    mp->r->id, key, sizeof key));

	return json_is_object(w) ? w : NULL;
}

json_t *
mpage_mark(struct mpage *mp)
{
	char	key[STORE_KEY_MAX];

	return json_object_get(mp->snap, store_markkey(mp->type, mp->r->id,
	    key, sizeof key));
}

long long
mpage_int(struct mpage *mp, const char *fmt, const char *key)
{
	char	k[STORE_KEY_MAX + 8];

	snprintf(k, sizeof k, fmt, key);
	return json_integer_value(json_object_get(mp->snap, k));
}

/* The whole this entry asks for: its record, or the stored one merged
 * with it. -1 with e (the merge's words, as plan_apply() says them). */
int
mpage_whole(struct mpage *mp, const struct plan_ctx *pc, struct err *e)
{
	struct record_opts	o = { mp->r->tz,
				    (size_t)pc->cf->max_record_bytes };

	record_clear(&mp->own);
	if (!mp->r->merge) {
		mp->w = mp->r;
		return 0;
	}
	if (record_merge(plan_snaprec(mp->snap, mp->type, mp->r->id), mp->r,
	    &o, &mp->own, e) == -1)
		return -1;
	mp->w = &mp->own;
	return 0;
}

/* w's invitees as a set, its groups' names unique. */
static void
mpage_audience(struct mpage *mp)
{
	json_t	*v;
	size_t	 i;

	json_decref(mp->invitees);
	json_decref(mp->groups);
	mp->invitees = json_object();
	mp->groups = json_array();
	json_array_foreach(json_object_get(mp->w->json, "invitees"), i, v)
		if (json_is_string(v))
			json_object_set_new(mp->invitees, json_string_value(v),
			    json_true());
	json_array_foreach(json_object_get(mp->w->json, "groups"), i, v) {
		size_t	j;
		json_t	*g;
		int	dup = 0;

		json_array_foreach(mp->groups, j, g)
			if (json_equal(g, v))
				dup = 1;
		if (json_is_string(v) && !dup)
			json_array_append(mp->groups, v);
	}
}

/* A legacy record's list of invited (its meta), or NULL. */
static json_t *
mpage_legacy(struct mpage *mp)
{
	json_t	*l = json_object_get(json_object_get(mpage_stored_wrap(mp),
	    "meta"), "invited");

	return json_is_array(l) ? l : NULL;
}

/* Small enough for one commit, as ever? */
static int
mpage_small(struct mpage *mp)
{
	char		 key[STORE_KEY_MAX];
	long long	 now = json_array_size(json_object_get(mp->w->json,
	    "invitees")), before;
	json_t		*g;
	size_t		 i;

	json_array_foreach(mp->groups, i, g)
		now += mpage_int(mp, "#card:%s", store_setkey(STORE_GROUP,
		    json_string_value(g), key, sizeof key));
	before = mpage_legacy(mp) ? (long long)json_array_size(
	    mpage_legacy(mp)) : mpage_int(mp, "#hlen:%s",
	    store_invkey(mp->r->id, key, sizeof key));
	return now <= MPAGE_WHOLE && before <= MPAGE_WHOLE &&
	    mpage_int(mp, "#card:%s", store_setkey(STORE_MEETING_DELIVERIES,
	    mp->r->id, key, sizeof key)) <= MPAGE_WHOLE_PENDING;
}

/* Does this entry ask for what is stored (its record, or the stored one
 * merged with it)? */
int
mpage_same(struct mpage *mp, const struct plan_ctx *pc, json_t *stored)
{
	struct record_opts	o = { mp->r->tz,
				    (size_t)pc->cf->max_record_bytes };
	struct record		w;
	int			same;

	if (!mp->r->merge)
		return json_equal(mp->r->json, stored);
	memset(&w, 0, sizeof w);
	if (record_merge(stored, mp->r, &o, &w, NULL) == -1)
		return 0;
	same = json_equal(w.json, stored);
	record_clear(&w);
	return same;
}

/*
 * A marker at the head: a version paged before and not finished. It is
 * finished first, as it was decided, with the stored record; this
 * entry's own version is planned after, unless it asks for what is
 * stored already (then finishing it is all there is to do).
 */
static int
mpage_finish(struct mpage *mp, const struct plan_ctx *pc, const char *mver)
{
	json_t		*stored = plan_snaprec(mp->snap, "meeting", mp->r->id);
	json_t		*mark = mpage_mark(mp), *rec = NULL;
	const char	*text = store_mark_field(mark, "rec");
	struct err	 e;
	struct record_opts o = { pc->cf->timezone, 1 << 24 };

	mp->ver = xstrdup(mver);
	mp->other = 1;
	/* A cancellation not stored yet: its record is the marker's. */
	mp->stored = text == NULL || store_mark_field(mark, "stored") != NULL;
	if (!mp->stored)
		stored = rec = json_loads(text, 0, NULL);
	if (stored == NULL || meeting_version_load(store_mark_field(mark,
	    "plan"), &mp->mv) == -1 || record_check(stored, &o, &mp->own,
	    &e) == -1) {
		/* Nothing to finish with: the marker just goes. */
		json_decref(rec);
		mp->step = MPAGE_S_TAIL;
		return 0;
	}
	mp->decided = 1;
	if (strcmp(mver, mp->entry) == 0 || mpage_same(mp, pc, stored))
		mp->other = 0;
	json_decref(rec);
	snprintf(mp->note, sizeof mp->note, "finishing version %s, paged "
	    "before and not finished%s", mver, mp->other ? " (this entry's "
	    "comes after)" : "");
	mp->w = &mp->own;
	mpage_audience(mp);
	mp->paged = 1;
	if (store_mark_field(mark, "gathered") != NULL)
		mp->step = MPAGE_S_TAIL;
	else {
		mpage_phases(mp);
		mp->step = MPAGE_S_PHASES;
	}
	return 0;
}

/* The head is read: what is to be done. */
void
mpage_headed(struct mpage *mp, const struct plan_ctx *pc, struct mpage_io *io)
{
	const char	*mver = store_mark_field(mpage_mark(mp), "ver");
	json_t		*ids, *cur = NULL, *v;
	size_t		 i;

	if (mp->r->type == REC_VENUE) {
		venue_page_headed(mp, pc, io);
		return;
	}
	if (mver != NULL) {
		mpage_finish(mp, pc, mver);
		return;
	}
	if (mp->w == NULL && mpage_whole(mp, pc, &io->e) == -1) {
		mp->step = MPAGE_S_REJECT;
		return;
	}
	mpage_audience(mp);
	if (mpage_small(mp)) {
		mp->step = MPAGE_S_WHOLE;
		mp->rounds = 0;
		return;
	}
	/* The collaborators it names, a chunk at a time. */
	mp->paged = 1;
	mp->chunks = json_array();
	ids = json_object_get(mp->w->json, "invitees");
	json_array_foreach(ids, i, v) {
		if (cur == NULL || json_array_size(cur) >= MPAGE_PAGE) {
			cur = json_array();
			json_array_append_new(mp->chunks, cur);
		}
		json_array_append(cur, v);
	}
	mp->checksnap = json_deep_copy(mp->snap);
	mp->step = MPAGE_S_CHECK;
}

/* The version's record stored (its meta: the SEQUENCE and the start, as
 * the version's entry stored it), and the venue's index of meetings in
 * step. */
void
mpage_store(struct mpage *mp, const struct plan_ctx *pc, json_t *ops)
{
	struct plan_ctx		 vc = { pc->cf, pc->now_ms, mp->ver };
	struct meeting_plan	 p;
	json_t			*meta, *stored;
	const char		*ov;
	struct err		 e;

	meeting_plan_init(&p, mp->w, mp->snap, pc, ops, &e);
	meta = json_pack("{s:i, s:I}", "seq", mp->mv.seq, "start",
	    (json_int_t)p.start);
	plan_store(ops, mp->w, &vc, meta);
	json_decref(meta);
	stored = plan_snaprec(mp->snap, "meeting", mp->r->id);
	ov = meeting_str(stored, "venue");
	if (ov && (p.vid == NULL || strcmp(ov, p.vid) != 0))
		store_op_srem(ops, STORE_VENUE_MEETINGS, ov, p.mid);
	if (p.vid)
		store_op_sadd(ops, STORE_VENUE_MEETINGS, p.vid, p.mid);
	json_decref(p.part);
}

/*
 * The marker, at the version read, and the record with it. A
 * cancellation's record waits (in the marker) until everyone's pending
 * emails are withdrawn: until then an email that falls due is sent as
 * the meeting stood, and its cancellation follows it; never an
 * invitation to a meeting already cancelled.
 */
void
mpage_start(struct mpage *mp, const struct plan_ctx *pc)
{
	json_t	*ops = json_array();
	char	*plan, *text;

	free(mp->ver);
	mp->ver = xstrdup(mp->entry);
	mp->other = 0;
	mp->stored = mp->mv.what != MEETING_CANCEL;
	if (mp->stored)
		mpage_store(mp, pc, ops);
	plan = meeting_version_dump(&mp->mv);
	store_op_mark_plan(ops, "meeting", mp->r->id, mp->entry, plan);
	free(plan);
	if (!mp->stored) {
		text = store_dump(mp->w->json);
		store_op_mark_set(ops, "meeting", mp->r->id, "rec", text);
		free(text);
	}
	store_op_part_del(ops, mp->r->id);
	snprintf(mp->note, sizeof mp->note, "version %s begins, in pages "
	    "(SEQUENCE %d)", mp->ver, mp->mv.seq);
	mpage_queue(mp, ops, MPAGE_C_START);
}

/* What the version does, once the survey (if any) is over. */
void
mpage_decide(struct mpage *mp, const struct plan_ctx *pc, struct err *e)
{
	struct meeting_plan	p;

	if (mp->decided)
		meeting_version_clear(&mp->mv);
	if (meeting_plan_init(&p, mp->w, mp->snap, pc, NULL, e) == -1) {
		mp->step = MPAGE_S_REJECT;
		return;
	}
	meeting_decide(&p, mpage_stored_wrap(mp), mp->removals, &mp->mv);
	json_decref(p.part);
	mp->decided = 1;
	/* Someone may be taken off only by a change; a change of what
	 * people read raised the SEQUENCE already, and then everyone
	 * invited before is looked at anyway. */
	if (mp->mv.what == MEETING_CHANGE &&
	    json_array_size(mp->mv.changes) > 0)
		mp->mv.removals = 1;
}

/* The checks are over: refused, nothing to do, or on to the start. */
void
mpage_checked_all(struct mpage *mp, const struct plan_ctx *pc,
    struct mpage_io *io)
{
	char	key[STORE_KEY_MAX];
	json_t	*legacy;

	if (plan_verify(mp->w, mp->checksnap, NULL, pc->now_ms,
	    (size_t)pc->cf->max_record_bytes, &io->e) == -1) {
		mp->step = MPAGE_S_REJECT;
		return;
	}
	if (plan_unchanged(mp->w, mp->snap) ||
	    plan_superseded(mp->w, mp->snap, mp->entry)) {
		mp->paged = 0;
		mpage_queue(mp, json_array(), MPAGE_C_ACK);
		return;
	}
	mpage_decide(mp, pc, &io->e);
	if (mp->step == MPAGE_S_REJECT)
		return;
	if ((legacy = mpage_legacy(mp)) != NULL &&
	    json_array_size(legacy) > 0) {
		mp->legacy = json_incref(legacy);
		mp->step = MPAGE_S_MIGRATE;
		return;
	}
	mp->step = mpage_int(mp, "#hlen:%s", store_invkey(mp->r->id, key,
	    sizeof key)) > 0 && !mp->mv.removals &&
	    mp->mv.what == MEETING_CHANGE ? MPAGE_S_SURVEY : MPAGE_S_START;
}

/* A legacy list of who is invited goes into the hash, a part at a time
 * (set, not added to: done again, it changes nothing). */
void
mpage_migrate(struct mpage *mp)
{
	json_t	*ops = json_array(), *part = json_array();
	size_t	 n = json_array_size(mp->legacy);

	if (mp->nmigrated == 0)
		store_op_invited_del(ops, mp->r->id);
	while (mp->nmigrated < n && json_array_size(part) < MPAGE_OPS)
		json_array_append(part, json_array_get(mp->legacy,
		    mp->nmigrated++));
	store_op_invite(ops, mp->r->id, part, "");
	json_decref(part);
	mpage_queue(mp, ops, MPAGE_C_MIGRATE);
}

void
mpage_checked(struct mpage *mp, json_t *snap)
{
	json_t		*fg, *mine, *v;
	size_t		 i;
	const char	*key;

	/* Existence is all the check needs: an empty record stands in. */
	json_object_foreach(snap, key, v) {
		if (strcmp(key, "forgotten") == 0)
			continue;
		json_object_set_new(mp->checksnap, key, json_is_object(v) ?
		    json_pack("{s:{}}", "record") : json_null());
	}
	if ((fg = json_object_get(snap, "forgotten")) != NULL) {
		if ((mine = json_object_get(mp->checksnap, "forgotten")) ==
		    NULL || !json_is_array(mine)) {
			mine = json_array();
			json_object_set_new(mp->checksnap, "forgotten", mine);
		}
		json_array_foreach(fg, i, v)
			json_array_append(mine, v);
	}
	mp->nchecked++;
}


/* A page of who is invited, to look for someone taken off. */
void
mpage_survey_read(struct mpage *mp, struct mpage_io *io)
{
	memset(&io->people, 0, sizeof io->people);
	io->people.mid = mp->r->id;
	io->people.want = "rig";
	snprintf(io->key, sizeof io->key, "h:");
	store_invkey(mp->r->id, io->key + 2, sizeof io->key - 2);
	io->people.src = io->key;
	io->people.cursor = mp->cursor[0] ? mp->cursor : "0";
	io->people.count = MPAGE_PAGE;
	io->people.groups = mp->groups;
}
