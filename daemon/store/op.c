/*
 * op.c: plans, as ops (see store.h, "Plans"): the commit script's
 * vocabulary (commit.lua), written by the planner, the outcome and the
 * command, and read back for previews (store_plan_deliveries). Each op is
 * an array of strings: the op's name, then its arguments; key names come
 * from store.c. Pure: no I/O, no global state; any thread.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

static void
store_op(json_t *ops, const char *op, ...)
{
	json_t		*a = json_array();
	const char	*s;
	va_list		 ap;

	json_array_append_new(a, json_string(op));
	va_start(ap, op);
	/* Values are bytes: a record that is not UTF-8 still has to reach
	 * the dead stream intact. */
	while ((s = va_arg(ap, const char *)) != NULL)
		json_array_append_new(a, json_stringn_nocheck(s, strlen(s)));
	va_end(ap);
	json_array_append_new(ops, a);
}

void
store_op_record(json_t *ops, const char *type, const char *id,
    const char *text)
{
	char	key[STORE_KEY_MAX];

	store_op(ops, "SET", store_reckey(type, id, key, sizeof key), text,
	    NULL);
}

void
store_op_record_del(json_t *ops, const char *type, const char *id)
{
	char	key[STORE_KEY_MAX];

	store_op(ops, "DEL", store_reckey(type, id, key, sizeof key), NULL);
}

void
store_op_sadd(json_t *ops, enum store_set set, const char *id,
    const char *member)
{
	char	key[STORE_KEY_MAX];

	store_op(ops, "SADD", store_setkey(set, id, key, sizeof key), member,
	    NULL);
}

void
store_op_srem(json_t *ops, enum store_set set, const char *id,
    const char *member)
{
	char	key[STORE_KEY_MAX];

	store_op(ops, "SREM", store_setkey(set, id, key, sizeof key), member,
	    NULL);
}

void
store_op_set_del(json_t *ops, enum store_set set, const char *id)
{
	char	key[STORE_KEY_MAX];

	store_op(ops, "DEL", store_setkey(set, id, key, sizeof key), NULL);
}

void
store_op_said_open(json_t *ops, const char *sid, long long at_ms)
{
	char	at[32];

	snprintf(at, sizeof at, "%lld", at_ms);
	store_op(ops, "ZADD", "said:open", at, sid, NULL);
}

void
store_op_said_moved(json_t *ops, const char *sid, long long at_ms)
{
	char	at[32];

	snprintf(at, sizeof at, "%lld", at_ms);
	store_op(ops, "ZADDXX", "said:open", at, sid, NULL);
}

void
store_op_said_answered(json_t *ops, const char *sid)
{
	store_op(ops, "ZREM", "said:open", sid, NULL);
}

void
store_op_count(json_t *ops, const char *name)
{
	store_op(ops, "HINCRBY", "stats", name, "1", NULL);
}

/* The HINCRBY op of into on the same key and field as op, or NULL. */
static json_t *
store_ops_counter(json_t *into, json_t *op)
{
	json_t	*o;
	size_t	 i;

	json_array_foreach(into, i, o) {
		if (json_array_size(o) == 4 && json_equal(json_array_get(o, 0),
		    json_array_get(op, 0)) && json_equal(json_array_get(o, 1),
		    json_array_get(op, 1)) && json_equal(json_array_get(o, 2),
		    json_array_get(op, 2)))
			return o;
	}
	return NULL;
}

void
store_ops_join(json_t *into, json_t *ops)
{
	json_t		*op, *same;
	const char	*name;
	char		 n[32];
	size_t		 i;

	json_array_foreach(ops, i, op) {
		name = json_string_value(json_array_get(op, 0));
		if (name != NULL && strcmp(name, "HINCRBY") == 0 &&
		    (same = store_ops_counter(into, op)) != NULL) {
			snprintf(n, sizeof n, "%lld", atoll(json_string_value(
			    json_array_get(same, 3))) + atoll(json_string_value(
			    json_array_get(op, 3))));
			json_array_set_new(same, 3, json_string(n));
		} else if (name != NULL && strcmp(name, "HINCRBY") == 0)
			/* A copy: folding later ones in must not change
			 * the caller's op. */
			json_array_append_new(into, json_deep_copy(op));
		else
			json_array_append(into, op);
	}
}

void
store_op_audit(json_t *ops, ...)
{
	json_t		*a = json_array();
	const char	*s;
	va_list		 ap;

	json_array_append_new(a, json_string("XADD"));
	json_array_append_new(a, json_string("audit"));
	va_start(ap, ops);
	while ((s = va_arg(ap, const char *)) != NULL)
		json_array_append_new(a, json_stringn_nocheck(s, strlen(s)));
	va_end(ap);
	json_array_append_new(ops, a);
}

void
store_op_dead_record(json_t *ops, const char *why, const char *at,
    const char *text, size_t len, const char *entry, const char *type,
    const char *id)
{
	store_op(ops, "XADD", "dead", "error", why, "at", at, "record", "",
	    "entry", entry, "type", type, "id", id, NULL);
	/* The original bytes, whatever they are. */
	json_array_set_new(json_array_get(ops, json_array_size(ops) - 1), 7,
	    json_stringn_nocheck(text, len));
}

void
store_op_dead_delivery(json_t *ops, const char *why, const char *at,
    const char *did, const char *kind, const char *cid, const char *attempts,
    const char *first, const char *last, const char *reply)
{
	store_op(ops, "XADD", "dead", "error", why, "at", at, "delivery", did,
	    "kind", kind, "collaborator", cid, "attempts", attempts,
	    "first_try", first, "last_try", last, "last_reply", reply, NULL);
}

static void
store_op_needles(json_t *ops, const char *op, const char *key,
    const char *const *needles, size_t n)
{
	size_t	i;

	store_op(ops, op, key, NULL);
	for (i = 0; i < n; i++)
		json_array_append_new(json_array_get(ops, json_array_size(ops) -
		    1), json_stringn_nocheck(needles[i], strlen(needles[i])));
}

void
store_op_scrub(json_t *ops, const char *const *needles, size_t n)
{
	store_op_needles(ops, "STREAMSCRUB", "dead", needles, n);
	store_op_needles(ops, "NOTICESCRUB", "notices", needles, n);
}

void
store_op_forget(json_t *ops, const char *cid, const char *name,
    const char *email, const char *phone, const char *sname,
    const char *semail)
{
	char	b[32];

	snprintf(b, sizeof b, "%d", STORE_FORGET_BUDGET);
	store_op(ops, "FORGET", cid, name ? name : "", email ? email : "",
	    phone ? phone : "", b, sname ? sname : "", semail ? semail : "",
	    NULL);
}

void
store_op_delivery(json_t *ops, const struct store_delivery *d)
{
	char	due[32], dl[32], now[32];

	snprintf(due, sizeof due, "%lld", d->due_ms);
	snprintf(dl, sizeof dl, "%lld", d->deadline_ms);
	snprintf(now, sizeof now, "%lld", d->created_ms);
	store_op(ops, "DNEW", d->did, due, d->cid, d->mid, "kind", d->kind,
	    "refs", d->refs, "to", d->to ? d->to : "", "data",
	    d->data ? d->data : "{}", "src", d->src, "created", now,
	    "deadline", dl, "attempts", "0", NULL);
}

void
store_op_fan(json_t *ops, const struct store_delivery *d, const char *ver)
{
	char	due[32], dl[32], now[32];

	snprintf(due, sizeof due, "%lld", d->due_ms);
	snprintf(dl, sizeof dl, "%lld", d->deadline_ms);
	snprintf(now, sizeof now, "%lld", d->created_ms);
	store_op(ops, "DFAN", d->did, due, d->cid, d->mid, ver, "kind",
	    d->kind, "refs", d->refs, "to", d->to ? d->to : "", "data",
	    d->data ? d->data : "{}", "src", d->src, "created", now,
	    "deadline", dl, "attempts", "0", NULL);
}

void
store_op_drop_stale(json_t *ops, const char *did, const char *ver)
{
	store_op(ops, "DDELOLD", did, ver, NULL);
}

void
store_op_mark(json_t *ops, const char *type, const char *id,
    const char *ver, const char *old)
{
	char	key[STORE_KEY_MAX];

	store_markkey(type, id, key, sizeof key);
	store_op(ops, "DEL", key, NULL);
	store_op(ops, "HSET", key, "ver", ver, "old", old, NULL);
}

void
store_op_mark_plan(json_t *ops, const char *type, const char *id,
    const char *ver, const char *plan)
{
	char	key[STORE_KEY_MAX];

	store_markkey(type, id, key, sizeof key);
	store_op(ops, "DEL", key, NULL);
	store_op(ops, "HSET", key, "ver", ver, "plan", plan, NULL);
}

void
store_op_mark_set(json_t *ops, const char *type, const char *id,
    const char *field, const char *value)
{
	char	key[STORE_KEY_MAX];

	store_op(ops, "HSET", store_markkey(type, id, key, sizeof key), field,
	    value, NULL);
}

void
store_op_invite(json_t *ops, const char *mid, json_t *cids, const char *ver)
{
	char	 key[STORE_KEY_MAX];
	json_t	*v;
	size_t	 i;

	if (json_array_size(cids) == 0)
		return;
	store_op(ops, "HSET", store_invkey(mid, key, sizeof key), NULL);
	json_array_foreach(cids, i, v) {
		json_array_append(json_array_get(ops, json_array_size(ops) - 1),
		    v);
		json_array_append_new(json_array_get(ops, json_array_size(ops) -
		    1), json_string(ver));
	}
}

void
store_op_uninvite(json_t *ops, const char *mid, const char *cid)
{
	char	key[STORE_KEY_MAX];

	store_op(ops, "HDEL", store_invkey(mid, key, sizeof key), cid, NULL);
}

void
store_op_invited_del(json_t *ops, const char *mid)
{
	char	key[STORE_KEY_MAX];

	store_op(ops, "UNLINK", store_invkey(mid, key, sizeof key), NULL);
}

void
store_op_part_put(json_t *ops, const char *mid, const char *field,
    const char *value)
{
	char	key[STORE_KEY_MAX];

	store_op(ops, "HSET", store_partkey(mid, key, sizeof key), field,
	    value, NULL);
}

void
store_op_part_forget(json_t *ops, const char *mid, const char *cid)
{
	char	key[STORE_KEY_MAX], *a, *c0, *c1, *g;

	a = xasprintf("a:%s", cid);
	c0 = xasprintf("c:0:%s", cid);
	c1 = xasprintf("c:1:%s", cid);
	g = xasprintf("g:%s", cid);
	store_op(ops, "HDEL", store_partkey(mid, key, sizeof key), a, c0, c1,
	    g, NULL);
	free(a);
	free(c0);
	free(c1);
	free(g);
}

void
store_op_part_del(json_t *ops, const char *mid)
{
	char	key[STORE_KEY_MAX];

	store_op(ops, "UNLINK", store_partkey(mid, key, sizeof key), NULL);
}

void
store_op_ifmark(json_t *ops, const char *type, const char *id,
    const char *ver)
{
	char	key[STORE_KEY_MAX];

	store_op(ops, "IFMARK", store_markkey(type, id, key, sizeof key), ver,
	    NULL);
}

void
store_op_unmark(json_t *ops, const char *type, const char *id,
    const char *ver)
{
	char	key[STORE_KEY_MAX];

	store_op(ops, "DELMARK", store_markkey(type, id, key, sizeof key), ver,
	    NULL);
}

void
store_op_drop(json_t *ops, const char *did)
{
	store_op(ops, "DDEL", did, NULL);
}

void
store_op_drop_all(json_t *ops, enum store_set index, const char *id)
{
	char	key[STORE_KEY_MAX];

	store_op(ops, "DDELALL", store_setkey(index, id, key, sizeof key),
	    NULL);
}

void
store_op_sent(json_t *ops, const char *did, const char *reply)
{
	char	ttl[32];

	snprintf(ttl, sizeof ttl, "%lld", STORE_KEEP_SETTLED);
	store_op(ops, "DSENT", did, reply, ttl, NULL);
}

void
store_op_retry(json_t *ops, const char *did, long long due_ms, int attempts,
    const char *first, const char *last, const char *reply)
{
	char	due[32], n[16];

	snprintf(due, sizeof due, "%lld", due_ms);
	snprintf(n, sizeof n, "%d", attempts);
	store_op(ops, "DRETRY", did, due, n, first, last, reply, NULL);
}

void
store_op_dead(json_t *ops, const char *did, const char *first,
    const char *last, const char *attempts, const char *reply)
{
	char	ttl[32];

	snprintf(ttl, sizeof ttl, "%lld", STORE_KEEP_SETTLED);
	store_op(ops, "DDEAD", did, first, last, attempts, reply, ttl, NULL);
}

void
store_op_unlease(json_t *ops, const char *did, long long due_ms)
{
	char	due[32];

	snprintf(due, sizeof due, "%lld", due_ms);
	store_op(ops, "DUNLEASE", did, due, NULL);
}

json_t *
store_plan_deliveries(json_t *ops)
{
	json_t	*out = json_array(), *op, *d;
	size_t	 i, f;

	json_array_foreach(ops, i, op) {
		if (strcmp(json_string_value(json_array_get(op, 0)), "DNEW") !=
		    0)
			continue;
		/* DNEW did due cid mid field value... (as commit.lua sets
		 * the hash) */
		d = json_object();
		json_object_set(d, "cid", json_array_get(op, 3));
		json_object_set(d, "mid", json_array_get(op, 4));
		json_object_set(d, "due", json_array_get(op, 2));
		for (f = 5; f + 1 < json_array_size(op); f += 2)
			json_object_set(d, json_string_value(json_array_get(op,
			    f)), json_array_get(op, f + 1));
		json_array_append_new(out, json_pack("{s:O, s:o}", "did",
		    json_array_get(op, 1), "delivery", d));
	}
	return out;
}
