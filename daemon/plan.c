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
 * change planned after that is not in it (meeting.c's meeting_after).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "plan.h"
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
static void
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
	size_t			 i;
	json_t			*j = r->json, *v, *sv, *stored;

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
	case REC_ANNOUNCEMENT: {
		json_t	*tos[2], *old;
		int	 t;

		/* The old audience too: people taken off must not get it. */
		old = plan_snaprec(snap, "announcement", r->id);
		tos[0] = json_object_get(j, "to");
		tos[1] = old ? json_object_get(old, "to") : NULL;
		for (t = 0; t < 2 && tos[t] != NULL; t++) {
			if (json_is_true(json_object_get(tos[t], "all"))) {
				plan_need_set(snap, need, STORE_COLLABORATORS,
				    NULL);
				plan_need_members(snap, need,
				    STORE_COLLABORATORS, NULL);
			}
			json_array_foreach(json_object_get(tos[t], "groups"), i,
			    v) {
				plan_need_set(snap, need, STORE_GROUP,
				    json_string_value(v));
				plan_need_members(snap, need, STORE_GROUP,
				    json_string_value(v));
			}
			json_array_foreach(json_object_get(tos[t],
			    "collaborators"), i, v)
				plan_need_rec(snap, need, "collaborator",
				    json_string_value(v));
		}
		plan_need_set(snap, need, STORE_FORGOTTEN, NULL);
		break;
	}
	case REC_OUTCOME:
		json_array_foreach(json_object_get(j, "said"), i, v) {
			json_t *s = plan_snaprec(snap, "said",
			    json_string_value(v));

			if (s && (sv = json_object_get(s, "collaborator")))
				plan_need_rec(snap, need, "collaborator",
				    json_string_value(sv));
		}
		break;
	case REC_FORGET:
		plan_need_set(snap, need, STORE_FORGOTTEN, NULL);
		plan_need_set(snap, need, STORE_COLLAB_DELIVERIES, r->id);
		plan_need_set(snap, need, STORE_COLLAB_SAID, r->id);
		json_array_foreach(plan_set(snap, STORE_COLLAB_SAID, r->id), i,
		    v)
			plan_need_rec(snap, need, "said", json_string_value(v));
		break;
	default:
		break;
	}
}

struct plan_check_arg {
	json_t		*snap;
	json_t		*known;
	struct err	*e;
	int		 failed;
	int		 forget;
	json_t		*old;		/* the stored copy, or NULL */
};

static int
plan_in(json_t *arr, const char *s)
{
	json_t	*v;
	size_t	 i;

	json_array_foreach(arr, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
			return 1;
	return 0;
}

/* How many members a group has: -1 when the snapshot does not say (its
 * set, or "#card:" and its key, fetched). */
static long long
plan_group_size(json_t *snap, const char *group)
{
	char	 key[STORE_KEY_MAX], card[STORE_KEY_MAX + 8];
	json_t	*v;

	store_setkey(STORE_GROUP, group, key, sizeof key);
	if (json_object_get(snap, key) != NULL)
		return (long long)json_array_size(plan_members(snap, key));
	snprintf(card, sizeof card, "#card:%s", key);
	if ((v = json_object_get(snap, card)) != NULL && json_is_integer(v))
		return json_integer_value(v);
	return -1;
}

/* "carers-forum, staff" (the groups with members, or not known to be
 * empty), or a sentence. */
static char *
plan_known_groups(json_t *snap)
{
	struct buf	 b;
	json_t		*all = plan_set(snap, STORE_GROUPS, NULL), *v;
	size_t		 i;

	buf_init(&b);
	json_array_foreach(all, i, v) {
		if (plan_group_size(snap, json_string_value(v)) == 0)
			continue;
		if (b.len > 0)
			buf_adds(&b, ", ");
		buf_adds(&b, json_string_value(v));
	}
	if (b.len == 0)
		buf_adds(&b, "(none yet: give collaborators \"groups\" first)");
	return buf_take(&b);
}

static void
plan_check_group(struct plan_check_arg *a, const char *id, const char *path)
{
	char	 k[300], *known;
	json_t	*og;

	/* Not fetched (a caller that did not ask): cannot tell. */
	if (plan_group_size(a->snap, id) != 0)
		return;
	snprintf(k, sizeof k, "group:%s", id);
	if (a->known != NULL && json_object_get(a->known, k) != NULL)
		return;
	/* Named when the stored copy was accepted: it has emptied since,
	 * which is not this record's mistake. */
	og = a->old == NULL ? NULL : json_object_get(a->old, "groups") ?
	    json_object_get(a->old, "groups") :
	    json_object_get(json_object_get(a->old, "to"), "groups");
	if (plan_in(og, id))
		return;
	known = plan_known_groups(a->snap);
	a->failed = 1;
	err_set(a->e, "%s: no collaborator belongs to group \"%s\", so nobody "
	    "would get this; check the spelling. The groups with members "
	    "are: %s", path, id, known);
	err_set_ref(a->e);
	free(known);
}

static void
plan_check_ref(const char *kind, const char *id, const char *path, void *arg)
{
	struct plan_check_arg	*a = arg;
	char			 k[300];

	json_t			*fg, *v;
	size_t			 i;

	if (a->failed)
		return;
	if (strcmp(kind, "group") == 0) {
		plan_check_group(a, id, path);
		return;
	}
	if (plan_snaprec(a->snap, kind, id) != NULL)
		return;
	/* Forgetting someone twice is harmless; and a meeting or list that
	 * still names a forgotten person is not wrong, they are just gone. */
	if (strcmp(kind, "collaborator") == 0) {
		fg = plan_set(a->snap, STORE_FORGOTTEN, NULL);
		json_array_foreach(fg, i, v)
			if (strcmp(json_string_value(v), id) == 0)
				return;
	}
	snprintf(k, sizeof k, "%s:%s", kind, id);
	if (a->known != NULL && json_object_get(a->known, k) != NULL)
		return;
	a->failed = 1;
	if (a->forget)
		err_set(a->e, "%s: no collaborator \"%s\" to forget (nothing "
		    "was stored under this id; check it)", path, id);
	else
		err_set(a->e, "%s: no %s \"%s\"", path, kind, id);
	err_set_ref(a->e);
}

/* A meeting's start against now: a new scheduled one must be to come, a
 * held one must have happened. */
static int
plan_check_when(const struct record *r, json_t *snap, long long now_ms,
    struct err *e)
{
	const char	*st = json_string_value(json_object_get(r->json,
	    "status")), *start = json_string_value(json_object_get(r->json,
	    "start"));
	long long	 t;

	if (r->type != REC_MEETING || now_ms <= 0 ||
	    clock_parse_local(start, r->tz, &t, NULL) == -1)
		return 0;
	if (st == NULL || strcmp(st, "scheduled") == 0) {
		if (plan_snaprec(snap, "meeting", r->id) == NULL &&
		    t * 1000 <= now_ms)
			return err_set(e, "start: \"%s\" has passed, and this "
			    "is a new meeting, so nobody could come; to record "
			    "a meeting that already happened, give \"status\": "
			    "\"held\"", start);
	} else if (strcmp(st, "held") == 0 && t * 1000 > now_ms)
		return err_set(e, "status: \"held\" is for a meeting that "
		    "already happened, and this one starts %s; use "
		    "\"scheduled\" to invite people", start);
	return 0;
}

static void
plan_groups_ref(const char *kind, const char *id, const char *path,
    void *arg)
{
	struct plan_check_arg	*a = arg;

	if (!a->failed && strcmp(kind, "group") == 0)
		plan_check_group(a, id, path);
}

int
plan_check_groups(const struct record *r, json_t *snap, struct err *e)
{
	struct plan_check_arg	a = { snap, NULL, e, 0, 0, NULL };

	a.old = plan_snaprec(snap, record_type_name(r->type), r->id);
	record_refs(r, plan_groups_ref, &a);
	return a.failed ? -1 : 0;
}

int
plan_verify(const struct record *r, json_t *snap, json_t *known,
    long long now_ms, size_t max_bytes, struct err *e)
{
	struct plan_check_arg	a = { snap, known, e, 0,
				    r->type == REC_FORGET, NULL };
	struct record_opts	o;
	struct record		w;
	json_t			*stored;
	char			k[300];
	int			rc;

	if (r->merge) {
		stored = plan_snaprec(snap, record_type_name(r->type), r->id);
		snprintf(k, sizeof k, "%s:%s", record_type_name(r->type),
		    r->id);
		/* Queued earlier in the same invocation: checked there. */
		if (stored == NULL && known != NULL &&
		    json_object_get(known, k) != NULL)
			return 0;
		plan_merge_opts(r, max_bytes, &o);
		if (record_merge(stored, r, &o, &w, e) == -1)
			return -1;
		rc = plan_verify(&w, snap, known, now_ms, max_bytes, e);
		record_clear(&w);
		return rc;
	}
	if (r->type != REC_FORGET)
		a.old = plan_snaprec(snap, record_type_name(r->type), r->id);
	record_refs(r, plan_check_ref, &a);
	if (a.failed)
		return -1;
	return plan_check_when(r, snap, now_ms, e);
}

int
plan_refcheck(const struct record *r, json_t *snap, json_t *known,
    struct err *e)
{
	return plan_verify(r, snap, known, util_now_ms(), 0, e);
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

static int
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

static int
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

static int
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

static int
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

static int
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

/*
 * "You said, we did": one email per attributed, consenting person per
 * version of the outcome, listing every one of their items it answers. The
 * delivery id carries the version's inbox entry id, so a later status
 * (in-progress, then done) is a new email, and the same outcome queued
 * again (unchanged) is not.
 */
static int
plan_outcome(const struct record *r, json_t *snap, const struct plan_ctx *pc,
    json_t *ops)
{
	json_t		*said = json_object_get(r->json, "said"), *v, *byc, *ids;
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
	json_object_foreach(byc, cid, ids) {
		struct buf	 refs;
		json_t		*data;

		if (!plan_consents(snap, cid) || json_object_get(
		    plan_snaprec(snap, "collaborator", cid), "email") == NULL)
			continue;
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
	json_decref(byc);
	return 0;
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
