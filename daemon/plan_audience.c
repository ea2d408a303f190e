/*
 * plan_audience.c: who a record reaches, and announcements (plan.h,
 * plan_impl.h). Pure, any thread.
 *
 * People reached are the consenting collaborators among those named and
 * the members of the groups named, sorted and unique; an announcement
 * reaches only those with an email address. The daemon fans an
 * announcement out in pages (fanout.c) with the same helpers
 * (plan_announcement_due, _email, _drop); plan_announcement() plans one
 * whole, for the command's preview and for the tests.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "plan.h"
#include "plan_impl.h"
#include "store.h"

int
plan_consents(json_t *snap, const char *cid)
{
	json_t	*c = plan_snaprec(snap, "collaborator", cid);

	return c != NULL && json_is_true(json_object_get(c, "consent"));
}

static int
plan_cmpstr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorted unique ids of consenting collaborators among the given sets. */
json_t *
plan_people(json_t *snap, json_t *ids)
{
	const char	**v;
	size_t		  i, n = 0;
	json_t		 *x, *out = json_array();

	v = xcalloc(json_array_size(ids) + 1, sizeof *v);
	json_array_foreach(ids, i, x)
		if (plan_consents(snap, json_string_value(x)))
			v[n++] = json_string_value(x);
	qsort(v, n, sizeof *v, plan_cmpstr);
	for (i = 0; i < n; i++)
		if (i == 0 || strcmp(v[i], v[i - 1]) != 0)
			json_array_append_new(out, json_string(v[i]));
	free(v);
	return out;
}

void
plan_add_group(json_t *snap, json_t *ids, const char *group)
{
	json_t	*m, *v;
	size_t	 i;

	if ((m = plan_set(snap, STORE_GROUP, group)) == NULL)
		return;
	json_array_foreach(m, i, v)
		json_array_append(ids, v);
}

/* Only those with an email address (people with a phone only are never
 * emailed). */
static json_t *
plan_emailable(json_t *snap, json_t *ids)
{
	json_t	*out = json_array(), *v;
	size_t	 i;

	json_array_foreach(ids, i, v)
		if (json_object_get(plan_snaprec(snap, "collaborator",
		    json_string_value(v)), "email") != NULL)
			json_array_append(out, v);
	json_decref(ids);
	return out;
}

/* The consenting people a "to" object reaches. */
static json_t *
plan_audience_to(json_t *to, json_t *snap)
{
	json_t	*ids = json_array(), *v, *out, *all, *cs;
	size_t	 i;

	if (json_is_true(json_object_get(to, "all")) &&
	    (all = plan_set(snap, STORE_COLLABORATORS, NULL)) != NULL)
		json_array_extend(ids, all);
	json_array_foreach(json_object_get(to, "groups"), i, v)
		plan_add_group(snap, ids, json_string_value(v));
	if ((cs = json_object_get(to, "collaborators")) != NULL)
		json_array_extend(ids, cs);
	out = plan_emailable(snap, plan_people(snap, ids));
	json_decref(ids);
	return out;
}

json_t *
plan_audience(const struct record *r, json_t *snap)
{
	return plan_audience_to(json_object_get(r->json, "to"), snap);
}


/* Need the records of every member of a set already fetched. */
static void
plan_need_members(json_t *snap, json_t *need, enum store_set set,
    const char *id)
{
	json_t	*m = plan_set(snap, set, id), *v;
	size_t	 i;

	if (m == NULL)
		return;
	json_array_foreach(m, i, v)
		plan_need_rec(snap, need, "collaborator", json_string_value(v));
}

/* An announcement's audience, and the old one too: people taken off must
 * not get it. */
void
plan_announcement_needs(const struct record *r, json_t *snap, json_t *need)
{
	json_t	*tos[2], *old, *v;
	size_t	 i;
	int	 t;

	old = plan_snaprec(snap, "announcement", r->id);
	tos[0] = json_object_get(r->json, "to");
	tos[1] = old ? json_object_get(old, "to") : NULL;
	for (t = 0; t < 2 && tos[t] != NULL; t++) {
		if (json_is_true(json_object_get(tos[t], "all"))) {
			plan_need_set(snap, need, STORE_COLLABORATORS, NULL);
			plan_need_members(snap, need, STORE_COLLABORATORS,
			    NULL);
		}
		json_array_foreach(json_object_get(tos[t], "groups"), i, v) {
			plan_need_set(snap, need, STORE_GROUP,
			    json_string_value(v));
			plan_need_members(snap, need, STORE_GROUP,
			    json_string_value(v));
		}
		json_array_foreach(json_object_get(tos[t], "collaborators"), i,
		    v)
			plan_need_rec(snap, need, "collaborator",
			    json_string_value(v));
	}
	plan_need_set(snap, need, STORE_FORGOTTEN, NULL);
}

int
plan_announcement_due(const struct record *r, const struct plan_ctx *pc,
    long long *due, long long *deadline, struct err *e)
{
	const char	*send_at;
	long long	 t;

	*due = pc->now_ms;
	if ((send_at = json_string_value(json_object_get(r->json,
	    "send_at"))) != NULL) {
		if (clock_parse_local(send_at, r->tz, &t, e) == -1) {
			err_prefix(e, "send_at");
			return -1;
		}
		if (t * 1000 > *due)
			*due = t * 1000;
	}
	*deadline = *due + pc->cf->max_age * 1000;
	return 0;
}

void
plan_announcement_email(json_t *ops, const struct plan_ctx *pc,
    const char *aid, const char *cid, long long due, long long deadline,
    const char *ver)
{
	struct store_delivery	 d;
	struct buf		 refs;
	char			*did;

	did = store_did("ann", aid, cid, NULL);
	buf_init(&refs);
	plan_ref(&refs, "announcement", aid);
	plan_ref(&refs, "collaborator", cid);
	memset(&d, 0, sizeof d);
	d.did = did;
	d.kind = "announcement";
	d.cid = cid;
	d.mid = "";
	d.due_ms = due;
	d.deadline_ms = deadline;
	d.created_ms = pc->now_ms;
	d.refs = refs.s;
	d.src = aid;
	if (ver == NULL)
		store_op_delivery(ops, &d);
	else
		store_op_fan(ops, &d, ver);
	buf_free(&refs);
	free(did);
}

void
plan_announcement_drop(json_t *ops, const char *aid, const char *cid,
    const char *ver)
{
	char	*did;
	int	 legacy;

	/* Made before ids were escaped: ':' in an id. */
	legacy = strchr(aid, ':') != NULL || strchr(cid, ':') != NULL;
	did = store_did("ann", aid, cid, NULL);
	if (ver == NULL)
		store_op_drop(ops, did);
	else
		store_op_drop_stale(ops, did, ver);
	free(did);
	if (legacy) {
		did = xasprintf("ann:%s:%s", aid, cid);
		if (ver == NULL)
			store_op_drop(ops, did);
		else
			store_op_drop_stale(ops, did, ver);
		free(did);
	}
}

int
plan_announcement(const struct record *r, json_t *snap,
    const struct plan_ctx *pc, json_t *ops, struct err *e)
{
	json_t		*people, *v, *old;
	size_t		 i;
	long long	 due, deadline;

	if (plan_announcement_due(r, pc, &due, &deadline, e) == -1)
		return -1;
	old = plan_snaprec(snap, "announcement", r->id);
	plan_store(ops, r, pc, NULL);
	people = plan_audience(r, snap);
	if (old != NULL) {
		/* A changed announcement: what is still pending is planned
		 * afresh (DDEL drops only unsent deliveries, so nobody who
		 * already has it gets it twice), and people taken off the
		 * list lose theirs. */
		json_t *was = plan_audience_to(json_object_get(old, "to"),
		    snap);

		json_array_foreach(was, i, v)
			plan_announcement_drop(ops, r->id, json_string_value(v),
			    NULL);
		json_decref(was);
	}
	json_array_foreach(people, i, v)
		plan_announcement_email(ops, pc, r->id, json_string_value(v),
		    due, deadline, NULL);
	json_decref(people);
	return 0;
}
