/*
 * intake.c: the inbox's consumer: entry read -> checked record -> handed
 * to a batch or to pages -> acknowledged once stored.
 *
 * Main thread only; owns its Redis connection (rconn "intake"), the state
 * and what is in hand (intake_impl.h). Entries are read into a queue by
 * intake_read.c (XREADGROUP; XAUTOCLAIM for entries another consumer
 * left). Each is parsed once (record_parse); what cannot be accepted is
 * rejected (intake_reject.c: dead entry, audit, notice and acknowledgement
 * in one commit), and the rest is handed over:
 *
 *   a batch  one record (intake_record.c), or a run of independent
 *            collaborators read together (intake_run.c): fetched, planned
 *            against one snapshot and committed in one call that also
 *            acknowledges their entries; the next run is read and fetched
 *            while that commit runs.
 *   pages    what may go to many people (fanout_wants): an announcement,
 *            fanned out page by page (intake_fanout.c, fanout.c); a
 *            meeting, and a venue (the access updates to everyone invited
 *            to its meetings when its access changed), both handed on to
 *            intake_meeting.c (meeting_page.c, meeting_head.c,
 *            meeting_phase.c and venue_page.c decide), which plans a
 *            small one whole, in one commit, and a large one in pages.
 *            Paged, the entry is acknowledged with the last page.
 *
 * Either way an entry leaves the inbox only in the commit that stores
 * everything it causes (SPEC section 5). The steps share how a reply is
 * read: intake_reply, intake_parsed and intake_conflict (below). Records
 * are handled in inbox order, which keeps one daemon's order; the version
 * check settles races between daemons. A record naming an id nothing is
 * stored under waits, pending, while an older entry is pending under any
 * consumer (which may store that id: a crashed daemon's, claimed after
 * the lease), and is judged once none is (intake_reject.c's intake_defer,
 * it->wait_id).
 *
 * States:  IDLE -(connected)-> GROUP -> READ <-> WORK,  any -(stop)-> STOPPED
 *
 * Nothing is lost on a dropped connection: an entry stays pending in the
 * consumer group until the commit that acknowledges it; entries read but not
 * committed are re-read ("0") when the connection returns, or claimed by
 * another daemon after the lease.
 */
#include <sys/queue.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "config.h"
#include "fanout.h"
#include "intake_impl.h"
#include "log.h"
#include "metrics.h"
#include "rconn.h"
#include "record.h"

static const char *
intake_state_name(enum intake_state s)
{
	static const char *names[] = { "idle", "group", "read", "work",
	    "stopped" };

	return names[s];
}

/* The only writer of it->state. */
void
intake_set_state(struct intake *it, enum intake_state s)
{
	if (it->state != s)
		log_debug("intake: %s -> %s", intake_state_name(it->state),
		    intake_state_name(s));
	it->state = s;
}

/* An entry and its record (id and text share its allocation). */
void
intake_entry_free(struct intake_entry *en)
{
	if (en == NULL)
		return;
	if (en->parsed == 1)
		record_clear(&en->rec);
	free(en->why);
	free(en);
}

/* Forget the snapshot and the keys being fetched (to plan again). */
void
intake_clear_snap(struct intake *it)
{
	json_decref(it->snap);
	it->snap = NULL;
	json_decref(it->need);
	it->need = NULL;
	it->rounds = 0;
	it->version[0] = '\0';
}

void
intake_clear_cur(struct intake *it)
{
	struct intake_entry	*en;

	intake_clear_snap(it);
	fanout_free(it->fo);
	it->fo = NULL;
	it->fo_headed = 0;
	while ((en = STAILQ_FIRST(&it->hand)) != NULL) {
		STAILQ_REMOVE_HEAD(&it->hand, next);
		intake_entry_free(en);
	}
	it->nhand = 0;
}

/* The one entry in hand (a fan-out, a rejected record). */
struct intake_entry *
intake_cur(struct intake *it)
{
	return STAILQ_FIRST(&it->hand);
}

/* The connection went away: whatever is in hand stays pending in Redis. */
void
intake_lost(struct intake *it)
{
	intake_run_unahead(it);
	intake_clear_cur(it);
	intake_read_drop(it);
	it->ra_ignore = 0;	/* what was on the wire came back NULL */
	it->own_pending = 1;
	it->reading = 0;
	intake_set_state(it, it->stopping ? INTAKE_STOPPED : INTAKE_IDLE);
}

static void
intake_kick_cb(evutil_socket_t fd, short what, void *arg)
{
	intake_loop(arg);
}

/* Run the loop again soon (after delay ms), from outside any callback. */
void
intake_kick(struct intake *it, int delay_ms)
{
	struct timeval	tv = { delay_ms / 1000, (delay_ms % 1000) * 1000 };

	evtimer_add(it->kick, &tv);
}

/* The top of the loop: make the group, claim, or read. */
void
intake_loop(struct intake *it)
{
	if (!rconn_up(it->rc))
		return;
	if (it->stopping) {
		if (it->state == INTAKE_READ || it->state == INTAKE_IDLE ||
		    it->state == INTAKE_GROUP)
			intake_set_state(it, INTAKE_STOPPED);
		return;
	}
	if (it->state == INTAKE_IDLE)
		intake_read_group(it);
	else if (it->state == INTAKE_READ) {
		if (intake_read(it, util_now_ms()) == -1)
			intake_lost(it);
		else
			it->reading = 1;
	}
}

/* Redis refused a step: let go of what is in hand (it stays pending in
 * the group) and read our own pending entries again in a while. */
void
intake_later(struct intake *it)
{
	intake_run_unahead(it);
	intake_clear_cur(it);
	intake_read_drop(it);
	it->own_pending = 1;
	intake_set_state(it, INTAKE_READ);
	intake_kick(it, 2000);
}

/* An error reply (a script error is a bug or a Redis without Lua): keep
 * what is in hand pending and try again later rather than lose it. */
static int
intake_refused(struct intake *it, const redisReply *reply, const char *what)
{
	struct intake_entry	*en = intake_cur(it);

	if (reply->type != REDIS_REPLY_ERROR)
		return 0;
	log_warnx("intake: entry %s%s: %s failed: %s", en ? en->id : "?",
	    it->nhand > 1 ? " and the rest of its run" : "", what, reply->str);
	intake_later(it);
	return 1;
}

/* A reply to a call for what is in hand: 1 to read on; 0 for none (the
 * connection went: intake_lost follows) or an error (intake_refused). */
int
intake_reply(struct intake *it, const redisReply *reply, const char *what)
{
	return reply != NULL && !intake_refused(it, reply, what);
}

/* What a store_*_parse() or store_snap_merge() said of a reply (n, e):
 * -1, not such a reply: logged, and what is in hand let go (intake_later);
 * else records that were not JSON, logged, and 0. */
int
intake_parsed(struct intake *it, int n, const struct err *e)
{
	if (n == -1) {
		log_warnx("intake: %s", e->msg);
		intake_later(it);
		return -1;
	}
	if (n > 0)
		log_warnx("intake: %s", e->msg);
	return 0;
}

/* A commit that did nothing because another daemon committed meanwhile:
 * counted in *tries, and said (for entry id) each time past
 * INTAKE_MAX_TRIES. */
void
intake_conflict(const char *id, int *tries)
{
	if (++*tries > INTAKE_MAX_TRIES)
		log_warnx("intake: entry %s: still conflicting after %d tries",
		    id, *tries);
}

/* The entries in hand are done with: on to the next. */
void
intake_done(struct intake *it)
{
	if (it->commit_fn)
		it->commit_fn(it->arg);
	intake_clear_cur(it);
	intake_next(it);
}

void
intake_accepted(struct intake *it, struct intake_entry *en)
{
	it->m->accepted[en->rec.type]++;
	log_info("intake: %s %s accepted (entry %s)",
	    record_type_name(en->rec.type), en->rec.id, en->id);
}

/* Read the next entry's record, once. */
int
intake_parse(struct intake *it, struct intake_entry *en)
{
	struct record_opts	 ro;
	struct err		 e;

	if (en->parsed != 0)
		return en->parsed;
	if (en->deliveries > INTAKE_MAX_DELIVERIES) {
		en->why = xasprintf("poison: read %lld times and never handled "
		    "(the daemon may have crashed on it)", en->deliveries);
		return en->parsed = -1;
	}
	if (en->text == NULL) {
		en->why = xstrdup("record: the stream entry has no \"record\" "
		    "field");
		return en->parsed = -1;
	}
	ro.default_tz = it->cf->timezone;
	ro.max_bytes = it->cf->max_record_bytes;
	if (record_parse(en->text, en->len, &ro, &en->rec, &e) == -1) {
		en->why = xstrdup(e.msg);
		return en->parsed = -1;
	}
	return en->parsed = 1;
}

/* Take the next entry (or run of entries) in hand, or go back to
 * reading (once a read ahead on the wire is answered). */
void
intake_next(struct intake *it)
{
	struct intake_entry	*en;

	if ((en = STAILQ_FIRST(&it->q)) == NULL) {
		if (it->ra_flight) {
			it->ra_wait = 1;
			return;
		}
		intake_set_state(it, it->stopping ? INTAKE_STOPPED :
		    INTAKE_READ);
		intake_kick(it, 0);
		return;
	}
	STAILQ_REMOVE_HEAD(&it->q, next);
	STAILQ_INSERT_TAIL(&it->hand, en, next);
	it->nhand = 1;
	it->tries = 0;
	intake_clear_snap(it);
	if (intake_parse(it, en) == -1) {
		intake_reject(it, en->why);
		return;
	}
	if (fanout_wants(&en->rec))
		intake_fanout_start(it);
	else if (intake_run_wants(it, en))
		intake_run_start(it);
	else
		intake_record_start(it);
}

static void
intake_on_state(struct rconn *rc, int up, void *arg)
{
	struct intake	*it = arg;

	it->m->redis_up = up;
	if (!up) {
		intake_lost(it);
		return;
	}
	if (it->state == INTAKE_STOPPED)
		return;
	intake_set_state(it, INTAKE_IDLE);
	intake_loop(it);
}

struct intake *
intake_start(struct event_base *base, struct config *cf, struct metrics *m,
    intake_commit_fn *fn, void *arg)
{
	struct intake	*it = xcalloc(1, sizeof *it);
	char		 host[64];

	it->base = base;
	it->cf = config_ref(cf);
	it->m = m;
	it->commit_fn = fn;
	it->arg = arg;
	it->own_pending = 1;
	STAILQ_INIT(&it->q);
	STAILQ_INIT(&it->hand);
	STAILQ_INIT(&it->runs);
	STAILQ_INIT(&it->done);
	if (gethostname(host, sizeof host) == -1)
		snprintf(host, sizeof host, "host");
	host[sizeof host - 1] = '\0';
	snprintf(it->consumer, sizeof it->consumer, "%s-%ld", host,
	    (long)getpid());
	it->kick = evtimer_new(base, intake_kick_cb, it);
	it->prep = evtimer_new(base, intake_run_prep_cb, it);
	it->rc = rconn_new(base, cf, "intake", intake_on_state, it);
	return it;
}

void
intake_set_config(struct intake *it, struct config *cf)
{
	config_unref(it->cf);
	it->cf = config_ref(cf);
	rconn_set_config(it->rc, cf);
}

void
intake_stop(struct intake *it)
{
	it->stopping = 1;
	/* A read on the wire is waited for (at most INTAKE_BLOCK_MS): what
	 * it brings is handled before intake stops (intake_read.c). */
	if (it->state != INTAKE_WORK && !it->reading)
		intake_set_state(it, INTAKE_STOPPED);
}

int
intake_idle(const struct intake *it)
{
	return it->state == INTAKE_STOPPED || !rconn_up(it->rc);
}

int
intake_redis_up(const struct intake *it)
{
	return rconn_up(it->rc);
}

void
intake_free(struct intake *it)
{
	rconn_free(it->rc);
	intake_run_unahead(it);
	intake_clear_cur(it);
	intake_read_drop(it);
	intake_run_log_done(it);
	event_free(it->kick);
	event_free(it->prep);
	config_unref(it->cf);
	free(it);
}
