/*
 * meeting_pending.c: a meeting's pending emails (meeting_impl.h), found by
 * their ids, and withdrawn. Pure, any thread.
 *
 * The whole planner reads the meeting's index md:<m> whole; a page of a
 * paged meeting reads, for each of its people, their pending emails of
 * this meeting (their index cd:<c> meets md:<m>) and puts them together in
 * its snapshot under the same key. Either way meeting_pending() indexes
 * them once by person, so that asking about one person costs a lookup.
 *
 * Delivery ids say what an email is for (meeting.c has the layouts), so an
 * id tells its kind, its person and its SEQUENCE. An id made before ids
 * were escaped, with ':' inside an id, has more parts than its kind has:
 * it is matched the old way, by text (legacy).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meeting_impl.h"
#include "plan.h"
#include "store.h"

/* A pending delivery of this meeting, from its id: its kind and the person
 * it is for. */
struct meeting_did {
	json_t		*parts;
	const char	*kind;
	const char	*cid;		/* NULL: not one of ours */
	int		 legacy;
};

/* "sinv" -> "inv": a copy goes with the person's email of its kind. */
static const char *
meeting_kind(const char *k)
{
	if ((k[0] == 's' || k[0] == 'a') && (strcmp(k + 1, "inv") == 0 ||
	    strcmp(k + 1, "upd") == 0 || strcmp(k + 1, "can") == 0 ||
	    strcmp(k + 1, "rem") == 0))
		return k + 1;
	return k;
}

static void
meeting_did(struct meeting_plan *p, const char *did, struct meeting_did *d)
{
	size_t		 n, want = 0, at = 0;
	const char	*m;

	d->parts = store_did_parts(did);
	n = json_array_size(d->parts);
	d->kind = meeting_kind(json_string_value(json_array_get(d->parts, 0)));
	d->cid = NULL;
	if (strcmp(d->kind, "inv") == 0 || strcmp(d->kind, "upd") == 0 ||
	    strcmp(d->kind, "can") == 0)
		want = 4, at = 1;
	else if (strcmp(d->kind, "rem") == 0)
		want = 5, at = 1;
	else if (strcmp(d->kind, "vup") == 0)
		want = 5, at = 2;
	d->legacy = want > 0 && n > want;
	m = json_string_value(json_array_get(d->parts, at));
	if (want > 0 && n == want && strcmp(m, p->mid) == 0)
		d->cid = json_string_value(json_array_get(d->parts, at + 1));
}

/*
 * The meeting's pending deliveries (md:<m> in the snapshot), indexed once:
 * {"by": {cid: [[kind, did], ...]}, "legacy": [did, ...]}. Legacy ids are
 * matched the old way, by text (they are few, and only from before ids
 * were escaped).
 */
json_t *
meeting_pending(struct meeting_plan *p)
{
	struct meeting_did	 d;
	json_t			*by, *legacy, *v, *l;
	size_t			 i;

	if (p->pending != NULL)
		return p->pending;
	by = json_object();
	legacy = json_array();
	json_array_foreach(plan_set(p->snap, STORE_MEETING_DELIVERIES, p->mid),
	    i, v) {
		meeting_did(p, json_string_value(v), &d);
		if (d.legacy)
			json_array_append(legacy, v);
		else {
			/* Not one of ours ("" is no one's id): dropped only
			 * with all of its kind. */
			if (d.cid == NULL)
				d.cid = "";
			if ((l = json_object_get(by, d.cid)) == NULL) {
				l = json_array();
				json_object_set_new(by, d.cid, l);
			}
			json_array_append_new(l, json_pack("[s, O]", d.kind,
			    v));
		}
		json_decref(d.parts);
	}
	p->pending = json_pack("{s:o, s:o}", "by", by, "legacy", legacy);
	return p->pending;
}

/* Drop a person's pending deliveries of one kind (kind NULL: all) from
 * their list in the index; stale: only those not this version's own. */
static void
meeting_drop_list(struct meeting_plan *p, json_t *l, const char *kind,
    int stale)
{
	json_t		*v;
	const char	*did;
	size_t		 i;

	json_array_foreach(l, i, v) {
		did = json_string_value(json_array_get(v, 1));
		if ((kind == NULL || strcmp(json_string_value(json_array_get(v,
		    0)), kind) == 0) && (!stale || !meeting_mine(p, did)))
			store_op_drop(p->ops, did);
	}
}

static void
meeting_drop_some(struct meeting_plan *p, const char *kind, const char *cid,
    int stale)
{
	json_t		*pend = meeting_pending(p), *by, *v;
	char		 pat[300], pre[16];
	const char	*c;
	size_t		 i;

	by = json_object_get(pend, "by");
	if (cid != NULL)
		meeting_drop_list(p, json_object_get(by, cid), kind, stale);
	else
		json_object_foreach(by, c, v)
			meeting_drop_list(p, v, kind, stale);
	snprintf(pat, sizeof pat, ":%s:%s:", p->mid, cid ? cid : "");
	snprintf(pre, sizeof pre, "%s:", kind ? kind : "");
	json_array_foreach(json_object_get(pend, "legacy"), i, v) {
		const char *did = json_string_value(v);

		if ((kind == NULL || strncmp(did, pre, strlen(pre)) == 0) &&
		    (cid == NULL || strstr(did, pat) != NULL))
			store_op_drop(p->ops, did);
	}
}

void
meeting_drop(struct meeting_plan *p, const char *kind, const char *cid)
{
	meeting_drop_some(p, kind, cid, 0);
}

void
meeting_drop_stale(struct meeting_plan *p, const char *cid, const char *kind)
{
	meeting_drop_some(p, kind, cid, 1);
}

/* A pending delivery of this kind for cid with an id made before ids were
 * escaped (meeting_after does not name those: matched by text, as ever). */
int
meeting_has_legacy(struct meeting_plan *p, const char *kind,
    const char *cid)
{
	json_t	*pend = meeting_pending(p), *v;
	char	 pat[300];
	size_t	 i;

	snprintf(pat, sizeof pat, "%s:%s:%s:", kind, p->mid, cid);
	json_array_foreach(json_object_get(pend, "legacy"), i, v)
		if (strncmp(json_string_value(v), pat, strlen(pat)) == 0)
			return 1;
	return 0;
}

int
meeting_mine(struct meeting_plan *p, const char *did)
{
	json_t		*parts = store_did_parts(did);
	const char	*kind, *m, *s;
	size_t		 n = json_array_size(parts), want = 0, at = 0;
	char		 seq[16];
	int		 mine;

	kind = meeting_kind(json_string_value(json_array_get(parts, 0)));
	if (strcmp(kind, "inv") == 0 || strcmp(kind, "upd") == 0 ||
	    strcmp(kind, "can") == 0)
		want = 4, at = 3;
	else if (strcmp(kind, "rem") == 0)
		want = 5, at = 3;
	else if (strcmp(kind, "call") == 0)
		want = 4, at = 2;
	m = json_string_value(json_array_get(parts, 1));
	s = json_string_value(json_array_get(parts, at));
	snprintf(seq, sizeof seq, "%d", p->seq);
	mine = want > 0 && n == want && strcmp(m, p->mid) == 0 &&
	    strcmp(s, seq) == 0;
	json_decref(parts);
	return mine;
}

int
meeting_is_reminder(const char *did)
{
	json_t	*parts = store_did_parts(did);
	int	 rem;

	rem = strcmp(meeting_kind(json_string_value(json_array_get(parts, 0))),
	    "rem") == 0;
	json_decref(parts);
	return rem;
}
