/*
 * test_plan.c: the planner (plan.c) over hand-made snapshots, as store.h
 * describes them: relative key -> stored record {"record":..,"meta":..},
 * set members (an array), or null (absent).
 *
 * Covered: who an announcement reaches (SPEC section 4: addressees,
 * consenting only), the fetch rounds of plan_needs, reference checks and
 * their messages (SPEC section 1), the ops of plan_apply for announcements,
 * collaborators and forget (SPEC section 2: "Removes the profile, every
 * pending delivery to that person and their name from said items"), "a
 * record that changes nothing sends nothing", and Message-IDs.
 *
 * JSON in this file is written with ' for " (see J()).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <gmime/gmime.h>
#include <jansson.h>

#include "clock.h"
#include "config.h"
#include "plan.h"
#include "record.h"
#include "store.h"
#include "util.h"

static const struct record_opts opts = { "Europe/London", 65536 };

/* ' -> " so that test JSON is readable. */
#include "record_fixture.h"

/* Put a stored record into snap under rec:<type>:<id>. */
static void
snap_rec(json_t *snap, const char *json)
{
	json_t		*r = JSON(json), *w = json_object();
	char		 key[300];

	store_reckey(json_string_value(json_object_get(r, "type")),
	    json_string_value(json_object_get(r, "id")), key, sizeof key);
	json_object_set_new(w, "record", r);
	json_object_set_new(w, "meta", JSON("{'src':'1-0','at':1}"));
	json_object_set_new(snap, key, w);
}

static void
snap_set(json_t *snap, const char *key, const char *members)
{
	json_t	*m = JSON(members);

	store_snap_put_set(snap, key, m);
	json_decref(m);
}

/* A collaborator record (JSON text with ') with the given fields. */
static void
snap_collab(json_t *snap, const char *id, int consent, const char *groups)
{
	char	*s;

	s = xasprintf("{'type':'collaborator','id':'%s','name':'Name of %s',"
	    "'email':'%s@example.org','consent':%s,'groups':%s}", id, id, id,
	    consent ? "true" : "false", groups);
	snap_rec(snap, s);
	free(s);
}

/* The snapshot most tests use. c-x and c-n have not consented. */
static json_t *
base_snap(void)
{
	json_t	*snap = json_object();

	snap_collab(snap, "c-a", 1, "['carers','youth']");
	snap_collab(snap, "c-b", 1, "['carers']");
	snap_collab(snap, "c-c", 1, "['youth']");
	snap_collab(snap, "c-d", 1, "[]");
	snap_collab(snap, "c-x", 0, "['carers']");
	snap_collab(snap, "c-n", 0, "[]");
	snap_set(snap, "group:carers", "['c-b','c-x','c-a']");
	snap_set(snap, "group:youth", "['c-c','c-a']");
	snap_set(snap, "collaborators",
	    "['c-n','c-d','c-c','c-b','c-a','c-x']");
	return snap;
}

static void
assert_json_is(json_t *got, const char *want)
{
	json_t	*w = JSON(want);
	char	*g;

	if (!json_equal(got, w)) {
		g = json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY);
		fail_msg("got %s\nwant %s", g, want);
	}
	json_decref(w);
}

/* Same strings in any order. */
static void
assert_json_set(json_t *got, const char *want)
{
	json_t	*w = JSON(want), *v, *x;
	size_t	 i, j;
	int	 found;
	char	*g = json_dumps(got, JSON_COMPACT);

	if (json_array_size(got) != json_array_size(w))
		fail_msg("got %s\nwant (any order) %s", g, want);
	json_array_foreach(w, i, v) {
		found = 0;
		json_array_foreach(got, j, x)
			if (json_equal(v, x))
				found = 1;
		if (!found)
			fail_msg("got %s\nwant (any order) %s", g, want);
	}
	free(g);
	json_decref(w);
}

/* The audience of an announcement with this "to". */
static void
audience_is(json_t *snap, const char *to, const char *want)
{
	struct record	 r;
	json_t		*got;
	char		*s;

	s = xasprintf("{'type':'announcement','id':'a-1','subject':'S',"
	    "'body':'B','to':%s}", to);
	rec(s, &r);
	free(s);
	got = plan_audience(&r, snap);
	assert_json_is(got, want);
	json_decref(got);
	record_clear(&r);
}

static void
test_audience(void **state)
{
	json_t	*snap = base_snap();

	audience_is(snap, "{'groups':['carers']}", "['c-a','c-b']");
	audience_is(snap, "{'groups':['carers','youth']}",
	    "['c-a','c-b','c-c']");
	audience_is(snap, "{'groups':['youth'],'collaborators':['c-d','c-a']}",
	    "['c-a','c-c','c-d']");
	audience_is(snap, "{'collaborators':['c-x','c-n']}", "[]");
	audience_is(snap, "{'groups':['carers'],'collaborators':['c-b']}",
	    "['c-a','c-b']");
	audience_is(snap, "{'all':true}", "['c-a','c-b','c-c','c-d']");
	audience_is(snap, "{'all':true,'groups':['carers'],"
	    "'collaborators':['c-d']}", "['c-a','c-b','c-c','c-d']");
	audience_is(snap, "{'all':false,'groups':['carers']}",
	    "['c-a','c-b']");
	/* An unknown group is nobody, fetched as null or not at all. */
	store_snap_put_null(snap, "group:nobody");
	audience_is(snap, "{'groups':['nobody']}", "[]");
	audience_is(snap, "{'groups':['never-fetched']}", "[]");
	audience_is(snap, "{'groups':['nobody'],'collaborators':['c-c']}",
	    "['c-c']");
	/* A member whose record is absent is nobody too. */
	snap_set(snap, "group:ghosts", "['c-ghost','c-d']");
	store_snap_put_null(snap, "rec:collaborator:c-ghost");
	audience_is(snap, "{'groups':['ghosts']}", "['c-d']");
	json_decref(snap);
}

static void
test_needs_announcement(void **state)
{
	struct record	 r;
	json_t		*snap = json_object(), *need;
	int		 rounds;

	rec("{'type':'announcement','id':'a-1','subject':'S','body':'B',"
	    "'to':{'groups':['carers']}}", &r);

	/* Round 1: the announcement itself and the group's members (and
	 * the names of all groups, to list them if this one were empty). */
	need = json_array();
	assert_int_equal(plan_needs(&r, snap, need), 4);
	assert_json_set(need, "['rec:announcement:a-1','group:carers',"
	    "'forgotten','groups']");
	json_decref(need);
	snap_set(snap, "groups", "['carers']");
	store_snap_put_null(snap, "rec:announcement:a-1");
	store_snap_put_null(snap, "forgotten");
	snap_set(snap, "group:carers", "['c-b','c-a']");

	/* Round 2: the members' records. */
	need = json_array();
	assert_int_equal(plan_needs(&r, snap, need), 2);
	assert_json_set(need, "['rec:collaborator:c-a','rec:collaborator:c-b']");
	json_decref(need);
	snap_collab(snap, "c-a", 1, "['carers']");
	store_snap_put_null(snap, "rec:collaborator:c-b");

	/* Then nothing, however often it is asked. */
	for (rounds = 0; rounds < 3; rounds++) {
		need = json_array();
		assert_int_equal(plan_needs(&r, snap, need), 0);
		assert_int_equal(json_array_size(need), 0);
		json_decref(need);
	}
	/* Keys already in need are not added twice. */
	need = JSON("['group:carers']");
	json_object_del(snap, "group:carers");
	assert_int_equal(plan_needs(&r, snap, need), 0);
	assert_json_is(need, "['group:carers']");
	json_decref(need);
	record_clear(&r);
	json_decref(snap);
}

static void
test_needs_others(void **state)
{
	struct record	 r;
	json_t		*snap = json_object(), *need;

	/* "all" needs the set of every collaborator, then their records. */
	rec("{'type':'announcement','id':'a-2','subject':'S','body':'B',"
	    "'to':{'all':true,'collaborators':['c-d']}}", &r);
	need = json_array();
	plan_needs(&r, snap, need);
	assert_json_set(need, "['rec:announcement:a-2','rec:collaborator:c-d',"
	    "'collaborators','forgotten']");
	json_decref(need);
	store_snap_put_null(snap, "rec:announcement:a-2");
	store_snap_put_null(snap, "forgotten");
	snap_collab(snap, "c-d", 1, "[]");
	snap_set(snap, "collaborators", "['c-d','c-e']");
	need = json_array();
	plan_needs(&r, snap, need);
	assert_json_set(need, "['rec:collaborator:c-e']");
	json_decref(need);
	record_clear(&r);
	json_decref(snap);

	/* forget: the profile, pending deliveries, said items, then those. */
	snap = json_object();
	rec("{'type':'forget','collaborator':'c-a'}", &r);
	need = json_array();
	plan_needs(&r, snap, need);
	assert_json_set(need, "['rec:collaborator:c-a','forgotten','cd:c-a',"
	    "'cs:c-a']");
	json_decref(need);
	snap_collab(snap, "c-a", 1, "[]");
	store_snap_put_null(snap, "forgotten");
	snap_set(snap, "cd:c-a", "['ann:a-1:c-a']");
	snap_set(snap, "cs:c-a", "['s-1','s-2']");
	need = json_array();
	plan_needs(&r, snap, need);
	assert_json_set(need, "['rec:said:s-1','rec:said:s-2']");
	json_decref(need);
	record_clear(&r);
	json_decref(snap);

	/* outcome: the said items, then who said them. */
	snap = json_object();
	rec("{'type':'outcome','id':'o-5','said':['s-17','s-18'],"
	    "'we_did':'W','status':'done'}", &r);
	need = json_array();
	plan_needs(&r, snap, need);
	assert_json_set(need, "['rec:outcome:o-5','rec:said:s-17',"
	    "'rec:said:s-18']");
	json_decref(need);
	store_snap_put_null(snap, "rec:outcome:o-5");
	snap_rec(snap, "{'type':'said','id':'s-17','text':'T',"
	    "'collaborator':'c-amara'}");
	snap_rec(snap, "{'type':'said','id':'s-18','text':'T'}");
	need = json_array();
	plan_needs(&r, snap, need);
	assert_json_set(need, "['rec:collaborator:c-amara']");
	json_decref(need);
	record_clear(&r);
	json_decref(snap);
}

static void
refcheck_is(const char *json, json_t *snap, json_t *known, const char *want)
{
	struct record	r;
	struct err	e;
	int		rc;

	rec(json, &r);
	memset(&e, 0, sizeof e);
	rc = plan_refcheck(&r, snap, known, &e);
	if (want == NULL) {
		if (rc != 0)
			fail_msg("unexpected error: %s\nfor %s", e.msg, json);
	} else {
		char *w = J(want);

		if (rc != -1)
			fail_msg("accepted: %s", json);
		assert_string_equal(e.msg, w);
		/* An unknown id is a reference error (intake may wait for
		 * an older entry); a time is not. */
		assert_int_equal(err_is_ref(&e), strstr(w, ": no ") != NULL);
		free(w);
	}
	record_clear(&r);
}

static void
test_refcheck(void **state)
{
	json_t	*snap = base_snap(), *known;

	store_snap_put_null(snap, "rec:collaborator:c-zed");
	refcheck_is("{'type':'announcement','id':'a-1','subject':'S',"
	    "'body':'B','to':{'collaborators':['c-zed']}}", snap, NULL,
	    "to.collaborators[0]: no collaborator 'c-zed'");
	refcheck_is("{'type':'announcement','id':'a-1','subject':'S',"
	    "'body':'B','to':{'collaborators':['c-a','c-zed']}}", snap, NULL,
	    "to.collaborators[1]: no collaborator 'c-zed'");
	/* A collaborator who has not consented still exists. */
	refcheck_is("{'type':'announcement','id':'a-1','subject':'S',"
	    "'body':'B','to':{'collaborators':['c-x']}}", snap, NULL, NULL);
	/* Unknown groups are not an error. */
	refcheck_is("{'type':'announcement','id':'a-1','subject':'S',"
	    "'body':'B','to':{'groups':['nobody']}}", snap, NULL, NULL);

	snap_rec(snap, "{'type':'said','id':'s-17','text':'T'}");
	store_snap_put_null(snap, "rec:said:s-9");
	refcheck_is("{'type':'outcome','id':'o-5','said':['s-17','s-9'],"
	    "'we_did':'W','status':'done'}", snap, NULL,
	    "said[1]: no said 's-9'");
	refcheck_is("{'type':'outcome','id':'o-5','said':['s-17'],"
	    "'we_did':'W','status':'done'}", snap, NULL, NULL);

	store_snap_put_null(snap, "rec:meeting:m-x");
	refcheck_is("{'type':'said','id':'s-20','text':'T','meeting':'m-x'}",
	    snap, NULL, "meeting: no meeting 'm-x'");
	refcheck_is("{'type':'said','id':'s-20','text':'T',"
	    "'collaborator':'c-zed'}", snap, NULL,
	    "collaborator: no collaborator 'c-zed'");
	refcheck_is("{'type':'meeting','id':'m-1','title':'T',"
	    "'start':'2026-12-10T17:30','end':'2026-12-10T19:30',"
	    "'venue':'v-none','invitees':['c-a']}", snap, NULL,
	    "venue: no venue 'v-none'");

	/* Records queued earlier in the same invocation count. */
	known = JSON("{'collaborator:c-zed':true,'meeting:m-x':true,"
	    "'said:s-9':true}");
	refcheck_is("{'type':'announcement','id':'a-1','subject':'S',"
	    "'body':'B','to':{'collaborators':['c-a','c-zed']}}", snap, known,
	    NULL);
	refcheck_is("{'type':'outcome','id':'o-5','said':['s-17','s-9'],"
	    "'we_did':'W','status':'done'}", snap, known, NULL);
	refcheck_is("{'type':'said','id':'s-20','text':'T','meeting':'m-x',"
	    "'collaborator':'c-zed'}", snap, known, NULL);
	json_decref(known);
	/* ...but only as the type they were queued as. */
	known = JSON("{'meeting:c-zed':true,'c-zed':true,'collaborator':true}");
	refcheck_is("{'type':'announcement','id':'a-1','subject':'S',"
	    "'body':'B','to':{'collaborators':['c-zed']}}", snap, known,
	    "to.collaborators[0]: no collaborator 'c-zed'");
	json_decref(known);
	json_decref(snap);
}

/* The i-th op (0-based) named op whose first argument is arg1, or NULL. */
static json_t *
op_find(json_t *ops, const char *op, const char *arg1)
{
	json_t	*o;
	size_t	 i;

	json_array_foreach(ops, i, o)
		if (strcmp(json_string_value(json_array_get(o, 0)), op) == 0 &&
		    (arg1 == NULL || (json_array_size(o) > 1 &&
		    strcmp(json_string_value(json_array_get(o, 1)),
		    arg1) == 0)))
			return o;
	return NULL;
}

static int
op_index(json_t *ops, json_t *op)
{
	json_t	*o;
	size_t	 i;

	json_array_foreach(ops, i, o)
		if (o == op)
			return (int)i;
	return -1;
}

static int
op_count(json_t *ops, const char *op)
{
	json_t	*o;
	size_t	 i;
	int	 n = 0;

	json_array_foreach(ops, i, o)
		if (strcmp(json_string_value(json_array_get(o, 0)), op) == 0)
			n++;
	return n;
}

/* An op with exactly these strings (a JSON array text), or fail. */
static json_t *
op_has(json_t *ops, const char *want)
{
	json_t	*w = JSON(want), *o;
	size_t	 i;
	char	*g;

	json_array_foreach(ops, i, o)
		if (json_equal(o, w)) {
			json_decref(w);
			return o;
		}
	g = json_dumps(ops, JSON_INDENT(1));
	fail_msg("no op %s in\n%s", want, g);
	return NULL;
}

static void
op_hasnt(json_t *ops, const char *want)
{
	json_t	*w = JSON(want), *o;
	size_t	 i;

	json_array_foreach(ops, i, o)
		if (json_equal(o, w))
			fail_msg("unexpected op %s", want);
	json_decref(w);
}

/* A DNEW's named field, from its "f v" pairs after did due cid mid. */
static const char *
dnew_field(json_t *op, const char *f)
{
	size_t	i;

	for (i = 5; i + 1 < json_array_size(op); i += 2)
		if (strcmp(json_string_value(json_array_get(op, i)), f) == 0)
			return json_string_value(json_array_get(op, i + 1));
	fail_msg("DNEW has no field %s", f);
	return NULL;
}

static long long
arg_ll(json_t *op, size_t i)
{
	return atoll(json_string_value(json_array_get(op, i)));
}

static long long
utc_ms(int y, int mo, int d, int h, int mi)
{
	struct tm	tm;

	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	return (long long)timegm(&tm) * 1000;
}

static void
apply_ok(struct record *r, json_t *snap, const struct plan_ctx *pc,
    json_t *ops)
{
	struct err	e;

	memset(&e, 0, sizeof e);
	if (plan_apply(r, snap, pc, ops, &e) != 0)
		fail_msg("plan_apply: %s", e.msg);
}

static void
apply_bad(struct record *r, json_t *snap, const struct plan_ctx *pc,
    const char *msg)
{
	struct err	 e;
	json_t		*ops = json_array();

	memset(&e, 0, sizeof e);
	if (plan_apply(r, snap, pc, ops, &e) == 0)
		fail_msg("plan_apply accepted, expected: %s", msg);
	assert_string_equal(e.msg, msg);
	json_decref(ops);
}

/* Issue 14: merge records, and the mistakes that are no longer silent. */
static void
test_merge_and_mistakes(void **state)
{
	struct config	*cf = config_default();
	struct plan_ctx	 pc = { cf, utc_ms(2026, 11, 1, 12, 0), "7-0" };
	struct record	 r;
	json_t		*snap = base_snap(), *ops, *need, *op, *w;
	const char	*m = "{'type':'meeting','id':'m-1','title':'T',"
	    "'start':'2026-12-10T17:30','end':'2026-12-10T19:30',"
	    "'online':{'url':'https://meet.example.org/m'},"
	    "'invitees':['c-a']}";

	/* A merge needs the stored record first, then what the whole
	 * needs. */
	rec("{'type':'meeting','id':'m-1','merge':true,'status':'cancelled',"
	    "'cancel_reason':'The venue flooded.'}", &r);
	need = json_array();
	{
		json_t *empty = json_object();

		plan_needs(&r, empty, need);
		json_decref(empty);
	}
	assert_json_set(need, "['rec:meeting:m-1']");
	json_decref(need);
	/* An unknown id with merge: dead, named. */
	store_snap_put_null(snap, "rec:meeting:m-1");
	apply_bad(&r, snap, &pc, "id: no meeting \"m-1\" to change (\"merge\": "
	    "true changes a stored record: check the id, or send the whole "
	    "record without \"merge\")");
	/* Stored: the cancellation goes to who was invited, and the whole
	 * is stored, reason included, "merge" not. */
	snap_rec(snap, m);
	w = json_object_get(snap, "rec:meeting:m-1");
	json_object_set_new(w, "meta", JSON("{'seq':0,'invited':['c-a'],"
	    "'start':1797010200,'src':'1-0'}"));
	snap_set(snap, "md:m-1", "['inv:m-1:c-a:0']");
	store_snap_put_null(snap, "forgotten");
	need = json_array();
	plan_needs(&r, snap, need);
	assert_json_set(need, "[]");
	json_decref(need);
	ops = json_array();
	apply_ok(&r, snap, &pc, ops);
	assert_non_null(op_find(ops, "DNEW", "can:m-1:c-a:1"));
	assert_non_null(op = op_find(ops, "SET", "rec:meeting:m-1"));
	w = json_loads(json_string_value(json_array_get(op, 2)), 0, NULL);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    w, "record"), "cancel_reason")), "The venue flooded.");
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    w, "record"), "title")), "T");
	assert_null(json_object_get(json_object_get(w, "record"), "merge"));
	json_decref(w);
	json_decref(ops);
	record_clear(&r);
	/* A merge whose whole is not valid. */
	rec("{'type':'meeting','id':'m-1','merge':true,'online':null}", &r);
	apply_bad(&r, snap, &pc, "venue: missing (a meeting needs a venue, "
	    "online details, or both)");
	record_clear(&r);

	/* A misspelt group: refused, naming the groups with members. */
	rec("{'type':'meeting','id':'m-2','title':'T',"
	    "'start':'2026-12-10T17:30','end':'2026-12-10T19:30',"
	    "'online':{'url':'https://meet.example.org/m'},"
	    "'groups':['carers-froum']}", &r);
	store_snap_put_null(snap, "rec:meeting:m-2");
	store_snap_put_null(snap, "group:carers-froum");
	snap_set(snap, "groups", "['carers','youth','gone']");
	need = json_array();
	plan_needs(&r, snap, need);
	assert_json_set(need, "['md:m-2','group:gone']");
	json_decref(need);
	store_snap_put_null(snap, "group:gone");
	apply_bad(&r, snap, &pc, "groups[0]: no collaborator belongs to group "
	    "\"carers-froum\", so nobody would get this; check the spelling. "
	    "The groups with members are: carers, youth");
	record_clear(&r);

	/* A new scheduled meeting in the past; then recorded as held, which
	 * sends nothing to anyone. */
	pc.now_ms = utc_ms(2026, 12, 11, 12, 0);
	store_snap_put_null(snap, "rec:meeting:m-3");
	rec("{'type':'meeting','id':'m-3','title':'T',"
	    "'start':'2026-12-10T17:30','end':'2026-12-10T19:30',"
	    "'online':{'url':'https://meet.example.org/m'},"
	    "'invitees':['c-a']}", &r);
	apply_bad(&r, snap, &pc, "start: \"2026-12-10T17:30\" has passed, and "
	    "this is a new meeting, so nobody could come; to record a meeting "
	    "that already happened, give \"status\": \"held\"");
	record_clear(&r);
	rec("{'type':'meeting','id':'m-3','title':'T','status':'held',"
	    "'start':'2026-12-10T17:30','end':'2026-12-10T19:30',"
	    "'online':{'url':'https://meet.example.org/m'},"
	    "'invitees':['c-a']}", &r);
	ops = json_array();
	apply_ok(&r, snap, &pc, ops);
	assert_int_equal(op_count(ops, "DNEW"), 0);
	assert_non_null(op_find(ops, "SET", "rec:meeting:m-3"));
	json_decref(ops);
	/* held, a week earlier: still to come. */
	pc.now_ms = utc_ms(2026, 12, 3, 12, 0);
	apply_bad(&r, snap, &pc, "status: \"held\" is for a meeting that "
	    "already happened, and this one starts 2026-12-10T17:30; use "
	    "\"scheduled\" to invite people");
	record_clear(&r);
	/* A scheduled meeting already stored may be stored again late. */
	rec(m, &r);
	pc.now_ms = utc_ms(2026, 12, 11, 12, 0);
	ops = json_array();
	apply_ok(&r, snap, &pc, ops);
	json_decref(ops);
	record_clear(&r);

	/* forget: an unknown id is an error; a forgotten one is not. */
	rec("{'type':'forget','collaborator':'c-nobody'}", &r);
	store_snap_put_null(snap, "rec:collaborator:c-nobody");
	apply_bad(&r, snap, &pc, "collaborator: no collaborator \"c-nobody\" "
	    "to forget (nothing was stored under this id; check it)");
	snap_set(snap, "forgotten", "['c-nobody']");
	ops = json_array();
	apply_ok(&r, snap, &pc, ops);
	json_decref(ops);
	record_clear(&r);

	json_decref(snap);
	config_unref(cf);
}

/* said_on: waiting times count from when it was said. */
static void
test_said_on(void **state)
{
	struct config	*cf = config_default();
	struct plan_ctx	 pc = { cf, utc_ms(2026, 11, 1, 12, 0), "8-0" };
	struct record	 r;
	json_t		*snap = base_snap(), *ops;
	char		 want[128];

	store_snap_put_null(snap, "rec:said:s-1");
	/* said_on: midnight of that day in London (GMT in November). */
	rec("{'type':'said','id':'s-1','text':'T','said_on':'2026-10-05'}", &r);
	ops = json_array();
	apply_ok(&r, snap, &pc, ops);
	/* 5 October is BST: midnight there is 23:00 UTC the day before. */
	snprintf(want, sizeof want, "['ZADD','said:open','%lld','s-1']",
	    utc_ms(2026, 10, 4, 23, 0));
	op_has(ops, want);
	json_decref(ops);
	record_clear(&r);
	/* No said_on: the meeting's start. */
	snap_rec(snap, "{'type':'meeting','id':'m-1','title':'T',"
	    "'start':'2026-10-20T17:30','end':'2026-10-20T19:30',"
	    "'online':{'url':'https://meet.example.org/m'},"
	    "'invitees':['c-a'],'status':'held'}");
	rec("{'type':'said','id':'s-1','text':'T','meeting':'m-1'}", &r);
	ops = json_array();
	apply_ok(&r, snap, &pc, ops);
	snprintf(want, sizeof want, "['ZADD','said:open','%lld','s-1']",
	    utc_ms(2026, 10, 20, 16, 30));
	op_has(ops, want);
	json_decref(ops);
	record_clear(&r);
	/* Neither: the time it was queued. */
	rec("{'type':'said','id':'s-1','text':'T'}", &r);
	ops = json_array();
	apply_ok(&r, snap, &pc, ops);
	snprintf(want, sizeof want, "['ZADD','said:open','%lld','s-1']",
	    pc.now_ms);
	op_has(ops, want);
	json_decref(ops);
	record_clear(&r);
	/* Stored, then said_on given: moved if still open, never reopened. */
	snap_rec(snap, "{'type':'said','id':'s-1','text':'T'}");
	rec("{'type':'said','id':'s-1','text':'T','said_on':'2026-10-05'}", &r);
	ops = json_array();
	apply_ok(&r, snap, &pc, ops);
	snprintf(want, sizeof want, "['ZADDXX','said:open','%lld','s-1']",
	    utc_ms(2026, 10, 4, 23, 0));
	op_has(ops, want);
	assert_null(op_find(ops, "ZADD", "said:open"));
	json_decref(ops);
	record_clear(&r);
	json_decref(snap);
	config_unref(cf);
}

static void
test_apply_announcement(void **state)
{
	struct config	*cf = config_default();
	struct plan_ctx	 pc = { cf, utc_ms(2026, 11, 1, 12, 0), "1790000000000-0" };
	struct record	 r;
	json_t		*snap = base_snap(), *ops = json_array(), *op, *w;
	const char	*cids[] = { "c-a", "c-b", "c-d" };
	char		 did[64], refs[128];
	size_t		 i;

	store_snap_put_null(snap, "rec:announcement:a-1");
	rec("{'type':'announcement','id':'a-1','subject':'Help us',"
	    "'body':'B','to':{'groups':['carers'],'collaborators':['c-d','c-x']}}",
	    &r);
	apply_ok(&r, snap, &pc, ops);

	/* The record is stored with its meta. */
	op = op_find(ops, "SET", "rec:announcement:a-1");
	assert_non_null(op);
	assert_int_equal(json_array_size(op), 3);
	w = json_loads(json_string_value(json_array_get(op, 2)), 0, NULL);
	assert_non_null(w);
	assert_true(json_equal(json_object_get(w, "record"), r.json));
	assert_string_equal(json_string_value(json_object_get(json_object_get(w,
	    "meta"), "src")), "1790000000000-0");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(w,
	    "meta"), "at")), pc.now_ms);
	json_decref(w);

	/* One delivery per consenting addressee, due now. */
	assert_int_equal(op_count(ops, "DNEW"), 3);
	for (i = 0; i < 3; i++) {
		snprintf(did, sizeof did, "ann:a-1:%s", cids[i]);
		if ((op = op_find(ops, "DNEW", did)) == NULL)
			fail_msg("no DNEW %s", did);
		assert_int_equal(arg_ll(op, 2), pc.now_ms);
		assert_string_equal(json_string_value(json_array_get(op, 3)),
		    cids[i]);
		assert_string_equal(json_string_value(json_array_get(op, 4)),
		    "");
		assert_string_equal(dnew_field(op, "kind"), "announcement");
		assert_int_equal(atoll(dnew_field(op, "deadline")),
		    pc.now_ms + 5LL * 86400 * 1000);
		assert_int_equal(atoll(dnew_field(op, "created")), pc.now_ms);
		assert_string_equal(dnew_field(op, "src"), "a-1");
		snprintf(refs, sizeof refs,
		    "rec:announcement:a-1 rec:collaborator:%s", cids[i]);
		assert_string_equal(dnew_field(op, "refs"), refs);
		assert_string_equal(dnew_field(op, "attempts"), "0");
	}
	assert_null(op_find(ops, "DNEW", "ann:a-1:c-x"));
	/* Every op argument is a string (the commit script's argv). */
	json_array_foreach(ops, i, op) {
		size_t	 j;
		json_t	*a;

		json_array_foreach(op, j, a)
			assert_true(json_is_string(a));
	}
	json_decref(ops);
	record_clear(&r);
	json_decref(snap);
	config_unref(cf);
}

static void
test_apply_send_at(void **state)
{
	struct config	*cf = config_default();
	struct plan_ctx	 pc = { cf, utc_ms(2026, 6, 1, 12, 0), "" };
	struct record	 r;
	json_t		*snap = base_snap(), *ops, *op;

	/* November in London is GMT. */
	ops = json_array();
	rec("{'type':'announcement','id':'a-2','subject':'S','body':'B',"
	    "'to':{'collaborators':['c-a']},'send_at':'2026-11-28T10:00',"
	    "'timezone':'Europe/London'}", &r);
	apply_ok(&r, snap, &pc, ops);
	assert_non_null(op = op_find(ops, "DNEW", "ann:a-2:c-a"));
	assert_int_equal(arg_ll(op, 2), utc_ms(2026, 11, 28, 10, 0));
	assert_int_equal(atoll(dnew_field(op, "deadline")),
	    utc_ms(2026, 11, 28, 10, 0) + 5LL * 86400 * 1000);
	json_decref(ops);
	record_clear(&r);

	/* July in London is BST (UTC+1); the default zone is London. */
	ops = json_array();
	rec("{'type':'announcement','id':'a-3','subject':'S','body':'B',"
	    "'to':{'collaborators':['c-a']},'send_at':'2026-07-01T10:00'}", &r);
	apply_ok(&r, snap, &pc, ops);
	assert_non_null(op = op_find(ops, "DNEW", "ann:a-3:c-a"));
	assert_int_equal(arg_ll(op, 2), utc_ms(2026, 7, 1, 9, 0));
	json_decref(ops);
	record_clear(&r);

	/* The record's own zone: New York in July is UTC-4. */
	ops = json_array();
	rec("{'type':'announcement','id':'a-4','subject':'S','body':'B',"
	    "'to':{'collaborators':['c-a']},'send_at':'2026-07-01T10:00',"
	    "'timezone':'America/New_York'}", &r);
	apply_ok(&r, snap, &pc, ops);
	assert_non_null(op = op_find(ops, "DNEW", "ann:a-4:c-a"));
	assert_int_equal(arg_ll(op, 2), utc_ms(2026, 7, 1, 14, 0));
	json_decref(ops);
	record_clear(&r);

	/* A send_at in the past means now. */
	ops = json_array();
	rec("{'type':'announcement','id':'a-5','subject':'S','body':'B',"
	    "'to':{'collaborators':['c-a']},'send_at':'2026-01-01T10:00'}", &r);
	apply_ok(&r, snap, &pc, ops);
	assert_non_null(op = op_find(ops, "DNEW", "ann:a-5:c-a"));
	assert_int_equal(arg_ll(op, 2), pc.now_ms);
	assert_int_equal(atoll(dnew_field(op, "deadline")),
	    pc.now_ms + 5LL * 86400 * 1000);
	json_decref(ops);
	record_clear(&r);

	json_decref(snap);
	config_unref(cf);
}

/* Re-queuing a record that changes nothing sends nothing (SPEC 4). */
static void
test_unchanged(void **state)
{
	struct config	*cf = config_default();
	struct plan_ctx	 pc = { cf, utc_ms(2026, 11, 1, 12, 0), "2-0" };
	struct record	 r;
	json_t		*snap = base_snap(), *ops;
	const char	*ann = "{'type':'announcement','id':'a-1','subject':'S',"
	    "'body':'B','to':{'groups':['carers']}}";

	snap_rec(snap, ann);
	rec(ann, &r);
	ops = json_array();
	apply_ok(&r, snap, &pc, ops);
	assert_int_equal(json_array_size(ops), 0);
	json_decref(ops);
	record_clear(&r);

	/* The same collaborator again: nothing either. */
	rec("{'type':'collaborator','id':'c-a','name':'Name of c-a',"
	    "'email':'c-a@example.org','consent':true,"
	    "'groups':['carers','youth']}", &r);
	ops = json_array();
	apply_ok(&r, snap, &pc, ops);
	assert_int_equal(json_array_size(ops), 0);
	json_decref(ops);
	record_clear(&r);

	/* Key order does not make a record different. */
	rec("{'to':{'groups':['carers']},'body':'B','subject':'S','id':'a-1',"
	    "'type':'announcement'}", &r);
	ops = json_array();
	apply_ok(&r, snap, &pc, ops);
	assert_int_equal(json_array_size(ops), 0);
	json_decref(ops);
	record_clear(&r);

	/* A real change is stored (and creates no second delivery id). */
	rec("{'type':'announcement','id':'a-1','subject':'S2','body':'B',"
	    "'to':{'groups':['carers']}}", &r);
	ops = json_array();
	apply_ok(&r, snap, &pc, ops);
	assert_non_null(op_find(ops, "SET", "rec:announcement:a-1"));
	assert_non_null(op_find(ops, "DNEW", "ann:a-1:c-a"));
	assert_non_null(op_find(ops, "DNEW", "ann:a-1:c-b"));
	assert_int_equal(op_count(ops, "DNEW"), 2);
	json_decref(ops);

	/* The same change from an entry older than the one the stored
	 * copy came from ("1-0"), read again after a crash: old news,
	 * nothing. From that entry itself, or a later one: applied. */
	pc.entry_id = "0-7";
	ops = json_array();
	apply_ok(&r, snap, &pc, ops);
	assert_int_equal(json_array_size(ops), 0);
	json_decref(ops);
	pc.entry_id = "1-0";
	ops = json_array();
	apply_ok(&r, snap, &pc, ops);
	assert_int_equal(op_count(ops, "DNEW"), 2);
	json_decref(ops);
	pc.entry_id = "1";	/* "ms" alone is "ms-0" */
	ops = json_array();
	apply_ok(&r, snap, &pc, ops);
	assert_int_equal(op_count(ops, "DNEW"), 2);
	json_decref(ops);
	pc.entry_id = "0";
	ops = json_array();
	apply_ok(&r, snap, &pc, ops);
	assert_int_equal(json_array_size(ops), 0);
	json_decref(ops);
	/* Not an entry id (the command's preview): never old news. */
	pc.entry_id = "preview";
	ops = json_array();
	apply_ok(&r, snap, &pc, ops);
	assert_int_equal(op_count(ops, "DNEW"), 2);
	json_decref(ops);
	record_clear(&r);

	json_decref(snap);
	config_unref(cf);
}

/*
 * A corrected send_at must move the pending emails: DNEW leaves an existing
 * delivery alone (by design, so the new due would be ignored). The planner
 * must drop the pending one first (DDEL only drops one still scheduled, so
 * a sent one is not sent again) or otherwise re-schedule it.
 */
static void
test_changed_send_at(void **state)
{
	struct config	*cf = config_default();
	struct plan_ctx	 pc = { cf, utc_ms(2026, 11, 1, 12, 0), "3-0" };
	struct record	 r;
	json_t		*snap = base_snap(), *ops, *dnew, *ddel, *o;
	long long	 newdue = utc_ms(2026, 12, 5, 10, 0);
	size_t		 i;
	int		 moved;

	snap_rec(snap, "{'type':'announcement','id':'a-1','subject':'S',"
	    "'body':'B','to':{'collaborators':['c-a']},"
	    "'send_at':'2026-11-28T10:00'}");
	rec("{'type':'announcement','id':'a-1','subject':'S','body':'B',"
	    "'to':{'collaborators':['c-a']},'send_at':'2026-12-05T10:00'}", &r);
	ops = json_array();
	apply_ok(&r, snap, &pc, ops);
	assert_non_null(dnew = op_find(ops, "DNEW", "ann:a-1:c-a"));
	assert_int_equal(arg_ll(dnew, 2), newdue);
	ddel = op_find(ops, "DDEL", "ann:a-1:c-a");
	moved = ddel != NULL && op_index(ops, ddel) < op_index(ops, dnew);
	/* Or any other op on that delivery that carries the new due. */
	json_array_foreach(ops, i, o) {
		const char *name = json_string_value(json_array_get(o, 0));

		if (strcmp(name, "DNEW") != 0 && strcmp(name, "DDEL") != 0 &&
		    json_array_size(o) > 2 &&
		    strcmp(json_string_value(json_array_get(o, 1)),
		    "ann:a-1:c-a") == 0 && arg_ll(o, 2) == newdue)
			moved = 1;
	}
	json_decref(ops);
	record_clear(&r);
	json_decref(snap);
	config_unref(cf);
	if (!moved)
		fail_msg("send_at changed from 2026-11-28T10:00 to "
		    "2026-12-05T10:00, but nothing re-schedules the pending "
		    "delivery ann:a-1:c-a: its DNEW is a no-op, so it is sent "
		    "at the old time");
}

/* Someone taken off an announcement before it goes must not get it. */
static void
test_removed_addressee(void **state)
{
	struct config	*cf = config_default();
	struct plan_ctx	 pc = { cf, utc_ms(2026, 11, 1, 12, 0), "4-0" };
	struct record	 r;
	json_t		*snap = base_snap(), *ops;
	int		 dropped;

	snap_rec(snap, "{'type':'announcement','id':'a-1','subject':'S',"
	    "'body':'B','to':{'groups':['carers']},"
	    "'send_at':'2026-11-28T10:00'}");
	rec("{'type':'announcement','id':'a-1','subject':'S','body':'B',"
	    "'to':{'collaborators':['c-a']},'send_at':'2026-11-28T10:00'}",
	    &r);
	ops = json_array();
	apply_ok(&r, snap, &pc, ops);
	assert_non_null(op_find(ops, "DNEW", "ann:a-1:c-a"));
	assert_null(op_find(ops, "DNEW", "ann:a-1:c-b"));
	dropped = op_find(ops, "DDEL", "ann:a-1:c-b") != NULL;
	json_decref(ops);
	record_clear(&r);
	json_decref(snap);
	config_unref(cf);
	if (!dropped)
		fail_msg("c-b was removed from announcement a-1 (to.groups "
		    "carers -> to.collaborators [c-a]) before send_at, but "
		    "no DDEL ann:a-1:c-b drops their pending delivery");
}

/*
 * Ids may hold ':' (SPEC section 2), and a delivery id joins ids with ':'.
 * Announcement "a-x:b" to "c-y" and announcement "a-x" to "b:c-y" are two
 * emails: two deliveries, two Message-IDs; and correcting one must not
 * drop the other's pending email.
 */
static void
test_ids_with_colons(void **state)
{
	struct config	*cf = config_default();
	struct plan_ctx	 pc = { cf, utc_ms(2026, 11, 1, 12, 0), "5-0" };
	struct record	 r;
	json_t		*snap = base_snap(), *ops;
	char		*m1, *m2;

	snap_collab(snap, "c-y", 1, "[]");
	snap_collab(snap, "b:c-y", 1, "[]");
	ops = json_array();
	rec("{'type':'announcement','id':'a-x:b','subject':'S','body':'B',"
	    "'to':{'collaborators':['c-y']}}", &r);
	apply_ok(&r, snap, &pc, ops);
	record_clear(&r);
	rec("{'type':'announcement','id':'a-x','subject':'S','body':'B',"
	    "'to':{'collaborators':['b:c-y']}}", &r);
	apply_ok(&r, snap, &pc, ops);
	record_clear(&r);
	assert_int_equal(op_count(ops, "DNEW"), 2);
	assert_non_null(op_find(ops, "DNEW", "ann:a-x%3Ab:c-y"));
	assert_non_null(op_find(ops, "DNEW", "ann:a-x:b%3Ac-y"));
	m1 = plan_message_id("ann:a-x%3Ab:c-y", "example.org");
	m2 = plan_message_id("ann:a-x:b%3Ac-y", "example.org");
	assert_string_not_equal(m1, m2);
	free(m1);
	free(m2);
	json_decref(ops);

	/* Correcting "a-x": its own pending email is planned afresh (also
	 * under the id it had before ids were escaped), the other's not. */
	snap_rec(snap, "{'type':'announcement','id':'a-x','subject':'S',"
	    "'body':'B','to':{'collaborators':['b:c-y']}}");
	rec("{'type':'announcement','id':'a-x','subject':'S2','body':'B',"
	    "'to':{'collaborators':['b:c-y']}}", &r);
	ops = json_array();
	apply_ok(&r, snap, &pc, ops);
	record_clear(&r);
	assert_non_null(op_find(ops, "DDEL", "ann:a-x:b%3Ac-y"));
	assert_non_null(op_find(ops, "DDEL", "ann:a-x:b:c-y"));
	assert_null(op_find(ops, "DDEL", "ann:a-x%3Ab:c-y"));
	assert_int_equal(op_count(ops, "DDEL"), 2);
	json_decref(ops);
	json_decref(snap);
	config_unref(cf);
}

/*
 * A meeting's pending emails are found by their ids' parts: taking "c:2"
 * off meeting "m:1" drops theirs (and one made before ids were escaped),
 * and nobody else's.
 */
static void
test_meeting_ids_with_colons(void **state)
{
	struct config	*cf = config_default();
	struct plan_ctx	 pc = { cf, utc_ms(2026, 11, 1, 12, 0), "6-0" };
	struct record	 r;
	json_t		*snap = json_object(), *ops, *w;
	const char	*m = "{'type':'meeting','id':'m:1','title':'T',"
	    "'start':'2026-12-10T17:30','end':'2026-12-10T19:30',"
	    "'online':{'url':'https://meet.example.org/m'},"
	    "'invitees':%s}";
	char		*t;

	snap_collab(snap, "c:2", 1, "[]");
	snap_collab(snap, "c-3", 1, "[]");
	snap_collab(snap, "2", 1, "[]");
	t = xasprintf(m, "['c:2','c-3','2']");
	snap_rec(snap, t);
	free(t);
	w = json_object_get(snap, "rec:meeting:m:1");
	json_object_set_new(w, "meta", JSON("{'seq':0,"
	    "'invited':['c:2','c-3','2'],'start':1797010200}"));
	snap_set(snap, "md:m:1", "['inv:m%3A1:c%3A2:0',"
	    "'rem:m%3A1:c%3A2:0:86400','rem:m%3A1:c-3:0:86400',"
	    "'rem:m%3A1:2:0:86400','rem:m:1:c:2:0:3600']");
	store_snap_put_null(snap, "rec:venue:none");
	t = xasprintf(m, "['c-3','2']");
	rec(t, &r);
	free(t);
	ops = json_array();
	apply_ok(&r, snap, &pc, ops);
	record_clear(&r);
	op_has(ops, "['DDEL','inv:m%3A1:c%3A2:0']");
	op_has(ops, "['DDEL','rem:m%3A1:c%3A2:0:86400']");
	op_has(ops, "['DDEL','rem:m:1:c:2:0:3600']");
	assert_int_equal(op_count(ops, "DDEL"), 3);
	/* Their cancellation, under an escaped id. */
	assert_non_null(op_find(ops, "DNEW", "can:m%3A1:c%3A2:1"));
	json_decref(ops);
	json_decref(snap);
	config_unref(cf);
}

/* The value of a DNEW op's field, or NULL. */
static const char *
op_field(json_t *op, const char *name)
{
	size_t	i;

	for (i = 5; op != NULL && i + 1 < json_array_size(op); i += 2)
		if (strcmp(json_string_value(json_array_get(op, i)), name) == 0)
			return json_string_value(json_array_get(op, i + 1));
	return NULL;
}

/*
 * A change or a cancellation while the person's invitation (or a reminder)
 * is pending: the planner names those emails in the new one's "after"
 * (commit.lua waits for whichever a worker has taken; an update is not
 * created at all if the invitation is still waiting, F=1). Someone with
 * nothing pending gets a plain DNEW.
 */
static void
test_meeting_after_pending(void **state)
{
	struct config	*cf = config_default();
	struct plan_ctx	 pc = { cf, utc_ms(2026, 11, 1, 12, 0), "7-0" };
	struct record	 r;
	json_t		*snap = json_object(), *ops, *w;
	const char	*m = "{'type':'meeting','id':'m-1','title':'T',"
	    "'start':'%s','end':'2026-12-10T19:30',"
	    "'online':{'url':'https://meet.example.org/m'},%s"
	    "'invitees':['c-a','c-b']}";
	char		*t;

	snap_collab(snap, "c-a", 1, "[]");
	snap_collab(snap, "c-b", 1, "[]");
	t = xasprintf(m, "2026-12-10T17:30", "");
	snap_rec(snap, t);
	free(t);
	w = json_object_get(snap, "rec:meeting:m-1");
	json_object_set_new(w, "meta", JSON("{'seq':0,"
	    "'invited':['c-a','c-b'],'start':1797010200}"));
	snap_set(snap, "md:m-1", "['inv:m-1:c-a:0','rem:m-1:c-a:0:86400',"
	    "'upd:m-1:c-ax:0']");
	store_snap_put_null(snap, "rec:venue:none");

	/* An hour later. */
	t = xasprintf(m, "2026-12-10T18:30", "");
	rec(t, &r);
	free(t);
	ops = json_array();
	apply_ok(&r, snap, &pc, ops);
	record_clear(&r);
	assert_string_equal(op_field(op_find(ops, "DNEW", "upd:m-1:c-a:1"),
	    "after"), "1:inv:m-1:c-a:0 0:rem:m-1:c-a:0:86400");
	assert_null(op_field(op_find(ops, "DNEW", "upd:m-1:c-b:1"), "after"));
	assert_non_null(op_find(ops, "DNEW", "upd:m-1:c-b:1"));
	json_decref(ops);

	/* Cancelled: the cancellation follows whatever is in flight, the
	 * invitation included (F=0: it never stops the cancellation). */
	t = xasprintf(m, "2026-12-10T17:30", "'status':'cancelled',");
	rec(t, &r);
	free(t);
	ops = json_array();
	apply_ok(&r, snap, &pc, ops);
	record_clear(&r);
	assert_string_equal(op_field(op_find(ops, "DNEW", "can:m-1:c-a:1"),
	    "after"), "0:inv:m-1:c-a:0 0:rem:m-1:c-a:0:86400");
	assert_null(op_field(op_find(ops, "DNEW", "can:m-1:c-b:1"), "after"));
	json_decref(ops);
	json_decref(snap);
	config_unref(cf);
}

static void
test_collaborator(void **state)
{
	struct config	*cf = config_default();
	struct plan_ctx	 pc = { cf, utc_ms(2026, 11, 1, 12, 0), "5-0" };
	struct record	 r;
	json_t		*snap = base_snap(), *ops, *op, *w;

	/* carers,youth -> youth,parents */
	rec("{'type':'collaborator','id':'c-a','name':'Amara Okafor',"
	    "'email':'amara@example.org','consent':true,"
	    "'groups':['youth','parents']}", &r);
	ops = json_array();
	apply_ok(&r, snap, &pc, ops);
	assert_non_null(op = op_find(ops, "SET", "rec:collaborator:c-a"));
	w = json_loads(json_string_value(json_array_get(op, 2)), 0, NULL);
	assert_true(json_equal(json_object_get(w, "record"), r.json));
	json_decref(w);
	op_has(ops, "['SADD','collaborators','c-a']");
	op_has(ops, "['SREM','group:carers','c-a']");
	op_has(ops, "['SADD','group:parents','c-a']");
	op_hasnt(ops, "['SREM','group:youth','c-a']");
	op_hasnt(ops, "['SREM','group:parents','c-a']");
	/* youth is kept: either re-added or left alone. */
	assert_null(op_find(ops, "DDELALL", NULL));
	json_decref(ops);
	record_clear(&r);

	/* Consent withdrawn: nothing pending may go to them. */
	rec("{'type':'collaborator','id':'c-a','name':'Amara Okafor',"
	    "'email':'amara@example.org','consent':false,"
	    "'groups':['carers','youth']}", &r);
	ops = json_array();
	apply_ok(&r, snap, &pc, ops);
	op_has(ops, "['DDELALL','cd:c-a']");
	op_hasnt(ops, "['SREM','group:carers','c-a']");
	assert_non_null(op_find(ops, "SET", "rec:collaborator:c-a"));
	json_decref(ops);
	record_clear(&r);

	/* No groups at all now: out of both. */
	rec("{'type':'collaborator','id':'c-a','name':'Amara Okafor',"
	    "'email':'amara@example.org','consent':true}", &r);
	ops = json_array();
	apply_ok(&r, snap, &pc, ops);
	op_has(ops, "['SREM','group:carers','c-a']");
	op_has(ops, "['SREM','group:youth','c-a']");
	assert_int_equal(op_count(ops, "SADD"), 1);	/* collaborators */
	json_decref(ops);
	record_clear(&r);

	/* A new person joins the set and their groups. */
	store_snap_put_null(snap, "rec:collaborator:c-new");
	rec("{'type':'collaborator','id':'c-new','name':'New Person',"
	    "'email':'new@example.org','consent':true,'groups':['carers']}",
	    &r);
	ops = json_array();
	apply_ok(&r, snap, &pc, ops);
	op_has(ops, "['SADD','collaborators','c-new']");
	op_has(ops, "['SADD','group:carers','c-new']");
	/* Only SREM: leaving the forgotten set (they are back). */
	assert_int_equal(op_count(ops, "SREM"), 1);
	op_has(ops, "['SREM','forgotten','c-new']");
	json_decref(ops);
	record_clear(&r);

	json_decref(snap);
	config_unref(cf);
}

/* Does any op argument hold s (other than op skip)? */
static int
ops_mention(json_t *ops, const char *s, json_t *skip)
{
	json_t	*o, *a;
	size_t	 i, j;

	json_array_foreach(ops, i, o) {
		if (o == skip)
			continue;
		json_array_foreach(o, j, a)
			if (strstr(json_string_value(a), s) != NULL)
				return 1;
	}
	return 0;
}

static void
test_forget(void **state)
{
	struct config	*cf = config_default();
	struct plan_ctx	 pc = { cf, utc_ms(2026, 11, 1, 12, 0), "6-0" };
	struct record	 r;
	json_t		*snap = json_object(), *ops, *op, *w, *scrub;

	snap_rec(snap, "{'type':'collaborator','id':'c-amara',"
	    "'name':'Amara Okafor','email':'amara@example.org',"
	    "'consent':true,'groups':['carers-forum','youth']}");
	snap_set(snap, "cd:c-amara", "['ann:a-1:c-amara']");
	snap_set(snap, "cs:c-amara", "['s-17']");
	snap_rec(snap, "{'type':'said','id':'s-17','meeting':'m-1',"
	    "'collaborator':'c-amara','text':'Letters arrive late.',"
	    "'topic':'discharge'}");
	snap_rec(snap, "{'type':'said','id':'s-18','collaborator':'c-ben',"
	    "'text':'Other words.'}");
	rec("{'type':'forget','collaborator':'c-amara'}", &r);
	ops = json_array();
	apply_ok(&r, snap, &pc, ops);

	op_has(ops, "['DDELALL','cd:c-amara']");
	op_has(ops, "['SREM','group:carers-forum','c-amara']");
	op_has(ops, "['SREM','group:youth','c-amara']");
	op_has(ops, "['SREM','collaborators','c-amara']");
	op_has(ops, "['DEL','rec:collaborator:c-amara']");
	op_has(ops, "['DEL','cs:c-amara']");
	assert_null(op_find(ops, "SET", "rec:collaborator:c-amara"));
	assert_null(op_find(ops, "SET", "rec:said:s-18"));

	/* Their words stay, unattributed, with everything else kept. */
	assert_non_null(op = op_find(ops, "SET", "rec:said:s-17"));
	w = json_loads(json_string_value(json_array_get(op, 2)), 0, NULL);
	assert_non_null(w);
	assert_json_is(json_object_get(w, "record"),
	    "{'type':'said','id':'s-17','meeting':'m-1',"
	    "'text':'Letters arrive late.','topic':'discharge'}");
	assert_json_is(json_object_get(w, "meta"), "{'src':'1-0','at':1}");
	json_decref(w);

	/* The dead stream is scrubbed of their address... */
	scrub = op_find(ops, "STREAMSCRUB", "dead");
	assert_non_null(scrub);
	/* ...and every key, by the last op (it sees what the others left):
	 * the general scrub (store.h, Forget). */
	op_has(ops, "['FORGET','c-amara','Amara Okafor','amara@example.org',"
	    "'','1000','','']");
	assert_string_equal(json_string_value(json_array_get(json_array_get(
	    ops, json_array_size(ops) - 1), 0)), "FORGET");
	/* ...and so are the notices; only those scrubs name them. */
	assert_non_null(op_find(ops, "NOTICESCRUB", "notices"));
	{
		json_t	*o;
		size_t	 i;

		json_array_foreach(ops, i, o) {
			const char *name = json_string_value(
			    json_array_get(o, 0));

			if (strcmp(name, "STREAMSCRUB") == 0 ||
			    strcmp(name, "NOTICESCRUB") == 0 ||
			    strcmp(name, "FORGET") == 0)
				continue;
			json_t *one = json_array();

			json_array_append(one, o);
			assert_false(ops_mention(one, "amara@example.org",
			    NULL));
			assert_false(ops_mention(one, "Amara", NULL));
			json_decref(one);
		}
	}
	assert_true(ops_mention(ops, "Amara", NULL));
	/* The snapshot given was not changed. */
	assert_non_null(json_object_get(plan_snaprec(snap, "said", "s-17"),
	    "collaborator"));
	json_decref(ops);
	record_clear(&r);
	json_decref(snap);
	config_unref(cf);
}

static void
test_helpers(void **state)
{
	char	 buf[64], *s;
	json_t	*snap = json_object();

	assert_string_equal(store_reckey("meeting", "m-1", buf, sizeof buf),
	    "rec:meeting:m-1");

	s = plan_message_id("ann:a-2026.11:c-amara", "example.org");
	assert_string_equal(s, "ann/a-2026=11/c-amara@example.org");
	free(s);
	s = plan_message_id("ann:a-1:c-amara", "example.org");
	assert_string_equal(s, "ann/a-1/c-amara@example.org");
	free(s);
	s = plan_message_id("notice:failed:inv:m.1:c.2", "forum.example.net");
	assert_string_equal(s, "notice/failed/inv/m=1/c=2@forum.example.net");
	free(s);
	/* An escaped ':' stays escaped ('%' may stand in a Message-ID). */
	s = plan_message_id("ann:a-x%3Ab:c-y", "example.org");
	assert_string_equal(s, "ann/a-x%3Ab/c-y@example.org");
	free(s);
	/* Stable: the same delivery always has the same Message-ID. */
	{
		char *a = plan_message_id("rem:m-1:c-a:86400", "example.org");
		char *b = plan_message_id("rem:m-1:c-a:86400", "example.org");

		assert_string_equal(a, b);
		assert_null(strchr(a, ':'));
		free(a);
		free(b);
	}

	/* plan_snaprec: the "record" member, or NULL. */
	snap_collab(snap, "c-a", 1, "[]");
	store_snap_put_null(snap, "rec:collaborator:c-b");
	assert_string_equal(json_string_value(json_object_get(plan_snaprec(snap,
	    "collaborator", "c-a"), "id")), "c-a");
	assert_null(plan_snaprec(snap, "collaborator", "c-b"));
	assert_null(plan_snaprec(snap, "collaborator", "c-c"));
	assert_null(plan_snaprec(snap, "venue", "c-a"));
	json_decref(snap);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_audience),
		cmocka_unit_test(test_needs_announcement),
		cmocka_unit_test(test_needs_others),
		cmocka_unit_test(test_refcheck),
		cmocka_unit_test(test_apply_announcement),
		cmocka_unit_test(test_apply_send_at),
		cmocka_unit_test(test_unchanged),
		cmocka_unit_test(test_changed_send_at),
		cmocka_unit_test(test_removed_addressee),
		cmocka_unit_test(test_ids_with_colons),
		cmocka_unit_test(test_meeting_ids_with_colons),
		cmocka_unit_test(test_meeting_after_pending),
		cmocka_unit_test(test_collaborator),
		cmocka_unit_test(test_forget),
		cmocka_unit_test(test_helpers),
		cmocka_unit_test(test_merge_and_mistakes),
		cmocka_unit_test(test_said_on),
	};
	int	rc;

	g_mime_init();
	clock_init();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	g_mime_shutdown();
	return rc;
}
