/*
 * pipeline.c: what intake's pipeline of commits needs from the store (see
 * store_pipeline.h): a read of the inbox that never waits, and the chain
 * that lets a commit apply only if the one before it did (the key
 * intake:<consumer>). Main thread only for the read (intake's async
 * connection); the ops are pure, like op.c's, and use commit.lua's own
 * HSET, EXPIRE and IFMARK.
 */
#include <stdio.h>
#include <string.h>

#include "rconn.h"
#include "store_pipeline.h"

int
store_inbox_read_more(struct rconn *rc, const char *prefix,
    const char *consumer, int count, redisCallbackFn *fn, void *priv)
{
	char	inbox[STORE_KEY_MAX], n[16];

	snprintf(inbox, sizeof inbox, "{%s}:inbox", prefix);
	snprintf(n, sizeof n, "%d", count);
	return rconn_cmdf(rc, fn, priv,
	    "XREADGROUP GROUP %s %s COUNT %s STREAMS %s >",
	    STORE_INBOX_GROUP, consumer, n, inbox);
}

/* The chain's hash, relative to the prefix. */
static void
store_chain_key(const char *consumer, char *buf, size_t len)
{
	snprintf(buf, len, "intake:%s", consumer);
}

/* One op: its name and up to three arguments. */
static void
store_chain_op(json_t *ops, const char *op, const char *a, const char *b,
    const char *c)
{
	json_t	*o = json_array();

	json_array_append_new(o, json_string(op));
	json_array_append_new(o, json_string(a));
	json_array_append_new(o, json_string(b));
	if (c != NULL)
		json_array_append_new(o, json_string(c));
	json_array_append_new(ops, o);
}

void
store_op_chain(json_t *ops, const char *consumer, const char *tok)
{
	char	key[STORE_KEY_MAX], ttl[16];

	store_chain_key(consumer, key, sizeof key);
	snprintf(ttl, sizeof ttl, "%d", STORE_CHAIN_TTL);
	store_chain_op(ops, "HSET", key, "ver", tok);
	store_chain_op(ops, "EXPIRE", key, ttl, NULL);
}

void
store_op_ifchain(json_t *ops, const char *consumer, const char *prev)
{
	char	key[STORE_KEY_MAX];

	store_chain_key(consumer, key, sizeof key);
	store_chain_op(ops, "IFMARK", key, prev, NULL);
}
