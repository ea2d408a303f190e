/*
 * intake_record.c: one record in hand, planned on its own (anything but a
 * run of collaborators, and a collaborator sent back from its run).
 *
 * Main thread only, on intake's Redis connection; called by intake.c with
 * the entry in hand (it->hand) and nothing else on the wire, and calling
 * back into intake.c when it is done, refused or rejected (intake_impl.h).
 * What the planner needs is fetched in rounds (at most PLAN_MAX_ROUNDS:
 * an outcome needs what was said, then the people who said it), planned
 * against that one snapshot and committed in one call that also
 * acknowledges the entry, so it leaves the inbox only with everything it
 * causes (SPEC section 5). If another daemon committed anything between
 * our fetch and our commit, the commit does nothing and we fetch and plan
 * again. A record the planner refuses is rejected, or waits for an older
 * entry (intake_reject.c).
 */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "config.h"
#include "intake_impl.h"
#include "log.h"
#include "plan.h"
#include "record.h"
#include "store.h"

static void intake_record_fetch(struct intake *);

static void
intake_record_replan(struct intake *it)
{
	intake_conflict(intake_cur(it)->id, &it->tries);
	intake_clear_snap(it);
	it->snap = json_object();
	intake_record_fetch(it);
}

static void
intake_record_on_commit(redisAsyncContext *ac, void *r, void *priv)
{
	struct intake	*it = priv;
	redisReply	*reply = r;

	if (!intake_reply(it, reply, "commit"))
		return;
	if (reply->type == REDIS_REPLY_INTEGER && reply->integer == 0) {
		/* Someone else committed meanwhile: plan again. */
		intake_record_replan(it);
		return;
	}
	intake_accepted(it, intake_cur(it));
	intake_done(it);
}

static void
intake_record_plan(struct intake *it)
{
	struct intake_entry	*en = intake_cur(it);
	struct plan_ctx		 pc = { it->cf, util_now_ms(), en->id };
	json_t			*ops = json_array();
	struct err		 e = { .msg = "" };

	if (plan_apply(&en->rec, it->snap, &pc, ops, &e) == -1) {
		json_decref(ops);
		intake_reject_err(it, &e);
		return;
	}
	store_op_audit(ops, "event", "accepted", "entry", en->id, "type",
	    record_type_name(en->rec.type), "id", en->rec.id, NULL);
	if (store_commit(it->rc, it->cf->prefix, it->version, en->id, ops,
	    intake_record_on_commit, it) == -1)
		intake_lost(it);
	json_decref(ops);
}

static void
intake_record_on_fetch(redisAsyncContext *ac, void *r, void *priv)
{
	struct intake	*it = priv;
	redisReply	*reply = r;
	struct err	 e;
	char		 version[32];
	int		 n;

	if (!intake_reply(it, reply, "fetch"))
		return;
	n = store_snap_merge(it->snap, it->need, reply, version, sizeof version,
	    &e);
	json_decref(it->need);
	it->need = NULL;
	if (intake_parsed(it, n, &e) == -1)
		return;
	if (it->version[0] == '\0')
		snprintf(it->version, sizeof it->version, "%s", version);
	else if (strcmp(it->version, version) != 0) {
		/* Moved under us between rounds: start again. */
		intake_clear_snap(it);
		it->snap = json_object();
	}
	intake_record_fetch(it);
}

/* Fetch what the planner still needs, or plan when it has all. */
static void
intake_record_fetch(struct intake *it)
{
	json_t	*need = json_array();

	plan_needs(&intake_cur(it)->rec, it->snap, need);
	if (json_array_size(need) == 0 || it->rounds >= PLAN_MAX_ROUNDS) {
		json_decref(need);
		intake_record_plan(it);
		return;
	}
	it->rounds++;
	it->need = need;
	if (store_fetch(it->rc, it->cf->prefix, need, intake_record_on_fetch,
	    it) == -1)
		intake_lost(it);
}

/* The entry just taken in hand: its fetch goes out. */
void
intake_record_start(struct intake *it)
{
	it->snap = json_object();
	intake_record_fetch(it);
}
