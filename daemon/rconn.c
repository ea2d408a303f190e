/*
 * rconn.c: a hiredis async connection on the libevent loop, with reconnect.
 *
 * hiredis 0.14 rules we live by (see notes): the adapter header holds static
 * functions, so it is included here and nowhere else; after a connect failure
 * or a disconnect the context is freed by hiredis and we never touch it again;
 * replies are freed by hiredis after the callback; there is no connect
 * timeout, so a watchdog timer frees a context that has not connected in 5 s.
 * Main thread only.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>
#include <hiredis/async.h>
#include <hiredis/adapters/libevent.h>

#include "config.h"
#include "log.h"
#include "rconn.h"
#include "util.h"

#define RCONN_BACKOFF_MIN	100	/* ms */
#define RCONN_BACKOFF_MAX	5000
#define RCONN_CONNECT_TIMEOUT	5000

struct rconn {
	struct event_base	*base;
	char			*name;
	char			*host;
	int			 port;
	char			*password;
	redisAsyncContext	*ac;
	int			 up;
	int			 backoff;
	int			 closing;
	struct event		*retry;		/* reconnect timer */
	struct event		*watchdog;	/* connect timeout */
	struct event		*ping;		/* PING again while LOADING */
	rconn_state_fn		*state_fn;
	void			*arg;
};

static void rconn_connect(struct rconn *);

static void
rconn_schedule(struct rconn *rc)
{
	struct timeval	tv;

	if (rc->closing)
		return;
	tv.tv_sec = rc->backoff / 1000;
	tv.tv_usec = (rc->backoff % 1000) * 1000;
	evtimer_add(rc->retry, &tv);
	rc->backoff *= 2;
	if (rc->backoff > RCONN_BACKOFF_MAX)
		rc->backoff = RCONN_BACKOFF_MAX;
}

static void
rconn_lost(struct rconn *rc, const char *why)
{
	int	was_up = rc->up;

	rc->ac = NULL;
	rc->up = 0;
	evtimer_del(rc->watchdog);
	evtimer_del(rc->ping);
	if (!rc->closing)
		log_warnx("redis %s: %s:%d: %s; reconnecting", rc->name,
		    rc->host, rc->port, why);
	if (was_up && rc->state_fn)
		rc->state_fn(rc, 0, rc->arg);
	rconn_schedule(rc);
}

static void rconn_ping(struct rconn *);

/* PING's answer: up, or (Redis still loading its data) ask again soon. */
static void
rconn_on_ping(redisAsyncContext *ac, void *r, void *priv)
{
	struct rconn	*rc = priv;
	redisReply	*reply = r;
	struct timeval	 tv = { 0, 100 * 1000 };

	if (reply == NULL || rc->ac != ac)
		return;
	if (reply->type == REDIS_REPLY_ERROR &&
	    strncmp(reply->str, "LOADING", 7) == 0) {
		evtimer_add(rc->ping, &tv);
		return;
	}
	evtimer_del(rc->watchdog);
	rc->up = 1;
	rc->backoff = RCONN_BACKOFF_MIN;
	log_info("redis %s: connected to %s:%d", rc->name, rc->host, rc->port);
	if (rc->state_fn)
		rc->state_fn(rc, 1, rc->arg);
}

static void
rconn_ping(struct rconn *rc)
{
	if (rc->ac != NULL)
		redisAsyncCommand(rc->ac, rconn_on_ping, rc, "PING");
}

static void
rconn_ping_cb(evutil_socket_t fd, short what, void *arg)
{
	rconn_ping(arg);
}

/*
 * Connected; but the connection counts as up only once Redis answers a
 * PING: after a restart it refuses everything with LOADING while it reads
 * its data back, and a commit refused then would be lost work.
 */
static void
rconn_on_connect(const redisAsyncContext *ac, int status)
{
	struct rconn	*rc = ac->data;

	if (status != REDIS_OK) {
		rconn_lost(rc, ac->errstr[0] ? ac->errstr : "cannot connect");
		return;
	}
	rconn_ping(rc);
}

static void
rconn_on_disconnect(const redisAsyncContext *ac, int status)
{
	struct rconn	*rc = ac->data;

	rconn_lost(rc, status == REDIS_OK ? "disconnected" :
	    (ac->errstr[0] ? ac->errstr : "connection lost"));
}

static void
rconn_on_auth(redisAsyncContext *ac, void *r, void *priv)
{
	redisReply	*reply = r;

	if (reply != NULL && reply->type == REDIS_REPLY_ERROR)
		log_warnx("redis: AUTH refused: %s", reply->str);
}

static void
rconn_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	rconn_connect(arg);
}

/* The connect took too long: free the context (outside hiredis callbacks). */
static void
rconn_watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	struct rconn		*rc = arg;
	redisAsyncContext	*ac = rc->ac;

	if (ac == NULL || rc->up)
		return;
	evtimer_del(rc->ping);
	log_warnx("redis %s: no connection to %s:%d within %d ms", rc->name,
	    rc->host, rc->port, RCONN_CONNECT_TIMEOUT);
	/* redisAsyncFree on an unconnected context runs no callbacks. */
	rc->ac = NULL;
	redisAsyncFree(ac);
	rconn_schedule(rc);
}

static void
rconn_connect(struct rconn *rc)
{
	redisAsyncContext	*ac;
	struct timeval		 tv = { RCONN_CONNECT_TIMEOUT / 1000, 0 };

	if (rc->closing || rc->ac != NULL)
		return;
	ac = redisAsyncConnect(rc->host, rc->port);
	if (ac == NULL || ac->err) {
		log_warnx("redis %s: %s", rc->name, ac ? ac->errstr :
		    "out of memory");
		if (ac)
			redisAsyncFree(ac);
		rconn_schedule(rc);
		return;
	}
	ac->data = rc;
	rc->ac = ac;
	redisLibeventAttach(ac, rc->base);
	redisAsyncSetConnectCallback(ac, rconn_on_connect);
	redisAsyncSetDisconnectCallback(ac, rconn_on_disconnect);
	redisEnableKeepAlive(&ac->c);
	/* Queued before the socket is up; hiredis flushes it first. */
	if (rc->password != NULL)
		redisAsyncCommand(ac, rconn_on_auth, NULL, "AUTH %s",
		    rc->password);
	evtimer_add(rc->watchdog, &tv);
}

struct rconn *
rconn_new(struct event_base *base, const struct config *cf, const char *name,
    rconn_state_fn *fn, void *arg)
{
	struct rconn	*rc = xcalloc(1, sizeof *rc);

	rc->base = base;
	rc->name = xstrdup(name);
	rc->state_fn = fn;
	rc->arg = arg;
	rc->backoff = RCONN_BACKOFF_MIN;
	rc->retry = evtimer_new(base, rconn_retry_cb, rc);
	rc->watchdog = evtimer_new(base, rconn_watchdog_cb, rc);
	rc->ping = evtimer_new(base, rconn_ping_cb, rc);
	rconn_set_config(rc, cf);
	rconn_connect(rc);
	return rc;
}

void
rconn_set_config(struct rconn *rc, const struct config *cf)
{
	free(rc->host);
	free(rc->password);
	rc->host = xstrdup(cf->redis_host);
	rc->port = cf->redis_port;
	rc->password = cf->redis_password ? xstrdup(cf->redis_password) : NULL;
}

int
rconn_cmd(struct rconn *rc, redisCallbackFn *fn, void *priv, int argc,
    const char **argv, const size_t *lens)
{
	if (rc->ac == NULL || !rc->up)
		return -1;
	if (redisAsyncCommandArgv(rc->ac, fn, priv, argc, argv, lens) !=
	    REDIS_OK)
		return -1;
	return 0;
}

int
rconn_cmdf(struct rconn *rc, redisCallbackFn *fn, void *priv,
    const char *fmt, ...)
{
	va_list	ap;
	int	r;

	if (rc->ac == NULL || !rc->up)
		return -1;
	va_start(ap, fmt);
	r = redisvAsyncCommand(rc->ac, fn, priv, fmt, ap);
	va_end(ap);
	return r == REDIS_OK ? 0 : -1;
}

int
rconn_up(const struct rconn *rc)
{
	return rc->up;
}

void
rconn_free(struct rconn *rc)
{
	redisAsyncContext	*ac = rc->ac;

	rc->closing = 1;
	rc->state_fn = NULL;
	evtimer_del(rc->retry);
	evtimer_del(rc->watchdog);
	evtimer_del(rc->ping);
	if (ac != NULL) {
		rc->ac = NULL;
		/* Runs pending callbacks with NULL and the disconnect callback,
		 * which sees closing and does not reschedule. */
		redisAsyncFree(ac);
	}
	event_free(rc->retry);
	event_free(rc->watchdog);
	event_free(rc->ping);
	free(rc->name);
	free(rc->host);
	free(rc->password);
	free(rc);
}
