/*
 * intake.c: inbox stream -> checked record -> stored state and deliveries.
 *
 * Main thread only; owns its Redis connection (rconn "intake"). One record is
 * in hand at a time, which keeps the order of records in one daemon and lets
 * the commit script's version check settle races between daemons: if another
 * daemon committed anything between our fetch and our commit, the commit
 * does nothing and we fetch and plan again.
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
#include "intake.h"
#include "log.h"
#include "metrics.h"
#include "plan.h"
#include "rconn.h"
#include "record.h"
#include "store.h"

#define INTAKE_BATCH		32
#define INTAKE_BLOCK_MS		2000
#define INTAKE_CLAIM_EVERY_MS	10000
#define INTAKE_MAX_TRIES	50	/* version conflicts for one record */

enum intake_state {
	INTAKE_IDLE,
	INTAKE_GROUP,
	INTAKE_READ,
	INTAKE_WORK,
	INTAKE_STOPPED
};

struct intake_entry {
	STAILQ_ENTRY(intake_entry) next;
	char		*id;
	char		*text;		/* NULL: entry has no "record" field */
	size_t		 len;
	long long	 deliveries;	/* from XPENDING for claimed entries */
};

STAILQ_HEAD(intake_entries, intake_entry);

struct intake {
	struct event_base	*base;
	struct config		*cf;
	struct metrics		*m;
	struct rconn		*rc;
	enum intake_state	 state;
	int			 stopping;
	int			 own_pending;	/* read "0" before ">" */
	char			 consumer[128];
	long long		 last_claim_ms;
	struct intake_entries	 q;
	struct event		*kick;		/* run the loop from the top */
	intake_commit_fn	*commit_fn;
	void			*arg;

	/* The record in hand. */
	struct intake_entry	*cur;
	struct record		 rec;
	int			 have_rec;
	json_t			*snap;
	char			 version[32];
	int			 rounds;
	int			 tries;
	unsigned		 gen;		/* invalidates stale replies */
};

static void intake_loop(struct intake *);
static void intake_next(struct intake *);
static void intake_fetch(struct intake *);

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

static void
intake_clear_cur(struct intake *it)
{
	if (it->have_rec)
		record_clear(&it->rec);
	it->have_rec = 0;
	json_decref(it->snap);
	it->snap = NULL;
	intake_entry_free(it->cur);
	it->cur = NULL;
}

/* The connection went away: whatever is in hand stays pending in Redis. */
static void
intake_lost(struct intake *it)
{
	it->gen++;
	intake_clear_cur(it);
	intake_drop_queue(it);
	it->own_pending = 1;
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
	if (it->stopping) {
		/* Anything read stays pending, for the next consumer. */
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

static void
intake_on_claim(redisAsyncContext *ac, void *r, void *priv)
{
	struct intake	*it = priv;
	redisReply	*reply = r, *ids;
	size_t		 i;

	if (reply == NULL)
		return;
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 2) {
		if (reply->type == REDIS_REPLY_ERROR)
			log_warnx("intake: XAUTOCLAIM: %s", reply->str);
		intake_set_state(it, INTAKE_READ);
		intake_kick(it, 0);
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
		if (it->own_pending) {
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
}

/* Redis refused a step: let go of what is in hand (it stays pending in
 * the group) and read our own pending entries again in a while. */
static void
intake_later(struct intake *it)
{
	intake_clear_cur(it);
	intake_drop_queue(it);
	it->own_pending = 1;
	intake_set_state(it, INTAKE_READ);
	intake_kick(it, 2000);
}

static void
intake_on_commit(redisAsyncContext *ac, void *r, void *priv)
{
	struct intake	*it = priv;
	redisReply	*reply = r;

	if (reply == NULL)
		return;
	if (reply->type == REDIS_REPLY_ERROR) {
		/* A script error is a bug or a Redis without Lua: keep the
		 * entry pending and try again later rather than lose it. */
		log_warnx("intake: entry %s: commit failed: %s", it->cur->id,
		    reply->str);
		intake_later(it);
		return;
	}
	if (reply->type == REDIS_REPLY_INTEGER && reply->integer == 0) {
		/* Someone else committed meanwhile: plan again. */
		if (++it->tries > INTAKE_MAX_TRIES)
			log_warnx("intake: entry %s: still conflicting after "
			    "%d tries", it->cur->id, it->tries);
		json_decref(it->snap);
		it->snap = json_object();
		it->rounds = 0;
		it->version[0] = '\0';
		intake_fetch(it);
		return;
	}
	if (it->have_rec) {
		it->m->accepted[it->rec.type]++;
		log_info("intake: %s %s accepted (entry %s)",
		    record_type_name(it->rec.type), it->rec.id, it->cur->id);
	}
	if (it->commit_fn)
		it->commit_fn(it->arg);
	intake_clear_cur(it);
	intake_next(it);
}

static void
intake_send_commit(struct intake *it, const char *version, json_t *ops)
{
	if (store_commit(it->rc, it->cf->prefix, version, it->cur->id, ops,
	    intake_on_commit, it) == -1)
		intake_lost(it);
}

/* Best-effort look at a record we could not accept: its type, id and
 * coordinator, for the dead entry and the notice. */
static void
intake_peek(const struct intake_entry *en, char *type, char *id, char *coord,
    size_t len)
{
	json_t		*j;
	const char	*s;

	type[0] = id[0] = coord[0] = '\0';
	if (en->text == NULL || en->len > (size_t)64 * 1024 * 1024)
		return;
	if ((j = json_loadb(en->text, en->len, 0, NULL)) == NULL)
		return;
	if ((s = json_string_value(json_object_get(j, "type"))) != NULL)
		snprintf(type, len, "%.60s", s);
	if ((s = json_string_value(json_object_get(j, "id"))) != NULL ||
	    (s = json_string_value(json_object_get(j, "collaborator"))) != NULL)
		snprintf(id, len, "%.128s", s);
	if ((s = json_string_value(json_object_get(j, "coordinator"))) != NULL &&
	    strlen(s) < len && address_check(s, NULL) == 0)
		snprintf(coord, len, "%s", s);
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
static void
intake_reject(struct intake *it, const char *why)
{
	struct intake_entry	*en = it->cur;
	struct plan_ctx		 pc = { it->cf, util_now_ms(), en->id };
	json_t			*ops = json_array(), *lines;
	char			 type[200], id[200], coord[300], at[64];
	char			*did, *line, brief[160];
	size_t			 keep;
	int			 t;

	intake_peek(en, type, id, coord, sizeof type);
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
	plan_notice(ops, &pc, did, coord[0] ? coord : it->cf->coordinator,
	    "A record was not accepted", lines, id[0] ? id : en->id);
	free(did);
	json_decref(lines);

	intake_brief(why, brief, sizeof brief);
	log_warnx("intake: entry %s (%s %s) rejected: %s", en->id,
	    type[0] ? type : "?", id[0] ? id : "?", brief);
	/* It is not accepted, whatever the commit says. */
	if (it->have_rec) {
		record_clear(&it->rec);
		it->have_rec = 0;
	}
	intake_send_commit(it, "", ops);
	json_decref(ops);
}

static void
intake_plan(struct intake *it)
{
	struct plan_ctx	 pc = { it->cf, util_now_ms(), it->cur->id };
	json_t		*ops = json_array();
	struct err	 e;

	if (plan_apply(&it->rec, it->snap, &pc, ops, &e) == -1) {
		json_decref(ops);
		intake_reject(it, e.msg);
		return;
	}
	store_op_audit(ops, "event", "accepted", "entry", it->cur->id, "type",
	    record_type_name(it->rec.type), "id", it->rec.id, NULL);
	intake_send_commit(it, it->version, ops);
	json_decref(ops);
}

static void
intake_on_fetch(redisAsyncContext *ac, void *r, void *priv)
{
	struct intake	*it = priv;
	redisReply	*reply = r;
	json_t		*need = NULL;
	struct err	 e;
	char		 version[32];
	int		 n;

	if (reply == NULL)
		return;
	if (reply->type == REDIS_REPLY_ERROR) {
		log_warnx("intake: fetch failed: %s", reply->str);
		intake_later(it);
		return;
	}
	need = json_array();
	plan_needs(&it->rec, it->snap, need);
	n = store_snap_merge(it->snap, need, reply, version, sizeof version,
	    &e);
	json_decref(need);
	if (n == -1) {
		log_warnx("intake: %s", e.msg);
		intake_later(it);
		return;
	}
	if (n > 0)
		log_warnx("intake: %s", e.msg);
	if (it->version[0] == '\0')
		snprintf(it->version, sizeof it->version, "%s", version);
	else if (strcmp(it->version, version) != 0) {
		/* Moved under us between rounds: start again. */
		json_decref(it->snap);
		it->snap = json_object();
		it->rounds = 0;
		it->version[0] = '\0';
		intake_fetch(it);
		return;
	}
	intake_fetch(it);
}

/* Fetch what the planner still needs, or plan when it has all. */
static void
intake_fetch(struct intake *it)
{
	json_t			*need = json_array();
	int			 r;

	plan_needs(&it->rec, it->snap, need);
	if (json_array_size(need) == 0 || it->rounds >= PLAN_MAX_ROUNDS) {
		json_decref(need);
		intake_plan(it);
		return;
	}
	it->rounds++;
	r = store_fetch(it->rc, it->cf->prefix, need, intake_on_fetch, it);
	json_decref(need);
	if (r == -1)
		intake_lost(it);
}

/* Take the next entry in hand, or go back to reading. */
static void
intake_next(struct intake *it)
{
	struct intake_entry	*en;
	struct record_opts	 ro;
	struct err		 e;

	if ((en = STAILQ_FIRST(&it->q)) == NULL) {
		intake_set_state(it, it->stopping ? INTAKE_STOPPED :
		    INTAKE_READ);
		intake_kick(it, 0);
		return;
	}
	STAILQ_REMOVE_HEAD(&it->q, next);
	it->cur = en;
	it->tries = 0;
	it->rounds = 0;
	it->version[0] = '\0';
	it->snap = json_object();
	if (en->deliveries > INTAKE_MAX_DELIVERIES) {
		char why[128];

		snprintf(why, sizeof why, "poison: read %lld times and never "
		    "handled (the daemon may have crashed on it)",
		    en->deliveries);
		intake_reject(it, why);
		return;
	}
	if (en->text == NULL) {
		intake_reject(it, "record: the stream entry has no \"record\" "
		    "field");
		return;
	}
	ro.default_tz = it->cf->timezone;
	ro.max_bytes = it->cf->max_record_bytes;
	if (record_parse(en->text, en->len, &ro, &it->rec, &e) == -1) {
		intake_reject(it, e.msg);
		return;
	}
	it->have_rec = 1;
	intake_fetch(it);
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
	if (it->state != INTAKE_WORK)
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
	intake_clear_cur(it);
	intake_drop_queue(it);
	event_free(it->kick);
	config_unref(it->cf);
	free(it);
}
