/*
 * rconn.c: a hiredis async connection on the libevent loop, with reconnect.
 *
 * hiredis 0.14 rules we live by (see notes): the adapter header holds static
 * functions, so it is included here and nowhere else; after a connect failure
 * or a disconnect the context is freed by hiredis and we never touch it again;
 * replies are freed by hiredis after the callback; there is no connect
 * timeout, so a watchdog timer frees a context that has not connected in 5 s.
 * Main thread only.
 *
 * A connection counts as up only after a handshake: AUTH ([redis] user and
 * the password, when there is one), PING (Redis answers LOADING while it
 * reads its data back: ask again), and a probe script that asks Redis
 * (redis.acl_check_cmd) whether this user may run the commands the daemon
 * runs, on keys under the prefix. A refusal at any step (WRONGPASS, NOAUTH,
 * NOPERM) is the reason the connection is down (rconn_why: /healthz, STATUS=,
 * the log, once per reason); the context is dropped and the connection tried
 * again with the usual backoff, so a fixed password or ACL (and a SIGHUP for
 * a new password file) brings it back by itself. A command refused the same
 * way later (an ACL changed under us) drops the connection too.
 */
#include <stdarg.h>
#include <stdio.h>
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

/*
 * The probe: the commands of the scripts in daemon/store/ and of call.c,
 * each with the arguments Redis needs to find its keys, checked for this
 * user on keys under the prefix (ARGV[1], "{P}:"). Returns the names of
 * those it may not run; {} on a Redis without redis.acl_check_cmd (< 7).
 * A command added to the store belongs here too; one forgotten here is
 * still caught when Redis refuses it (rconn_on_reply).
 */
static const char rconn_probe_lua[] =
	"if not redis.acl_check_cmd then return {} end\n"
	"local P, bad = ARGV[1], {}\n"
	"local function c(...)\n"
	"  local ok, r = pcall(redis.acl_check_cmd, ...)\n"
	"  if not ok or not r then bad[#bad + 1] = string.lower((...)) end\n"
	"end\n"
	"local s, d, i = P .. 'schedule', P .. 'd:probe', P .. 'inbox'\n"
	"c('EVALSHA', '0000000000000000000000000000000000000000', '0')\n"
	"c('GET', P .. 'version') c('SET', P .. 'version', '1')\n"
	"c('INCR', P .. 'version') c('EXISTS', d) c('TYPE', d) c('DEL', d)\n"
	"c('EXPIRE', d, '1') c('PERSIST', d)\n"
	"c('HGET', d, 'f') c('HMGET', d, 'f') c('HGETALL', d)\n"
	"c('HSET', d, 'f', 'v') c('HINCRBY', d, 'f', '1')\n"
	"c('HDEL', d, 'f') c('HEXISTS', d, 'f') c('HLEN', d)\n"
	"c('HSCAN', d, '0') c('UNLINK', d) c('SCAN', '0')\n"
	"c('SADD', d, 'm') c('SREM', d, 'm') c('SMEMBERS', d)\n"
	"c('SCARD', d) c('SISMEMBER', d, 'm') c('SINTER', d)\n"
	"c('SPOP', d) c('SRANDMEMBER', d) c('SSCAN', d, '0')\n"
	"c('LRANGE', d, '0', '1') c('LSET', d, '0', 'v')\n"
	"c('ZADD', s, '1', 'm') c('ZREM', s, 'm') c('ZCARD', s)\n"
	"c('ZCOUNT', s, '0', '1') c('ZRANGE', s, '0', '1') c('ZSCORE', s, 'm')\n"
	"c('ZRANGEBYSCORE', s, '0', '1')\n"
	"c('XADD', i, '*', 'f', 'v') c('XDEL', i, '0-1') c('XLEN', i)\n"
	"c('XRANGE', i, '-', '+') c('XACK', i, 'g', '0-1')\n"
	"c('XGROUP', 'CREATE', i, 'g', '0', 'MKSTREAM')\n"
	"c('XREADGROUP', 'GROUP', 'g', 'c', 'COUNT', '1', 'STREAMS', i, '>')\n"
	"c('XAUTOCLAIM', i, 'g', 'c', '1', '0-0', 'COUNT', '1')\n"
	"c('XPENDING', i, 'g', '-', '+', '1')\n"
	"return bad\n";

struct rconn {
	struct event_base	*base;
	char			*name;
	char			*host;
	int			 port;
	char			*socket;	/* instead of host and port */
	char			*user;
	char			*password;
	char			*prefix;	/* "{P}:" for the probe */
	char			 where[300];	/* "127.0.0.1:6379", "unix:..." */
	redisAsyncContext	*ac;
	int			 up;		/* the handshake passed */
	int			 refused;	/* being dropped: Redis refused us */
	int			 backoff;
	int			 closing;
	struct event		*retry;		/* reconnect timer */
	struct event		*watchdog;	/* connect timeout */
	struct event		*ping;		/* PING again while LOADING */
	struct event		*drop;		/* free a refused context */
	char			 why[512];	/* why not up; "" when up */
	char			 said[512];	/* the last reason logged */
	rconn_state_fn		*state_fn;
	void			*arg;
	struct rconn		*next;		/* rconn_all */
};

/* Every connection, for rconn_down_why (main thread only). */
static struct rconn	*rconn_all;

/* A command's callback, wrapped to see refusals first. */
struct rconn_call {
	struct rconn		*rc;
	redisCallbackFn		*fn;
	void			*priv;
};

static void rconn_connect(struct rconn *);
static void rconn_ping(struct rconn *);

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

/* Why the connection is down; logged when it is news. */
static void
rconn_set_why(struct rconn *rc, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(rc->why, sizeof rc->why, fmt, ap);
	va_end(ap);
	if (rc->closing || strcmp(rc->why, rc->said) == 0)
		return;
	snprintf(rc->said, sizeof rc->said, "%s", rc->why);
	log_warnx("redis %s: %s; trying again until it works", rc->name,
	    rc->why);
}

/* A refusal is Redis saying no to who we are, not to what we sent. */
static int
rconn_is_refusal(const redisReply *r)
{
	return r != NULL && r->type == REDIS_REPLY_ERROR &&
	    (strncmp(r->str, "NOPERM", 6) == 0 ||
	    strncmp(r->str, "NOAUTH", 6) == 0 ||
	    strncmp(r->str, "WRONGPASS", 9) == 0);
}

static void
rconn_lost(struct rconn *rc, const char *why)
{
	int	was_up = rc->up;

	rc->ac = NULL;
	rc->up = 0;
	evtimer_del(rc->watchdog);
	evtimer_del(rc->ping);
	evtimer_del(rc->drop);
	if (!rc->refused)
		rconn_set_why(rc, "at %s unreachable: %s", rc->where, why);
	rc->refused = 0;
	if (was_up && rc->state_fn)
		rc->state_fn(rc, 0, rc->arg);
	rconn_schedule(rc);
}

/*
 * Redis refused us: say why, and drop the context from a timer (never
 * free it inside a hiredis callback); its disconnect runs rconn_lost.
 */
static void
rconn_refuse(struct rconn *rc, const char *fmt, ...)
{
	struct timeval	 tv = { 0, 0 };
	char		 msg[400];
	va_list		 ap;

	if (rc->refused || rc->ac == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	rc->refused = 1;
	rconn_set_why(rc, "at %s refused us: %s", rc->where, msg);
	evtimer_add(rc->drop, &tv);
}

static void
rconn_drop_cb(evutil_socket_t fd, short what, void *arg)
{
	struct rconn		*rc = arg;
	redisAsyncContext	*ac = rc->ac;

	if (ac == NULL || !rc->refused)
		return;
	/* Runs pending callbacks with NULL, then rconn_on_disconnect (or,
	 * when not yet connected, nothing: then we clean up here). */
	redisAsyncFree(ac);
	if (rc->ac == ac)
		rconn_lost(rc, "dropped");
}

static void
rconn_on_probe(redisAsyncContext *ac, void *r, void *priv)
{
	struct rconn	*rc = priv;
	redisReply	*reply = r;
	char		 list[300];
	size_t		 i, n = 0;

	if (reply == NULL || rc->ac != ac)
		return;
	if (reply->type == REDIS_REPLY_ERROR) {
		rconn_refuse(rc, "%s", reply->str);
		return;
	}
	list[0] = '\0';
	for (i = 0; reply->type == REDIS_REPLY_ARRAY && i < reply->elements;
	    i++) {
		if (reply->element[i]->type != REDIS_REPLY_STRING)
			continue;
		n += snprintf(list + n, n < sizeof list ? sizeof list - n : 0,
		    "%s%s", i ? ", " : "", reply->element[i]->str);
	}
	if (list[0] != '\0') {
		rconn_refuse(rc, "NOPERM on keys %s* the user %s may not run "
		    "%s", rc->prefix, rc->user ? rc->user : "default", list);
		return;
	}
	evtimer_del(rc->watchdog);
	rc->up = 1;
	rc->backoff = RCONN_BACKOFF_MIN;
	rc->why[0] = '\0';
	log_info("redis %s: connected to %s%s%s", rc->name, rc->where,
	    rc->user ? " as " : "", rc->user ? rc->user : "");
	rc->said[0] = '\0';
	if (rc->state_fn)
		rc->state_fn(rc, 1, rc->arg);
}

/* PING's answer: on to the probe, or (Redis still loading its data) ask
 * again soon. */
static void
rconn_on_ping(redisAsyncContext *ac, void *r, void *priv)
{
	struct rconn	*rc = priv;
	redisReply	*reply = r;
	struct timeval	 tv = { 0, 100 * 1000 };

	if (reply == NULL || rc->ac != ac || rc->refused)
		return;
	if (reply->type == REDIS_REPLY_ERROR &&
	    strncmp(reply->str, "LOADING", 7) == 0) {
		snprintf(rc->why, sizeof rc->why, "%s is loading its data",
		    rc->where);
		evtimer_add(rc->ping, &tv);
		return;
	}
	if (reply->type == REDIS_REPLY_ERROR) {
		rconn_refuse(rc, "%s", reply->str);
		return;
	}
	redisAsyncCommand(ac, rconn_on_probe, rc, "EVAL %s 0 %s",
	    rconn_probe_lua, rc->prefix);
}

static void
rconn_ping(struct rconn *rc)
{
	if (rc->ac != NULL && !rc->refused)
		redisAsyncCommand(rc->ac, rconn_on_ping, rc, "PING");
}

static void
rconn_ping_cb(evutil_socket_t fd, short what, void *arg)
{
	rconn_ping(arg);
}

static void
rconn_on_auth(redisAsyncContext *ac, void *r, void *priv)
{
	struct rconn	*rc = priv;
	redisReply	*reply = r;

	if (reply == NULL || rc->ac != ac || reply->type != REDIS_REPLY_ERROR)
		return;
	/* A password for a Redis that asks none: harmless, but say so. */
	if (rc->user == NULL && strstr(reply->str, "without any password "
	    "configured") != NULL) {
		if (strcmp(rc->said, reply->str) != 0) {
			snprintf(rc->said, sizeof rc->said, "%s", reply->str);
			log_warnx("redis %s: %s", rc->name, reply->str);
		}
		return;
	}
	rconn_refuse(rc, "%s", reply->str);
}

/*
 * Connected: the handshake. AUTH and PING go together; PING's answer
 * decides (it fails with NOAUTH after a refused AUTH, and then AUTH's
 * reason has been given already).
 */
static void
rconn_on_connect(const redisAsyncContext *cac, int status)
{
	struct rconn		*rc = cac->data;
	redisAsyncContext	*ac = rc->ac;

	if (status != REDIS_OK) {
		rconn_lost(rc, cac->errstr[0] ? cac->errstr : "cannot connect");
		return;
	}
	/* A user with no password: a nopass user takes any, "" too. */
	if (rc->user != NULL)
		redisAsyncCommand(ac, rconn_on_auth, rc, "AUTH %s %s",
		    rc->user, rc->password ? rc->password : "");
	else if (rc->password != NULL)
		redisAsyncCommand(ac, rconn_on_auth, rc, "AUTH %s",
		    rc->password);
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
	rconn_set_why(rc, "at %s unreachable: no answer within %d ms",
	    rc->where, RCONN_CONNECT_TIMEOUT);
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
	if (rc->socket != NULL)
		ac = redisAsyncConnectUnix(rc->socket);
	else
		ac = redisAsyncConnect(rc->host, rc->port);
	if (ac == NULL || ac->err) {
		rconn_set_why(rc, "at %s unreachable: %s", rc->where,
		    ac ? ac->errstr : "out of memory");
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
	if (rc->socket == NULL)
		redisEnableKeepAlive(&ac->c);
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
	rc->drop = evtimer_new(base, rconn_drop_cb, rc);
	rconn_set_config(rc, cf);
	snprintf(rc->why, sizeof rc->why, "at %s: connecting", rc->where);
	rc->next = rconn_all;
	rconn_all = rc;
	rconn_connect(rc);
	return rc;
}

static char *
rconn_optdup(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

void
rconn_set_config(struct rconn *rc, const struct config *cf)
{
	free(rc->host);
	free(rc->socket);
	free(rc->user);
	free(rc->password);
	free(rc->prefix);
	rc->host = xstrdup(cf->redis_host);
	rc->port = cf->redis_port;
	rc->socket = rconn_optdup(cf->redis_socket);
	rc->user = rconn_optdup(cf->redis_user);
	rc->password = rconn_optdup(cf->redis_password);
	rc->prefix = xasprintf("{%s}:", cf->prefix);
	config_redis_where(cf, rc->where, sizeof rc->where);
	/* A refused connection tries the new config soon. */
	if (!rc->up && evtimer_pending(rc->retry, NULL)) {
		rc->backoff = RCONN_BACKOFF_MIN;
		evtimer_del(rc->retry);
		rconn_schedule(rc);
	}
}

/* Every reply passes here first: a refusal drops the connection. */
static void
rconn_on_reply(redisAsyncContext *ac, void *r, void *priv)
{
	struct rconn_call	*call = priv;
	struct rconn		*rc = call->rc;

	if (r != NULL && rc->ac == ac && rc->up && rconn_is_refusal(r))
		rconn_refuse(rc, "%s", ((redisReply *)r)->str);
	if (call->fn != NULL)
		call->fn(ac, r, call->priv);
	free(call);
}

static struct rconn_call *
rconn_call_new(struct rconn *rc, redisCallbackFn *fn, void *priv)
{
	struct rconn_call	*call = xcalloc(1, sizeof *call);

	call->rc = rc;
	call->fn = fn;
	call->priv = priv;
	return call;
}

int
rconn_cmd(struct rconn *rc, redisCallbackFn *fn, void *priv, int argc,
    const char **argv, const size_t *lens)
{
	struct rconn_call	*call;

	if (!rconn_up(rc))
		return -1;
	call = rconn_call_new(rc, fn, priv);
	if (redisAsyncCommandArgv(rc->ac, rconn_on_reply, call, argc, argv,
	    lens) != REDIS_OK) {
		free(call);
		return -1;
	}
	return 0;
}

int
rconn_cmdf(struct rconn *rc, redisCallbackFn *fn, void *priv,
    const char *fmt, ...)
{
	struct rconn_call	*call;
	va_list			 ap;
	int			 r;

	if (!rconn_up(rc))
		return -1;
	call = rconn_call_new(rc, fn, priv);
	va_start(ap, fmt);
	r = redisvAsyncCommand(rc->ac, rconn_on_reply, call, fmt, ap);
	va_end(ap);
	if (r != REDIS_OK) {
		free(call);
		return -1;
	}
	return 0;
}

int
rconn_up(const struct rconn *rc)
{
	return rc->ac != NULL && rc->up && !rc->refused;
}

const char *
rconn_why(const struct rconn *rc)
{
	if (rconn_up(rc))
		return "";
	return rc->why[0] ? rc->why : "not connected";
}

const char *
rconn_down_why(void)
{
	struct rconn	*rc;

	for (rc = rconn_all; rc != NULL; rc = rc->next)
		if (!rconn_up(rc))
			return rconn_why(rc);
	return "";
}

void
rconn_free(struct rconn *rc)
{
	redisAsyncContext	*ac = rc->ac;
	struct rconn		**pp;

	for (pp = &rconn_all; *pp != NULL; pp = &(*pp)->next)
		if (*pp == rc) {
			*pp = rc->next;
			break;
		}

	rc->closing = 1;
	rc->state_fn = NULL;
	evtimer_del(rc->retry);
	evtimer_del(rc->watchdog);
	evtimer_del(rc->ping);
	evtimer_del(rc->drop);
	if (ac != NULL) {
		rc->ac = NULL;
		/* Runs pending callbacks with NULL and the disconnect callback,
		 * which sees closing and does not reschedule. */
		redisAsyncFree(ac);
	}
	event_free(rc->retry);
	event_free(rc->watchdog);
	event_free(rc->ping);
	event_free(rc->drop);
	free(rc->name);
	free(rc->host);
	free(rc->socket);
	free(rc->user);
	free(rc->password);
	free(rc->prefix);
	free(rc);
}
