/*
 * plan_said.c: what someone said, and what was done about it (plan_impl.h).
 * Pure, any thread.
 *
 * A said item waits for an outcome from when it was said; an outcome
 * answers its items and sends each consenting person who said one of them
 * one "you said, we did" email per version of the outcome.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "plan.h"
#include "plan_impl.h"
#include "store.h"


/*
 * When something was said (ms): "said_on" (a date: its midnight in the
 * record's time zone), else "said_at" (the older form, a time), else the
 * start of its meeting, else fallback (the time it was queued).
 */
static long long
plan_said_on_rec(json_t *s, const char *tz, json_t *snap, long long now_ms,
    long long fallback)
{
	const char	*so = json_string_value(json_object_get(s, "said_on"));
	const char	*sa = json_string_value(json_object_get(s, "said_at"));
	const char	*mid = json_string_value(json_object_get(s, "meeting"));
	json_t		*m;
	long long	 t;

	(void)now_ms;
	if (so != NULL && clock_parse_date(so, tz, &t, NULL) == 0)
		return t * 1000;
	if (sa != NULL && clock_parse_local(sa, tz, &t, NULL) == 0)
		return t * 1000;
	if (mid != NULL && (m = plan_snaprec(snap, "meeting", mid)) != NULL &&
	    clock_parse_local(json_string_value(json_object_get(m, "start")),
	    json_string_value(json_object_get(m, "timezone")) ?
	    json_string_value(json_object_get(m, "timezone")) : tz, &t,
	    NULL) == 0)
		return t * 1000;
	return fallback;
}

static long long
plan_said_on(const struct record *r, json_t *snap, long long now_ms,
    long long fallback)
{
	return plan_said_on_rec(r->json, r->tz, snap, now_ms, fallback);
}

int
plan_said(const struct record *r, json_t *snap, const struct plan_ctx *pc,
    json_t *ops)
{
	json_t		*old = plan_snaprec(snap, "said", r->id);
	const char	*cid = json_string_value(json_object_get(r->json,
	    "collaborator"));
	const char	*ocid = old ? json_string_value(json_object_get(old,
	    "collaborator")) : NULL;

	plan_store(ops, r, pc, NULL);
	if (ocid && (cid == NULL || strcmp(cid, ocid) != 0))
		store_op_srem(ops, STORE_COLLAB_SAID, ocid, r->id);
	if (cid)
		store_op_sadd(ops, STORE_COLLAB_SAID, cid, r->id);
	store_op_sadd(ops, STORE_SAID, NULL, r->id);
	/* Open until an outcome answers it; scored by when it was said:
	 * waiting times and feedback_due count from then. */
	if (old == NULL)
		store_op_said_open(ops, r->id, plan_said_on(r, snap, pc->now_ms,
		    pc->now_ms));
	else if (plan_said_on(r, snap, pc->now_ms, 0) !=
	    plan_said_on_rec(old, r->tz, snap, pc->now_ms, 0))
		store_op_said_moved(ops, r->id, plan_said_on(r, snap,
		    pc->now_ms, pc->now_ms));
	return 0;
}


/* An outcome: the people who said what it answers. */
void
plan_outcome_needs(const struct record *r, json_t *snap, json_t *need)
{
	json_t	*v, *s, *sv;
	size_t	 i;

	json_array_foreach(json_object_get(r->json, "said"), i, v) {
		s = plan_snaprec(snap, "said", json_string_value(v));
		if (s && (sv = json_object_get(s, "collaborator")))
			plan_need_rec(snap, need, "collaborator",
			    json_string_value(sv));
	}
}

/*
 * The people with a phone and no email address that an outcome answers:
 * one email to the coordinator (the outcome's own, else [notify]
 * coordinator) naming them, what each said, and what was done, so that
 * someone phones them: they were consulted too. Ids only; their records
 * are read when it is sent. calls: cid -> [said ids].
 */
static void
plan_outcome_calls(const struct record *r, json_t *snap,
    const struct plan_ctx *pc, json_t *ops, json_t *calls, const char *h)
{
	const char	*coord = json_string_value(json_object_get(r->json,
	    "coordinator")), *cid;
	json_t		*list = json_array(), *ids, *v, *data;
	struct buf	 refs;
	size_t		 i;
	char		*did;

	buf_init(&refs);
	plan_ref(&refs, "outcome", r->id);
	json_object_foreach(calls, cid, ids) {
		plan_ref(&refs, "collaborator", cid);
		json_array_foreach(ids, i, v) {
			const char *m = json_string_value(json_object_get(
			    plan_snaprec(snap, "said", json_string_value(v)),
			    "meeting"));

			plan_ref(&refs, "said", json_string_value(v));
			if (m != NULL)
				plan_ref(&refs, "meeting", m);
		}
		json_array_append_new(list, json_pack("{s:s, s:O}", "cid", cid,
		    "said", ids));
	}
	did = store_did("ocall", r->id, h, NULL);
	data = json_pack("{s:o}", "calls", list);
	plan_delivery(ops, pc, did, "outcome-calls", "", "", pc->now_ms,
	    pc->now_ms + pc->cf->max_age * 1000, refs.s, coord != NULL ?
	    coord : pc->cf->coordinator, data, r->id);
	json_decref(data);
	free(did);
	buf_free(&refs);
}

/*
 * "You said, we did": one email per attributed, consenting person per
 * version of the outcome, listing every one of their items it answers. The
 * delivery id carries the version's inbox entry id, so a later status
 * (in-progress, then done) is a new email, and the same outcome queued
 * again (unchanged) is not. Those with a phone and no email address are on
 * one call list to the coordinator instead (plan_outcome_calls).
 */
int
plan_outcome(const struct record *r, json_t *snap, const struct plan_ctx *pc,
    json_t *ops)
{
	json_t		*said = json_object_get(r->json, "said"), *v, *byc, *ids;
	json_t		*calls, *c;
	const char	*cid;
	size_t		 i;
	char		 h[64], *did;
	/* Each version of the outcome is news, even going back to an
	 * earlier status; the inbox entry id tells versions apart (an
	 * unchanged record never gets here, and a version planned twice
	 * after a crash keeps its entry id). */
	snprintf(h, sizeof h, "%s", pc->entry_id[0] ? pc->entry_id : "0");
	byc = json_object();
	json_array_foreach(said, i, v) {
		json_t *s = plan_snaprec(snap, "said", json_string_value(v));

		store_op_said_answered(ops, json_string_value(v));
		store_op_sadd(ops, STORE_SAID_OUTCOMES, json_string_value(v),
		    r->id);
		if ((cid = json_string_value(json_object_get(s,
		    "collaborator"))) == NULL)
			continue;	/* anonymous: reported, not answered */
		if ((ids = json_object_get(byc, cid)) == NULL) {
			ids = json_array();
			json_object_set_new(byc, cid, ids);
		}
		json_array_append(ids, v);
	}
	plan_store(ops, r, pc, NULL);
	calls = json_object();
	json_object_foreach(byc, cid, ids) {
		struct buf	 refs;
		json_t		*data;

		if (!plan_consents(snap, cid))
			continue;
		c = plan_snaprec(snap, "collaborator", cid);
		if (json_object_get(c, "email") == NULL) {
			if (json_object_get(c, "phone") != NULL)
				json_object_set(calls, cid, ids);
			continue;
		}
		buf_init(&refs);
		plan_ref(&refs, "outcome", r->id);
		plan_ref(&refs, "collaborator", cid);
		json_array_foreach(ids, i, v) {
			json_t *s = plan_snaprec(snap, "said",
			    json_string_value(v));
			const char *m = json_string_value(json_object_get(s,
			    "meeting"));

			plan_ref(&refs, "said", json_string_value(v));
			if (m != NULL)
				plan_ref(&refs, "meeting", m);
		}
		did = store_did("out", r->id, cid, h, NULL);
		data = json_pack("{s:O}", "said", ids);
		plan_delivery(ops, pc, did, "outcome", cid, "", pc->now_ms,
		    pc->now_ms + pc->cf->max_age * 1000, refs.s, NULL, data,
		    r->id);
		json_decref(data);
		free(did);
		buf_free(&refs);
	}
	if (json_object_size(calls) > 0)
		plan_outcome_calls(r, snap, pc, ops, calls, h);
	json_decref(calls);
	json_decref(byc);
	return 0;
}
