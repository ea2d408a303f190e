/*
 * sched.c: due deliveries -> leased -> jobs for the worker pool.
 * Main thread only. See sched.h for the design.
 */
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "config.h"
#include "job.h"
#include "log.h"
#include "metrics.h"
#include "outcome.h"
#include "pool.h"
#include "rconn.h"
#include "sched.h"
#include "store.h"
#include "tmpl.h"

struct sched {
	struct event_base	*base;
	struct config		*cf;
	struct tmplset		*tmpl;
	struct rconn		*rc;
	struct pool		*pool;
	struct outcome		*out;
	struct metrics		*m;
	struct event		*timer;
	int			 inflight;	/* a lease is on the wire */
	int			 stopped;
	long long		 next_due_ms;
	long long		 hold_ms;	/* current slow-down, 0: none */
	long long		 hold_until_ms;	/* lease nothing before this */
};

#define SCHED_LEASE_BATCHES	2	/* batches one lease takes, at most */

static void sched_run(struct sched *);

static void
sched_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	sched_run(arg);
}

/* Arm the timer for at most ms from now, keeping an earlier one. */
static void
sched_arm(struct sched *s, long long ms)
{
	struct timeval	tv, now, when;

	if (ms < 0)
		ms = 0;
	if (ms > SCHED_MAX_WAIT_MS)
		ms = SCHED_MAX_WAIT_MS;
	if (event_pending(s->timer, EV_TIMEOUT, &when)) {
		evutil_gettimeofday(&now, NULL);
		if ((when.tv_sec - now.tv_sec) * 1000LL +
		    (when.tv_usec - now.tv_usec) / 1000 <= ms)
			return;
	}
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(s->timer, &tv);
}

static const char *
sched_str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

/*
 * One leased delivery becomes a job (the only place a job is made): handed
 * to the pool, or given its verdict here (untried while stopping, expired,
 * skipped) and settled at once through the same switch (outcome_settle).
 */
static void
sched_take(struct sched *s, json_t *item)
{
	struct job	*job;
	json_t		*hash, *recs, *c;
	char		 key[STORE_KEY_MAX];
	long long	 now = util_now_ms();

	hash = json_incref(json_object_get(item, "delivery"));
	recs = json_incref(json_object_get(item, "records"));
	job = xcalloc(1, sizeof *job);
	job->state = JOB_NEW;
	job->did = xstrdup(json_string_value(json_object_get(item, "did")));
	job->kind = xstrdup(sched_str(hash, "kind"));
	job->collab_id = xstrdup(sched_str(hash, "cid"));
	job->deadline_ms = atoll(sched_str(hash, "deadline"));
	job->attempt = atoi(sched_str(hash, "attempts")) + 1;
	job->data = json_object();
	json_object_set_new(job->data, "delivery", hash);
	json_object_set_new(job->data, "records", recs);
	job->cf = config_ref(s->cf);
	job->tmpl = tmplset_ref(s->tmpl);

	if (s->stopped) {
		/* Shutting down: give the lease back at once. */
		job_set_verdict(job, JOB_UNTRIED, NULL);
	} else if (job->deadline_ms > 0 && now >= job->deadline_ms) {
		job_set_verdict(job, JOB_EXPIRED, "its deadline passed before "
		    "it could be sent");
	} else if (job->collab_id[0] != '\0') {
		c = json_object_get(json_object_get(recs, store_reckey(
		    "collaborator", job->collab_id, key, sizeof key)), "record");
		if (c == NULL)
			job_set_verdict(job, JOB_SKIPPED, "the collaborator is "
			    "no longer known");
		else if (!json_is_true(json_object_get(c, "consent")))
			job_set_verdict(job, JOB_SKIPPED, "the collaborator "
			    "has not given consent");
	}
	if (job->verdict != JOB_UNSETTLED) {
		outcome_settle(s->out, job);
		return;
	}
	pool_push(s->pool, job);
	s->m->in_flight = pool_pending(s->pool);
}

static void
sched_on_lease(redisAsyncContext *ac, void *r, void *priv)
{
	struct sched	*s = priv;
	redisReply	*reply = r;
	json_t		*items, *item;
	size_t		 i, n;
	long long	 now = util_now_ms(), next;

	s->inflight = 0;
	if (reply == NULL)
		return;		/* the state callback re-arms */
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 1) {
		log_warnx("sched: lease failed: %s", reply->type ==
		    REDIS_REPLY_ERROR ? reply->str : "unexpected reply");
		sched_arm(s, SCHED_MAX_WAIT_MS);
		return;
	}
	items = store_lease_parse(reply, &next);
	n = json_array_size(items);
	json_array_foreach(items, i, item)
		sched_take(s, item);
	json_decref(items);
	s->next_due_ms = next;
	s->m->next_due_ms = next;
	if (s->stopped)
		return;
	if (n > 0 && pool_capacity(s->pool) - pool_pending(s->pool) >=
	    pool_batch(s->pool))
		sched_arm(s, 0);
	else
		sched_arm(s, next > 0 ? next - now : SCHED_MAX_WAIT_MS);
}

static void
sched_run(struct sched *s)
{
	int	room, r;

	if (s->stopped || s->inflight || !rconn_up(s->rc))
		return;
	if (util_now_ms() < s->hold_until_ms) {
		sched_arm(s, s->hold_until_ms - util_now_ms());
		return;
	}
	/* A batch's worth at least, so that one script call leases many;
	 * two at most, so that no call holds Redis long (about 70 us a
	 * delivery). */
	room = pool_capacity(s->pool) - pool_pending(s->pool);
	if (room < pool_batch(s->pool))
		return;		/* sched_kick when jobs come back */
	if (room > SCHED_LEASE_BATCHES * pool_batch(s->pool))
		room = SCHED_LEASE_BATCHES * pool_batch(s->pool);
	r = store_lease(s->rc, s->cf->prefix, util_now_ms(),
	    s->cf->lease * 1000, room, s->cf->web_base_url != NULL ||
	    s->cf->inbound_address != NULL, sched_on_lease, s);
	if (r == 0)
		s->inflight = 1;
	else
		sched_arm(s, SCHED_MAX_WAIT_MS);
}

void
sched_relay(struct sched *s, enum job_verdict v, int code)
{
	/* "Slow down" replies, and no reply at all (the relay is down or
	 * unreachable): pause rather than hammer it. */
	if (v == JOB_TEMPORARY && (code == 0 || code == 421 || code == 451 ||
	    code == 452)) {
		s->hold_ms = s->hold_ms ? s->hold_ms * 2 : SCHED_HOLD_MIN_MS;
		if (s->hold_ms > SCHED_HOLD_MAX_MS)
			s->hold_ms = SCHED_HOLD_MAX_MS;
		/* Never pause longer than a retry would wait. */
		if (s->hold_ms > s->cf->retry_max * 1000)
			s->hold_ms = s->cf->retry_max * 1000;
		s->hold_until_ms = util_now_ms() + s->hold_ms;
		log_info("sched: the mail server %s; pausing new sends for "
		    "%lld ms", code ? "asked us to slow down" :
		    "cannot be reached", s->hold_ms);
	} else if (v == JOB_SENT) {
		s->hold_ms = 0;
		if (!s->m->smtp_up) {
			log_info("sched: the relay accepts us again");
			s->m->smtp_up = 1;
			s->m->smtp_why[0] = '\0';
		}
	}
}

void
sched_refused(struct sched *s, const struct config *job_cf, const char *why)
{
	if (job_cf != s->cf)
		return;		/* tried before a reload that may mend it */
	if (s->m->smtp_up || strcmp(s->m->smtp_why, why) != 0)
		log_warnx("sched: %s; holding every email (nothing is lost, "
		    "no attempt is used up) until the config is reloaded, "
		    "trying again every %d s", why, SCHED_REFUSED_MS / 1000);
	s->m->smtp_up = 0;
	snprintf(s->m->smtp_why, sizeof s->m->smtp_why, "%s", why);
	s->hold_until_ms = util_now_ms() + SCHED_REFUSED_MS;
}

void
sched_kick(struct sched *s)
{
	if (!s->stopped)
		sched_arm(s, 0);
}

struct sched *
sched_start(struct event_base *base, struct config *cf, struct rconn *rc,
    struct pool *pool, struct outcome *out, struct metrics *m)
{
	struct sched	*s = xcalloc(1, sizeof *s);

	s->base = base;
	s->cf = config_ref(cf);
	s->rc = rc;
	s->pool = pool;
	s->out = out;
	s->m = m;
	s->timer = evtimer_new(base, sched_timer_cb, s);
	s->m->smtp_up = 1;
	sched_arm(s, 0);
	return s;
}

void
sched_set_config(struct sched *s, struct config *cf)
{
	config_unref(s->cf);
	s->cf = config_ref(cf);
	/* A new config may mend what the relay refused: try at once. */
	s->hold_until_ms = 0;
	s->hold_ms = 0;
	sched_kick(s);
}

void
sched_set_templates(struct sched *s, struct tmplset *t)
{
	if (s->tmpl)
		tmplset_unref(s->tmpl);
	s->tmpl = tmplset_ref(t);
}

void
sched_stop(struct sched *s)
{
	s->stopped = 1;
	evtimer_del(s->timer);
}

int
sched_busy(const struct sched *s)
{
	return s->inflight;
}

void
sched_free(struct sched *s)
{
	event_free(s->timer);
	config_unref(s->cf);
	if (s->tmpl)
		tmplset_unref(s->tmpl);
	free(s);
}
