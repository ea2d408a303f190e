/*
 * outcome.c: writes what happened to each email (see outcome.h): every job
 * ends in outcome_settle's one switch on its verdict (job.h).
 * Main thread only; uses the daemon's "ops" Redis connection.
 *
 * The outcomes settled in one turn of the event loop (a worker hands back a
 * whole batch at once) go to Redis as one commit of up to OUTCOME_BATCH
 * jobs: one script call instead of one per email. The commit is sent when
 * it is full, or at the end of the turn (a zero-delay event). A commit is
 * all or nothing, as one job's was: kept, in order, until Redis says it is
 * applied.
 */
#include <sys/queue.h>

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "clock.h"
#include "config.h"
#include "job.h"
#include "log.h"
#include "metrics.h"
#include "outcome.h"
#include "plan.h"
#include "rconn.h"
#include "retry.h"
#include "store.h"
#include "tmpl.h"
#include <unistd.h>

#define OUTCOME_BATCH	16	/* jobs in one commit, at most (about
				   75 us of Redis each) */

struct outcome_commit {
	STAILQ_ENTRY(outcome_commit) next;
	json_t			*ops;
	int			 jobs;		/* how many jobs' ops it holds */
	int			 sent;		/* on the wire */
	struct outcome		*o;
};

STAILQ_HEAD(outcome_commits, outcome_commit);

struct outcome {
	struct config		*cf;
	struct rconn		*rc;
	struct metrics		*m;
	struct outcome_commits	 q;		/* oldest first */
	int			 n;
	outcome_fn		*fn;
	void			*arg;
	unsigned		 seed;
	struct event		*retry;		/* resend refused commits */
	struct event		*flush;		/* send the open commit */
	struct outcome_commit	*open;		/* the newest commit, if it may
						   still take more jobs */
};

static void outcome_send(struct outcome *);

static void
outcome_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	outcome_send(arg);
}

/* Send the queue again in a second. */
static void
outcome_later(struct outcome *o)
{
	struct timeval	tv = { 1, 0 };

	if (!evtimer_pending(o->retry, NULL))
		evtimer_add(o->retry, &tv);
}

static void
outcome_on_reply(redisAsyncContext *ac, void *r, void *priv)
{
	struct outcome_commit	*c = priv;
	struct outcome		*o = c->o;
	redisReply		*reply = r;

	if (reply == NULL) {
		/* Lost with the connection: send again on reconnect. */
		c->sent = 0;
		return;
	}
	if (reply->type == REDIS_REPLY_ERROR) {
		/* Refused (LOADING, OOM, BUSY...): what happened to an email
		 * must not be forgotten, or it would be sent again. Keep it
		 * and try again shortly; order is kept. */
		log_warnx("outcome: commit refused, trying again: %s",
		    reply->str);
		c->sent = 0;
		outcome_later(o);
		return;
	}
	STAILQ_REMOVE(&o->q, c, outcome_commit, next);
	o->n--;
	json_decref(c->ops);
	free(c);
	if (o->fn)
		o->fn(o->arg);
}

static void
outcome_send(struct outcome *o)
{
	struct outcome_commit	*c;

	STAILQ_FOREACH(c, &o->q, next) {
		if (c->sent)
			continue;
		if (store_commit(o->rc, o->cf->prefix, "", "", c->ops,
		    outcome_on_reply, c) == -1)
			return;
		c->sent = 1;
		if (o->open == c)
			o->open = NULL;
	}
}

static void
outcome_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	outcome_send(arg);
}

/*
 * One job's ops join the newest commit if it is not on the wire yet and
 * has room, else start a new one. Sent when full, or at the end of this
 * turn of the event loop.
 */
static void
outcome_commit(struct outcome *o, json_t *ops)
{
	struct outcome_commit	*c = o->open;

	if (c != NULL && !c->sent && c->jobs < OUTCOME_BATCH) {
		store_ops_join(c->ops, ops);
		c->jobs++;
	} else {
		c = xcalloc(1, sizeof *c);
		c->o = o;
		c->ops = json_array();
		store_ops_join(c->ops, ops);
		c->jobs = 1;
		STAILQ_INSERT_TAIL(&o->q, c, next);
		o->n++;
		o->open = c;
	}
	if (c->jobs >= OUTCOME_BATCH)
		outcome_send(o);
	else if (!event_pending(o->flush, EV_TIMEOUT, NULL))
		event_active(o->flush, EV_TIMEOUT, 0);
}

static const char *
outcome_field(struct job *job, const char *name)
{
	const char *s = json_string_value(json_object_get(json_object_get(
	    job->data, "delivery"), name));

	return s ? s : "";
}

/* The coordinator for problems with this email's record. */
static const char *
outcome_coordinator(struct outcome *o, struct job *job)
{
	json_t		*recs = json_object_get(job->data, "records"), *w, *r;
	const char	*key, *c, *type;

	json_object_foreach(recs, key, w) {
		r = json_object_get(w, "record");
		type = json_string_value(json_object_get(r, "type"));
		if (type != NULL && strcmp(type, "collaborator") == 0)
			continue;
		c = json_string_value(json_object_get(r, "coordinator"));
		if (c != NULL)
			return c;
	}
	return o->cf->coordinator;
}

/* The organiser of the meeting this email is about, or NULL. */
static const char *
outcome_organiser(struct job *job)
{
	json_t		*recs = json_object_get(job->data, "records"), *w, *r;
	const char	*key, *type;

	json_object_foreach(recs, key, w) {
		r = json_object_get(w, "record");
		type = json_string_value(json_object_get(r, "type"));
		if (type != NULL && strcmp(type, "meeting") == 0)
			return json_string_value(json_object_get(
			    json_object_get(r, "organiser"), "email"));
	}
	return NULL;
}

/* "Amara Okafor (c-amara)" for the notice (never the log). */
static char *
outcome_person(struct job *job)
{
	char	key[STORE_KEY_MAX];

	if (job->collab_id[0] == '\0')
		return xstrdup("a coordinator");
	return plan_person_words(json_object_get(json_object_get(
	    json_object_get(job->data, "records"), store_reckey("collaborator",
	    job->collab_id, key, sizeof key)), "record"), job->collab_id);
}

static void
outcome_audit(json_t *ops, struct job *job, const char *event,
    const char *at, const char *code)
{
	char	attempt[16];

	snprintf(attempt, sizeof attempt, "%d", job->attempt);
	store_op_audit(ops, "event", event, "delivery", job->did, "kind",
	    job->kind, "collaborator", job->collab_id, "attempt", attempt,
	    "code", code, "reply", job->reply, "at", at, NULL);
}

/* Failed for good or expired: dead entry, notice, audit. */
static void
outcome_dead(struct outcome *o, struct job *job, const char *event,
    const char *why)
{
	json_t		*ops = json_array(), *lines;
	char		 at[64], first[32], last[32], attempts[16], code[16];
	char		*did, *line, *who;
	const char	*ft = outcome_field(job, "first_try");
	long long	 now = util_now_ms();

	clock_format_iso_utc(now / 1000, at, sizeof at);
	snprintf(last, sizeof last, "%lld", job->tried ? now :
	    atoll(outcome_field(job, "last_try")));
	snprintf(first, sizeof first, "%s", *ft && strcmp(ft, "0") ? ft : last);
	snprintf(attempts, sizeof attempts, "%d", job->tried ? job->attempt :
	    job->attempt - 1);
	snprintf(code, sizeof code, "%d", job->smtp_code);
	/* Not tried this time (expired while waiting): the last reply is
	 * the one stored with the delivery. */
	if (!job->tried && job->reply[0] == '\0')
		snprintf(job->reply, sizeof job->reply, "%s",
		    outcome_field(job, "last_reply"));
	store_op_dead(ops, job->did, first, last, attempts, job->reply);
	store_op_dead_delivery(ops, why, at, job->did, job->kind,
	    job->collab_id, attempts, first, last, job->reply);
	outcome_audit(ops, job, event, at, code);
	store_op_count(ops, event);
	if (strcmp(job->kind, "notice") != 0) {
		struct plan_ctx pc = { o->cf, now, "" };

		lines = json_array();
		line = xasprintf("An email could not be delivered: %s.", why);
		json_array_append_new(lines, json_string(line));
		free(line);
		who = outcome_person(job);
		line = xasprintf("It was a %s email to %s (%s).", job->kind,
		    who, outcome_field(job, "src"));
		json_array_append_new(lines, json_string(line));
		free(line);
		free(who);
		line = xasprintf("Tries: %s. Last reply from the mail server: "
		    "%s", attempts, job->reply[0] ? job->reply : "none");
		json_array_append_new(lines, json_string(line));
		free(line);
		line = xasprintf("Check their email address, then send it again "
		    "with: hearback dead retry (see hearback dead list; "
		    "delivery %s).", job->did);
		json_array_append_new(lines, json_string(line));
		free(line);
		did = store_did_about("notice", "failed", job->did);
		plan_notice_also(ops, &pc, did, outcome_coordinator(o, job),
		    outcome_organiser(job), "An email could not be delivered",
		    lines, outcome_field(job, "src"));
		free(did);
		json_decref(lines);
	}
	log_warnx("delivery %s (%s to %s): %s: %s", job->did, job->kind,
	    job->collab_id[0] ? job->collab_id : "coordinator", event, why);
	outcome_commit(o, ops);
	json_decref(ops);
}

/* Sent: off the schedule, audit, counted. */
static void
outcome_sent(struct outcome *o, struct job *job, const char *at,
    const char *code)
{
	json_t	*ops = json_array();
	char	 stat[64];

	store_op_sent(ops, job->did, job->reply);
	outcome_audit(ops, job, "sent", at, code);
	snprintf(stat, sizeof stat, "sent:%s", job->kind);
	store_op_count(ops, stat);
	log_info("delivery %s (%s to %s): sent", job->did, job->kind,
	    job->collab_id[0] ? job->collab_id : "coordinator");
	metrics_kind(o->m, job->kind, METRICS_SENT);
	outcome_commit(o, ops);
	json_decref(ops);
}

/* Failed for now: back on the schedule at next (ms), audit. */
static void
outcome_retry(struct outcome *o, struct job *job, long long now,
    long long next, const char *at, const char *code)
{
	json_t		*ops = json_array();
	char		 first[32], last[32];
	const char	*ft = outcome_field(job, "first_try");

	snprintf(last, sizeof last, "%lld", now);
	snprintf(first, sizeof first, "%s", *ft && strcmp(ft, "0") ? ft : last);
	store_op_retry(ops, job->did, next, job->attempt, first, last,
	    job->reply);
	outcome_audit(ops, job, "retry", at, code);
	log_info("delivery %s (%s to %s): temporary failure, try %d "
	    "again in %llds: %s", job->did, job->kind,
	    job->collab_id[0] ? job->collab_id : "coordinator",
	    job->attempt, (next - now) / 1000, job->reply);
	metrics_kind(o->m, job->kind, METRICS_RETRIED);
	outcome_commit(o, ops);
	json_decref(ops);
}

/* Not to be sent: off the schedule as sent, with why, audit. */
static void
outcome_skipped(struct outcome *o, struct job *job, const char *at)
{
	json_t		*ops = json_array();
	const char	*why = job->why ? job->why : "not to be sent";

	snprintf(job->reply, sizeof job->reply, "%s", why);
	store_op_sent(ops, job->did, job->reply);
	outcome_audit(ops, job, "skipped", at, "0");
	log_info("delivery %s (%s to %s): skipped: %s", job->did, job->kind,
	    job->collab_id[0] ? job->collab_id : "coordinator", why);
	metrics_kind(o->m, job->kind, METRICS_SKIPPED);
	outcome_commit(o, ops);
	json_decref(ops);
}

/* Not tried: the lease is given back, the attempt not used up. */
static void
outcome_untried(struct outcome *o, struct job *job, long long now)
{
	json_t	*ops = json_array();

	store_op_unlease(ops, job->did, now);
	outcome_commit(o, ops);
	json_decref(ops);
}

/*
 * The one switch every job ends in, whichever road it came by (the pool's
 * callback, the scheduler, shutdown). A temporary failure the deadline
 * leaves no retry for becomes expired first.
 */
void
outcome_settle(struct outcome *o, struct job *job)
{
	char		 at[64], code[16];
	long long	 now = util_now_ms(), next = -1;

	clock_format_iso_utc(now / 1000, at, sizeof at);
	snprintf(code, sizeof code, "%d", job->smtp_code);
	if (job->verdict == JOB_TEMPORARY) {
		next = retry_next_ms(o->cf, job->attempt, now, job->deadline_ms,
		    rand_r(&o->seed));
		if (next == -1)
			job_set_verdict(job, JOB_EXPIRED, "still failing at its "
			    "deadline");
	}
	switch (job->verdict) {
	case JOB_SENT:
		outcome_sent(o, job, at, code);
		break;
	case JOB_TEMPORARY:
		outcome_retry(o, job, now, next, at, code);
		break;
	case JOB_PERMANENT:
		metrics_kind(o->m, job->kind, METRICS_FAILED);
		outcome_dead(o, job, "failed", "refused for good");
		break;
	case JOB_EXPIRED:
		metrics_kind(o->m, job->kind, METRICS_EXPIRED);
		outcome_dead(o, job, "expired", job->why ? job->why :
		    "its deadline passed");
		break;
	case JOB_SKIPPED:
		outcome_skipped(o, job, at);
		break;
	case JOB_UNSETTLED:
	case JOB_VERDICT_MAX:
		/* A bug: nobody gave it a verdict. Sending nothing is the
		 * safe side; the delivery is due again. */
		log_warnx("delivery %s: settled without a verdict; its lease "
		    "is given back", job->did);
		/* FALLTHROUGH */
	case JOB_UNTRIED:
		outcome_untried(o, job, now);
		break;
	}
	config_unref(job->cf);
	tmplset_unref(job->tmpl);
	job_free(job);
}

void
outcome_flush(struct outcome *o)
{
	outcome_send(o);
}

int
outcome_pending(const struct outcome *o)
{
	return o->n;
}

struct outcome *
outcome_new(struct event_base *base, struct config *cf, struct rconn *rc,
    struct metrics *m, outcome_fn *fn, void *arg)
{
	struct outcome	*o = xcalloc(1, sizeof *o);

	o->retry = evtimer_new(base, outcome_retry_cb, o);
	o->flush = evtimer_new(base, outcome_flush_cb, o);
	o->cf = config_ref(cf);
	o->rc = rc;
	o->m = m;
	o->fn = fn;
	o->arg = arg;
	o->seed = (unsigned)util_now_ms() ^ (unsigned)getpid();
	STAILQ_INIT(&o->q);
	return o;
}

void
outcome_set_config(struct outcome *o, struct config *cf)
{
	config_unref(o->cf);
	o->cf = config_ref(cf);
}

void
outcome_free(struct outcome *o)
{
	struct outcome_commit	*c;

	while ((c = STAILQ_FIRST(&o->q)) != NULL) {
		STAILQ_REMOVE_HEAD(&o->q, next);
		json_decref(c->ops);
		free(c);
	}
	event_free(o->retry);
	event_free(o->flush);
	config_unref(o->cf);
	free(o);
}
