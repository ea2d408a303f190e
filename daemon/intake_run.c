/*
 * intake_run.c: runs of collaborators, in a pipeline.
 *
 * Main thread only, on intake's Redis connection; started by intake.c
 * (intake_next: the entry in hand is a collaborator, nothing else is in
 * hand), fed by intake_read.c (a read ahead came), and calling back into
 * intake.c when the pipeline is empty (intake_next), or to let go
 * (intake_later, intake_lost). A run is up to INTAKE_RUN_MAX collaborators
 * with distinct ids, no id in two runs of the pipeline: what one plans
 * neither reads nor writes what another does. Each run is fetched in one
 * round, planned against that snapshot and committed in one call that also
 * acknowledges its entries, so an entry leaves the inbox only with
 * everything it causes (SPEC section 5).
 *
 * The pipeline keeps Redis busy and this thread off the wire: up to
 * INTAKE_RUNS_MAX runs, two commits on the wire and the next run's fetch.
 * The next run's fetch goes out before the commit of the run just planned,
 * so it is answered while Redis runs that commit, and the next run is
 * planned meanwhile. Its snapshot was read before that commit ran: it is
 * committed expecting the version one further (the commit before it moves
 * the version on) and only if the commit before it applied, by the chain
 * of commits (store_pipeline.h: else commit.lua answers 2, nothing
 * applied). A commit that does not apply (another daemon committed
 * meanwhile: 0; the one before it did not apply: 2) sends its run and
 * every run after it back to the front of the queue, in order, to be
 * fetched and planned again; their calls still on the wire are ignored
 * when they come back. A run whose plan fails goes back the same way, the
 * record that failed marked to be planned on its own (intake_record.c),
 * where it is rejected or waits.
 *
 * The deferred step (it->prep) runs once what was sent is written out,
 * while Redis works: the next run's fetch if there is room, the records at
 * the head of the queue parsed, the inbox read ahead (intake_read.c), and
 * the entries of the commits answered (it->done) logged as accepted and
 * freed, in inbox order.
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
#include "store_pipeline.h"

struct intake_run {
	STAILQ_ENTRY(intake_run) next;
	struct intake		*it;
	struct intake_entries	 entries;
	int			 n;
	enum {
		RUN_FETCHING,		/* its fetch is on the wire */
		RUN_FETCHED,		/* waiting for its turn to commit */
		RUN_COMMITTING,		/* its commit is on the wire */
		RUN_DONE		/* applied, behind one still on it */
	}			 state;
	int			 behind;	/* one of our commits goes out
						 * between its fetch and its
						 * commit */
	int			 calls;		/* on the wire */
	int			 stale;		/* out of the pipeline: what
						 * comes back is ignored */
	json_t			*snap;
	json_t			*need;
	char			 version[32];	/* as fetched */
	char			 tok[24];	/* its link of the chain */
};

static void	intake_run_pump(struct intake *);

static void
intake_run_free(struct intake_run *r)
{
	struct intake_entry	*en;

	while ((en = STAILQ_FIRST(&r->entries)) != NULL) {
		STAILQ_REMOVE_HEAD(&r->entries, next);
		intake_entry_free(en);
	}
	json_decref(r->snap);
	json_decref(r->need);
	free(r);
}

/* A call of r came back: 1 if r is out of the pipeline (ignore it). */
static int
intake_run_back(struct intake_run *r)
{
	r->calls--;
	if (!r->stale)
		return 0;
	if (r->calls == 0)
		intake_run_free(r);
	return 1;
}

/*
 * Run x and every run after it go back to the front of the queue, in
 * order (alone, if not NULL, is to be planned on its own); what they have
 * on the wire is ignored when it comes back.
 */
static void
intake_run_cut(struct intake *it, struct intake_run *x,
    struct intake_entry *alone)
{
	struct intake_entries	 back;
	struct intake_run	*r;

	if (alone != NULL)
		alone->alone = 1;
	STAILQ_INIT(&back);
	while ((r = x) != NULL) {
		x = STAILQ_NEXT(r, next);
		STAILQ_REMOVE(&it->runs, r, intake_run, next);
		it->nruns--;
		STAILQ_CONCAT(&back, &r->entries);
		r->n = 0;
		if (r->calls > 0)
			r->stale = 1;
		else
			intake_run_free(r);
	}
	STAILQ_CONCAT(&back, &it->q);
	STAILQ_CONCAT(&it->q, &back);
}

/* Every run goes back to the queue (to be read again, or dropped). */
void
intake_run_unahead(struct intake *it)
{
	if (!STAILQ_EMPTY(&it->runs))
		intake_run_cut(it, STAILQ_FIRST(&it->runs), NULL);
}

/* The entries of the commits answered: accepted, in inbox order. */
void
intake_run_log_done(struct intake *it)
{
	struct intake_entry	*en;

	while ((en = STAILQ_FIRST(&it->done)) != NULL) {
		STAILQ_REMOVE_HEAD(&it->done, next);
		intake_accepted(it, en);
		intake_entry_free(en);
	}
}

/* The deferred step, once what was just sent is written out: a timer of
 * no delay runs after the loop has handled the socket's events. */
static void
intake_run_defer(struct intake *it)
{
	static const struct timeval	now = { 0, 0 };

	if (!evtimer_pending(it->prep, NULL))
		evtimer_add(it->prep, &now);
}

/* FNV-1a of an id: a quick first look for the same id in the pipeline. */
static unsigned
intake_run_hash(const char *s)
{
	unsigned	h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* Is en's id in a run of the pipeline? */
static int
intake_run_holds(struct intake *it, const struct intake_entry *en)
{
	struct intake_run	*r;
	struct intake_entry	*h;

	STAILQ_FOREACH(r, &it->runs, next)
		STAILQ_FOREACH(h, &r->entries, next)
			if (h->idhash == en->idhash &&
			    strcmp(h->rec.id, en->rec.id) == 0)
				return 1;
	return 0;
}

/* May en go in a run? A collaborator not sent back to be planned on its
 * own, whose id no run of the pipeline holds. */
int
intake_run_wants(struct intake *it, struct intake_entry *en)
{
	if (en->alone || intake_parse(it, en) != 1 ||
	    en->rec.type != REC_COLLABORATOR)
		return 0;
	en->idhash = intake_run_hash(en->rec.id);
	return !intake_run_holds(it, en);
}

/* The records at the head of the queue, parsed while Redis works. */
static void
intake_run_parse_ahead(struct intake *it)
{
	struct intake_entry	*en;
	int			 n = 0;

	if (STAILQ_EMPTY(&it->runs))
		return;		/* claimed entries wait for their counts */
	STAILQ_FOREACH(en, &it->q, next)
		if (intake_parse(it, en) != 1 || ++n >= INTAKE_RUN_MAX)
			break;
}

void
intake_run_prep_cb(evutil_socket_t fd, short what, void *arg)
{
	struct intake	*it = arg;

	if (intake_run_more(it) == -1)
		return;
	intake_run_parse_ahead(it);
	intake_read_ahead(it);
	intake_run_log_done(it);
}

/* A call came back with an error: let go of everything, read it again. */
static void
intake_run_refused(struct intake_run *r, const redisReply *reply,
    const char *what)
{
	struct intake_entry	*en = STAILQ_FIRST(&r->entries);

	log_warnx("intake: entry %s and the rest of its run: %s failed: %s",
	    en ? en->id : "?", what, reply->str);
	intake_later(r->it);
}

static void
intake_run_on_commit(redisAsyncContext *ac, void *rp, void *priv)
{
	struct intake_run	*r = priv, *h;
	struct intake		*it = r->it;
	redisReply		*reply = rp;

	if (intake_run_back(r) || reply == NULL)
		return;		/* NULL: intake_lost follows */
	if (reply->type == REDIS_REPLY_ERROR) {
		intake_run_refused(r, reply, "commit");
		return;
	}
	if (reply->type != REDIS_REPLY_INTEGER || reply->integer != 1) {
		/* 0: another daemon committed meanwhile; 2: the commit
		 * before it did not apply. Plan again, from here on. */
		log_debug("intake: entry %s and the rest of its run: not "
		    "applied (%s): planning again", STAILQ_FIRST(&r->entries)->id,
		    reply->type == REDIS_REPLY_INTEGER && reply->integer == 2 ?
		    "the commit before it was not" : "the version moved");
		intake_conflict(STAILQ_FIRST(&r->entries)->id,
		    &it->run_tries);
		intake_run_cut(it, r, NULL);
		intake_run_pump(it);
		return;
	}
	r->state = RUN_DONE;
	it->run_tries = 0;
	if (it->commit_fn)
		it->commit_fn(it->arg);
	/* Stored: logged as accepted by the deferred step, in order. */
	while ((h = STAILQ_FIRST(&it->runs)) != NULL && h->state == RUN_DONE) {
		STAILQ_REMOVE_HEAD(&it->runs, next);
		it->nruns--;
		STAILQ_CONCAT(&it->done, &h->entries);
		intake_run_free(h);
	}
	intake_run_defer(it);
	intake_run_pump(it);
}

/* The expected version: as fetched, one further if one of our commits ran
 * between the fetch and this commit. */
static void
intake_run_version(const struct intake_run *r, char *buf, size_t len)
{
	if (r->behind)
		snprintf(buf, len, "%lld", strtoll(r->version, NULL, 10) + 1);
	else
		snprintf(buf, len, "%s", r->version);
}

/* The ids of a run's entries, separated by spaces. */
static char *
intake_run_ids(const struct intake_run *r)
{
	struct intake_entry	*en;
	struct buf		 b;

	buf_init(&b);
	STAILQ_FOREACH(en, &r->entries, next) {
		if (b.len > 0)
			buf_addc(&b, ' ');
		buf_adds(&b, en->id);
	}
	return buf_take(&b);
}

/* Plan run r and send its commit, chained to prev's if that is on the
 * wire. 0 sent; 1 r went back to the queue (a plan failed); -1 lost. */
static int
intake_run_commit(struct intake *it, struct intake_run *r,
    struct intake_run *prev)
{
	struct intake_entry	*en;
	json_t			*ops = json_array();
	struct err		 e = { .msg = "" };
	char			 version[32], *ids;
	int			 rc;

	STAILQ_FOREACH(en, &r->entries, next) {
		struct plan_ctx	pc = { it->cf, util_now_ms(), en->id };

		if (plan_apply(&en->rec, r->snap, &pc, ops, &e) == -1) {
			json_decref(ops);
			intake_run_cut(it, r, en);
			return 1;
		}
		store_op_audit(ops, "event", "accepted", "entry", en->id,
		    "type", record_type_name(en->rec.type), "id", en->rec.id,
		    NULL);
	}
	snprintf(r->tok, sizeof r->tok, "%llu", ++it->run_seq);
	if (prev != NULL && prev->state == RUN_COMMITTING)
		store_op_ifchain(ops, it->consumer, prev->tok);
	store_op_chain(ops, it->consumer, r->tok);
	intake_run_version(r, version, sizeof version);
	ids = intake_run_ids(r);
	rc = store_commit(it->rc, it->cf->prefix, version, ids, ops,
	    intake_run_on_commit, r);
	free(ids);
	json_decref(ops);
	if (rc == -1) {
		intake_lost(it);
		return -1;
	}
	r->calls++;
	r->state = RUN_COMMITTING;
	intake_run_defer(it);
	return 0;
}

/*
 * Commit what is fetched, in order, each run's commit after the next
 * run's fetch; then keep a fetch on the wire. With nothing left in the
 * pipeline, intake goes on with the queue (intake_next).
 */
static void
intake_run_pump(struct intake *it)
{
	struct intake_run	*r, *prev = NULL;

	int			 rc;

	for (r = STAILQ_FIRST(&it->runs); r != NULL; r = STAILQ_NEXT(r,
	    next)) {
		if (r->state == RUN_FETCHING)
			break;
		if (r->state == RUN_FETCHED) {
			if (STAILQ_NEXT(r, next) == NULL &&
			    intake_run_more(it) == -1)
				return;
			if ((rc = intake_run_commit(it, r, prev)) == -1)
				return;
			if (rc == 1)
				break;	/* r went back to the queue */
		}
		prev = r;
	}
	if (STAILQ_EMPTY(&it->runs))
		intake_next(it);
	else
		(void)intake_run_more(it);
}

/* Does the snapshot hold all that r's plans need? */
static int
intake_run_complete(struct intake_run *r)
{
	struct intake_entry	*en;
	json_t			*set = json_object();
	int			 done;

	STAILQ_FOREACH(en, &r->entries, next)
		plan_needs_set(&en->rec, r->snap, set);
	done = json_object_size(set) == 0;
	json_decref(set);
	return done;
}

static void
intake_run_on_fetch(redisAsyncContext *ac, void *rp, void *priv)
{
	struct intake_run	*r = priv;
	struct intake		*it = r->it;
	redisReply		*reply = rp;
	struct err		 e;
	int			 n;

	if (intake_run_back(r) || reply == NULL)
		return;		/* NULL: intake_lost follows */
	if (reply->type == REDIS_REPLY_ERROR) {
		intake_run_refused(r, reply, "fetch");
		return;
	}
	n = store_snap_merge(r->snap, r->need, reply, r->version,
	    sizeof r->version, &e);
	json_decref(r->need);
	r->need = NULL;
	if (intake_parsed(it, n, &e) == -1)
		return;
	if (intake_run_complete(r))
		r->state = RUN_FETCHED;
	else	/* more than one round: planned on its own */
		intake_run_cut(it, r, STAILQ_FIRST(&r->entries));
	intake_run_pump(it);
}

/*
 * Runs are independent only while a collaborator's plan reads nothing but
 * its own record (its one key in the snapshot). Should the planner ever
 * need more, r's records go back to be planned one by one: slower, never
 * wrong.
 */
static void
intake_run_apart(struct intake *it, struct intake_run *r)
{
	struct intake_entry	*en;

	if (!it->run_apart)
		log_warnx("intake: a collaborator's plan needs more than its "
		    "own record (entry %s): collaborators are planned one by "
		    "one", STAILQ_FIRST(&r->entries)->id);
	it->run_apart = 1;
	STAILQ_FOREACH(en, &r->entries, next)
		en->alone = 1;
	intake_run_cut(it, r, NULL);
}

/* Fetch what r's plans need: 0 sent, 1 r went back to the queue, -1 the
 * connection is gone. */
static int
intake_run_fetch(struct intake *it, struct intake_run *r)
{
	struct intake_entry	*en;
	struct intake_run	*x;
	json_t			*set = json_object(), *v;
	const char		*key;

	STAILQ_FOREACH(en, &r->entries, next)
		plan_needs_set(&en->rec, r->snap, set);
	if (json_object_size(set) != (size_t)r->n) {
		json_decref(set);
		intake_run_apart(it, r);
		return 1;
	}
	r->need = json_array();
	json_object_foreach(set, key, v)
		json_array_append_new(r->need, json_string(key));
	json_decref(set);
	STAILQ_FOREACH(x, &it->runs, next)
		if (x != r && x->state < RUN_COMMITTING)
			r->behind = 1;
	r->state = RUN_FETCHING;
	if (store_fetch(it->rc, it->cf->prefix, r->need, intake_run_on_fetch,
	    r) == -1)
		return -1;
	r->calls++;
	return 0;
}

/* A new run at the end of the pipeline, with first (if not NULL) and what
 * may join it from the head of the queue; its fetch goes out. 0 sent, 1
 * it went back to the queue, -1 the connection is gone (intake_lost
 * ran). */
static int
intake_run_new(struct intake *it, struct intake_entry *first)
{
	struct intake_run	*r = xcalloc(1, sizeof *r);
	struct intake_entry	*en;
	int			 rc;

	r->it = it;
	r->snap = json_object();
	STAILQ_INIT(&r->entries);
	STAILQ_INSERT_TAIL(&it->runs, r, next);
	it->nruns++;
	if (first != NULL) {
		STAILQ_INSERT_TAIL(&r->entries, first, next);
		r->n++;
	}
	while (r->n < INTAKE_RUN_MAX && (en = STAILQ_FIRST(&it->q)) != NULL &&
	    intake_run_wants(it, en)) {
		STAILQ_REMOVE_HEAD(&it->q, next);
		STAILQ_INSERT_TAIL(&r->entries, en, next);
		r->n++;
	}
	if ((rc = intake_run_fetch(it, r)) == -1)
		intake_lost(it);
	return rc;
}

/* Another run, if there is room: its fetch may go out ahead of at most one
 * commit still to be sent. -1 if the connection is gone, else 0 or 1 (as
 * intake_run_new). */
int
intake_run_more(struct intake *it)
{
	struct intake_run	*x;
	struct intake_entry	*en;
	int			 unsent = 0;

	if (STAILQ_EMPTY(&it->runs) || it->nruns >= INTAKE_RUNS_MAX)
		return 0;
	STAILQ_FOREACH(x, &it->runs, next)
		if (x->state < RUN_COMMITTING)
			unsent++;
	if (unsent > 1 || (en = STAILQ_FIRST(&it->q)) == NULL ||
	    !intake_run_wants(it, en))
		return 0;
	return intake_run_new(it, NULL);
}

/* The collaborator in hand starts the pipeline, and the next run after
 * it when the queue has one. */
void
intake_run_start(struct intake *it)
{
	struct intake_entry	*en = intake_cur(it);

	STAILQ_REMOVE_HEAD(&it->hand, next);
	it->nhand = 0;
	switch (intake_run_new(it, en)) {
	case 0:
		(void)intake_run_more(it);
		break;
	case 1:		/* back to the queue, to be planned one by one */
		intake_next(it);
		break;
	}
}
