/*
 * retention.c: trims {P}:audit and {P}:dead by age ([retention] audit and
 * dead). Main thread only; the "ops" connection.
 *
 * Stream entry ids begin with the time they were added, so "older than the
 * limit" is "an id below now minus the limit". Every RETENTION_EVERY_MS one
 * script call (trim.lua) removes at most RETENTION_BATCH entries of each
 * stream; while a call removes a full batch, the next follows at once. No
 * call is long, even on the first run over years of entries. Several
 * daemons may trim the same streams: removing what is gone is harmless.
 *
 * Forget's scrub lives here too (keeping nothing of a person who asked to
 * be forgotten): every RETENTION_SCRUB_EVERY_MS one call (scrub.lua) walks
 * a page of keys for a person being forgotten, and while someone is left
 * the next page follows at once. A scrub survives a restart (its place is
 * kept in Redis), and several daemons may share one: each page goes on
 * from where the last one stopped.
 */
#include <stdlib.h>

#include <hiredis/hiredis.h>

#include "config.h"
#include "log.h"
#include "rconn.h"
#include "retention.h"
#include "store.h"
#include "util.h"

struct retention {
	struct config	*cf;
	struct rconn	*rc;
	struct event	*timer;
	struct event	*scrub_timer;
	int		 stopped;
	int		 busy;		/* a call is on the wire */
	int		 scrub_busy;	/* a scrub page is on the wire */
};

static void
retention_arm(struct retention *r, long long ms)
{
	struct timeval	tv = { ms / 1000, (ms % 1000) * 1000 };

	if (!r->stopped)
		evtimer_add(r->timer, &tv);
}

static void
retention_scrub_arm(struct retention *r, long long ms)
{
	struct timeval	tv = { ms / 1000, (ms % 1000) * 1000 };

	if (!r->stopped)
		evtimer_add(r->scrub_timer, &tv);
}

static void
retention_on_scrub(redisAsyncContext *ac, void *reply, void *priv)
{
	struct retention	*r = priv;
	redisReply		*x = reply;

	r->scrub_busy = 0;
	if (x == NULL)
		return;		/* the connection went: next tick */
	if (x->type == REDIS_REPLY_ERROR) {
		log_warnx("retention: forget's scrub failed: %s", x->str);
		return;
	}
	/* { still being forgotten, whose walk this page ended or "" } */
	if (x->type != REDIS_REPLY_ARRAY || x->elements != 2 ||
	    x->element[0]->type != REDIS_REPLY_INTEGER ||
	    x->element[1]->type != REDIS_REPLY_STRING) {
		log_warnx("retention: forget's scrub gave an unexpected reply");
		return;
	}
	if (x->element[1]->len > 0)
		log_info("retention: forget of collaborator %s: every key "
		    "scrubbed", x->element[1]->str);
	/* Someone is still being forgotten: the next page at once. */
	if (x->element[0]->integer > 0)
		retention_scrub_arm(r, 0);
}

static void
retention_scrub_tick(evutil_socket_t fd, short what, void *arg)
{
	struct retention	*r = arg;

	retention_scrub_arm(r, RETENTION_SCRUB_EVERY_MS);
	if (r->scrub_busy || !rconn_up(r->rc))
		return;
	if (store_scrub(r->rc, r->cf->prefix, RETENTION_SCRUB_BUDGET,
	    retention_on_scrub, r) == 0)
		r->scrub_busy = 1;
}

static void
retention_on_reply(redisAsyncContext *ac, void *reply, void *priv)
{
	struct retention	*r = priv;
	redisReply		*x = reply;

	r->busy = 0;
	if (x == NULL)
		return;			/* the connection went: next tick */
	if (x->type == REDIS_REPLY_ERROR) {
		log_warnx("retention: trim failed: %s", x->str);
		return;
	}
	if (x->type == REDIS_REPLY_INTEGER && x->integer > 0)
		log_debug("retention: %lld old entries removed", x->integer);
	/* A full batch of either stream: more may be waiting. */
	if (x->type == REDIS_REPLY_INTEGER && x->integer >= RETENTION_BATCH)
		retention_arm(r, 0);
}

static void
retention_tick(evutil_socket_t fd, short what, void *arg)
{
	struct retention	*r = arg;
	long long		 now = util_now_ms();

	retention_arm(r, RETENTION_EVERY_MS);
	if (r->busy || !rconn_up(r->rc))
		return;
	if (store_trim(r->rc, r->cf->prefix,
	    now - r->cf->retention_audit * 1000,
	    now - r->cf->retention_dead * 1000, RETENTION_BATCH,
	    retention_on_reply, r) == 0)
		r->busy = 1;
}

struct retention *
retention_start(struct event_base *base, struct config *cf, struct rconn *rc)
{
	struct retention	*r = xcalloc(1, sizeof *r);

	r->cf = config_ref(cf);
	r->rc = rc;
	r->timer = evtimer_new(base, retention_tick, r);
	r->scrub_timer = evtimer_new(base, retention_scrub_tick, r);
	retention_arm(r, RETENTION_EVERY_MS);
	retention_scrub_arm(r, RETENTION_SCRUB_EVERY_MS);
	return r;
}

void
retention_set_config(struct retention *r, struct config *cf)
{
	config_unref(r->cf);
	r->cf = config_ref(cf);
}

void
retention_stop(struct retention *r)
{
	r->stopped = 1;
	evtimer_del(r->timer);
	evtimer_del(r->scrub_timer);
}

void
retention_free(struct retention *r)
{
	event_free(r->timer);
	event_free(r->scrub_timer);
	config_unref(r->cf);
	free(r);
}
