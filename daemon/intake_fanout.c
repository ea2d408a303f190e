/*
 * intake_fanout.c: the Redis round trips of an announcement's fan-out (a
 * meeting's are intake_meeting.c's).
 *
 * Main thread only, on intake's Redis connection. intake.c hands over the
 * one entry in hand (intake_fanout_start); fanout.c decides what each step
 * reads and plans, without I/O; this file reads, commits and moves to the
 * next step, and calls back into intake.c (intake_impl.h) when the entry is
 * done, refused or rejected. It owns it->fo and the fo_* fields.
 *
 * The steps: check (ids the record names), head (the record and a marker
 * committed first, version-checked like a batch), the audience a page at a
 * time, then the tail, which removes the marker and acknowledges the entry
 * in one commit: the entry leaves the inbox only once every page is stored
 * (SPEC section 5). Any step that fails lets go of the entry, which stays
 * pending with its marker: read again (after a crash too), it fans out
 * again from the top, and what is done stays done.
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
#include "plan.h"
#include "record.h"
#include "store.h"

static void intake_fanout_step(struct intake *);
static void intake_fanout_head(struct intake *);

static void
intake_fanout_accepted(struct intake *it)
{
	struct intake_entry	*en = intake_cur(it);

	log_info("intake: announcement %s: fan-out %s done (%d pages, %lld "
	    "emails planned)", en->rec.id, fanout_version(it->fo),
	    fanout_pages(it->fo), fanout_planned(it->fo));
	intake_accepted(it, en);
	intake_done(it);
}

/*
 * The answer to the fan-out's first commit (the record and its marker) or
 * its last (the marker's removal and the entry's acknowledgement):
 * it->fo_tail says which. Both may be checked against the version the head
 * step read; if another daemon committed meanwhile (0), the fan-out goes
 * back to its head and looks again.
 */
static void
intake_fanout_on_edge(redisAsyncContext *ac, void *r, void *priv)
{
	struct intake	*it = priv;
	redisReply	*reply = r;

	if (!intake_reply(it, reply, "commit"))
		return;
	if (reply->type == REDIS_REPLY_INTEGER && reply->integer == 0) {
		intake_clear_snap(it);
		if (!it->fo_tail)
			intake_conflict(intake_cur(it)->id, &it->tries);
		intake_fanout_head(it);
		return;
	}
	if (it->fo_tail) {
		intake_fanout_accepted(it);
		return;
	}
	it->fo_headed = 1;
	if (it->commit_fn)
		it->commit_fn(it->arg);
	intake_fanout_step(it);
}

/* The last commit: the marker goes and the entry leaves the inbox. With
 * a version: nothing to fan out, checked against the version read. */
static void
intake_fanout_tail(struct intake *it, const char *version)
{
	struct intake_entry	*en = intake_cur(it);
	json_t			*ops = json_array();

	fanout_tail(it->fo, ops);
	store_op_audit(ops, "event", "accepted", "entry", en->id, "type",
	    record_type_name(en->rec.type), "id", en->rec.id, NULL);
	it->fo_tail = 1;
	if (store_commit(it->rc, it->cf->prefix, version, en->id, ops,
	    intake_fanout_on_edge, it) == -1)
		intake_lost(it);
	json_decref(ops);
}

static void
intake_fanout_on_commit(redisAsyncContext *ac, void *r, void *priv)
{
	struct intake	*it = priv;
	redisReply	*reply = r;

	if (!intake_reply(it, reply, "commit"))
		return;
	if (reply->type == REDIS_REPLY_INTEGER && reply->integer == 2) {
		/* Another version took over, or another daemon finished
		 * this one: what is left is theirs. */
		log_info("intake: announcement %s: fan-out %s taken over",
		    intake_cur(it)->rec.id, fanout_version(it->fo));
		intake_fanout_tail(it, "");
		return;
	}
	if (it->commit_fn)
		it->commit_fn(it->arg);		/* send what is due */
	intake_fanout_step(it);
}

static void
intake_fanout_plan(struct intake *it, const char *cursor, json_t *ids,
    json_t *snap)
{
	struct plan_ctx	 pc = { it->cf, util_now_ms(), intake_cur(it)->id };
	json_t		*ops = json_array();

	if (fanout_page(it->fo, cursor, ids, snap, &pc, ops) == 0) {
		json_decref(ops);
		intake_fanout_step(it);
		return;
	}
	if (store_commit(it->rc, it->cf->prefix, "", "", ops,
	    intake_fanout_on_commit, it) == -1)
		intake_lost(it);
	json_decref(ops);
}

/* A page of the audience, or ids checked. */
static void
intake_fanout_on_page(redisAsyncContext *ac, void *r, void *priv)
{
	struct intake	*it = priv;
	redisReply	*reply = r;
	json_t		*snap, *ids;
	struct err	 e, why = { .msg = "" };
	char		 cursor[64];

	if (!intake_reply(it, reply, "page"))
		return;
	snap = json_object();
	if (intake_parsed(it, store_page_parse(reply, cursor, sizeof cursor,
	    snap, &ids, &e), &e) == -1) {
		json_decref(snap);
		return;
	}
	if (fanout_check_ids(it->fo) != NULL) {
		if (fanout_check(it->fo, snap, &why) == -1)
			intake_reject_err(it, &why);
		else
			intake_fanout_step(it);
	} else
		intake_fanout_plan(it, cursor, ids, snap);
	json_decref(ids);
	json_decref(snap);
}

/* The next read of the fan-out: the pages, then the tail. */
static void
intake_fanout_step(struct intake *it)
{
	struct fanout_read	 rd;
	json_t			*ids;
	int			 r;

	if ((ids = fanout_check_ids(it->fo)) != NULL) {
		r = store_page_ids(it->rc, it->cf->prefix, 1, ids,
		    intake_fanout_on_page, it);
	} else if (!it->fo_headed) {
		intake_fanout_head(it);
		return;
	} else if (!fanout_next(it->fo, &rd)) {
		intake_fanout_tail(it, "");
		return;
	} else if (rd.set != NULL) {
		r = store_page(it->rc, it->cf->prefix, rd.records, rd.set,
		    rd.cursor, FANOUT_PAGE, intake_fanout_on_page, it);
	} else if (rd.records) {
		r = store_page_ids(it->rc, it->cf->prefix, 1, rd.ids,
		    intake_fanout_on_page, it);
	} else {
		/* Ids with nothing to read about them. */
		intake_fanout_plan(it, "0", rd.ids, NULL);
		return;
	}
	if (r == -1)
		intake_lost(it);
}

static void
intake_fanout_on_head(redisAsyncContext *ac, void *r, void *priv)
{
	struct intake		*it = priv;
	redisReply		*reply = r;
	struct intake_entry	*en = intake_cur(it);
	struct plan_ctx		 pc = { it->cf, util_now_ms(), en->id };
	json_t			*ops;
	struct err		 e = { .msg = "" };
	int			 n;

	if (!intake_reply(it, reply, "fetch"))
		return;
	it->snap = json_object();
	n = store_snap_merge(it->snap, it->need, reply, it->version,
	    sizeof it->version, &e);
	json_decref(it->need);
	it->need = NULL;
	if (intake_parsed(it, n, &e) == -1)
		return;
	/* A group nobody belongs to: refused, before anything is stored.
	 * (A stored version that named it already is not refused.) */
	if (plan_check_groups(&en->rec, it->snap, &e) == -1) {
		intake_reject_err(it, &e);
		return;
	}
	ops = json_array();
	switch (fanout_head(it->fo, it->snap, &pc, ops, &e)) {
	case -1:
		intake_reject_err(it, &e);
		break;
	case FANOUT_STALE:
		log_info("intake: announcement %s: entry %s is older than the "
		    "version stored: nothing to do", en->rec.id, en->id);
		/* FALLTHROUGH */
	case FANOUT_NOTHING:
		/* Stored as it is, and fanned out: nothing to do. */
		intake_fanout_tail(it, it->version);
		break;
	case FANOUT_RESUME:
		log_info("intake: announcement %s: resuming fan-out %s "
		    "(entry %s)", en->rec.id, fanout_version(it->fo), en->id);
		it->fo_headed = 1;
		intake_fanout_step(it);
		break;
	case FANOUT_START:
		log_info("intake: announcement %s: fan-out %s begins",
		    en->rec.id, fanout_version(it->fo));
		it->fo_tail = 0;
		if (store_commit(it->rc, it->cf->prefix, it->version, "", ops,
		    intake_fanout_on_edge, it) == -1)
			intake_lost(it);
		break;
	}
	json_decref(ops);
}

/* The stored record and its marker, with the version. */
static void
intake_fanout_head(struct intake *it)
{
	intake_clear_snap(it);
	it->need = fanout_head_keys(it->fo);
	if (store_fetch(it->rc, it->cf->prefix, it->need, intake_fanout_on_head,
	    it) == -1)
		intake_lost(it);
}

/* The entry in hand is an announcement: fan it out; or a meeting:
 * intake_meeting.c plans it, in pages if it is large. */
void
intake_fanout_start(struct intake *it)
{
	struct intake_entry	*en = intake_cur(it);

	it->fo = fanout_new(&en->rec, en->id);
	if (fanout_meeting(it->fo) != NULL) {
		intake_meeting_start(it);
		return;
	}
	intake_fanout_step(it);
}
