/*
 * mpage.c: the reads of a meeting planned in pages (store.h, "Meetings in
 * pages"; page.lua does them in Redis): the calls, over the daemon's
 * connection (main thread only), and their parsers (pure, any thread).
 * What to read and what to make of it is meeting_page.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

int
store_mpage_fetch(struct rconn *rc, const char *prefix, json_t *keys,
    redisCallbackFn *fn, void *priv)
{
	struct store_argv	a;

	store_mpage_fetch_argv(prefix, keys, &a);
	return store_send(rc, &a, fn, priv);
}

int
store_mpage_people(struct rconn *rc, const char *prefix,
    const struct store_people *q, redisCallbackFn *fn, void *priv)
{
	struct store_argv	a;

	store_mpage_people_argv(prefix, q, &a);
	return store_send(rc, &a, fn, priv);
}

int
store_mpage_hscan(struct rconn *rc, const char *prefix, const char *key,
    const char *cursor, int count, redisCallbackFn *fn, void *priv)
{
	struct store_argv	a;

	store_mpage_hscan_argv(prefix, key, cursor, count, &a);
	return store_send(rc, &a, fn, priv);
}

static int
store_people_shape(const redisReply *r)
{
	size_t	i;

	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements < 1 ||
	    (r->elements - 1) % 5 != 0 ||
	    r->element[0]->type != REDIS_REPLY_STRING)
		return 0;
	for (i = 1; i < r->elements; i += 5)
		if (r->element[i]->type != REDIS_REPLY_STRING ||
		    r->element[i + 4]->type != REDIS_REPLY_ARRAY)
			return 0;
	return 1;
}

int
store_people_parse(const redisReply *r, char *cursor, size_t clen,
    json_t *snap, json_t **ids, json_t **info, struct err *e)
{
	const redisReply	*mi, *pend;
	json_t			*p;
	size_t			 i, j;
	int			 bad = 0;

	*ids = *info = NULL;
	if (!store_people_shape(r))
		return err_set(e, "page: unexpected reply");
	snprintf(cursor, clen, "%s", r->element[0]->str);
	*ids = json_array();
	*info = json_object();
	for (i = 1; i < r->elements; i += 5) {
		const char *id = r->element[i]->str;

		json_array_append_new(*ids, json_stringn_nocheck(id,
		    r->element[i]->len));
		if (store_snap_put_person(snap, id, r->element[i + 1], e) == -1)
			bad++;
		mi = r->element[i + 2];
		pend = r->element[i + 4];
		p = json_array();
		for (j = 0; j < pend->elements; j++)
			if (pend->element[j]->type == REDIS_REPLY_STRING)
				json_array_append_new(p, json_stringn_nocheck(
				    pend->element[j]->str,
				    pend->element[j]->len));
		json_object_set_new(*info, id, json_pack("{s:o, s:b, s:o}",
		    "mi", mi->type == REDIS_REPLY_STRING ? json_stringn_nocheck(
		    mi->str, mi->len) : json_null(), "in",
		    r->element[i + 3]->type == REDIS_REPLY_INTEGER &&
		    r->element[i + 3]->integer == 1, "pend", p));
	}
	return bad;
}

int
store_hscan_parse(const redisReply *r, char *cursor, size_t clen,
    json_t **fields, struct err *e)
{
	size_t	i;

	*fields = NULL;
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements < 1 ||
	    r->elements % 2 != 1 || r->element[0]->type != REDIS_REPLY_STRING)
		return err_set(e, "page: unexpected reply");
	for (i = 1; i < r->elements; i++)
		if (r->element[i]->type != REDIS_REPLY_STRING)
			return err_set(e, "page: unexpected reply");
	snprintf(cursor, clen, "%s", r->element[0]->str);
	*fields = json_object();
	for (i = 1; i + 1 < r->elements; i += 2)
		json_object_set_new(*fields, r->element[i]->str,
		    json_stringn_nocheck(r->element[i + 1]->str,
		    r->element[i + 1]->len));
	return 0;
}
