/*
 * call.c: running the data model's scripts (see store.h) over a Redis
 * connection. store_send: the daemon's async connections, main thread only
 * (like rconn). store_call_sync: the command's blocking context.
 *
 * A script goes as EVALSHA, so its text crosses the wire once per Redis.
 * A Redis that has not seen it yet (or has flushed its script cache)
 * answers NOSCRIPT; the same call then goes once as EVAL, which runs the
 * script and loads it. A script that ran and failed is not sent again.
 */
#include <stdlib.h>
#include <string.h>

#include "rconn.h"
#include "store.h"

struct store_pending {
	struct rconn		*rc;
	struct store_argv	 a;
	redisCallbackFn		*fn;
	void			*priv;
	int			 fallback;
};

static int
store_noscript(const redisReply *r)
{
	return r != NULL && r->type == REDIS_REPLY_ERROR &&
	    strncmp(r->str, "NOSCRIPT", 8) == 0;
}

/* The same call as EVAL with the whole text, in argv/lens (borrowed). */
static void
store_as_eval(const struct store_argv *a, const char **argv, size_t *lens)
{
	int	i;

	argv[0] = "EVAL";
	lens[0] = 4;
	argv[1] = a->script;
	lens[1] = strlen(a->script);
	for (i = 2; i < a->argc; i++) {
		argv[i] = a->argv[i];
		lens[i] = a->lens[i];
	}
}

static void
store_on_reply(redisAsyncContext *ac, void *r, void *priv)
{
	struct store_pending	*p = priv;
	redisReply		*reply = r;
	const char		**argv;
	size_t			*lens;
	int			 sent;

	if (!p->fallback && store_noscript(reply)) {
		p->fallback = 1;
		argv = xcalloc(p->a.argc, sizeof *argv);
		lens = xcalloc(p->a.argc, sizeof *lens);
		store_as_eval(&p->a, argv, lens);
		sent = rconn_cmd(p->rc, store_on_reply, p, p->a.argc, argv,
		    lens);
		free(argv);
		free(lens);
		if (sent == 0)
			return;
		reply = NULL;	/* as if the connection went away */
	}
	if (p->fn)
		p->fn(ac, reply, p->priv);
	store_argv_free(&p->a);
	free(p);
}

int
store_send(struct rconn *rc, struct store_argv *a, redisCallbackFn *fn,
    void *priv)
{
	struct store_pending	*p;

	if (!rconn_up(rc)) {
		store_argv_free(a);
		return -1;
	}
	p = xcalloc(1, sizeof *p);
	p->rc = rc;
	p->a = *a;
	p->fn = fn;
	p->priv = priv;
	memset(a, 0, sizeof *a);
	if (rconn_cmd(rc, store_on_reply, p, p->a.argc,
	    (const char **)p->a.argv, p->a.lens) == -1) {
		store_argv_free(&p->a);
		free(p);
		return -1;
	}
	return 0;
}

redisReply *
store_call_sync(redisContext *c, struct store_argv *a, struct err *e)
{
	redisReply	*r;
	const char	**argv;
	size_t		*lens;

	r = redisCommandArgv(c, a->argc, (const char **)a->argv, a->lens);
	if (store_noscript(r)) {
		freeReplyObject(r);
		argv = xcalloc(a->argc, sizeof *argv);
		lens = xcalloc(a->argc, sizeof *lens);
		store_as_eval(a, argv, lens);
		r = redisCommandArgv(c, a->argc, argv, lens);
		free(argv);
		free(lens);
	}
	store_argv_free(a);
	if (r == NULL) {
		err_set(e, "Redis: %s", c->errstr);
		return NULL;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		err_set(e, "Redis: %s", r->str);
		freeReplyObject(r);
		return NULL;
	}
	return r;
}
