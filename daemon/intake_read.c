/*
 * intake_read.c: intake's reads of the inbox, and the queue of entries read
 * (it->q) until intake.c takes them in hand.
 *
 * Main thread only, on intake's Redis connection; called by intake.c (the
 * loop's READ step, and the drop of the queue when it lets go of what it
 * read) and by intake_run.c (the read ahead), and calling back into
 * intake.c (intake_next) once entries are queued (intake_impl.h).
 *
 * What is read, in this order of preference:
 *   our own pending entries ("0"), after a start, a dropped connection or
 *     a letting go: what we read and did not commit, in order;
 *   entries another consumer left pending longer than the lease
 *     (XAUTOCLAIM, every INTAKE_CLAIM_EVERY_MS, and while an entry waits),
 *     with their delivery counts (XPENDING: too many is poison);
 *   new entries (">"), waiting up to INTAKE_BLOCK_MS for them.
 *
 * The read ahead: while a batch's commit is on the wire and the last read
 * was full, new entries are read again, without waiting, before the queue
 * runs dry, so that a run is ready when the commit is answered and the
 * thread never stops for a read. Its reply is ignored (the entries stay
 * pending under our name and are read again as our own) when the queue it
 * would add to was dropped meanwhile.
 */
#include <sys/queue.h>

#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "config.h"
#include "intake_impl.h"
#include "log.h"
#include "rconn.h"
#include "store.h"
#include "store_pipeline.h"

/* One entry: its id and record text copied into its own allocation. */
static struct intake_entry *
intake_read_entry(const redisReply *id, const redisReply *text)
{
	struct intake_entry	*en;
	size_t			 tl = text ? text->len + 1 : 0;

	en = xmalloc(sizeof *en + id->len + 1 + tl);
	memset(en, 0, sizeof *en);
	en->id = (char *)(en + 1);
	memcpy(en->id, id->str, id->len);
	en->id[id->len] = '\0';
	if (text != NULL) {
		en->text = en->id + id->len + 1;
		memcpy(en->text, text->str, text->len);
		en->text[text->len] = '\0';
		en->len = text->len;
	}
	return en;
}

/* The "record" field of an entry's [f, v, ...], or NULL. */
static const redisReply *
intake_read_record(const redisReply *f)
{
	size_t	j;

	for (j = 0; f->type == REDIS_REPLY_ARRAY && j + 1 < f->elements;
	    j += 2)
		if (f->element[j]->type == REDIS_REPLY_STRING &&
		    f->element[j]->len == 6 &&
		    memcmp(f->element[j]->str, "record", 6) == 0 &&
		    f->element[j + 1]->type == REDIS_REPLY_STRING)
			return f->element[j + 1];
	return NULL;
}

/* Parse [[id, [f, v, ...]], ...] into the queue; how many were listed. */
static size_t
intake_read_take(struct intake *it, const redisReply *arr)
{
	struct intake_entry	*en;
	size_t			 i;

	for (i = 0; arr && arr->type == REDIS_REPLY_ARRAY && i < arr->elements;
	    i++) {
		const redisReply	*e = arr->element[i];

		if (e->type != REDIS_REPLY_ARRAY || e->elements < 2 ||
		    e->element[0]->type != REDIS_REPLY_STRING)
			continue;
		if (e->element[1]->type == REDIS_REPLY_NIL) {
			/* Pending, but deleted from the stream by someone:
			 * nothing to handle, just let go of it. */
			store_inbox_ack(it->rc, it->cf->prefix,
			    e->element[0]->str);
			continue;
		}
		en = intake_read_entry(e->element[0],
		    intake_read_record(e->element[1]));
		STAILQ_INSERT_TAIL(&it->q, en, next);
	}
	return arr && arr->type == REDIS_REPLY_ARRAY ? arr->elements : 0;
}

/* The entries of an XREADGROUP reply: nil (none, or the block timed out)
 * or [[stream, [entries]]]. How many were listed. */
static size_t
intake_read_reply(struct intake *it, const redisReply *reply)
{
	if (reply->type == REDIS_REPLY_ARRAY && reply->elements > 0 &&
	    reply->element[0]->type == REDIS_REPLY_ARRAY &&
	    reply->element[0]->elements == 2)
		return intake_read_take(it, reply->element[0]->element[1]);
	return 0;
}

static void
intake_read_on_read(redisAsyncContext *ac, void *r, void *priv)
{
	struct intake	*it = priv;
	redisReply	*reply = r;
	size_t		 n;

	if (reply == NULL)
		return;		/* intake_lost ran from the state callback */
	it->reading = 0;
	/*
	 * Stopping: what this read delivered is pending under our name, and
	 * the next daemon would claim it only after the lease, while it reads
	 * what was queued after it at once (a meeting before the person it
	 * invites). So it is handled now, like the rest in hand; the queue
	 * drained, intake_next stops.
	 */
	if (it->stopping && (reply->type != REDIS_REPLY_ARRAY ||
	    reply->elements == 0)) {
		intake_set_state(it, INTAKE_STOPPED);
		return;
	}
	if (reply->type == REDIS_REPLY_ERROR) {
		log_warnx("intake: XREADGROUP: %s", reply->str);
		if (strncmp(reply->str, "NOGROUP", 7) == 0)
			intake_set_state(it, INTAKE_IDLE);
		intake_kick(it, 1000);
		return;
	}
	n = intake_read_reply(it, reply);
	it->more = n >= INTAKE_BATCH;
	if (it->own_pending && (n == 0 || STAILQ_EMPTY(&it->q)))
		it->own_pending = 0;
	intake_set_state(it, INTAKE_WORK);
	intake_next(it);
}

static void
intake_read_on_ahead(redisAsyncContext *ac, void *r, void *priv)
{
	struct intake	*it = priv;
	redisReply	*reply = r;

	if (reply == NULL)
		return;		/* intake_lost ran from the state callback */
	if (it->ra_ignore > 0) {
		it->ra_ignore--;
		return;
	}
	it->ra_flight = 0;
	if (reply->type == REDIS_REPLY_ERROR) {
		log_warnx("intake: XREADGROUP: %s", reply->str);
		it->more = 0;
	} else
		it->more = intake_read_reply(it, reply) >= INTAKE_BATCH;
	if (it->ra_wait) {
		/* Nothing was in hand: on with what came. */
		it->ra_wait = 0;
		intake_next(it);
	} else
		(void)intake_run_more(it);	/* the next run's fetch */
}

/* Read ahead, if the last read was full and the queue is running low. */
void
intake_read_ahead(struct intake *it)
{
	struct intake_entry	*en;
	int			 n = 0;

	if (it->ra_flight || !it->more || it->stopping || it->own_pending ||
	    it->wait_id[0] != '\0' || it->state != INTAKE_WORK ||
	    !rconn_up(it->rc) ||
	    util_now_ms() - it->last_claim_ms >= INTAKE_CLAIM_EVERY_MS)
		return;		/* the loop claims first */
	STAILQ_FOREACH(en, &it->q, next)
		if (++n >= INTAKE_READ_AHEAD)
			return;
	if (store_inbox_read_more(it->rc, it->cf->prefix, it->consumer,
	    INTAKE_BATCH, intake_read_on_ahead, it) == 0)
		it->ra_flight = 1;
}

/* Drop the queue; a read ahead on the wire is ignored when it comes. */
void
intake_read_drop(struct intake *it)
{
	struct intake_entry	*en;

	while ((en = STAILQ_FIRST(&it->q)) != NULL) {
		STAILQ_REMOVE_HEAD(&it->q, next);
		intake_entry_free(en);
	}
	if (it->ra_flight)
		it->ra_ignore++;
	it->ra_flight = 0;
	it->ra_wait = 0;
	it->more = 0;
}

static void
intake_read_on_pending(redisAsyncContext *ac, void *r, void *priv)
{
	struct intake		*it = priv;
	redisReply		*reply = r, *row;
	struct intake_entry	*en;
	size_t			 i;

	if (reply == NULL)
		return;
	/* [[id, consumer, idle, deliveries], ...] for the claimed entries */
	for (i = 0; reply->type == REDIS_REPLY_ARRAY && i < reply->elements;
	    i++) {
		row = reply->element[i];
		if (row->type != REDIS_REPLY_ARRAY || row->elements < 4)
			continue;
		STAILQ_FOREACH(en, &it->q, next)
			if (strcmp(en->id, row->element[0]->str) == 0)
				en->deliveries = row->element[3]->integer;
	}
	intake_set_state(it, INTAKE_WORK);
	intake_next(it);
}

/* Stream ids "ms-seq" in order: <0, 0, >0. */
int
intake_read_idcmp(const char *a, const char *b)
{
	unsigned long long	 am, as = 0, bm, bs = 0;
	char			*p;

	am = strtoull(a, &p, 10);
	if (*p == '-')
		as = strtoull(p + 1, NULL, 10);
	bm = strtoull(b, &p, 10);
	if (*p == '-')
		bs = strtoull(p + 1, NULL, 10);
	if (am != bm)
		return am < bm ? -1 : 1;
	return as < bs ? -1 : as > bs;
}

/* While an entry waits: the oldest entry pending in the group. Nothing
 * older than the waiting entry: read our own pending entries again (it
 * among them, in order) and judge it as any other. */
static void
intake_read_on_wait(redisAsyncContext *ac, void *r, void *priv)
{
	struct intake	*it = priv;
	redisReply	*reply = r;
	char		 oldest[64];
	int		 n;

	if (reply == NULL)
		return;
	it->reading = 0;
	if (it->stopping) {
		intake_set_state(it, INTAKE_STOPPED);
		return;
	}
	if ((n = store_inbox_oldest_id(reply, oldest, sizeof oldest)) == -1) {
		log_warnx("intake: XPENDING: %s", reply->type ==
		    REDIS_REPLY_ERROR ? reply->str : "unexpected reply");
		intake_kick(it, INTAKE_WAIT_MS);
		return;
	}
	if (n == 1 && intake_read_idcmp(oldest, it->wait_id) < 0) {
		intake_kick(it, INTAKE_WAIT_MS);
		return;
	}
	log_info("intake: entry %s: no older entry is pending: judging it "
	    "again", it->wait_id);
	it->wait_id[0] = '\0';
	it->own_pending = 1;
	intake_kick(it, 0);
}

/* Nothing claimed: read on, or (an entry waiting) see whether anything
 * older is still pending. */
static void
intake_read_claimed_none(struct intake *it)
{
	intake_set_state(it, INTAKE_READ);
	if (it->wait_id[0] == '\0') {
		intake_kick(it, 0);
		return;
	}
	if (store_inbox_oldest(it->rc, it->cf->prefix, intake_read_on_wait,
	    it) == -1)
		intake_lost(it);
	else
		it->reading = 1;
}

static void
intake_read_on_claim(redisAsyncContext *ac, void *r, void *priv)
{
	struct intake	*it = priv;
	redisReply	*reply = r, *ids;
	size_t		 i;

	if (reply == NULL)
		return;
	it->reading = 0;
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 2) {
		if (reply->type == REDIS_REPLY_ERROR)
			log_warnx("intake: XAUTOCLAIM: %s", reply->str);
		intake_set_state(it, INTAKE_READ);
		intake_kick(it, it->wait_id[0] != '\0' ? INTAKE_WAIT_MS : 0);
		return;
	}
	intake_read_take(it, reply->element[1]);
	/* Redis 7 also lists ids whose entries were deleted: ack them. */
	if (reply->elements >= 3 && (ids = reply->element[2])->type ==
	    REDIS_REPLY_ARRAY && ids->elements > 0) {
		for (i = 0; i < ids->elements; i++)
			store_inbox_ack(it->rc, it->cf->prefix,
			    ids->element[i]->str);
	}
	if (STAILQ_EMPTY(&it->q)) {
		intake_read_claimed_none(it);
		return;
	}
	log_info("intake: claimed %zu entries left by another consumer",
	    reply->element[1]->elements);
	if (store_inbox_pending(it->rc, it->cf->prefix, INTAKE_BATCH * 4,
	    intake_read_on_pending, it) == -1)
		intake_lost(it);
}

static void
intake_read_on_group(redisAsyncContext *ac, void *r, void *priv)
{
	struct intake	*it = priv;
	redisReply	*reply = r;

	if (reply == NULL)
		return;
	if (reply->type == REDIS_REPLY_ERROR &&
	    strncmp(reply->str, "BUSYGROUP", 9) != 0) {
		log_warnx("intake: XGROUP CREATE: %s", reply->str);
		intake_set_state(it, INTAKE_IDLE);
		intake_kick(it, 1000);
		return;
	}
	intake_set_state(it, INTAKE_READ);
	intake_loop(it);
}

/* Make the consumer group (it may be there already). */
void
intake_read_group(struct intake *it)
{
	intake_set_state(it, INTAKE_GROUP);
	if (store_inbox_group(it->rc, it->cf->prefix, intake_read_on_group,
	    it) == -1)
		intake_lost(it);
}

/* The READ step: claim, or read our own pending entries, or new ones. */
int
intake_read(struct intake *it, long long now)
{
	if (it->wait_id[0] != '\0' || (!it->own_pending &&
	    now - it->last_claim_ms >= INTAKE_CLAIM_EVERY_MS)) {
		/* Waiting: claim what a stopped consumer left once the lease
		 * is over (then see what is pending); else now and then. */
		it->last_claim_ms = now;
		return store_inbox_claim(it->rc, it->cf->prefix, it->consumer,
		    it->cf->lease * 1000, INTAKE_BATCH, intake_read_on_claim,
		    it);
	}
	return store_inbox_read(it->rc, it->cf->prefix, it->consumer,
	    INTAKE_BATCH, it->own_pending ? -1 : INTAKE_BLOCK_MS,
	    intake_read_on_read, it);
}
