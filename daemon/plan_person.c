/*
 * plan_person.c: a collaborator's record, and forgetting them (plan_impl.h).
 * Pure, any thread.
 *
 * A collaborator is stored with their group memberships kept in step; a
 * collaborator who no longer consents has nothing pending any more. Forget
 * removes the profile, every pending delivery to them, their name from what
 * they said and, through the commit script, from every other key (store.h,
 * "Forget").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"
#include "plan_impl.h"
#include "store.h"


/* Group membership follows the collaborator's groups list. */
static void
plan_groups_diff(json_t *ops, const char *cid, json_t *old, json_t *new)
{
	size_t	 i, j;
	json_t	*v, *w;
	int	 found;

	json_array_foreach(old, i, v) {
		found = 0;
		json_array_foreach(new, j, w)
			if (json_equal(v, w))
				found = 1;
		if (!found)
			store_op_srem(ops, STORE_GROUP, json_string_value(v),
			    cid);
	}
	json_array_foreach(new, i, v) {
		store_op_sadd(ops, STORE_GROUP, json_string_value(v), cid);
		store_op_sadd(ops, STORE_GROUPS, NULL, json_string_value(v));
	}
}

int
plan_collaborator(const struct record *r, json_t *snap,
    const struct plan_ctx *pc, json_t *ops)
{
	json_t	*old = plan_snaprec(snap, "collaborator", r->id);

	plan_store(ops, r, pc, NULL);
	store_op_sadd(ops, STORE_COLLABORATORS, NULL, r->id);
	store_op_srem(ops, STORE_FORGOTTEN, NULL, r->id);
	plan_groups_diff(ops, r->id, old ? json_object_get(old, "groups") :
	    NULL, json_object_get(r->json, "groups"));
	/* No consent: nothing pending may go to them. */
	if (!json_is_true(json_object_get(r->json, "consent")))
		store_op_drop_all(ops, STORE_COLLAB_DELIVERIES, r->id);
	return 0;
}


/* Forget: their pending emails, what they said, and the set of the
 * forgotten. */
void
plan_forget_needs(const struct record *r, json_t *snap, json_t *need)
{
	json_t	*v;
	size_t	 i;

	plan_need_set(snap, need, STORE_FORGOTTEN, NULL);
	plan_need_set(snap, need, STORE_COLLAB_DELIVERIES, r->id);
	plan_need_set(snap, need, STORE_COLLAB_SAID, r->id);
	json_array_foreach(plan_set(snap, STORE_COLLAB_SAID, r->id), i, v)
		plan_need_rec(snap, need, "said", json_string_value(v));
}

int
plan_forget(const struct record *r, json_t *snap, const struct plan_ctx *pc,
    json_t *ops)
{
	json_t		*c = plan_snaprec(snap, "collaborator", r->id), *v;
	size_t		 i;

	store_op_drop_all(ops, STORE_COLLAB_DELIVERIES, r->id);
	if (c != NULL) {
		json_array_foreach(json_object_get(c, "groups"), i, v)
			store_op_srem(ops, STORE_GROUP, json_string_value(v),
			    r->id);
	}
	{
		/* Rejected records that held their details go too: any dead
		 * entry naming their id, address or name. */
		char	*qid = xasprintf("\"%s\"", r->id);
		const char *em = c ? json_string_value(json_object_get(c,
		    "email")) : NULL;
		const char *nm = c ? json_string_value(json_object_get(c,
		    "name")) : NULL;
		const char *ph = c ? json_string_value(json_object_get(c,
		    "phone")) : NULL;
		json_t *sp = c ? json_object_get(c, "supporter") : NULL;
		const char *sn = json_string_value(json_object_get(sp, "name"));
		const char *se = json_string_value(json_object_get(sp,
		    "email"));
		const char *needles[6] = { qid, em ? em : qid, nm ? nm : qid,
		    ph ? ph : qid, sn ? sn : qid, se ? se : qid };

		store_op_scrub(ops, needles, 6);
		free(qid);
	}
	store_op_sadd(ops, STORE_FORGOTTEN, NULL, r->id);
	store_op_srem(ops, STORE_COLLABORATORS, NULL, r->id);
	store_op_record_del(ops, "collaborator", r->id);
	/* Their words stay, unattributed. */
	json_array_foreach(plan_set(snap, STORE_COLLAB_SAID, r->id), i, v) {
		const char	*sid = json_string_value(v);
		char		 skey[STORE_KEY_MAX], *s;
		json_t		*w, *rec;

		w = json_object_get(snap, store_reckey("said", sid, skey,
		    sizeof skey));
		if (!json_is_object(w))
			continue;
		w = json_deep_copy(w);
		rec = json_object_get(w, "record");
		json_object_del(rec, "collaborator");
		s = store_dump(w);
		store_op_record(ops, "said", sid, s);
		free(s);
		json_decref(w);
	}
	store_op_set_del(ops, STORE_COLLAB_SAID, r->id);
	/* Last: every other key, in any spelling (store.h, Forget). */
	store_op_forget(ops, r->id,
	    c ? json_string_value(json_object_get(c, "name")) : NULL,
	    c ? json_string_value(json_object_get(c, "email")) : NULL,
	    c ? json_string_value(json_object_get(c, "phone")) : NULL,
	    json_string_value(json_object_get(json_object_get(c, "supporter"),
	    "name")), json_string_value(json_object_get(json_object_get(c,
	    "supporter"), "email")));
	return 0;
}
