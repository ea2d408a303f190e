/*
 * intake_reject.c: an entry intake cannot accept, and one that waits.
 *
 * Main thread only, on intake's Redis connection; called by intake.c (an
 * entry that does not parse), intake_run.c and intake_fanout.c (a record
 * the planner refused), with the entry in hand (intake_impl.h).
 *
 * Rejected: a dead entry in {P}:dead (the original bytes, cut to the
 * limit, and what is wrong), an audit line, a notice to the record's
 * coordinator (and a meeting's organiser), a count, and the entry's
 * acknowledgement, in one commit (SPEC section 5). The log says only the
 * field and the kind of problem, never a value (intake_brief).
 *
 * Waiting: a record that names an id nothing is stored under is not
 * rejected while an older entry is pending under any consumer (it may be
 * what stores that id); it and what was read after it stay pending under
 * our name until nothing older is (intake_defer, it->wait_id; the looks
 * are intake_read.c's).
 */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "address.h"
#include "clock.h"
#include "config.h"
#include "intake_impl.h"
#include "log.h"
#include "metrics.h"
#include "plan.h"
#include "record.h"
#include "store.h"

static void
intake_on_rejected(redisAsyncContext *ac, void *r, void *priv)
{
	struct intake	*it = priv;

	if (!intake_reply(it, r, "commit"))
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
 * nothing older is pending (intake_read.c). No older entry: rejected.
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
	intake_read_drop(it);
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

	if (!intake_reply(it, reply, "XPENDING"))
		return;
	if ((n = store_inbox_oldest_id(reply, oldest, sizeof oldest)) == -1) {
		log_warnx("intake: entry %s: XPENDING: unexpected reply",
		    en->id);
		intake_later(it);
		return;
	}
	if (n == 1 && intake_read_idcmp(oldest, en->id) < 0)
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

