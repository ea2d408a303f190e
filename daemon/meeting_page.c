/*
 * meeting_page.c: a meeting planned in pages (meeting_page.h): which step
 * comes next, the commits queued, and what each reply means; the small
 * meeting planned whole; the tail. The steps up to the first commit are
 * meeting_head.c's, the pages meeting_phase.c's. Pure: no I/O, any
 * thread; intake_meeting.c reads and commits what this asks for.
 *
 * Every step that reads before the version is stored (head, the small
 * meeting's fetches, check, survey) reads at one version: the start
 * commit (or the small meeting's one commit) applies only if nothing was
 * committed since, else everything is read again from the head. After
 * the start, every page commit applies only while the marker is this
 * version's; if it is not (another daemon finished it), what is left is
 * theirs. A marker found at the head is finished first, whoever's it is:
 * pages made again change nothing that is done (a delivery is never made
 * twice, the invited hash and the gathered hash are set, not added to).
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

int
mpage_wants(const struct record *r)
{
	return r->type == REC_MEETING || r->type == REC_VENUE;
}

struct mpage *
mpage_new(const struct record *r, const char *entry)
{
	struct mpage	*mp = xcalloc(1, sizeof *mp);

	mp->r = r;
	mp->type = record_type_name(r->type);
	mp->entry = xstrdup(entry);
	mp->commits = json_array();
	mpage_restart(mp);
	return mp;
}

/* Forget everything read and decided: the head is read again. */
void
mpage_restart(struct mpage *mp)
{
	json_decref(mp->snap);
	json_decref(mp->need);
	json_decref(mp->invitees);
	json_decref(mp->groups);
	json_decref(mp->chunks);
	json_decref(mp->checksnap);
	json_decref(mp->legacy);
	json_decref(mp->phases);
	json_decref(mp->chunk);
	json_decref(mp->gathered);
	json_decref(mp->inflight_ops);
	json_decref(mp->vplan);
	mp->vplan = NULL;
	mp->snap = json_object();
	mp->need = mp->invitees = mp->groups = mp->chunks = NULL;
	mp->checksnap = mp->legacy = mp->phases = mp->chunk = NULL;
	mp->gathered = mp->inflight_ops = NULL;
	json_array_clear(mp->commits);
	record_clear(&mp->own);
	mp->w = NULL;
	free(mp->ver);
	mp->ver = NULL;
	mp->other = 0;
	if (mp->decided)
		meeting_version_clear(&mp->mv);
	mp->decided = 0;
	mp->version[0] = '\0';
	mp->rounds = 0;
	mp->nchecked = mp->nmigrated = mp->at = 0;
	mp->removals = mp->gathered_all = mp->stored = 0;
	mp->cursor[0] = '\0';
	mp->inflight = MPAGE_C_NONE;
	mp->step = MPAGE_S_HEAD;
	mp->tries++;
}

void
mpage_free(struct mpage *mp)
{
	if (mp == NULL)
		return;
	mpage_restart(mp);
	json_decref(mp->snap);
	json_decref(mp->commits);
	free(mp->entry);
	free(mp);
}

void
mpage_queue(struct mpage *mp, json_t *ops, enum mpage_commit kind)
{
	json_array_append_new(mp->commits, json_pack("{s:o, s:i}", "ops", ops,
	    "kind", (int)kind));
}

int
mpage_consents(json_t *snap, const char *cid)
{
	json_t	*c = plan_snaprec(snap, "collaborator", cid);

	return c != NULL && json_is_true(json_object_get(c, "consent"));
}

/* The last commit: the marker goes; the entry is acknowledged, unless
 * the version finished is another entry's. */
static void
mpage_tail(struct mpage *mp)
{
	json_t	*ops = json_array();

	if (mp->ver != NULL)
		store_op_unmark(ops, mp->type, mp->r->id, mp->ver);
	mpage_queue(mp, ops, MPAGE_C_TAIL);
}

/* One more round of fetching: need is what it reads (mp keeps it). */
static int
mpage_round(struct mpage *mp, struct mpage_io *io, json_t *need)
{
	mp->rounds++;
	json_decref(mp->need);
	mp->need = need;
	io->keys = need;
	return MPAGE_FETCH;
}

/* The small meeting's keys still to fetch (plan_needs: MPAGE_FETCH), or
 * plan it (its commit queued: -1). */
static int
mpage_whole_step(struct mpage *mp, const struct plan_ctx *pc,
    struct mpage_io *io)
{
	json_t	*need = json_array(), *ops;

	if (mp->rounds < PLAN_MAX_ROUNDS &&
	    plan_needs(mp->r, mp->snap, need) > 0)
		return mpage_round(mp, io, need);
	json_decref(need);
	ops = json_array();
	if (plan_apply(mp->r, mp->snap, pc, ops, &io->e) == -1) {
		json_decref(ops);
		mp->step = MPAGE_S_REJECT;
		return MPAGE_REJECT;
	}
	mpage_queue(mp, ops, MPAGE_C_WHOLE);
	return -1;
}

/* The next commit queued, if any, into io. */
static int
mpage_pop(struct mpage *mp, struct mpage_io *io)
{
	json_t	*c = json_array_get(mp->commits, 0);

	if (c == NULL)
		return 0;
	json_decref(mp->inflight_ops);
	mp->inflight_ops = json_incref(json_object_get(c, "ops"));
	mp->inflight = (enum mpage_commit)json_integer_value(json_object_get(c,
	    "kind"));
	json_array_remove(mp->commits, 0);
	io->ops = mp->inflight_ops;
	io->version = "";
	io->entry = "";
	switch (mp->inflight) {
	case MPAGE_C_WHOLE:
	case MPAGE_C_ACK:
		store_op_audit(io->ops, "event", "accepted", "entry",
		    mp->entry, "type", mp->type, "id", mp->r->id, NULL);
		io->version = mp->version;
		io->entry = mp->entry;
		break;
	case MPAGE_C_START:
		io->version = mp->version;
		break;
	case MPAGE_C_TAIL:
		if (!mp->other) {
			store_op_audit(io->ops, "event", "accepted", "entry",
			    mp->entry, "type", mp->type, "id", mp->r->id,
			    NULL);
			io->entry = mp->entry;
		}
		break;
	default:
		break;
	}
	return 1;
}

/* The head's next read (MPAGE_FETCH), or what it says to do (-1). */
static int
mpage_head_read(struct mpage *mp, const struct plan_ctx *pc,
    struct mpage_io *io)
{
	json_t	*need = mpage_head_need(mp, pc);

	if (json_array_size(need) > 0 && mp->rounds < PLAN_MAX_ROUNDS)
		return mpage_round(mp, io, need);
	json_decref(need);
	mpage_headed(mp, pc, io);
	return -1;
}

enum mpage_do
mpage_next(struct mpage *mp, const struct plan_ctx *pc, struct mpage_io *io)
{
	enum mpage_do	 d;
	int		 n;

	for (;;) {
		if (mpage_pop(mp, io))
			return MPAGE_COMMIT;
		switch (mp->step) {
		case MPAGE_S_HEAD:
			if ((n = mpage_head_read(mp, pc, io)) != -1)
				return (enum mpage_do)n;
			break;
		case MPAGE_S_WHOLE:
			if ((n = mpage_whole_step(mp, pc, io)) != -1)
				return (enum mpage_do)n;
			break;
		case MPAGE_S_CHECK:
			if (mp->nchecked < json_array_size(mp->chunks)) {
				io->ids = json_array_get(mp->chunks,
				    mp->nchecked);
				return MPAGE_CHECK;
			}
			mpage_checked_all(mp, pc, io);
			break;
		case MPAGE_S_MIGRATE:
			if (mp->nmigrated < json_array_size(mp->legacy)) {
				mpage_migrate(mp);
				break;
			}
			json_decref(mp->legacy);
			mp->legacy = NULL;
			mp->step = mp->mv.what == MEETING_CHANGE &&
			    !mp->mv.removals ? MPAGE_S_SURVEY : MPAGE_S_START;
			break;
		case MPAGE_S_SURVEY:
			mpage_survey_read(mp, io);
			return MPAGE_PEOPLE;
		case MPAGE_S_START:
			mp->step = MPAGE_S_PHASES;
			if (mp->r->type == REC_VENUE) {
				venue_page_start(mp, pc);
				venue_page_phases(mp);
				break;
			}
			mpage_start(mp, pc);
			mpage_phases(mp);
			break;
		case MPAGE_S_PHASES:
			if ((n = mpage_phase_read(mp, pc, io, &d)) == 1)
				return d;
			if (n == -1)
				break;	/* a commit queued (the store) */
			mp->step = mpage_gathers(mp) ? MPAGE_S_GATHER :
			    MPAGE_S_TAIL;
			mp->cursor[0] = '\0';
			break;
		case MPAGE_S_GATHER:
			if (mp->gathered_all) {
				mpage_gather_ops(mp, pc);
				mp->step = MPAGE_S_TAIL;
				break;
			}
			/* A call list entry of an update carries its
			 * changes (an agenda may be long): a page of
			 * people, not of ids. */
			store_partkey(mp->r->id, io->key, sizeof io->key);
			io->cursor = mp->cursor[0] ? mp->cursor : "0";
			io->count = MPAGE_PAGE;
			return MPAGE_GATHER;
		case MPAGE_S_TAIL:
			mpage_tail(mp);
			mp->step = MPAGE_S_DONE;
			break;
		case MPAGE_S_DONE:
			return MPAGE_DONE;
		case MPAGE_S_REJECT:
			return MPAGE_REJECT;
		}
	}
}

void
mpage_fetched(struct mpage *mp, json_t *snap, const char *version)
{
	json_decref(mp->need);
	mp->need = NULL;
	if (mp->version[0] == '\0')
		snprintf(mp->version, sizeof mp->version, "%s", version);
	else if (strcmp(mp->version, version) != 0) {
		/* Moved under us between reads: from the head again. */
		mpage_restart(mp);
		return;
	}
	json_object_update(mp->snap, snap);
}

void
mpage_people(struct mpage *mp, const struct plan_ctx *pc, const char *cursor,
    json_t *ids, json_t *snap, json_t *info)
{
	if (mp->step == MPAGE_S_SURVEY) {
		mpage_survey_people(mp, cursor, ids, snap, info);
		if (mp->step == MPAGE_S_START && mp->removals)
			mpage_decide(mp, pc, NULL);
		return;
	}
	mpage_phase_people(mp, pc, cursor, ids, snap, info);
}

void
mpage_swept(struct mpage *mp, const struct plan_ctx *pc, const char *cursor,
    json_t *ids)
{
	mpage_phase_swept(mp, pc, cursor, ids);
}

void
mpage_gathered(struct mpage *mp, const char *cursor, json_t *fields)
{
	const char	*f;
	json_t		*v, *j;

	if (mp->gathered == NULL)
		mp->gathered = json_object();
	/* What the notices are made of; a cancellation's saved guards
	 * ("g:") are not (and are gone once it is made). */
	json_object_foreach(fields, f, v)
		if ((f[0] == 'a' || f[0] == 'c') && f[1] == ':' &&
		    (j = json_loads(json_string_value(v), 0, NULL)) != NULL)
			json_object_set_new(mp->gathered, f, j);
	snprintf(mp->cursor, sizeof mp->cursor, "%s", cursor);
	if (strcmp(cursor, "0") == 0)
		mp->gathered_all = 1;
}

void
mpage_committed(struct mpage *mp, int reply)
{
	enum mpage_commit	kind = mp->inflight;

	mp->inflight = MPAGE_C_NONE;
	if (reply == 1)
		mp->planned += (long long)json_array_size(mp->inflight_ops);
	json_decref(mp->inflight_ops);
	mp->inflight_ops = NULL;
	switch (kind) {
	case MPAGE_C_WHOLE:
	case MPAGE_C_ACK:
	case MPAGE_C_START:
		if (reply == 0)
			mpage_restart(mp);
		else if (kind != MPAGE_C_START)
			mp->step = MPAGE_S_DONE;
		break;
	case MPAGE_C_PAGE:
	case MPAGE_C_GATHER:
		if (reply != 2)
			break;
		/* The marker is not this version's any more: whoever
		 * finished it did the rest. */
		json_array_clear(mp->commits);
		json_decref(mp->chunk);
		mp->chunk = NULL;
		mp->step = MPAGE_S_TAIL;
		break;
	case MPAGE_C_TAIL:
		/* Another entry's version finished: now this one's. */
		if (mp->other)
			mpage_restart(mp);
		else
			mp->step = MPAGE_S_DONE;
		break;
	default:
		break;
	}
}

const char *
mpage_note(struct mpage *mp, char *buf, size_t len)
{
	if (mp->note[0] == '\0')
		return NULL;
	snprintf(buf, len, "%s", mp->note);
	mp->note[0] = '\0';
	return buf;
}

const char *
mpage_version(const struct mpage *mp)
{
	return mp->ver ? mp->ver : mp->entry;
}

int
mpage_paged(const struct mpage *mp)
{
	return mp->paged;
}

int
mpage_pages(const struct mpage *mp)
{
	return mp->pages;
}

long long
mpage_planned(const struct mpage *mp)
{
	return mp->planned;
}

