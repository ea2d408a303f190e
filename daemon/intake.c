/*
 * intake.c: the inbox reader and acknowledger: inbox stream -> checked
 * record -> handed to a batch or a fan-out -> acknowledged once stored.
 *
 * Main thread only; owns its Redis connection (rconn "intake"), the state,
 * the queue of entries read and what is in hand (intake_impl.h). It reads
 * (XREADGROUP, and XAUTOCLAIM for entries another consumer left), parses
 * each entry once, rejects what cannot be accepted (dead entry, audit,
 * notice and acknowledgement in one commit), and hands the rest over:
 *
 *   a batch  one record, or a run of independent ones read together
 *            (intake_run.c): fetched, planned against one snapshot and
 *            committed in one call that also acknowledges their entries.
 *   a fan-out  an announcement, planned page by page (intake_fanout.c,
 *            fanout.c): its entry is acknowledged with the last page.
 *
 * Either way an entry leaves the inbox only in the commit that stores
 * everything it causes (SPEC section 5). Records are handled in inbox
 * order, which keeps one daemon's order; the version check settles races
 * between daemons. A record naming an id nothing is stored under waits,
 * pending, while an older entry is pending under any consumer (which may
 * store that id: a crashed daemon's, claimed after the lease), and is
 * judged once none is (intake_defer, wait_id).
 *
 * States:  IDLE -(connected)-> GROUP -> READ <-> WORK,  any -(stop)-> STOPPED
 *
 * Nothing is lost on a dropped connection: an entry stays pending in the
 * consumer group until the commit that acknowledges it; entries read but not
 * committed are re-read ("0") when the connection returns, or claimed by
 * another daemon after the lease.
 */
#include <sys/queue.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "address.h"
#include "clock.h"
#include "config.h"
#include "fanout.h"
#include "intake_impl.h"
#include "log.h"
#include "metrics.h"
#include "plan.h"
#include "rconn.h"
#include "record.h"
#include "store.h"

static void intake_loop(struct intake *);

static const char *
intake_state_name(enum intake_state s)
{
	static const char *names[] = { "idle", "group", "read", "work",
	    "stopped" };

	return names[s];
}

/* The only writer of it->state. */
static void
intake_set_state(struct intake *it, enum intake_state s)
{
	if (it->state != s)
		log_debug("intake: %s -> %s", intake_state_name(it->state),
		    intake_state_name(s));
	it->state = s;
}

static void
intake_entry_free(struct intake_entry *en)
{
	if (en == NULL)
		return;
	if (en->parsed == 1)
		record_clear(&en->rec);
	free(en->why);
	free(en->id);
	free(en->text);
	free(en);
}

static void
intake_drop_queue(struct intake *it)
{
	struct intake_entry	*en;

	while ((en = STAILQ_FIRST(&it->q)) != NULL) {
		STAILQ_REMOVE_HEAD(&it->q, next);
		intake_entry_free(en);
	}
}

/* Forget the snapshot and the keys being fetched (to plan again). */
void
intake_clear_snap(struct intake *it)
{
	json_decref(it->snap);
	it->snap = NULL;
	json_decref(it->need);
	it->need = NULL;
	it->rounds = 0;
	it->version[0] = '\0';
}


void
intake_clear_cur(struct intake *it)
{
	struct intake_entry	*en;

	intake_clear_snap(it);
	fanout_free(it->fo);
	it->fo = NULL;
	it->fo_headed = 0;
	while ((en = STAILQ_FIRST(&it->hand)) != NULL) {
		STAILQ_REMOVE_HEAD(&it->hand, next);
		intake_entry_free(en);
	}
	it->nhand = 0;
}

/* The one entry in hand (a fan-out, a rejected record). */
struct intake_entry *
intake_cur(struct intake *it)
{
	return STAILQ_FIRST(&it->hand);
}


/* The connection went away: whatever is in hand stays pending in Redis. */
void
intake_lost(struct intake *it)
{
	intake_run_unahead(it);
	it->ahead_ignore = 0;	/* what was on the wire comes back NULL */
	intake_clear_cur(it);
	intake_drop_queue(it);
	it->own_pending = 1;
	it->reading = 0;
	intake_set_state(it, it->stopping ? INTAKE_STOPPED : INTAKE_IDLE);
}

static void
intake_kick_cb(evutil_socket_t fd, short what, void *arg)
{
	intake_loop(arg);
}

/* Run the loop again soon (after delay ms), from outside any callback. */
static void
intake_kick(struct intake *it, int delay_ms)
{
	struct timeval	tv = { delay_ms / 1000, (delay_ms % 1000) * 1000 };

	evtimer_add(it->kick, &tv);
}

/* Parse [[id, [f, v, ...]], ...] into the queue. */
static void
intake_take_entries(struct intake *it, redisReply *arr)
{
	size_t	i, j;

	for (i = 0; arr && arr->type == REDIS_REPLY_ARRAY && i < arr->elements;
	    i++) {
		redisReply		*e = arr->element[i], *f;
		struct intake_entry	*en;

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
		en = xcalloc(1, sizeof *en);
		en->id = xstrdup(e->element[0]->str);
		f = e->element[1];
		for (j = 0; f->type == REDIS_REPLY_ARRAY && j + 1 < f->elements;
		    j += 2)
			if (f->element[j]->type == REDIS_REPLY_STRING &&
			    strcmp(f->element[j]->str, "record") == 0 &&
			    f->element[j + 1]->type == REDIS_REPLY_STRING) {
				en->text = xstrndup(f->element[j + 1]->str,
				    f->element[j + 1]->len);
				en->len = f->element[j + 1]->len;
			}
		STAILQ_INSERT_TAIL(&it->q, en, next);
	}
}

static void
intake_on_read(redisAsyncContext *ac, void *r, void *priv)
{
	struct intake	*it = priv;
	redisReply	*reply = r;

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
	/* nil: the block timed out. Else [[stream, [entries]]]. */
	if (reply->type == REDIS_REPLY_ARRAY && reply->elements > 0 &&
	    reply->element[0]->type == REDIS_REPLY_ARRAY &&
	    reply->element[0]->elements == 2)
		intake_take_entries(it, reply->element[0]->element[1]);
	else if (it->own_pending)
		it->own_pending = 0;
	if (it->own_pending && STAILQ_EMPTY(&it->q))
		it->own_pending = 0;
	intake_set_state(it, INTAKE_WORK);
	intake_next(it);
}

static void
intake_on_pending(redisAsyncContext *ac, void *r, void *priv)
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
static int
intake_id_cmp(const char *a, const char *b)
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
intake_on_wait(redisAsyncContext *ac, void *r, void *priv)
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
	if (n == 1 && intake_id_cmp(oldest, it->wait_id) < 0) {
		intake_kick(it, INTAKE_WAIT_MS);
		return;
	}
	log_info("intake: entry %s: no older entry is pending: judging it "
	    "again", it->wait_id);
	it->wait_id[0] = '\0';
	it->own_pending = 1;
	intake_kick(it, 0);
}

static void
intake_on_claim(redisAsyncContext *ac, void *r, void *priv)
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
	intake_take_entries(it, reply->element[1]);
	/* Redis 7 also lists ids whose entries were deleted: ack them. */
	if (reply->elements >= 3 && (ids = reply->element[2])->type ==
	    REDIS_REPLY_ARRAY && ids->elements > 0) {
		for (i = 0; i < ids->elements; i++)
			store_inbox_ack(it->rc, it->cf->prefix,
			    ids->element[i]->str);
	}
	if (STAILQ_EMPTY(&it->q)) {
		intake_set_state(it, INTAKE_READ);
		if (it->wait_id[0] != '\0') {
			/* Nothing to claim yet: is anything older pending? */
			if (store_inbox_oldest(it->rc, it->cf->prefix,
			    intake_on_wait, it) == -1)
				intake_lost(it);
			else
				it->reading = 1;
			return;
		}
		intake_kick(it, 0);
		return;
	}
	log_info("intake: claimed %zu entries left by another consumer",
	    reply->element[1]->elements);
	if (store_inbox_pending(it->rc, it->cf->prefix, INTAKE_BATCH * 4,
	    intake_on_pending, it) == -1)
		intake_lost(it);
}

static void
intake_on_group(redisAsyncContext *ac, void *r, void *priv)
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

/* The top of the loop: make the group, claim, or read. */
static void
intake_loop(struct intake *it)
{
	long long	 now = util_now_ms();
	int		 r = 0;

	if (!rconn_up(it->rc))
		return;
	if (it->stopping) {
		if (it->state == INTAKE_READ || it->state == INTAKE_IDLE ||
		    it->state == INTAKE_GROUP)
			intake_set_state(it, INTAKE_STOPPED);
		return;
	}
	switch (it->state) {
	case INTAKE_IDLE:
		intake_set_state(it, INTAKE_GROUP);
		r = store_inbox_group(it->rc, it->cf->prefix, intake_on_group,
		    it);
		break;
	case INTAKE_READ:
		if (it->wait_id[0] != '\0') {
			/* Waiting: claim what a stopped consumer left once
			 * the lease is over; else see what is pending. */
			it->last_claim_ms = now;
			r = store_inbox_claim(it->rc, it->cf->prefix,
			    it->consumer, it->cf->lease * 1000, INTAKE_BATCH,
			    intake_on_claim, it);
		} else if (it->own_pending) {
			r = store_inbox_read(it->rc, it->cf->prefix,
			    it->consumer, INTAKE_BATCH, -1, intake_on_read, it);
		} else if (now - it->last_claim_ms >= INTAKE_CLAIM_EVERY_MS) {
			it->last_claim_ms = now;
			r = store_inbox_claim(it->rc, it->cf->prefix,
			    it->consumer, it->cf->lease * 1000, INTAKE_BATCH,
			    intake_on_claim, it);
		} else {
			r = store_inbox_read(it->rc, it->cf->prefix,
			    it->consumer, INTAKE_BATCH, INTAKE_BLOCK_MS,
			    intake_on_read, it);
		}
		break;
	default:
		break;
	}
	if (r == -1)
		intake_lost(it);
	else if (it->state == INTAKE_READ)
		it->reading = 1;
}

/* Redis refused a step: let go of what is in hand (it stays pending in
 * the group) and read our own pending entries again in a while. */
void
intake_later(struct intake *it)
{
	intake_run_unahead(it);
	intake_clear_cur(it);
	intake_drop_queue(it);
	it->own_pending = 1;
	intake_set_state(it, INTAKE_READ);
	intake_kick(it, 2000);
}

/* An error reply (a script error is a bug or a Redis without Lua): keep
 * what is in hand pending and try again later rather than lose it. */
int
intake_refused(struct intake *it, const redisReply *reply, const char *what)
{
	struct intake_entry	*en = intake_cur(it);

	if (reply->type != REDIS_REPLY_ERROR)
		return 0;
	log_warnx("intake: entry %s%s: %s failed: %s", en ? en->id : "?",
	    it->nhand > 1 ? " and the rest of its run" : "", what, reply->str);
	intake_later(it);
	return 1;
}

/* The entries in hand are done with: on to the next. */
void
intake_done(struct intake *it)
{
	if (it->commit_fn)
		it->commit_fn(it->arg);
	intake_clear_cur(it);
	intake_next(it);
}

void
intake_accepted(struct intake *it, struct intake_entry *en)
{
	it->m->accepted[en->rec.type]++;
	log_info("intake: %s %s accepted (entry %s)",
	    record_type_name(en->rec.type), en->rec.id, en->id);
}

static void
intake_on_rejected(redisAsyncContext *ac, void *r, void *priv)
{
	struct intake	*it = priv;

	if (r == NULL || intake_refused(it, r, "commit"))
		return;
	intake_done(it);
}

/*
 * Best-effort look at a record we could not accept: its type, id and
 * coordinator, for the dead entry, the log and the notice. A record over
 * max bytes is not parsed at all (a huge one would cost its size many times
 * over in memory). Type and id are escaped: they reach the log and the
 * audit, where a newline or an escape sequence must not pass.
 */
static void
intake_peek(const struct intake_entry *en, size_t max, char *type, char *id,
    char *coord, size_t len)
{
	json_t		*j;
	const char	*s;

	type[0] = id[0] = coord[0] = '\0';
	if (en->text == NULL || en->len > max)
		return;
	if ((j = json_loadb(en->text, en->len, 0, NULL)) == NULL)
		return;
	if ((s = json_string_value(json_object_get(j, "type"))) != NULL)
		util_escape(type, len, s, 60);
	if ((s = json_string_value(json_object_get(j, "id"))) != NULL ||
	    (s = json_string_value(json_object_get(j, "collaborator"))) != NULL)
		util_escape(id, len, s, 128);
	if ((s = json_string_value(json_object_get(j, "coordinator"))) != NULL &&
	    strlen(s) < len && address_check(s, NULL) == 0)
		snprintf(coord, len, "%s", s);
	json_decref(j);
}

/* The organiser's address of a rejected meeting record, when it reads as
 * one (issue 14: notices also go to the meeting's organiser). */
static void
intake_peek_organiser(const struct intake_entry *en, size_t max, char *org,
    size_t len)
{
	json_t		*j;
	const char	*s;

	org[0] = '\0';
	if (en->text == NULL || en->len > max)
		return;
	if ((j = json_loadb(en->text, en->len, 0, NULL)) == NULL)
		return;
	if ((s = json_string_value(json_object_get(json_object_get(j,
	    "organiser"), "email"))) != NULL && strlen(s) < len &&
	    address_check(s, NULL) == 0)
		snprintf(org, len, "%s", s);
	json_decref(j);
}

/*
 * An error for the log: the field path and the kind of problem, never the
 * value (which may be a name or an address). "email: \"x@\" is not an
 * email address" becomes "email: (see the dead entry)"; "not JSON: line 1
 * column 7: ..." keeps its position.
 */
static void
intake_brief(const char *why, char *buf, size_t len)
{
	const char	*p;
	int		 n;

	if (strncmp(why, "not JSON: line ", 15) == 0 ||
	    strncmp(why, "too large: ", 11) == 0 ||
	    strncmp(why, "poison: ", 8) == 0) {
		/* "not JSON: line L column C" and no further */
		p = why;
		for (n = 0; n < 2 && p != NULL; n++)
			p = strchr(p + 1, ':');
		snprintf(buf, len, "%.*s", p ? (int)(p - why) : 60, why);
		return;
	}
	if ((p = strstr(why, ": ")) != NULL && memchr(why, '"', p - why) ==
	    NULL)
		snprintf(buf, len, "%.*s: (details in the dead entry)",
		    (int)(p - why), why);
	else
		snprintf(buf, len, "(details in the dead entry)");
}

/* The record cannot be accepted: dead entry, audit, notice, ack. */
void
intake_reject(struct intake *it, const char *why)
{
	struct intake_entry	*en = intake_cur(it);
	struct plan_ctx		 pc = { it->cf, util_now_ms(), en->id };
	json_t			*ops = json_array(), *lines;
	char			 type[200], id[200], coord[300], at[64];
	char			 org[300];
	char			*did, *line, brief[160];
	size_t			 keep;
	int			 t;

	intake_peek(en, (size_t)it->cf->max_record_bytes, type, id, coord,
	    sizeof type);
	intake_peek_organiser(en, (size_t)it->cf->max_record_bytes, org,
	    sizeof org);
	clock_format_iso_utc(pc.now_ms / 1000, at, sizeof at);
	keep = en->text ? en->len : 0;
	if (keep > (size_t)it->cf->max_record_bytes)
		keep = it->cf->max_record_bytes;
	/* The original bytes, cut to the limit, whatever they are. */
	store_op_dead_record(ops, why, at, en->text ? en->text : "", keep,
	    en->id, type, id);
	/* The audit keeps ids only: the error may quote a field's value. */
	store_op_audit(ops, "event", "rejected", "entry", en->id, "type", type,
	    "id", id, "at", at, NULL);
	for (t = 0; t < REC_TYPE_MAX; t++)
		if (strcmp(type, record_type_name(t)) == 0)
			break;
	it->m->rejected[t]++;
	store_op_count(ops, "rejected");

	lines = json_array();
	line = xasprintf("A record%s%s%s%s could not be accepted.",
	    type[0] ? " of type " : "", type, id[0] ? ", id " : "", id);
	json_array_append_new(lines, json_string(line));
	free(line);
	line = xasprintf("What is wrong: %s", why);
	json_array_append_new(lines, json_string(line));
	free(line);
	line = xasprintf("Nothing from it was stored or sent. Correct it and "
	    "queue it again. To see it: hearback dead list (inbox entry %s).",
	    en->id);
	json_array_append_new(lines, json_string(line));
	free(line);
	did = store_did("notice", "rejected", en->id, NULL);
	plan_notice_also(ops, &pc, did, coord[0] ? coord : it->cf->coordinator,
	    org, "A record was not accepted", lines, id[0] ? id : en->id);
	free(did);
	json_decref(lines);

	intake_brief(why, brief, sizeof brief);
	log_warnx("intake: entry %s (%s %s) rejected: %s", en->id,
	    type[0] ? type : "?", id[0] ? id : "?", brief);
	if (store_commit(it->rc, it->cf->prefix, "", en->id, ops,
	    intake_on_rejected, it) == -1)
		intake_lost(it);
	json_decref(ops);
}

/*
 * The entry in hand names an id nothing is stored under, while an older
 * entry is pending (read by a consumer, this one or another, and not yet
 * committed): that entry may be what stores it (a daemon that crashed
 * holding the person a meeting invites, whose entry is claimed only after
 * the lease). So this one is not rejected yet: it and what was read after
 * it stay pending under our name, in order, and are read again once
 * nothing older is pending (intake_on_wait). No older entry: rejected.
 */
static void
intake_defer(struct intake *it, const char *oldest)
{
	struct intake_entry	*en = intake_cur(it);

	if (strcmp(it->wait_id, en->id) != 0)	/* once, not every look */
		log_info("intake: entry %s names an id not stored yet while "
		    "older entry %s is pending: it waits for that one", en->id,
		    oldest);
	snprintf(it->wait_id, sizeof it->wait_id, "%s", en->id);
	intake_run_unahead(it);
	intake_clear_cur(it);
	intake_drop_queue(it);
	it->own_pending = 1;
	if (it->stopping) {
		intake_set_state(it, INTAKE_STOPPED);
		return;
	}
	intake_set_state(it, INTAKE_READ);
	intake_kick(it, INTAKE_WAIT_MS);
}

static void
intake_on_oldest(redisAsyncContext *ac, void *r, void *priv)
{
	struct intake		*it = priv;
	redisReply		*reply = r;
	struct intake_entry	*en = intake_cur(it);
	char			 oldest[64];
	int			 n;

	if (reply == NULL || intake_refused(it, reply, "XPENDING"))
		return;
	if ((n = store_inbox_oldest_id(reply, oldest, sizeof oldest)) == -1) {
		log_warnx("intake: entry %s: XPENDING: unexpected reply",
		    en->id);
		intake_later(it);
		return;
	}
	if (n == 1 && intake_id_cmp(oldest, en->id) < 0)
		intake_defer(it, oldest);
	else
		intake_reject(it, en->why);
}

/* A record the planner refused: a reference error waits for the older
 * entries still pending (intake_defer); any other is rejected now. */
void
intake_reject_err(struct intake *it, const struct err *e)
{
	struct intake_entry	*en = intake_cur(it);

	if (!err_is_ref(e)) {
		intake_reject(it, e->msg);
		return;
	}
	free(en->why);
	en->why = xstrdup(e->msg);
	if (store_inbox_oldest(it->rc, it->cf->prefix, intake_on_oldest,
	    it) == -1)
		intake_lost(it);
}

/* Read the next entry's record, once. */
int
intake_parse(struct intake *it, struct intake_entry *en)
{
	struct record_opts	 ro;
	struct err		 e;

	if (en->parsed != 0)
		return en->parsed;
	if (en->deliveries > INTAKE_MAX_DELIVERIES) {
		en->why = xasprintf("poison: read %lld times and never handled "
		    "(the daemon may have crashed on it)", en->deliveries);
		return en->parsed = -1;
	}
	if (en->text == NULL) {
		en->why = xstrdup("record: the stream entry has no \"record\" "
		    "field");
		return en->parsed = -1;
	}
	ro.default_tz = it->cf->timezone;
	ro.max_bytes = it->cf->max_record_bytes;
	if (record_parse(en->text, en->len, &ro, &en->rec, &e) == -1) {
		en->why = xstrdup(e.msg);
		return en->parsed = -1;
	}
	return en->parsed = 1;
}


/* Take the next entry (or run of entries) in hand, or go back to
 * reading. */
void
intake_next(struct intake *it)
{
	struct intake_entry	*en;

	if ((en = STAILQ_FIRST(&it->q)) == NULL) {
		intake_set_state(it, it->stopping ? INTAKE_STOPPED :
		    INTAKE_READ);
		intake_kick(it, 0);
		return;
	}
	STAILQ_REMOVE_HEAD(&it->q, next);
	STAILQ_INSERT_TAIL(&it->hand, en, next);
	it->nhand = 1;
	it->tries = 0;
	intake_clear_snap(it);
	if (intake_parse(it, en) == -1) {
		intake_reject(it, en->why);
		return;
	}
	if (fanout_wants(&en->rec))
		intake_fanout_start(it);
	else
		intake_run_start(it);
}

static void
intake_on_state(struct rconn *rc, int up, void *arg)
{
	struct intake	*it = arg;

	it->m->redis_up = up;
	if (!up) {
		intake_lost(it);
		return;
	}
	if (it->state == INTAKE_STOPPED)
		return;
	intake_set_state(it, INTAKE_IDLE);
	intake_loop(it);
}

struct intake *
intake_start(struct event_base *base, struct config *cf, struct metrics *m,
    intake_commit_fn *fn, void *arg)
{
	struct intake	*it = xcalloc(1, sizeof *it);
	char		 host[64];

	it->base = base;
	it->cf = config_ref(cf);
	it->m = m;
	it->commit_fn = fn;
	it->arg = arg;
	it->own_pending = 1;
	STAILQ_INIT(&it->q);
	STAILQ_INIT(&it->hand);
	STAILQ_INIT(&it->ahead);
	if (gethostname(host, sizeof host) == -1)
		snprintf(host, sizeof host, "host");
	host[sizeof host - 1] = '\0';
	snprintf(it->consumer, sizeof it->consumer, "%s-%ld", host,
	    (long)getpid());
	it->kick = evtimer_new(base, intake_kick_cb, it);
	it->rc = rconn_new(base, cf, "intake", intake_on_state, it);
	return it;
}

void
intake_set_config(struct intake *it, struct config *cf)
{
	config_unref(it->cf);
	it->cf = config_ref(cf);
	rconn_set_config(it->rc, cf);
}

void
intake_stop(struct intake *it)
{
	it->stopping = 1;
	/* A read on the wire is waited for (at most INTAKE_BLOCK_MS): what
	 * it brings is handled before intake stops (intake_on_read). */
	if (it->state != INTAKE_WORK && !it->reading)
		intake_set_state(it, INTAKE_STOPPED);
}

int
intake_idle(const struct intake *it)
{
	return it->state == INTAKE_STOPPED || !rconn_up(it->rc);
}

int
intake_redis_up(const struct intake *it)
{
	return rconn_up(it->rc);
}

void
intake_free(struct intake *it)
{
	rconn_free(it->rc);
	intake_run_unahead(it);
	intake_clear_cur(it);
	intake_drop_queue(it);
	event_free(it->kick);
	config_unref(it->cf);
	free(it);
}
