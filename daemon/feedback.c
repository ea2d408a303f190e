/*
 * feedback.c: the overdue "you said" digest timer (see feedback.h).
 * Main thread only; uses the daemon's "ops" Redis connection.
 */
#include <stdlib.h>

#include <hiredis/hiredis.h>

#include "config.h"
#include "feedback.h"
#include "log.h"
#include "rconn.h"
#include "store.h"

struct feedback {
	struct config	*cf;
	struct rconn	*rc;
	struct event	*timer;
	feedback_fn	*fn;
	void		*arg;
	int		 stopped;
};

/* Check about twice per digest period, at least every 30 s. */
static void
feedback_arm(struct feedback *f)
{
	long long	ms = f->cf->digest_every * 1000 / 2;
	struct timeval	tv;

	if (ms > 30000)
		ms = 30000;
	if (ms < 500)
		ms = 500;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	if (!f->stopped)
		evtimer_add(f->timer, &tv);
}

static void
feedback_on_reply(redisAsyncContext *ac, void *r, void *priv)
{
	struct feedback	*f = priv;
	redisReply	*reply = r;

	if (reply == NULL)
		return;
	if (reply->type == REDIS_REPLY_ERROR)
		log_warnx("feedback: digest check failed: %s", reply->str);
	else if (reply->type == REDIS_REPLY_INTEGER && reply->integer > 0) {
		log_info("feedback: %lld overdue digest(s) scheduled",
		    reply->integer);
		if (f->fn)
			f->fn(f->arg);
	}
}

static void
feedback_tick(evutil_socket_t fd, short what, void *arg)
{
	struct feedback	*f = arg;

	store_digest(f->rc, f->cf->prefix, util_now_ms(),
	    f->cf->feedback_due * 1000, f->cf->digest_every * 1000,
	    f->cf->coordinator, f->cf->max_age * 1000, feedback_on_reply, f);
	feedback_arm(f);
}

struct feedback *
feedback_start(struct event_base *base, struct config *cf, struct rconn *rc,
    feedback_fn *fn, void *arg)
{
	struct feedback	*f = xcalloc(1, sizeof *f);

	f->cf = config_ref(cf);
	f->rc = rc;
	f->fn = fn;
	f->arg = arg;
	f->timer = evtimer_new(base, feedback_tick, f);
	feedback_arm(f);
	return f;
}

void
feedback_set_config(struct feedback *f, struct config *cf)
{
	config_unref(f->cf);
	f->cf = config_ref(cf);
}

void
feedback_stop(struct feedback *f)
{
	f->stopped = 1;
	evtimer_del(f->timer);
}

void
feedback_free(struct feedback *f)
{
	event_free(f->timer);
	config_unref(f->cf);
	free(f);
}
