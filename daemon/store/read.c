/*
 * read.c: what `hearback list`, `show` and `scheduled` read (see store.h,
 * "Reads for the command"). The command's only (a blocking context).
 *
 * Read-only, and never holding Redis for long: key names are found with
 * SCAN (a few hundred at a time, as the coordinator's ACL allows: @read),
 * and the values read with pipelined plain reads. Records themselves are
 * fetched with store_fetch_sync(), as the planner fetches them, and
 * deliveries with the same script, a few hundred a call (what is stored of
 * one is not all there is to show: lib.lua). Key names are this
 * directory's business, so they are spelt here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

/* Redis's answer, or -1 with e saying why (r is then freed). */
static int
store_read_reply(redisContext *c, redisReply *r, int type, struct err *e)
{
	if (r == NULL)
		return err_set(e, "Redis: %s", c->errstr);
	if (r->type == REDIS_REPLY_ERROR) {
		err_set(e, "Redis: %s", r->str);
		freeReplyObject(r);
		return -1;
	}
	if (type >= 0 && r->type != type) {
		freeReplyObject(r);
		return err_set(e, "Redis: an unexpected reply");
	}
	return 0;
}

/* A glob that matches s literally. */
static void
store_read_glob(struct buf *b, const char *s)
{
	for (; *s; s++) {
		if (strchr("*?[]\\", *s) != NULL)
			buf_addc(b, '\\');
		buf_addc(b, *s);
	}
}

static int
store_read_cmp(const void *a, const void *b)
{
	return strcmp(json_string_value(*(json_t *const *)a),
	    json_string_value(*(json_t *const *)b));
}

/* Sort an array of strings. */
static void
store_read_sort(json_t *a)
{
	size_t	 n = json_array_size(a), i;
	json_t	**v = xcalloc(n ? n : 1, sizeof *v);

	for (i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(a, i));
	qsort(v, n, sizeof *v, store_read_cmp);
	json_array_clear(a);
	for (i = 0; i < n; i++)
		json_array_append_new(a, v[i]);
	free(v);
}

/* Every key "{P}:<head>*" (SCAN), as the part after the head, sorted. */
static int
store_read_scan(redisContext *c, const char *prefix, const char *head,
    json_t **out, struct err *e)
{
	struct buf	 b;
	char		*pattern, cursor[32] = "0", full[STORE_KEY_MAX];
	redisReply	*r;
	json_t		*seen = json_object(), *a, *v;
	const char	*k;
	size_t		 i, flen;

	snprintf(full, sizeof full, "{%s}:%s", prefix, head);
	flen = strlen(full);
	buf_init(&b);
	store_read_glob(&b, full);
	buf_adds(&b, "*");
	pattern = buf_take(&b);
	do {
		r = redisCommand(c, "SCAN %s MATCH %s COUNT 500", cursor,
		    pattern);
		if (store_read_reply(c, r, REDIS_REPLY_ARRAY, e) == -1)
			goto err;
		if (r->elements != 2 || r->element[0]->type !=
		    REDIS_REPLY_STRING || r->element[1]->type !=
		    REDIS_REPLY_ARRAY) {
			freeReplyObject(r);
			err_set(e, "Redis: an unexpected SCAN reply");
			goto err;
		}
		snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
		for (i = 0; i < r->element[1]->elements; i++) {
			redisReply *key = r->element[1]->element[i];

			if (key->type == REDIS_REPLY_STRING && key->len > flen)
				json_object_set_new(seen, key->str + flen,
				    json_true());
		}
		freeReplyObject(r);
	} while (strcmp(cursor, "0") != 0);
	free(pattern);
	a = json_array();
	json_object_foreach(seen, k, v)
		json_array_append_new(a, json_string(k));
	json_decref(seen);
	store_read_sort(a);
	*out = a;
	return 0;
err:
	free(pattern);
	json_decref(seen);
	return -1;
}

int
store_record_ids_sync(redisContext *c, const char *prefix, const char *type,
    json_t **ids, struct err *e)
{
	char	head[64];

	snprintf(head, sizeof head, "rec:%s:", type);
	return store_read_scan(c, prefix, head, ids, e);
}

int
store_groups_sync(redisContext *c, const char *prefix, json_t **groups,
    struct err *e)
{
	json_t		*names, *v;
	redisReply	*r;
	size_t		 i;
	int		 rv = 0;

	if (store_read_scan(c, prefix, "group:", &names, e) == -1)
		return -1;
	*groups = json_object();
	json_array_foreach(names, i, v)
		redisAppendCommand(c, "SCARD {%s}:group:%s", prefix,
		    json_string_value(v));
	json_array_foreach(names, i, v) {
		if (redisGetReply(c, (void **)&r) != REDIS_OK)
			r = NULL;
		if (store_read_reply(c, r, REDIS_REPLY_INTEGER, e) == -1) {
			rv = -1;
			if (r == NULL)
				break;		/* the connection is gone */
			continue;
		}
		if (r->integer > 0)
			json_object_set_new(*groups, json_string_value(v),
			    json_integer(r->integer));
		freeReplyObject(r);
	}
	json_decref(names);
	if (rv == -1) {
		json_decref(*groups);
		*groups = NULL;
	}
	return rv;
}

/* The delivery's fields we show. */
static const char *const store_read_dfields[] = {
	"kind", "cid", "mid", "state", "due", "attempts", "to"
};
#define STORE_READ_NDF	(sizeof store_read_dfields / \
    sizeof store_read_dfields[0])
/* Deliveries read per call of the fetch script: each call stays short. */
#define STORE_READ_CHUNK	256

/*
 * The fetch script (fetch.lua) for keys in need, read-only: deliveries
 * are read through it because what is stored is not what is shown (a
 * delivery's hash holds only what its id does not say, and a reminder
 * still waiting has no hash: lib.lua). The reply, or NULL with e set.
 */
static redisReply *
store_read_fetch(redisContext *c, const char *prefix, json_t *need,
    struct err *e)
{
	struct store_argv	 a;
	redisReply		*r;

	store_fetch_argv(prefix, need, &a);
	if ((r = store_call_sync(c, &a, e)) == NULL)
		return NULL;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != json_array_size(
	    need) + 1) {
		freeReplyObject(r);
		err_set(e, "Redis: an unexpected fetch reply");
		return NULL;
	}
	return r;
}

/* The pending deliveries of a meeting (its index, both forms), sorted. */
static int
store_read_pending(redisContext *c, const char *prefix, const char *mid,
    json_t *dids, struct err *e)
{
	char		 key[STORE_KEY_MAX];
	json_t		*need;
	redisReply	*r, *m;
	size_t		 i;

	need = json_pack("[s]", store_setkey(STORE_MEETING_DELIVERIES, mid,
	    key, sizeof key));
	r = store_read_fetch(c, prefix, need, e);
	json_decref(need);
	if (r == NULL)
		return -1;
	m = r->element[1];
	for (i = 0; m->type == REDIS_REPLY_ARRAY && i < m->elements; i++)
		if (m->element[i]->type == REDIS_REPLY_STRING)
			json_array_append_new(dids, json_stringn(
			    m->element[i]->str, m->element[i]->len));
	freeReplyObject(r);
	store_read_sort(dids);
	return 0;
}

/* A delivery as fetch.lua gives it (a flat array of every field) -> what
 * `scheduled` shows, or NULL (it is gone). */
static json_t *
store_read_delivery(json_t *did, const redisReply *h, json_t *at)
{
	json_t		*d;
	const char	*n;
	size_t		 i, f;

	if (h->type != REDIS_REPLY_ARRAY || h->elements == 0)
		return NULL;
	d = json_object();
	json_object_set(d, "did", did);
	for (i = 0; i + 1 < h->elements; i += 2) {
		if (h->element[i]->type != REDIS_REPLY_STRING ||
		    h->element[i + 1]->type != REDIS_REPLY_STRING)
			continue;
		n = h->element[i]->str;
		for (f = 0; f < STORE_READ_NDF; f++)
			if (strcmp(n, store_read_dfields[f]) == 0)
				json_object_set_new(d, n, json_string(
				    h->element[i + 1]->str));
	}
	/* Gone in between (sent, withdrawn), or not on the schedule (a
	 * meeting's index holds only pending ones, but a lease may be
	 * settling): shown only while scheduled. */
	if (json_object_get(d, "state") == NULL || at == NULL) {
		json_decref(d);
		return NULL;
	}
	json_object_set(d, "at_ms", at);
	return d;
}

/* The deliveries dids (scores: where each is on the schedule) into out,
 * a chunk per call. */
static int
store_read_deliveries(redisContext *c, const char *prefix, json_t *dids,
    json_t *scores, json_t *out, struct err *e)
{
	json_t		*need, *v, *d;
	redisReply	*r;
	size_t		 i, at, n;
	char		*k;

	for (at = 0; at < json_array_size(dids); at += n) {
		need = json_array();
		n = json_array_size(dids) - at;
		if (n > STORE_READ_CHUNK)
			n = STORE_READ_CHUNK;
		for (i = 0; i < n; i++) {
			k = xasprintf("#d:%s", json_string_value(
			    json_array_get(dids, at + i)));
			json_array_append_new(need, json_string(k));
			free(k);
		}
		r = store_read_fetch(c, prefix, need, e);
		json_decref(need);
		if (r == NULL)
			return -1;
		for (i = 0; i < n; i++) {
			v = json_array_get(dids, at + i);
			d = store_read_delivery(v, r->element[i + 1],
			    json_object_get(scores, json_string_value(v)));
			if (d != NULL)
				json_array_append_new(out, d);
		}
		freeReplyObject(r);
	}
	return 0;
}

int
store_schedule_sync(redisContext *c, const char *prefix, const char *mid,
    json_t **out, struct err *e)
{
	redisReply	*r = NULL;
	json_t		*dids = json_array(), *scores = json_object(), *v;
	size_t		 i;
	int		 failed = 0;

	*out = NULL;
	if (mid != NULL) {
		if (store_read_pending(c, prefix, mid, dids, e) == -1)
			goto err;
		json_array_foreach(dids, i, v)
			redisAppendCommand(c, "ZSCORE {%s}:schedule %s", prefix,
			    json_string_value(v));
		json_array_foreach(dids, i, v) {
			if (redisGetReply(c, (void **)&r) != REDIS_OK)
				r = NULL;
			if (store_read_reply(c, r, -1, e) == -1) {
				failed = 1;
				if (r == NULL)
					goto err;
				continue;
			}
			if (r->type == REDIS_REPLY_STRING)
				json_object_set_new(scores, json_string_value(v),
				    json_integer(strtoll(r->str, NULL, 10)));
			freeReplyObject(r);
		}
		if (failed)
			goto err;
	} else {
		r = redisCommand(c, "ZRANGE {%s}:schedule 0 -1 WITHSCORES",
		    prefix);
		if (store_read_reply(c, r, REDIS_REPLY_ARRAY, e) == -1)
			goto err;
		for (i = 0; i + 1 < r->elements; i += 2) {
			json_array_append_new(dids, json_string(
			    r->element[i]->str));
			json_object_set_new(scores, r->element[i]->str,
			    json_integer(strtoll(r->element[i + 1]->str, NULL,
			    10)));
		}
		freeReplyObject(r);
	}
	*out = json_array();
	if (store_read_deliveries(c, prefix, dids, scores, *out, e) == -1) {
		json_decref(*out);
		*out = NULL;
		goto err;
	}
	json_decref(dids);
	json_decref(scores);
	return 0;
err:
	json_decref(dids);
	json_decref(scores);
	return -1;
}
