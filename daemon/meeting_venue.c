/*
 * meeting_venue.c: a venue record, and the access updates its change
 * sends (plan.h). Pure, any thread.
 *
 * When a venue's access words change (a lift out of order, a hearing
 * loop fitted), everyone invited to an upcoming meeting there who has an
 * email address gets an access update naming what changed:
 * vup:<venue>:<meeting>:<person>:<hash of the changes>, so the same
 * change is told once and a new one is a new email. Someone with a phone
 * and no email address has theirs go to the coordinator to phone them
 * (avup:..., the coordinator's copy, as their reminders; meeting_email.c). The changes are data
 * ({word, was, now}); the templates word them (view.c, _access_state).
 * The daemon pages a venue whose update goes to many (venue_page.c), with
 * the same ids and data.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "meeting_impl.h"
#include "plan.h"
#include "record.h"
#include "store.h"

void
meeting_venue_needs(const struct record *r, json_t *snap, json_t *need)
{
	json_t	*v, *w, *ms, *inv;
	size_t	 i, j;
	char	 key[STORE_KEY_MAX];

	plan_need_set(snap, need, STORE_VENUE_MEETINGS, r->id);
	ms = plan_set(snap, STORE_VENUE_MEETINGS, r->id);
	json_array_foreach(ms, i, v) {
		plan_need_rec(snap, need, "meeting", json_string_value(v));
		/* Who is invited: in the hash, or (a meeting stored before
		 * it) in the record; absent is empty. */
		plan_need(snap, need, store_invkey(json_string_value(v), key,
		    sizeof key));
		inv = meeting_invited(snap, json_string_value(v));
		json_array_foreach(inv, j, w)
			plan_need_rec(snap, need, "collaborator",
			    json_string_value(w));
		json_decref(inv);
	}
}

/* The words whose access changed, as data: [{word, was, now}]. */
json_t *
meeting_venue_changes(json_t *oa, json_t *na)
{
	json_t		*changes = json_array(), *a, *b;
	const char	*word;
	int		 k;

	for (k = 0; k < record_naccess_words; k++) {
		word = record_access_words[k];
		a = access_state(oa, word);
		b = access_state(na, word);
		if (!json_equal(a ? a : json_null(), b ? b : json_null()))
			json_array_append_new(changes, json_pack("{s:s, s:o, "
			    "s:o}", "word", word, "was", a ? a : json_null(),
			    "now", b ? b : json_null()));
		else {
			json_decref(a);
			json_decref(b);
		}
	}
	return changes;
}

/*
 * One person's access update of meeting mid at venue vid (c: their
 * record): to them when they have an email address, to the coordinator
 * to phone them when they have a phone only, else none. For
 * meeting_venue_meeting and venue_page_people alike.
 */
void
meeting_venue_person(json_t *ops, const struct plan_ctx *pc, const char *vid,
    const char *mid, const char *cid, json_t *c, const char *h,
    long long start, json_t *data)
{
	json_t	*d;
	char	*did, *refs;
	int	 call;

	if (c == NULL || !json_is_true(json_object_get(c, "consent")))
		return;
	call = json_object_get(c, "email") == NULL;
	if (call && json_object_get(c, "phone") == NULL)
		return;
	did = store_did(call ? "avup" : "vup", vid, mid, cid, h, NULL);
	refs = meeting_refs(mid, cid, vid);
	d = json_copy(data);
	if (call)
		json_object_set_new(d, "arrange", json_true());
	plan_delivery(ops, pc, did, "venue-update", cid, mid, pc->now_ms,
	    start * 1000, refs, NULL, d, vid);
	json_decref(d);
	free(refs);
	free(did);
}

/* The access updates of one meeting at the venue: its people who are
 * still invited and consent; upcoming meetings that still take place
 * there only. */
static void
meeting_venue_meeting(const struct record *r, json_t *snap,
    const struct plan_ctx *pc, json_t *ops, const char *mid, json_t *data,
    const char *h)
{
	char		 key[STORE_KEY_MAX];
	json_t		*mw = json_object_get(snap, store_reckey("meeting", mid,
	    key, sizeof key));
	json_t		*m = json_object_get(mw, "record"), *inv, *w;
	long long	 start = json_integer_value(json_object_get(
	    json_object_get(mw, "meta"), "start"));
	const char	*st = meeting_str(m, "status"), *cid;
	size_t		 j;

	if (m == NULL || (st && (strcmp(st, "cancelled") == 0 ||
	    strcmp(st, "held") == 0)) || start * 1000 <= pc->now_ms ||
	    strcmp(meeting_str(m, "venue") ? meeting_str(m, "venue") : "",
	    r->id) != 0)
		return;
	inv = meeting_invited(snap, mid);
	json_array_foreach(inv, j, w) {
		cid = json_string_value(w);
		meeting_venue_person(ops, pc, r->id, mid, cid,
		    plan_snaprec(snap, "collaborator", cid), h, start, data);
	}
	json_decref(inv);
}

int
meeting_venue_plan(const struct record *r, json_t *snap,
    const struct plan_ctx *pc, json_t *ops, struct err *e)
{
	json_t		*old = plan_snaprec(snap, "venue", r->id), *changes;
	json_t		*oa, *na, *v, *data;
	char		 h[32];
	size_t		 i;

	plan_store(ops, r, pc, NULL);
	if (old == NULL)
		return 0;
	oa = json_object_get(old, "access");
	na = json_object_get(r->json, "access");
	if (json_equal(oa ? oa : json_null(), na ? na : json_null()))
		return 0;
	changes = meeting_venue_changes(oa, na);
	if (json_array_size(changes) == 0) {
		json_decref(changes);
		return 0;
	}
	meeting_hash(changes, h, sizeof h);
	data = json_pack("{s:O}", "changes", changes);
	json_array_foreach(plan_set(snap, STORE_VENUE_MEETINGS, r->id), i, v)
		meeting_venue_meeting(r, snap, pc, ops, json_string_value(v),
		    data, h);
	json_decref(data);
	json_decref(changes);
	(void)e;
	return 0;
}
