/*
 * plan_check.c: what the daemon and the command refuse a record for,
 * beyond its form (plan.h: plan_verify, plan_refcheck, plan_check_groups).
 * Pure, any thread: a record and a snapshot in, 0 or an error naming the
 * field out.
 *
 * A merge record is applied to its stored copy and the whole is checked.
 * Every id it names must exist (a forgotten collaborator is not an error:
 * they are just gone); a group it names must have members, unless it was
 * named when the stored copy was accepted; a new scheduled meeting must be
 * to come, a held one must have happened.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "plan.h"
#include "plan_impl.h"
#include "store.h"
#include "util.h"

struct plan_check_arg {
	json_t		*snap;
	json_t		*known;
	struct err	*e;
	int		 failed;
	int		 forget;
	json_t		*old;		/* the stored copy, or NULL */
};

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
	if (util_json_has(og, id))
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
		if (util_json_has(plan_set(a->snap, STORE_FORGOTTEN, NULL), id))
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
