/*
 * intake_meeting.c: the Redis round trips of a meeting entry in hand (or a
 * venue's: its access updates go to everyone invited to its meetings).
 *
 * Main thread only, on intake's Redis connection; intake_fanout.c hands
 * the entry over (intake_meeting_start) with it->fo made. meeting_page.c
 * decides each step without I/O (mpage_next: read this, commit that); this
 * file does it, feeds the reply back and asks again, one call in flight,
 * and calls back into intake.c (intake_impl.h) when the entry is done,
 * refused or let go. It owns what it->fo's meeting state asks for, and
 * it->need while a fetch is on the wire.
 *
 * A small meeting is planned whole, in one commit that also acknowledges
 * the entry (as every meeting was); a large one in pages, the entry
 * acknowledged by the last commit (SPEC section 5: it leaves the inbox
 * only once everything it causes is stored). Any call that fails lets go
 * of the entry, which stays pending with its marker: read again (after a
 * crash too), the marker's version is finished first, from the top, and
 * what is done stays done.
 */
#include <sys/queue.h>

#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "config.h"
#include "fanout.h"
#include "intake_impl.h"
#include "intake_meeting.h"
#include "log.h"
#include "meeting_page.h"
#include "plan.h"
#include "record.h"
#include "store.h"

static void intake_meeting_step(struct intake *);

static struct mpage *
intake_mp(struct intake *it)
{
	return fanout_meeting(it->fo);
}

static struct plan_ctx
intake_meeting_ctx(struct intake *it)
{
	struct plan_ctx	pc = { it->cf, util_now_ms(), intake_cur(it)->id };

	return pc;
}

static void
intake_meeting_on_fetch(redisAsyncContext *ac, void *r, void *priv)
{
	struct intake	*it = priv;
	json_t		*snap;
	struct err	 e;
	char		 version[32];
	int		 n;

	if (!intake_reply(it, r, "fetch"))
		return;
	snap = json_object();
	n = store_snap_merge(snap, it->need, r, version, sizeof version, &e);
	json_decref(it->need);
	it->need = NULL;
	if (intake_parsed(it, n, &e) == -1) {
		json_decref(snap);
		return;
	}
	mpage_fetched(intake_mp(it), snap, version);
	json_decref(snap);
	intake_meeting_step(it);
}

/* A chunk of invitees read (store_page_ids), or a page of the pending
 * index (ids only): sweep says which. */
static void
intake_meeting_ids(struct intake *it, redisReply *r, int sweep)
{
	struct plan_ctx	 pc;
	json_t		*snap, *ids;
	struct err	 e;
	char		 cursor[64];

	if (!intake_reply(it, r, "page"))
		return;
	snap = json_object();
	if (intake_parsed(it, store_page_parse(r, cursor, sizeof cursor, snap,
	    &ids, &e), &e) == -1) {
		json_decref(snap);
		return;
	}
	pc = intake_meeting_ctx(it);
	if (sweep)
		mpage_swept(intake_mp(it), &pc, cursor, ids);
	else
		mpage_checked(intake_mp(it), snap);
	json_decref(ids);
	json_decref(snap);
	intake_meeting_step(it);
}

static void
intake_meeting_on_check(redisAsyncContext *ac, void *r, void *priv)
{
	intake_meeting_ids(priv, r, 0);
}

static void
intake_meeting_on_sweep(redisAsyncContext *ac, void *r, void *priv)
{
	intake_meeting_ids(priv, r, 1);
}

static void
intake_meeting_on_people(redisAsyncContext *ac, void *r, void *priv)
{
	struct intake	*it = priv;
	struct plan_ctx	 pc;
	json_t		*snap, *ids, *info;
	struct err	 e;
	char		 cursor[64];

	if (!intake_reply(it, r, "page"))
		return;
	snap = json_object();
	if (intake_parsed(it, store_people_parse(r, cursor, sizeof cursor,
	    snap, &ids, &info, &e), &e) == -1) {
		json_decref(snap);
		return;
	}
	pc = intake_meeting_ctx(it);
	mpage_people(intake_mp(it), &pc, cursor, ids, snap, info);
	json_decref(ids);
	json_decref(info);
	json_decref(snap);
	intake_meeting_step(it);
}

static void
intake_meeting_on_gather(redisAsyncContext *ac, void *r, void *priv)
{
	struct intake	*it = priv;
	json_t		*fields;
	struct err	 e;
	char		 cursor[64];

	if (!intake_reply(it, r, "page") || intake_parsed(it,
	    store_hscan_parse(r, cursor, sizeof cursor, &fields, &e), &e) == -1)
		return;
	mpage_gathered(intake_mp(it), cursor, fields);
	json_decref(fields);
	intake_meeting_step(it);
}

static void
intake_meeting_on_commit(redisAsyncContext *ac, void *r, void *priv)
{
	struct intake	*it = priv;
	redisReply	*reply = r;

	if (!intake_reply(it, r, "commit"))
		return;
	if (reply->type != REDIS_REPLY_INTEGER) {
		log_warnx("intake: entry %s: commit: unexpected reply",
		    intake_cur(it)->id);
		intake_later(it);
		return;
	}
	if (reply->integer == 0)
		intake_conflict(intake_cur(it)->id, &it->tries);
	mpage_committed(intake_mp(it), (int)reply->integer);
	/* What the commit made due goes out while later pages are
	 * planned. */
	if (reply->integer == 1 && it->commit_fn)
		it->commit_fn(it->arg);
	intake_meeting_step(it);
}

static void
intake_meeting_done(struct intake *it)
{
	struct intake_entry	*en = intake_cur(it);
	struct mpage		*mp = intake_mp(it);

	if (mpage_paged(mp))
		log_info("intake: %s %s: version %s planned in pages "
		    "(%d pages, %lld ops committed)",
		    record_type_name(en->rec.type), en->rec.id,
		    mpage_version(mp),
		    mpage_pages(mp), mpage_planned(mp));
	intake_accepted(it, en);
	intake_done(it);
}

/* Do what the planner asks next. */
static void
intake_meeting_step(struct intake *it)
{
	struct mpage_io	 io;
	struct plan_ctx	 pc = intake_meeting_ctx(it);
	const char	*pfx = it->cf->prefix;
	char		 note[256];
	enum mpage_do	 d;
	int		 r = 0;

	memset(&io, 0, sizeof io);
	d = mpage_next(intake_mp(it), &pc, &io);
	if (mpage_note(intake_mp(it), note, sizeof note) != NULL)
		log_info("intake: %s %s: %s (entry %s)",
		    record_type_name(intake_cur(it)->rec.type),
		    intake_cur(it)->rec.id, note, intake_cur(it)->id);
	switch (d) {
	case MPAGE_FETCH:
		json_decref(it->need);
		it->need = json_incref(io.keys);
		r = store_mpage_fetch(it->rc, pfx, io.keys,
		    intake_meeting_on_fetch, it);
		break;
	case MPAGE_CHECK:
		r = store_page_ids(it->rc, pfx, 1, io.ids,
		    intake_meeting_on_check, it);
		break;
	case MPAGE_PEOPLE:
		r = store_mpage_people(it->rc, pfx, &io.people,
		    intake_meeting_on_people, it);
		break;
	case MPAGE_SWEEP:
		r = store_page(it->rc, pfx, 0, io.key, io.cursor, io.count,
		    intake_meeting_on_sweep, it);
		break;
	case MPAGE_GATHER:
		r = store_mpage_hscan(it->rc, pfx, io.key, io.cursor,
		    io.count, intake_meeting_on_gather, it);
		break;
	case MPAGE_COMMIT:
		r = store_commit(it->rc, pfx, io.version, io.entry, io.ops,
		    intake_meeting_on_commit, it);
		break;
	case MPAGE_REJECT:
		intake_reject_err(it, &io.e);
		return;
	case MPAGE_DONE:
		intake_meeting_done(it);
		return;
	}
	if (r == -1)
		intake_lost(it);
}

void
intake_meeting_start(struct intake *it)
{
	intake_meeting_step(it);
}
