/*
 * store_pipeline.h: what intake's pipeline of commits needs from the store
 * (daemon/store/pipeline.c). Main thread only, on intake's connection.
 *
 * The read ahead: store_inbox_read() either reads this consumer's own
 * pending entries or waits (BLOCK) for new ones, and a wait would hold up
 * every command queued behind it on the connection. This read never waits:
 * it goes out while commits and fetches are on the wire.
 *
 * The chain: intake keeps a second batch's commit on the wire behind the
 * first, planned against a snapshot read before the first commit ran. It
 * may apply only if the first did. Each commit of the pipeline sets the
 * hash intake:<consumer> {ver: TOKEN} (a new token per commit); the commit
 * behind it carries IFMARK on that hash and the first one's token, so if
 * the first did not apply (its version check failed) neither does the
 * second (commit.lua's reply 2: nothing applied). The hash expires once the
 * pipeline has been quiet for STORE_CHAIN_TTL seconds.
 */
#ifndef HB_STORE_PIPELINE_H
#define HB_STORE_PIPELINE_H

#include "store.h"

#define STORE_CHAIN_TTL		600

/* XREADGROUP of up to count new entries (">") for consumer, without
 * BLOCK: the reply is nil at once when there are none. */
int	store_inbox_read_more(struct rconn *, const char *prefix,
	    const char *consumer, int count, redisCallbackFn *fn, void *priv);
/* Ops: this commit is link tok of consumer's chain; it applies only if the
 * link before it, prev, is the last one stored. */
void	store_op_chain(json_t *ops, const char *consumer, const char *tok);
void	store_op_ifchain(json_t *ops, const char *consumer, const char *prev);

#endif
