/*
 * answer.c: the C side of answer.lua (see answer.h for the keys). Builds
 * the script's arguments and sends them: the daemon's calls over its ops
 * connection (main thread), the command's over a blocking context. The
 * script is embedded by scripts.S after lib.lua and gate.lua.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "answer.h"
#include "store.h"

extern const char store_lua_answer[];

static char		answer_sha[41];
static pthread_once_t	answer_once = PTHREAD_ONCE_INIT;

static void
answer_hash(void)
{
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned int	n, i;

	if (EVP_Digest(store_lua_answer, strlen(store_lua_answer), md, &n,
	    EVP_sha1(), NULL) != 1 || n != 20)
		fatalx("answer: cannot compute a SHA-1");
	for (i = 0; i < n; i++)
		snprintf(answer_sha + 2 * i, 3, "%02x", md[i]);
}

static void
answer_add(struct store_argv *a, const char *s)
{
	if (a->argc == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 16;
		a->argv = xrealloc(a->argv, a->cap * sizeof *a->argv);
		a->lens = xrealloc(a->lens, a->cap * sizeof *a->lens);
	}
	a->lens[a->argc] = strlen(s);
	a->argv[a->argc++] = xstrdup(s);
}

static void
answer_head(struct store_argv *a, const char *prefix, const char *op)
{
	char	p[128];

	pthread_once(&answer_once, answer_hash);
	memset(a, 0, sizeof *a);
	a->script = store_lua_answer;
	answer_add(a, "EVALSHA");
	answer_add(a, answer_sha);
	answer_add(a, "0");
	snprintf(p, sizeof p, "{%s}:", prefix);
	answer_add(a, p);
	answer_add(a, op);
}

static void
answer_argv(struct store_argv *a, const char *prefix, const char *op,
    va_list ap)
{
	const char	*s;

	answer_head(a, prefix, op);
	while ((s = va_arg(ap, const char *)) != NULL)
		answer_add(a, s);
}

int
answer_call(struct rconn *rc, const char *prefix, redisCallbackFn *fn,
    void *priv, const char *op, ...)
{
	struct store_argv	a;
	va_list			ap;

	va_start(ap, op);
	answer_argv(&a, prefix, op, ap);
	va_end(ap);
	return store_send(rc, &a, fn, priv);
}

int
answer_callv(struct rconn *rc, const char *prefix, redisCallbackFn *fn,
    void *priv, const char *op, int n, const char **args)
{
	struct store_argv	a;
	int			i;

	answer_head(&a, prefix, op);
	for (i = 0; i < n; i++)
		answer_add(&a, args[i]);
	return store_send(rc, &a, fn, priv);
}

redisReply *
answer_call_sync(redisContext *c, const char *prefix, struct err *e,
    const char *op, ...)
{
	struct store_argv	a;
	va_list			ap;

	va_start(ap, op);
	answer_argv(&a, prefix, op, ap);
	va_end(ap);
	return store_call_sync(c, &a, e);
}

json_t *
answer_flat(const redisReply *r)
{
	json_t	*o = json_object();
	size_t	 i;

	if (r == NULL || r->type != REDIS_REPLY_ARRAY)
		return o;
	for (i = 0; i + 1 < r->elements; i += 2)
		if (r->element[i]->type == REDIS_REPLY_STRING &&
		    r->element[i + 1]->type == REDIS_REPLY_STRING)
			json_object_set_new(o, r->element[i]->str,
			    json_stringn(r->element[i + 1]->str,
			    r->element[i + 1]->len));
	return o;
}

int
answer_meeting_sync(redisContext *c, const char *prefix, const char *mid,
    json_t **answers, struct err *e)
{
	redisReply	*r;
	json_t		*flat, *v, *a, *o;
	const char	*cid;

	*answers = NULL;
	if ((r = answer_call_sync(c, prefix, e, "answers", mid, NULL)) == NULL)
		return -1;
	flat = answer_flat(r);
	freeReplyObject(r);
	o = json_object();
	json_object_foreach(flat, cid, v) {
		if ((a = json_loads(json_string_value(v), 0, NULL)) == NULL)
			continue;
		if (answer_valid(json_string_value(json_object_get(a, "a"))))
			json_object_set_new(o, cid, json_pack("{s:O, s:O, s:O, "
			    "s:b}", "answer", json_object_get(a, "a"), "at",
			    json_object_get(a, "at") ? json_object_get(a, "at")
			    : json_null(), "via", json_object_get(a, "via") ?
			    json_object_get(a, "via") : json_null(), "stale",
			    json_is_true(json_object_get(a, "stale"))));
		json_decref(a);
	}
	json_decref(flat);
	*answers = o;
	return 0;
}

const char *
answer_class(const char *kind)
{
	if (strcmp(kind, "announcement") == 0)
		return "announcements";
	if (strcmp(kind, "outcome") == 0)
		return "outcomes";
	if (strcmp(kind, "invitation") == 0 || strcmp(kind, "update") == 0 ||
	    strcmp(kind, "cancellation") == 0 ||
	    strcmp(kind, "reminder") == 0 || strcmp(kind, "venue-update") == 0)
		return "meetings";
	return NULL;
}

int
answer_valid(const char *a)
{
	return a != NULL && (strcmp(a, "yes") == 0 || strcmp(a, "no") == 0 ||
	    strcmp(a, "maybe") == 0);
}

int
answer_class_valid(const char *class)
{
	static const char *const all[] = ANSWER_CLASSES;
	size_t		i;

	for (i = 0; i < sizeof all / sizeof all[0]; i++)
		if (strcmp(class, all[i]) == 0)
			return 1;
	return 0;
}
