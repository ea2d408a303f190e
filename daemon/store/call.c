/*
 * call.c: the data model's calls to Redis (see store.h). The daemon's go
 * over its async connections (struct rconn), main thread only; the
 * command's (_sync) over a blocking context. Both run the same scripts.
 *
 * A script goes as EVALSHA, so its text crosses the wire once per Redis.
 * A Redis that has not seen it yet (or has flushed its script cache)
 * answers NOSCRIPT; the same call then goes once as EVAL, which runs the
 * script and loads it. A script that ran and failed is not sent again.
 */
#include <stdio.h>
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

/*
 * The daemon's calls (main thread).
 */
int
store_fetch(struct rconn *rc, const char *prefix, json_t *need,
    redisCallbackFn *fn, void *priv)
{
	struct store_argv	a;

	store_fetch_argv(prefix, need, &a);
	return store_send(rc, &a, fn, priv);
}

int
store_commit(struct rconn *rc, const char *prefix, const char *version,
    const char *entry, json_t *ops, redisCallbackFn *fn, void *priv)
{
	struct store_argv	a;

	store_commit_argv(prefix, version, entry, ops, &a);
	return store_send(rc, &a, fn, priv);
}

int
store_lease(struct rconn *rc, const char *prefix, long long now_ms,
    long long lease_ms, int max, redisCallbackFn *fn, void *priv)
{
	struct store_argv	a;

	store_lease_argv(prefix, now_ms, lease_ms, max, &a);
	return store_send(rc, &a, fn, priv);
}

int
store_digest(struct rconn *rc, const char *prefix, long long now_ms,
    long long due_ms, long long every_ms, const char *coordinator,
    long long max_age_ms, redisCallbackFn *fn, void *priv)
{
	struct store_argv	a;

	store_digest_argv(prefix, now_ms, due_ms, every_ms, coordinator,
	    max_age_ms, &a);
	return store_send(rc, &a, fn, priv);
}

int
store_gauges(struct rconn *rc, const char *prefix, long long overdue_ms,
    redisCallbackFn *fn, void *priv)
{
	struct store_argv	a;

	store_gauges_argv(prefix, overdue_ms, &a);
	return store_send(rc, &a, fn, priv);
}

/* The inbox stream's full name. */
static void
store_inbox(const char *prefix, char *buf, size_t len)
{
	snprintf(buf, len, "{%s}:inbox", prefix);
}

int
store_inbox_group(struct rconn *rc, const char *prefix, redisCallbackFn *fn,
    void *priv)
{
	char	inbox[STORE_KEY_MAX];

	store_inbox(prefix, inbox, sizeof inbox);
	return rconn_cmdf(rc, fn, priv, "XGROUP CREATE %s %s 0 MKSTREAM",
	    inbox, STORE_INBOX_GROUP);
}

int
store_inbox_read(struct rconn *rc, const char *prefix, const char *consumer,
    int count, int block_ms, redisCallbackFn *fn, void *priv)
{
	char	inbox[STORE_KEY_MAX], n[16], block[16];

	store_inbox(prefix, inbox, sizeof inbox);
	snprintf(n, sizeof n, "%d", count);
	if (block_ms < 0)
		return rconn_cmdf(rc, fn, priv,
		    "XREADGROUP GROUP %s %s COUNT %s STREAMS %s 0",
		    STORE_INBOX_GROUP, consumer, n, inbox);
	snprintf(block, sizeof block, "%d", block_ms);
	return rconn_cmdf(rc, fn, priv,
	    "XREADGROUP GROUP %s %s COUNT %s BLOCK %s STREAMS %s >",
	    STORE_INBOX_GROUP, consumer, n, block, inbox);
}

int
store_inbox_claim(struct rconn *rc, const char *prefix, const char *consumer,
    long long idle_ms, int count, redisCallbackFn *fn, void *priv)
{
	char	inbox[STORE_KEY_MAX], idle[32], n[16];

	store_inbox(prefix, inbox, sizeof inbox);
	snprintf(idle, sizeof idle, "%lld", idle_ms);
	snprintf(n, sizeof n, "%d", count);
	return rconn_cmdf(rc, fn, priv, "XAUTOCLAIM %s %s %s %s 0-0 COUNT %s",
	    inbox, STORE_INBOX_GROUP, consumer, idle, n);
}

int
store_inbox_pending(struct rconn *rc, const char *prefix, int count,
    redisCallbackFn *fn, void *priv)
{
	char	inbox[STORE_KEY_MAX], n[16];

	store_inbox(prefix, inbox, sizeof inbox);
	snprintf(n, sizeof n, "%d", count);
	return rconn_cmdf(rc, fn, priv, "XPENDING %s %s - + %s", inbox,
	    STORE_INBOX_GROUP, n);
}

int
store_inbox_ack(struct rconn *rc, const char *prefix, const char *entry)
{
	char	inbox[STORE_KEY_MAX];

	store_inbox(prefix, inbox, sizeof inbox);
	return rconn_cmdf(rc, NULL, NULL, "XACK %s %s %s", inbox,
	    STORE_INBOX_GROUP, entry);
}
