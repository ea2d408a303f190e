/*
 * plan.c: the planner. Given a checked record and a snapshot of the stored
 * state it touches, decide what to store and which emails ("deliveries") to
 * create. Pure: no I/O, any thread. Deterministic: the same record and
 * snapshot always give the same ops, and delivery ids are derived from what
 * the email is for, so planning a record twice never sends twice (the commit
 * script's DNEW creates a delivery only if none with that id exists).
 *
 * Delivery hash fields (d:<did>): state, cid (recipient collaborator, "" for
 * a coordinator), mid (meeting, for meeting emails), due (ms), kind, refs
 * (space-separated keys of the records the email is rendered from, read at
 * send time so it is always current), to (coordinator address, notices only),
 * data (JSON specific to the email), src (record id), created and deadline
 * (ms), and later attempts, first_try, last_try, last_reply, leases,
 * lease_until (while a worker has it: lease.lua), and after, after_fresh,
 * after_lease while it is held behind another (commit.lua's DNEW). A
 * delivery a worker has taken is rendered from the records read then: a
 * change planned after that is not in it (meeting_email.c's meeting_after).
 *
 * This file is the planner's frame: the snapshot helpers, what a record
 * needs fetched, storing a record, creating a delivery or a notice, and
 * plan_apply(), which hands each type to its own file: plan_check.c (what
 * a record is refused for), plan_audience.c (announcements and who they
 * reach), plan_person.c (collaborators and forget), plan_said.c (said
 * items and outcomes), meeting*.c (meetings and venues).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan.h"
#include "plan_impl.h"
#include "store.h"

json_t *
plan_snaprec(json_t *snap, const char *type, const char *id)
{
	char	 key[STORE_KEY_MAX];
	json_t	*w;

	w = json_object_get(snap, store_reckey(type, id, key, sizeof key));
	if (w == NULL || !json_is_object(w))
		return NULL;
	return json_object_get(w, "record");
}

char *
plan_message_id(const char *did, const char *domain)
{
	struct buf	 b;
	const char	*p;

	buf_init(&b);
	for (p = did; *p; p++) {
		if (*p == ':')
			buf_addc(&b, '/');
		else if (*p == '.')
			buf_addc(&b, '=');
		else
			buf_addc(&b, *p);
	}
	buf_printf(&b, "@%s", domain);
	return buf_take(&b);
}

/* need is a set (a JSON object, key -> true, in the order added): asking
 * twice costs one hash lookup, so a group of N costs O(N). */
void
plan_need(json_t *snap, json_t *need, const char *key)
{
	if (json_object_get(snap, key) != NULL ||
	    json_object_get(need, key) != NULL)
		return;
	json_object_set_new(need, key, json_true());
}

void
plan_need_rec(json_t *snap, json_t *need, const char *type, const char *id)
{
	char	key[STORE_KEY_MAX];

	plan_need(snap, need, store_reckey(type, id, key, sizeof key));
}

void
plan_need_set(json_t *snap, json_t *need, enum store_set set, const char *id)
{
	char	key[STORE_KEY_MAX];

	plan_need(snap, need, store_setkey(set, id, key, sizeof key));
}

json_t *
plan_set(json_t *snap, enum store_set set, const char *id)
{
	char	key[STORE_KEY_MAX];

	return plan_members(snap, store_setkey(set, id, key, sizeof key));
}

/* Members of a set key in snap (an array), or NULL if not fetched yet. */
json_t *
plan_members(json_t *snap, const char *key)
{
	json_t	*v = json_object_get(snap, key);

	return json_is_array(v) ? v : NULL;
}

struct plan_refs_arg {
	json_t	*snap;
	json_t	*need;
};

static void
plan_needs_ref(const char *kind, const char *id, const char *path, void *arg)
{
	struct plan_refs_arg	*a = arg;

	if (strcmp(kind, "group") == 0)
		plan_need_set(a->snap, a->need, STORE_GROUP, id);
	else
		plan_need_rec(a->snap, a->need, kind, id);
}

int
plan_needs(const struct record *r, json_t *snap, json_t *out)
{
	json_t		*need = json_object(), *v;
	size_t		 before = json_array_size(out), had, i;
	const char	*key;

	/* What out holds already is not asked for again. */
	json_array_foreach(out, i, v)
		json_object_set_new(need, json_string_value(v), json_true());
	had = json_object_size(need);
	plan_needs_set(r, snap, need);
	/* The set keeps the order keys were added in. */
	i = 0;
	json_object_foreach(need, key, v)
		if (i++ >= had)
			json_array_append_new(out, json_string(key));
	json_decref(need);
	return (int)(json_array_size(out) - before);
}

/* The names of the groups a meeting or announcement addresses. */
static json_t *
plan_named_groups(const struct record *r)
{
	if (r->type == REC_MEETING)
		return json_object_get(r->json, "groups");
	if (r->type == REC_ANNOUNCEMENT)
		return json_object_get(json_object_get(r->json, "to"),
		    "groups");
	return NULL;
}

/*
 * To say which groups exist when a record names an empty one: the names
 * ever given, then (only when one named is empty) each of their member
 * sets, at most PLAN_GROUPS_LISTED, to list the groups that have members.
 */
#define PLAN_GROUPS_LISTED	100
static void
plan_need_groups(const struct record *r, json_t *snap, json_t *need)
{
	json_t	*named = plan_named_groups(r), *v, *all;
	size_t	 i;
	char	 key[STORE_KEY_MAX];
	int	 empty = 0;

	if (json_array_size(named) == 0)
		return;
	plan_need_set(snap, need, STORE_GROUPS, NULL);
	json_array_foreach(named, i, v) {
		store_setkey(STORE_GROUP, json_string_value(v), key,
		    sizeof key);
		if (json_object_get(snap, key) != NULL &&
		    json_array_size(plan_members(snap, key)) == 0)
			empty = 1;
	}
	if (!empty || (all = plan_set(snap, STORE_GROUPS, NULL)) == NULL)
		return;
	json_array_foreach(all, i, v)
		if (i < PLAN_GROUPS_LISTED)
			plan_need_set(snap, need, STORE_GROUP,
			    json_string_value(v));
}

/* Options to check a merged whole with: the record's own default time
 * zone (a merge record's tz is the default unless it names one, and then
 * the whole names the same). */
void
plan_merge_opts(const struct record *r, size_t max_bytes,
    struct record_opts *o)
{
	o->default_tz = r->tz;
	o->max_bytes = max_bytes;
}

void
plan_needs_set(const struct record *r, json_t *snap, json_t *need)
{
	struct plan_refs_arg	 a = { snap, need };
	json_t			*stored;

	if (r->merge) {
		struct record_opts	o;
		struct record		w;

		/* First the stored record; then what the whole needs. */
		plan_need_rec(snap, need, record_type_name(r->type), r->id);
		stored = plan_snaprec(snap, record_type_name(r->type), r->id);
		plan_merge_opts(r, 0, &o);
		if (stored == NULL || record_merge(stored, r, &o, &w,
		    NULL) == -1)
			return;
		plan_needs_set(&w, snap, need);
		record_clear(&w);
		return;
	}
	plan_need_groups(r, snap, need);
	if (r->type == REC_FORGET)
		plan_need_rec(snap, need, "collaborator", r->id);
	else
		plan_need_rec(snap, need, record_type_name(r->type), r->id);
	record_refs(r, plan_needs_ref, &a);

	switch (r->type) {
	case REC_COLLABORATOR:
		/* Its pending deliveries are dropped (consent withdrawn) by
		 * the commit script, which finds them itself. */
		break;
	case REC_VENUE:
		meeting_venue_needs(r, snap, need);
		break;
	case REC_MEETING:
		meeting_needs(r, snap, need);
		plan_need_set(snap, need, STORE_FORGOTTEN, NULL);
		break;
	case REC_ANNOUNCEMENT:
		plan_announcement_needs(r, snap, need);
		break;
	case REC_OUTCOME:
		plan_outcome_needs(r, snap, need);
		break;
	case REC_FORGET:
		plan_forget_needs(r, snap, need);
		break;
	default:
		break;
	}
}


/* Store the record with its meta (entry id, time, sequence). */
void
plan_store(json_t *ops, const struct record *r, const struct plan_ctx *pc,
    json_t *meta)
{
	json_t	*w = json_object();
	char	*s;

	json_object_set(w, "record", r->json);
	if (meta == NULL)
		meta = json_object();
	else
		json_incref(meta);
	json_object_set_new(meta, "src", json_string(pc->entry_id));
	json_object_set_new(meta, "at", json_integer(pc->now_ms));
	json_object_set_new(w, "meta", meta);
	s = store_dump(w);
	store_op_record(ops, record_type_name(r->type), r->id, s);
	free(s);
	json_decref(w);
}

/* Is the stored copy the same record? Then there is nothing to do. */
int
plan_unchanged(const struct record *r, json_t *snap)
{
	json_t	*old = plan_snaprec(snap, record_type_name(r->type), r->id);

	return old != NULL && json_equal(old, r->json);
}

/* A stream entry id, "ms-seq" (or "ms"), as two numbers; 0 if it is not
 * one ("preview", ""). */
static int
plan_entry(const char *s, unsigned long long *ms, unsigned long long *seq)
{
	char	*end;

	if (s == NULL || *s < '0' || *s > '9')
		return 0;
	*ms = strtoull(s, &end, 10);
	*seq = 0;
	if (*end == '-') {
		if (end[1] < '0' || end[1] > '9')
			return 0;
		*seq = strtoull(end + 1, &end, 10);
	}
	return *end == '\0';
}

int
plan_superseded(const struct record *r, json_t *snap, const char *entry)
{
	char			 key[STORE_KEY_MAX];
	unsigned long long	 a, b, c, d;
	json_t			*w;

	w = json_object_get(snap, store_reckey(record_type_name(r->type),
	    r->id, key, sizeof key));
	if (!json_is_object(w))
		return 0;
	return plan_entry(json_string_value(json_object_get(json_object_get(w,
	    "meta"), "src")), &a, &b) && plan_entry(entry, &c, &d) &&
	    (a > c || (a == c && b > d));
}

void
plan_ref(struct buf *refs, const char *type, const char *id)
{
	char		 key[STORE_KEY_MAX];
	const char	*p;
	size_t		 n;

	store_reckey(type, id, key, sizeof key);
	n = strlen(key);
	for (p = refs->s; p != NULL && (p = strstr(p, key)) != NULL; p += n)
		if ((p == refs->s || p[-1] == ' ') && (p[n] == ' ' ||
		    p[n] == '\0'))
			return;
	if (refs->len > 0)
		buf_addc(refs, ' ');
	buf_adds(refs, key);
}

/* Create one delivery. refs is a space-separated list of record keys. */
void
plan_delivery(json_t *ops, const struct plan_ctx *pc, const char *did,
    const char *kind, const char *cid, const char *mid, long long due_ms,
    long long deadline_ms, const char *refs, const char *to, json_t *data,
    const char *src)
{
	struct store_delivery	 d = { did, kind, cid, mid, due_ms, deadline_ms,
				    pc->now_ms, refs, to, NULL, src };
	char			*text = data ? store_dump(data) : NULL;

	d.data = text;
	store_op_delivery(ops, &d);
	free(text);
}

void
plan_notice(json_t *ops, const struct plan_ctx *pc, const char *did,
    const char *to, const char *title, json_t *lines, const char *record_id)
{
	json_t	*data = json_object();

	json_object_set_new(data, "title", json_string(title));
	json_object_set(data, "lines", lines);
	json_object_set_new(data, "record_id", json_string(record_id));
	plan_delivery(ops, pc, did, "notice", "", "", pc->now_ms,
	    pc->now_ms + pc->cf->max_age * 1000, "", to, data, record_id);
	/* Notices may quote what a record said: forget scrubs them. */
	store_op_sadd(ops, STORE_NOTICES, NULL, did);
	json_decref(data);
}

void
plan_notice_also(json_t *ops, const struct plan_ctx *pc, const char *did,
    const char *to, const char *organiser, const char *title, json_t *lines,
    const char *record_id)
{
	char	*d2;

	plan_notice(ops, pc, did, to, title, lines, record_id);
	if (organiser == NULL || *organiser == '\0' ||
	    strcasecmp(organiser, to) == 0)
		return;
	d2 = xasprintf("%s:org", did);
	plan_notice(ops, pc, d2, organiser, title, lines, record_id);
	free(d2);
}

char *
plan_person_words(json_t *c, const char *cid)
{
	const char	*name = json_string_value(json_object_get(c, "name"));

	return name != NULL ? xasprintf("%s (%s)", name, cid) :
	    xasprintf("collaborator %s", cid);
}


int
plan_apply(const struct record *r, json_t *snap, const struct plan_ctx *pc,
    json_t *ops, struct err *e)
{
	struct record_opts	o;
	struct record		w;
	int			rc;

	if (r->merge) {
		/* Applied to the stored record, and the whole planned. */
		plan_merge_opts(r, (size_t)pc->cf->max_record_bytes, &o);
		if (record_merge(plan_snaprec(snap, record_type_name(r->type),
		    r->id), r, &o, &w, e) == -1)
			return -1;
		rc = plan_apply(&w, snap, pc, ops, e);
		record_clear(&w);
		return rc;
	}
	if (plan_verify(r, snap, NULL, pc->now_ms,
	    (size_t)pc->cf->max_record_bytes, e) == -1)
		return -1;
	/* Nothing changes; or what is stored came from a later entry (this
	 * one was read again after a crash, behind it): it stays. */
	if (r->type != REC_FORGET && (plan_unchanged(r, snap) ||
	    plan_superseded(r, snap, pc->entry_id)))
		return 0;
	switch (r->type) {
	case REC_COLLABORATOR:
		return plan_collaborator(r, snap, pc, ops);
	case REC_ANNOUNCEMENT:
		return plan_announcement(r, snap, pc, ops, e);
	case REC_SAID:
		return plan_said(r, snap, pc, ops);
	case REC_FORGET:
		return plan_forget(r, snap, pc, ops);
	case REC_OUTCOME:
		return plan_outcome(r, snap, pc, ops);
	case REC_VENUE:
		return meeting_venue_plan(r, snap, pc, ops, e);
	case REC_MEETING:
		return meeting_plan(r, snap, pc, ops, e);
	default:
		return err_set(e, "type: cannot plan a %s record",
		    record_type_name(r->type));
	}
}
