/*
 * call.c: the data model's calls to Redis (see store.h). The daemon's go
 * over its async connections (struct rconn), main thread only; the
 * command's (_sync) over a blocking context. Both run the same scripts.
 *
 * A script goes as EVALSHA, so its text crosses the wire once per Redis.
 * A Redis that has not seen it yet (or has flushed its script cache)
 * answers NOSCRIPT; the same call then goes once as EVAL, which runs the
 * script and loads it. A script that ran and failed is not sent again.
 * A call that falls back runs after calls sent meanwhile on the same
 * connection; nothing relies on their order (intake and the scheduler have
 * one call in flight each, and a delivery is settled once per lease).
 */
#include <stdarg.h>
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

/* A blocking call's reply, or NULL with e saying why (no reply, or an
 * error reply, which is freed). */
static redisReply *
store_sync_reply(redisContext *c, redisReply *r, struct err *e)
{
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
	return store_sync_reply(c, r, e);
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
store_page(struct rconn *rc, const char *prefix, int records,
    const char *set, const char *cursor, int count, redisCallbackFn *fn,
    void *priv)
{
	struct store_argv	a;

	store_page_argv(prefix, records, set, cursor, count, &a);
	return store_send(rc, &a, fn, priv);
}

int
store_page_ids(struct rconn *rc, const char *prefix, int records,
    json_t *ids, redisCallbackFn *fn, void *priv)
{
	struct store_argv	a;

	store_page_ids_argv(prefix, records, ids, &a);
	return store_send(rc, &a, fn, priv);
}

int
store_lease(struct rconn *rc, const char *prefix, long long now_ms,
    long long lease_ms, int max, int summaries, redisCallbackFn *fn,
    void *priv)
{
	struct store_argv	a;

	store_lease_argv(prefix, now_ms, lease_ms, max, summaries, &a);
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

int
store_trim(struct rconn *rc, const char *prefix, long long audit_min_ms,
    long long dead_min_ms, int batch, redisCallbackFn *fn, void *priv)
{
	struct store_argv	a;

	store_trim_argv(prefix, audit_min_ms, dead_min_ms, batch, &a);
	return store_send(rc, &a, fn, priv);
}

int
store_scrub(struct rconn *rc, const char *prefix, int budget,
    redisCallbackFn *fn, void *priv)
{
	struct store_argv	a;

	store_scrub_argv(prefix, budget, &a);
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
store_inbox_oldest(struct rconn *rc, const char *prefix, redisCallbackFn *fn,
    void *priv)
{
	char	inbox[STORE_KEY_MAX];

	store_inbox(prefix, inbox, sizeof inbox);
	return rconn_cmdf(rc, fn, priv, "XPENDING %s %s", inbox,
	    STORE_INBOX_GROUP);
}

/* XPENDING's summary: [count, lowest id, highest id, consumers]. */
int
store_inbox_oldest_id(const redisReply *r, char *buf, size_t len)
{
	const redisReply	*lo;

	buf[0] = '\0';
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements < 2)
		return -1;
	lo = r->element[1];
	if (lo->type == REDIS_REPLY_NIL)
		return 0;
	if (lo->type != REDIS_REPLY_STRING || lo->len == 0 || lo->len >= len)
		return -1;
	memcpy(buf, lo->str, lo->len);
	buf[lo->len] = '\0';
	return 1;
}

int
store_inbox_ack(struct rconn *rc, const char *prefix, const char *entry)
{
	char	inbox[STORE_KEY_MAX];

	store_inbox(prefix, inbox, sizeof inbox);
	return rconn_cmdf(rc, NULL, NULL, "XACK %s %s %s", inbox,
	    STORE_INBOX_GROUP, entry);
}

/*
 * The command's calls (a blocking context).
 */

/* A string from Redis as JSON (bytes as they are). */
static json_t *
store_jstr_sync(const redisReply *r)
{
	if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS)
		return json_stringn_nocheck(r->str, r->len);
	return json_string("");
}

/* A stream entry id, "ms" or "ms-seq": anything else names no entry
 * (and Redis would refuse it as an error, not as absent). */
static int
store_entry_id_ok(const char *id)
{
	size_t	n = strspn(id, "0123456789");

	if (n == 0 || n > 20)
		return 0;
	if (id[n] == '\0')
		return 1;
	return id[n] == '-' && strspn(id + n + 1, "0123456789") ==
	    strlen(id + n + 1) && id[n + 1] != '\0' && strlen(id + n + 1) <= 20;
}

/* A plain command's reply, or NULL with e set. */
static redisReply *
store_cmd_sync(redisContext *c, struct err *e, const char *fmt, ...)
{
	redisReply	*r;
	va_list		 ap;

	va_start(ap, fmt);
	r = redisvCommand(c, fmt, ap);
	va_end(ap);
	return store_sync_reply(c, r, e);
}

int
store_fetch_sync(redisContext *c, const char *prefix, json_t *need,
    json_t *snap, char *version, size_t vlen, struct err *e)
{
	struct store_argv	 a;
	redisReply		*r;
	struct err		 bad;
	int			 n;

	store_fetch_argv(prefix, need, &a);
	if ((r = store_call_sync(c, &a, e)) == NULL)
		return -1;
	n = store_snap_merge(snap, need, r, version, vlen, &bad);
	freeReplyObject(r);
	if (n == -1)
		return err_set(e, "Redis: %s", bad.msg);
	return 0;
}

int
store_enqueue_sync(redisContext *c, const char *prefix, json_t *texts,
    json_t **ids, struct err *e)
{
	struct store_argv	 a;
	redisReply		*r;
	size_t			 i;

	*ids = NULL;
	store_enqueue_argv(prefix, texts, &a);
	if ((r = store_call_sync(c, &a, e)) == NULL)
		return -1;
	if (r->type != REDIS_REPLY_ARRAY || r->elements !=
	    json_array_size(texts)) {
		freeReplyObject(r);
		return err_set(e, "Redis: queueing failed");
	}
	*ids = json_array();
	for (i = 0; i < r->elements; i++)
		json_array_append_new(*ids, store_jstr_sync(r->element[i]));
	freeReplyObject(r);
	return 0;
}

int
store_gauges_sync(redisContext *c, const char *prefix, long long overdue_ms,
    struct store_gauges *g, struct err *e)
{
	struct store_argv	 a;
	redisReply		*r;
	int			 rv;

	memset(g, 0, sizeof *g);
	store_gauges_argv(prefix, overdue_ms, &a);
	if ((r = store_call_sync(c, &a, e)) == NULL)
		return -1;
	rv = store_gauges_parse(r, g);
	freeReplyObject(r);
	if (rv == -1)
		return err_set(e, "Redis: unexpected reply to the gauges");
	return 0;
}

int
store_said_open_sync(redisContext *c, const char *prefix, json_t **open,
    struct err *e)
{
	redisReply	*r;
	size_t		 i;

	*open = json_object();
	if ((r = store_cmd_sync(c, e, "ZRANGE {%s}:said:open 0 -1 WITHSCORES",
	    prefix)) == NULL)
		return -1;
	for (i = 0; r->type == REDIS_REPLY_ARRAY && i + 1 < r->elements;
	    i += 2)
		json_object_set_new(*open, r->element[i]->str, json_integer(
		    atoll(r->element[i + 1]->str)));
	freeReplyObject(r);
	return 0;
}

int
store_dead_entries_sync(redisContext *c, const char *prefix, const char *id,
    json_t **entries, struct err *e)
{
	redisReply	*r, *en, *f;
	json_t		*fields;
	size_t		 i, j;

	*entries = json_array();
	if (id != NULL && !store_entry_id_ok(id))
		return 0;
	r = store_cmd_sync(c, e, "XRANGE {%s}:dead %s %s", prefix,
	    id ? id : "-", id ? id : "+");
	if (r == NULL)
		return -1;
	for (i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
		en = r->element[i];
		if (en->type != REDIS_REPLY_ARRAY || en->elements != 2)
			continue;
		fields = json_object();
		f = en->element[1];
		for (j = 0; f->type == REDIS_REPLY_ARRAY && j + 1 < f->elements;
		    j += 2)
			json_object_set_new(fields, f->element[j]->str,
			    store_jstr_sync(f->element[j + 1]));
		json_array_append_new(*entries, json_pack("{s:s, s:o}", "id",
		    en->element[0]->str, "fields", fields));
	}
	freeReplyObject(r);
	return 0;
}

int
store_dead_drop_sync(redisContext *c, const char *prefix, const char *id,
    struct err *e)
{
	redisReply	*r;
	int		 n;

	if (!store_entry_id_ok(id))
		return 0;
	if ((r = store_cmd_sync(c, e, "XDEL {%s}:dead %s", prefix, id)) ==
	    NULL)
		return -1;
	n = r->type == REDIS_REPLY_INTEGER && r->integer > 0;
	freeReplyObject(r);
	return n;
}

int
store_dead_retry_sync(redisContext *c, const char *prefix, const char *entry,
    long long now_ms, long long deadline_ms, struct store_retry *out,
    struct err *e)
{
	static const struct {
		const char		*word;
		enum store_retried	 what;
	} words[] = {
		{ "record", STORE_RETRIED_RECORD },
		{ "delivery", STORE_RETRIED_DELIVERY },
		{ "none", STORE_RETRIED_NONE },
		{ "gone", STORE_RETRIED_GONE },
		{ "sent", STORE_RETRIED_SENT },
		{ "withdrawn", STORE_RETRIED_WITHDRAWN },
		{ "empty", STORE_RETRIED_EMPTY },
	};
	struct store_argv	 a;
	redisReply		*r;
	size_t			 i;

	memset(out, 0, sizeof *out);
	if (!store_entry_id_ok(entry)) {
		out->what = STORE_RETRIED_NONE;
		return 0;
	}
	store_retry_argv(prefix, entry, now_ms, deadline_ms, &a);
	if ((r = store_call_sync(c, &a, e)) == NULL)
		return -1;
	if (r->type != REDIS_REPLY_ARRAY || r->elements < 1 ||
	    r->element[0]->type != REDIS_REPLY_STRING)
		goto err;
	for (i = 0; i < sizeof words / sizeof words[0]; i++)
		if (strcmp(r->element[0]->str, words[i].word) == 0)
			break;
	if (i == sizeof words / sizeof words[0])
		goto err;
	out->what = words[i].what;
	if (r->elements > 1 && r->element[1]->type == REDIS_REPLY_STRING)
		snprintf(out->id, sizeof out->id, "%s", r->element[1]->str);
	freeReplyObject(r);
	return 0;
err:
	freeReplyObject(r);
	return err_set(e, "Redis: unexpected reply to dead retry");
}
