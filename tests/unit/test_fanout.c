/*
 * test_fanout.c: an announcement planned page by page (fanout.c), over
 * hand-made snapshots and pages, as intake.c would feed it from Redis.
 *
 * Covered: what is read and in which order (the group sets, "all", the
 * record's own list in chunks, then the earlier audiences); the head's
 * three answers (nothing to do, start, resume) and what a start stores;
 * each page's ops (only this version's marker lets them apply; a
 * consenting collaborator's email, tagged with the version; withdrawals
 * for earlier audiences); the reference check and its message; and that
 * paging reaches exactly the people plan_apply() reaches with the whole
 * group in one snapshot (SPEC section 4: addressees, consenting only).
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

#include <cmocka.h>
#include <gmime/gmime.h>
#include <jansson.h>

#include "clock.h"
#include "config.h"
#include "fanout.h"
#include "plan.h"
#include "record.h"
#include "store.h"
#include "util.h"

static const struct record_opts opts = { "Europe/London", 65536 };
static struct config *cf;

#include "record_fixture.h"

static void
snap_collab(json_t *snap, const char *id, int consent)
{
	char	key[STORE_KEY_MAX];

	json_object_set_new(snap, store_reckey("collaborator", id, key,
	    sizeof key), json_pack("{s:{s:s, s:s, s:b, s:s}, s:{}}", "record",
	    "type", "collaborator", "id", id, "consent", consent, "email",
	    "x@example.org", "meta"));
}

static struct plan_ctx
ctx(void)
{
	struct plan_ctx	pc = { cf, 1800000000000LL, "9-0" };

	return pc;
}

/* The ops named name, as they are. */
static json_t *
ops_named(json_t *ops, const char *name)
{
	json_t	*out = json_array(), *op;
	size_t	 i;

	json_array_foreach(ops, i, op)
		if (strcmp(json_string_value(json_array_get(op, 0)), name) == 0)
			json_array_append(out, op);
	return out;
}

/* The second item (did, key...) of each op named name. */
static json_t *
op_args(json_t *ops, const char *name)
{
	json_t	*out = json_array(), *sel = ops_named(ops, name), *op;
	size_t	 i;

	json_array_foreach(sel, i, op)
		json_array_append(out, json_array_get(op, 1));
	json_decref(sel);
	return out;
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

/* A head snapshot: the stored announcement (JSON text or NULL) and a
 * marker (ver and old, or NULL). */
static json_t *
head_snap(const char *stored, const char *ver, const char *old)
{
	json_t	*snap = json_object(), *r;
	char	*o;

	if (stored != NULL) {
		r = JSON(stored);
		json_object_set_new(snap, "rec:announcement:a-1", json_pack(
		    "{s:o, s:{s:s}}", "record", r, "meta", "src", "1-0"));
	} else
		store_snap_put_null(snap, "rec:announcement:a-1");
	if (ver != NULL) {
		o = J(old);
		json_object_set_new(snap, "fanout:announcement:a-1", json_pack(
		    "[s, s, s, s]", "ver", ver, "old", o));
		free(o);
	} else
		store_snap_put_null(snap, "fanout:announcement:a-1");
	return snap;
}

#define ANN(to)	"{'type':'announcement','id':'a-1','subject':'S','body':'B'," \
		"'to':" to "}"

/* Read order: each group, the record's list in chunks, then the earlier
 * audiences, each once and without one equal to this version's, then
 * done. */
static void
test_sources(void **state)
{
	struct record		 r;
	struct fanout		*fo;
	struct fanout_read	 rd;
	struct plan_ctx		 pc = ctx();
	struct err		 e;
	json_t			*snap, *ops, *list, *ids;
	char			 id[32], *text;
	struct buf		 b;
	int			 i;

	buf_init(&b);
	buf_adds(&b, "{'type':'announcement','id':'a-1','subject':'S',"
	    "'body':'B','to':{'groups':['g1','g2'],'collaborators':[");
	for (i = 0; i < FANOUT_PAGE * 2 + 5; i++)
		buf_printf(&b, "%s'c-%03d'", i ? "," : "", i);
	buf_adds(&b, "]}}");
	rec(b.s, &r);
	buf_free(&b);

	fo = fanout_new(&r, "5-0");
	ids = fanout_head_keys(fo);
	/* And its groups' sizes (issue 14: a group nobody belongs to is
	 * refused), never their members. */
	assert_json_is(ids, "['rec:announcement:a-1','fanout:announcement:a-1',"
	    "'groups','#card:group:g1','#card:group:g2']");
	json_decref(ids);
	snap = head_snap(ANN("{'groups':['g3']}"), "4-0",
	    "[{'groups':['g1','g2'],'collaborators':[]},{'all':true},"
	    "{'groups':['g3']},{'groups':['g1','g2'],'collaborators':[]}]");
	/* (and the stored g3, the same as one of those) */
	ops = json_array();
	/* The list must be checked first. */
	while ((ids = fanout_check_ids(fo)) != NULL) {
		json_t *cs = json_object();

		json_array_foreach(ids, i, list)
			snap_collab(cs, json_string_value(list), 1);
		assert_int_equal(fanout_check(fo, cs, &e), 0);
		json_decref(cs);
	}
	assert_int_equal(fanout_head(fo, snap, &pc, ops, &e), FANOUT_START);
	assert_string_equal(fanout_version(fo), "5-0");

	/* g1: two pages by cursor, then g2. */
	assert_int_equal(fanout_next(fo, &rd), 1);
	assert_string_equal(rd.set, "group:g1");
	assert_string_equal(rd.cursor, "0");
	assert_int_equal(rd.records, 1);
	json_decref(ops);
	ops = json_array();
	list = json_array();
	assert_int_equal(fanout_page(fo, "17", list, NULL, &pc, ops), 0);
	assert_int_equal(fanout_next(fo, &rd), 1);
	assert_string_equal(rd.set, "group:g1");
	assert_string_equal(rd.cursor, "17");
	assert_int_equal(fanout_page(fo, "0", list, NULL, &pc, ops), 0);
	assert_int_equal(fanout_next(fo, &rd), 1);
	assert_string_equal(rd.set, "group:g2");
	assert_int_equal(fanout_page(fo, "0", list, NULL, &pc, ops), 0);
	/* The list, in three chunks, in order. */
	for (i = 0; i < 3; i++) {
		assert_int_equal(fanout_next(fo, &rd), 1);
		assert_null(rd.set);
		assert_int_equal(rd.records, 1);
		assert_int_equal(json_array_size(rd.ids), i < 2 ? FANOUT_PAGE :
		    5);
		snprintf(id, sizeof id, "c-%03d", i * FANOUT_PAGE);
		assert_string_equal(json_string_value(json_array_get(rd.ids,
		    0)), id);
		assert_int_equal(fanout_page(fo, "0", list, NULL, &pc, ops), 0);
	}
	/* Earlier audiences, without records: g1 and g2 again (that "to"
	 * differs from this version's), "all" (the collaborators set), g3
	 * once. */
	assert_int_equal(fanout_next(fo, &rd), 1);
	assert_string_equal(rd.set, "group:g1");
	assert_int_equal(rd.records, 0);
	assert_int_equal(fanout_page(fo, "0", list, NULL, &pc, ops), 0);
	assert_int_equal(fanout_next(fo, &rd), 1);
	assert_string_equal(rd.set, "group:g2");
	assert_int_equal(fanout_page(fo, "0", list, NULL, &pc, ops), 0);
	assert_int_equal(fanout_next(fo, &rd), 1);
	assert_string_equal(rd.set, "collaborators");
	assert_int_equal(rd.records, 0);
	assert_int_equal(fanout_page(fo, "0", list, NULL, &pc, ops), 0);
	assert_int_equal(fanout_next(fo, &rd), 1);
	assert_string_equal(rd.set, "group:g3");
	assert_int_equal(fanout_page(fo, "0", list, NULL, &pc, ops), 0);
	assert_int_equal(fanout_next(fo, &rd), 0);
	assert_int_equal(fanout_next(fo, &rd), 0);
	assert_int_equal(fanout_pages(fo), 10);
	/* Nothing planned: no op but the marker check. */
	assert_int_equal(json_array_size(ops), 10);
	text = json_dumps(ops, JSON_COMPACT);
	assert_null(strstr(text, "DFAN"));
	free(text);
	json_decref(list);
	json_decref(ops);
	json_decref(snap);
	fanout_free(fo);
	record_clear(&r);
}

/* The head: nothing to do, start (record and marker stored), resume. */
static void
test_head(void **state)
{
	struct record	 r;
	struct fanout	*fo;
	struct plan_ctx	 pc = ctx();
	struct err	 e;
	json_t		*snap, *ops, *sel;
	const char	*a = ANN("{'groups':['g1']}");

	rec(a, &r);
	/* Stored as it is, no marker: nothing to do, no ops. */
	fo = fanout_new(&r, "5-0");
	assert_null(fanout_check_ids(fo));
	snap = head_snap(a, NULL, NULL);
	ops = json_array();
	assert_int_equal(fanout_head(fo, snap, &pc, ops, &e), FANOUT_NOTHING);
	assert_int_equal(json_array_size(ops), 0);
	fanout_tail(fo, ops);
	assert_int_equal(json_array_size(ops), 0);
	json_decref(snap);
	json_decref(ops);
	fanout_free(fo);

	/* Stored from a later entry (7-0) than this one: old news. */
	fo = fanout_new(&r, "5-0");
	snap = head_snap(ANN("{'groups':['g2']}"), "7-0", "[]");
	json_object_set_new(json_object_get(json_object_get(snap,
	    "rec:announcement:a-1"), "meta"), "src", json_string("7-0"));
	ops = json_array();
	assert_int_equal(fanout_head(fo, snap, &pc, ops, &e), FANOUT_STALE);
	assert_int_equal(json_array_size(ops), 0);
	fanout_tail(fo, ops);
	assert_int_equal(json_array_size(ops), 0);
	json_decref(snap);
	json_decref(ops);
	fanout_free(fo);

	/* Stored as it is, with the marker of 3-0 (its fan-out was cut
	 * short): resume as 3-0, store nothing, withdraw from 3-0's old
	 * audiences. */
	fo = fanout_new(&r, "5-0");
	snap = head_snap(a, "3-0", "[{'groups':['g0']}]");
	ops = json_array();
	assert_int_equal(fanout_head(fo, snap, &pc, ops, &e), FANOUT_RESUME);
	assert_int_equal(json_array_size(ops), 0);
	assert_string_equal(fanout_version(fo), "3-0");
	fanout_tail(fo, ops);
	assert_json_is(ops, "[['DELMARK','fanout:announcement:a-1','3-0']]");
	json_decref(snap);
	json_decref(ops);
	fanout_free(fo);

	/* New: the record and a marker with no earlier audience. */
	fo = fanout_new(&r, "5-0");
	snap = head_snap(NULL, NULL, NULL);
	ops = json_array();
	assert_int_equal(fanout_head(fo, snap, &pc, ops, &e), FANOUT_START);
	sel = op_args(ops, "SET");
	assert_json_is(sel, "['rec:announcement:a-1']");
	json_decref(sel);
	sel = ops_named(ops, "HSET");
	assert_json_is(sel, "[['HSET','fanout:announcement:a-1','ver','5-0',"
	    "'old','[]']]");
	json_decref(sel);
	/* The marker is replaced whole, never merged. */
	sel = op_args(ops, "DEL");
	assert_json_is(sel, "['fanout:announcement:a-1']");
	json_decref(sel);
	json_decref(snap);
	json_decref(ops);
	fanout_free(fo);

	/* Changed while 3-0 was still fanning out: 3-0's old audiences and
	 * 3-0's own (the stored one) are withdrawn from, each once. */
	fo = fanout_new(&r, "5-0");
	snap = head_snap(ANN("{'groups':['g2']}"), "3-0",
	    "[{'groups':['g0']},{'groups':['g2']},{'groups':['g1']}]");
	ops = json_array();
	assert_int_equal(fanout_head(fo, snap, &pc, ops, &e), FANOUT_START);
	sel = ops_named(ops, "HSET");
	assert_int_equal(json_array_size(sel), 1);
	assert_string_equal(json_string_value(json_array_get(json_array_get(sel,
	    0), 5)), "[{\"groups\":[\"g0\"]},{\"groups\":[\"g2\"]}]");
	json_decref(sel);
	fanout_tail(fo, ops);
	sel = ops_named(ops, "DELMARK");
	assert_json_is(sel, "[['DELMARK','fanout:announcement:a-1','5-0']]");
	json_decref(sel);
	json_decref(snap);
	json_decref(ops);
	fanout_free(fo);
	record_clear(&r);
}

/* A page: this version's marker first; a DFAN for each consenting
 * collaborator with a record, due at send_at; no one else. Earlier
 * audiences: a DDELOLD for each. */
static void
test_page_ops(void **state)
{
	struct record		 r;
	struct fanout		*fo;
	struct fanout_read	 rd;
	struct plan_ctx		 pc = ctx();
	struct err		 e;
	json_t			*snap, *ops, *ids, *sel, *op;
	long long		 due;

	rec("{'type':'announcement','id':'a-1','subject':'S','body':'B',"
	    "'to':{'groups':['g1']},'send_at':'2030-01-01T10:00'}", &r);
	fo = fanout_new(&r, "5-0");
	snap = head_snap(ANN("{'groups':['g0']}"), NULL, NULL);
	ops = json_array();
	assert_int_equal(fanout_head(fo, snap, &pc, ops, &e), FANOUT_START);
	json_decref(ops);
	json_decref(snap);

	assert_int_equal(fanout_next(fo, &rd), 1);
	snap = json_object();
	snap_collab(snap, "c-a", 1);
	snap_collab(snap, "c-n", 0);
	snap_collab(snap, "c:colon", 1);
	store_snap_put_null(snap, "rec:collaborator:c-gone");
	/* A phone only (issue 14): never emailed. */
	json_object_set_new(snap, "rec:collaborator:c-phone", json_pack(
	    "{s:{s:s, s:s, s:b, s:s}, s:{}}", "record", "type",
	    "collaborator", "id", "c-phone", "consent", 1, "phone",
	    "020 7946 0123", "meta"));
	ids = JSON("['c-a','c-n','c-gone','c:colon','c-phone']");
	ops = json_array();
	assert_int_equal(fanout_page(fo, "0", ids, snap, &pc, ops), 2);
	assert_int_equal(fanout_planned(fo), 2);
	assert_json_is(json_array_get(ops, 0), "['IFMARK',"
	    "'fanout:announcement:a-1','5-0']");
	sel = op_args(ops, "DFAN");
	assert_json_is(sel, "['ann:a-1:c-a','ann:a-1:c%3Acolon']");
	json_decref(sel);
	/* Made before ids were escaped: withdrawn unless this version's. */
	sel = ops_named(ops, "DDELOLD");
	assert_json_is(sel, "[['DDELOLD','ann:a-1:c:colon','5-0']]");
	json_decref(sel);
	/* DFAN did due cid mid ver kind ... : the version, send_at as due,
	 * both records as refs. */
	sel = ops_named(ops, "DFAN");
	op = json_array_get(sel, 0);
	assert_non_null(clock_parse_local("2030-01-01T10:00", "Europe/London",
	    &due, NULL) == 0 ? op : NULL);
	assert_int_equal(atoll(json_string_value(json_array_get(op, 2))),
	    due * 1000);
	assert_string_equal(json_string_value(json_array_get(op, 3)), "c-a");
	assert_string_equal(json_string_value(json_array_get(op, 4)), "");
	assert_string_equal(json_string_value(json_array_get(op, 5)), "5-0");
	{
		char	*t = json_dumps(op, JSON_COMPACT);

		assert_non_null(strstr(t, "\"refs\",\"rec:announcement:a-1 "
		    "rec:collaborator:c-a\""));
		assert_non_null(strstr(t, "\"kind\",\"announcement\""));
		free(t);
	}
	json_decref(sel);
	json_decref(ids);
	json_decref(ops);
	json_decref(snap);

	/* The earlier audience (g0): a withdrawal for each, consent or
	 * not, nothing else. */
	assert_int_equal(fanout_next(fo, &rd), 1);
	assert_string_equal(rd.set, "group:g0");
	assert_int_equal(rd.records, 0);
	ids = JSON("['c-a','c-x']");
	ops = json_array();
	assert_int_equal(fanout_page(fo, "0", ids, NULL, &pc, ops), 2);
	assert_json_is(ops, "[['IFMARK','fanout:announcement:a-1','5-0'],"
	    "['DDELOLD','ann:a-1:c-a','5-0'],['DDELOLD','ann:a-1:c-x','5-0']]");
	json_decref(ids);
	json_decref(ops);
	assert_int_equal(fanout_next(fo, &rd), 0);
	fanout_free(fo);
	record_clear(&r);
}

/* The record's own list: every id a collaborator, or forgotten. */
static void
test_check(void **state)
{
	struct record	 r;
	struct fanout	*fo;
	struct err	 e;
	json_t		*snap, *ids;

	rec(ANN("{'collaborators':['c-a','c-f','c-zed']}"), &r);
	fo = fanout_new(&r, "5-0");
	ids = fanout_check_ids(fo);
	assert_json_is(ids, "['c-a','c-f','c-zed']");
	snap = json_object();
	snap_collab(snap, "c-a", 0);
	store_snap_put_null(snap, "rec:collaborator:c-f");
	store_snap_put_null(snap, "rec:collaborator:c-zed");
	json_object_set_new(snap, "forgotten", JSON("['c-f']"));
	assert_int_equal(fanout_check(fo, snap, &e), -1);
	assert_string_equal(e.msg, "to.collaborators[2]: no collaborator "
	    "\"c-zed\"");
	json_object_set_new(snap, "forgotten", JSON("['c-f','c-zed']"));
	assert_int_equal(fanout_check(fo, snap, &e), 0);
	assert_null(fanout_check_ids(fo));
	json_decref(snap);
	fanout_free(fo);
	record_clear(&r);
}

/*
 * Paged, an announcement reaches exactly the people plan_apply reaches
 * with everything in one snapshot: consenting members of its groups and
 * its list, each once.
 */
static void
test_same_as_whole(void **state)
{
	struct record		 r;
	struct fanout		*fo;
	struct fanout_read	 rd;
	struct plan_ctx		 pc = ctx();
	struct err		 e;
	json_t			*whole, *g1, *g2, *ops, *paged, *want, *v;
	json_t			*page, *snap;
	char			 id[32];
	size_t			 i, j;
	int			 n;

	rec(ANN("{'groups':['g1','g2'],'collaborators':['c-0001','c-0300']}"),
	    &r);
	whole = json_object();
	g1 = json_array();
	g2 = json_array();
	for (n = 0; n < 300; n++) {
		snprintf(id, sizeof id, "c-%04d", n);
		snap_collab(whole, id, n % 7 != 0);
		json_array_append_new(n % 2 ? g1 : g2, json_string(id));
		if (n % 5 == 0)
			json_array_append_new(n % 2 ? g2 : g1, json_string(id));
	}
	snap_collab(whole, "c-0300", 1);
	store_snap_put_set(whole, "group:g1", g1);
	store_snap_put_set(whole, "group:g2", g2);
	json_object_set_new(whole, "forgotten", json_array());
	store_snap_put_null(whole, "rec:announcement:a-1");
	ops = json_array();
	assert_int_equal(plan_apply(&r, whole, &pc, ops, &e), 0);
	want = op_args(ops, "DNEW");
	json_decref(ops);

	fo = fanout_new(&r, "5-0");
	while (fanout_check_ids(fo) != NULL)
		assert_int_equal(fanout_check(fo, whole, &e), 0);
	ops = json_array();
	assert_int_equal(fanout_head(fo, whole, &pc, ops, &e), FANOUT_START);
	json_decref(ops);
	paged = json_object();
	while (fanout_next(fo, &rd)) {
		/* A set comes in pages of FANOUT_PAGE, as SSCAN would. */
		json_t	*all = rd.set ? json_object_get(whole, rd.set) : rd.ids;
		size_t	 from = rd.set ? (size_t)atoi(rd.cursor) : 0;
		char	 next[32];

		page = json_array();
		for (i = from; i < json_array_size(all) && i < from +
		    FANOUT_PAGE; i++)
			json_array_append(page, json_array_get(all, i));
		snprintf(next, sizeof next, "%zu", rd.set && i <
		    json_array_size(all) ? i : (size_t)0);
		snap = json_deep_copy(whole);
		ops = json_array();
		fanout_page(fo, next, page, snap, &pc, ops);
		json_array_foreach(ops, j, v)
			if (strcmp(json_string_value(json_array_get(v, 0)),
			    "DFAN") == 0)
				json_object_set_new(paged, json_string_value(
				    json_array_get(v, 1)), json_true());
		json_decref(ops);
		json_decref(snap);
		json_decref(page);
	}
	assert_true(fanout_pages(fo) > 4);
	assert_int_equal(json_object_size(paged), json_array_size(want));
	json_array_foreach(want, i, v)
		assert_non_null(json_object_get(paged, json_string_value(v)));
	assert_true(json_array_size(want) > 200);
	json_decref(paged);
	json_decref(want);
	json_decref(g1);
	json_decref(g2);
	json_decref(whole);
	fanout_free(fo);
	record_clear(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sources),
		cmocka_unit_test(test_head),
		cmocka_unit_test(test_page_ops),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_same_as_whole),
	};
	int	rv;

	g_mime_init();
	clock_init();
	cf = config_default();
	rv = cmocka_run_group_tests(tests, NULL, NULL);
	config_unref(cf);
	return rv;
}
