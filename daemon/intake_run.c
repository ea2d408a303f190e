/*
 * intake_run.c: a batch in hand, one record or a run of independent ones.
 *
 * Main thread only, on intake's Redis connection; called by intake.c (which
 * reads, parses and hands entries over) and calling back into it when the
 * batch is done, refused or rejected (intake_impl.h). A run is up to
 * INTAKE_RUN_MAX collaborators with distinct ids: what one plans neither
 * reads nor writes what another does. The batch is fetched in rounds (at
 * most PLAN_MAX_ROUNDS), planned against one snapshot and committed in one
 * call that also acknowledges all its entries, so an entry leaves the inbox
 * only with everything it causes (SPEC section 5). If another daemon
 * committed anything between our fetch and our commit, the commit does
 * nothing and we fetch and plan again.
 *
 * This file owns the run ahead (it->ahead*): the next run of collaborators,
 * whose fetch goes out right behind the commit of the batch in hand, and
 * which becomes the batch in hand when that commit is answered.
 */
#include <sys/queue.h>

#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "config.h"
#include "intake_impl.h"
#include "log.h"
#include "plan.h"
#include "record.h"
#include "store.h"

static void intake_run_fetch(struct intake *);
static void intake_run_prefetch(struct intake *);
static void intake_run_on_fetch(redisAsyncContext *, void *, void *);

/* The run ahead goes back to the front of the queue, as it was; a fetch
 * of it still on the wire will be ignored. */
void
intake_run_unahead(struct intake *it)
{
	struct intake_entry	*en;
	struct intake_entries	 back;

	if (it->ahead_state == AHEAD_FETCHING ||
	    it->ahead_state == AHEAD_PROMOTED)
		it->ahead_ignore++;
	STAILQ_INIT(&back);
	while ((en = STAILQ_FIRST(&it->ahead)) != NULL) {
		STAILQ_REMOVE_HEAD(&it->ahead, next);
		STAILQ_INSERT_TAIL(&back, en, next);
	}
	STAILQ_CONCAT(&back, &it->q);
	STAILQ_INIT(&it->q);
	STAILQ_CONCAT(&it->q, &back);
	it->nahead = 0;
	json_decref(it->ahead_snap);
	it->ahead_snap = NULL;
	json_decref(it->ahead_need);
	it->ahead_need = NULL;
	it->ahead_version[0] = '\0';
	it->ahead_state = AHEAD_NONE;
}

/* The ids of the entries in hand, separated by spaces. */
static char *
intake_run_ids(struct intake *it)
{
	struct intake_entry	*en;
	struct buf		 b;

	buf_init(&b);
	STAILQ_FOREACH(en, &it->hand, next) {
		if (b.len > 0)
			buf_addc(&b, ' ');
		buf_adds(&b, en->id);
	}
	return buf_take(&b);
}

/*
 * A batch: fetch what the planner needs for every record in hand (in
 * rounds, at most PLAN_MAX_ROUNDS), plan each, commit them all.
 */
static void
intake_run_replan(struct intake *it)
{
	if (++it->tries > INTAKE_MAX_TRIES)
		log_warnx("intake: entry %s: still conflicting after %d tries",
		    intake_cur(it)->id, it->tries);
	intake_clear_snap(it);
	it->snap = json_object();
	intake_run_fetch(it);
}

static void
intake_run_on_commit(redisAsyncContext *ac, void *r, void *priv)
{
	struct intake		*it = priv;
	redisReply		*reply = r;
	struct intake_entry	*en;

	if (reply == NULL || intake_refused(it, reply, "commit"))
		return;
	if (reply->type == REDIS_REPLY_INTEGER && reply->integer == 0) {
		/* Someone else committed meanwhile: plan again (and the run
		 * ahead after it, from the top). */
		intake_run_unahead(it);
		intake_run_replan(it);
		return;
	}
	STAILQ_FOREACH(en, &it->hand, next)
		intake_accepted(it, en);
	if (it->ahead_state == AHEAD_NONE) {
		intake_done(it);
		return;
	}
	/* The run ahead is next: in hand with what was fetched for it. */
	if (it->commit_fn)
		it->commit_fn(it->arg);
	intake_clear_cur(it);
	STAILQ_CONCAT(&it->hand, &it->ahead);
	it->nhand = it->nahead;
	it->nahead = 0;
	it->tries = 0;
	it->snap = it->ahead_snap;
	it->ahead_snap = NULL;
	it->need = it->ahead_need;
	it->ahead_need = NULL;
	it->rounds = 1;
	snprintf(it->version, sizeof it->version, "%s", it->ahead_version);
	if (it->ahead_state == AHEAD_READY) {
		it->ahead_state = AHEAD_NONE;
		intake_run_fetch(it);
	} else
		it->ahead_state = AHEAD_PROMOTED;
}

/* A record of a run failed to plan (it cannot, for the types that run):
 * each entry of the run goes back to be planned on its own. */
static void
intake_run_split(struct intake *it)
{
	struct intake_entry	*en;
	struct intake_entries	 back;

	STAILQ_INIT(&back);
	while ((en = STAILQ_FIRST(&it->hand)) != NULL) {
		STAILQ_REMOVE_HEAD(&it->hand, next);
		en->alone = 1;
		STAILQ_INSERT_TAIL(&back, en, next);
	}
	STAILQ_CONCAT(&back, &it->q);
	STAILQ_INIT(&it->q);
	STAILQ_CONCAT(&it->q, &back);
	intake_clear_cur(it);
	intake_next(it);
}

static void
intake_run_plan(struct intake *it)
{
	struct intake_entry	*en;
	json_t			*ops = json_array();
	struct err		 e = { .msg = "" };
	char			*ids;

	STAILQ_FOREACH(en, &it->hand, next) {
		struct plan_ctx	pc = { it->cf, util_now_ms(), en->id };

		if (plan_apply(&en->rec, it->snap, &pc, ops, &e) == -1) {
			json_decref(ops);
			if (it->nhand > 1)
				intake_run_split(it);
			else
				intake_reject_err(it, &e);
			return;
		}
		store_op_audit(ops, "event", "accepted", "entry", en->id,
		    "type", record_type_name(en->rec.type), "id", en->rec.id,
		    NULL);
	}
	ids = intake_run_ids(it);
	if (store_commit(it->rc, it->cf->prefix, it->version, ids, ops,
	    intake_run_on_commit, it) == -1)
		intake_lost(it);
	else
		intake_run_prefetch(it);
	free(ids);
	json_decref(ops);
}

/* The fetch of the run ahead: kept until the commit in front of it is
 * answered, or (once that run is in hand) handled as any fetch. */
static void
intake_run_on_fetch_ahead(redisAsyncContext *ac, void *r, void *priv)
{
	struct intake	*it = priv;
	redisReply	*reply = r;
	struct err	 e;
	int		 n;

	if (reply == NULL)
		return;
	if (it->ahead_ignore > 0) {
		it->ahead_ignore--;
		return;
	}
	if (it->ahead_state == AHEAD_PROMOTED) {
		it->ahead_state = AHEAD_NONE;
		it->version[0] = '\0';
		intake_run_on_fetch(ac, r, priv);
		return;
	}
	if (reply->type == REDIS_REPLY_ERROR || (n = store_snap_merge(
	    it->ahead_snap, it->ahead_need, reply, it->ahead_version,
	    sizeof it->ahead_version, &e)) == -1) {
		/* Fetched again when its turn comes. */
		it->ahead_state = AHEAD_READY;	/* nothing on the wire */
		intake_run_unahead(it);
		return;
	}
	if (n > 0)
		log_warnx("intake: %s", e.msg);
	json_decref(it->ahead_need);
	it->ahead_need = NULL;
	it->ahead_state = AHEAD_READY;
}

/* Behind a commit, the fetch for the next run of collaborators (one round
 * is all they need). */
static void
intake_run_prefetch(struct intake *it)
{
	struct intake_entry	*en, *h;
	json_t			*set, *v;
	const char		*key;
	int			 dup;

	if (it->ahead_state != AHEAD_NONE || it->stopping)
		return;
	while ((en = STAILQ_FIRST(&it->q)) != NULL && !en->alone &&
	    it->nahead < INTAKE_RUN_MAX && intake_parse(it, en) == 1 &&
	    en->rec.type == REC_COLLABORATOR) {
		dup = 0;
		STAILQ_FOREACH(h, &it->ahead, next)
			if (strcmp(h->rec.id, en->rec.id) == 0)
				dup = 1;
		if (dup)
			break;
		STAILQ_REMOVE_HEAD(&it->q, next);
		STAILQ_INSERT_TAIL(&it->ahead, en, next);
		it->nahead++;
	}
	if (it->nahead == 0)
		return;
	it->ahead_snap = json_object();
	set = json_object();
	STAILQ_FOREACH(en, &it->ahead, next)
		plan_needs_set(&en->rec, it->ahead_snap, set);
	it->ahead_need = json_array();
	json_object_foreach(set, key, v)
		json_array_append_new(it->ahead_need, json_string(key));
	json_decref(set);
	it->ahead_state = AHEAD_FETCHING;
	if (store_fetch(it->rc, it->cf->prefix, it->ahead_need,
	    intake_run_on_fetch_ahead, it) == -1)
		intake_lost(it);
}

static void
intake_run_on_fetch(redisAsyncContext *ac, void *r, void *priv)
{
	struct intake	*it = priv;
	redisReply	*reply = r;
	struct err	 e;
	char		 version[32];
	int		 n;

	if (reply == NULL || intake_refused(it, reply, "fetch"))
		return;
	n = store_snap_merge(it->snap, it->need, reply, version, sizeof version,
	    &e);
	json_decref(it->need);
	it->need = NULL;
	if (n == -1) {
		log_warnx("intake: %s", e.msg);
		intake_later(it);
		return;
	}
	if (n > 0)
		log_warnx("intake: %s", e.msg);
	if (it->version[0] == '\0')
		snprintf(it->version, sizeof it->version, "%s", version);
	else if (strcmp(it->version, version) != 0) {
		/* Moved under us between rounds: start again. */
		intake_clear_snap(it);
		it->snap = json_object();
	}
	intake_run_fetch(it);
}

/* Fetch what the planner still needs, or plan when it has all. */
static void
intake_run_fetch(struct intake *it)
{
	struct intake_entry	*en;
	json_t			*set = json_object(), *need, *v;
	const char		*key;

	STAILQ_FOREACH(en, &it->hand, next)
		plan_needs_set(&en->rec, it->snap, set);
	need = json_array();
	json_object_foreach(set, key, v)
		json_array_append_new(need, json_string(key));
	json_decref(set);
	if (json_array_size(need) == 0 || it->rounds >= PLAN_MAX_ROUNDS) {
		json_decref(need);
		intake_run_plan(it);
		return;
	}
	it->rounds++;
	it->need = need;
	if (store_fetch(it->rc, it->cf->prefix, need, intake_run_on_fetch,
	    it) == -1)
		intake_lost(it);
}

/* May en join the run in hand? Records of one type whose plans touch
 * only their own keys: collaborators, each id once. */
static int
intake_run_joins(struct intake *it, struct intake_entry *en)
{
	struct intake_entry	*h;

	if (en->alone || it->nhand >= INTAKE_RUN_MAX ||
	    intake_parse(it, en) != 1 || en->rec.type != REC_COLLABORATOR)
		return 0;
	STAILQ_FOREACH(h, &it->hand, next)
		if (strcmp(h->rec.id, en->rec.id) == 0)
			return 0;
	return 1;
}

/* The entry just taken in hand starts a batch: collaborators that may
 * join it do, then its fetch goes out. */
void
intake_run_start(struct intake *it)
{
	struct intake_entry	*en = intake_cur(it);

	if (en->rec.type == REC_COLLABORATOR && !en->alone) {
		while ((en = STAILQ_FIRST(&it->q)) != NULL &&
		    intake_run_joins(it, en)) {
			STAILQ_REMOVE_HEAD(&it->q, next);
			STAILQ_INSERT_TAIL(&it->hand, en, next);
			it->nhand++;
		}
	}
	it->snap = json_object();
	intake_run_fetch(it);
}
