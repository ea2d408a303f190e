/*
 * test_mpage.c: a meeting planned in pages (meeting_page.h) makes what the
 * whole planner makes (plan_apply), against a real redis-server.
 *
 * Two prefixes of one Redis hold the same records; each version of a
 * meeting goes to one through the whole planner (one snapshot, one
 * commit) and to the other through the paged planner, driven here as
 * intake_meeting.c drives it (the same reads and commits, blocking). After
 * each version, both hold the same deliveries (every field but when it was
 * made), the same schedule, the same pending index, the same people
 * invited and the same stored record. The people are many more than a page
 * (some in two groups, some with no email, unmet access needs, a
 * supporter, communication needs, their own lead times, no consent), and
 * the versions are what a coordinator does: a new meeting, a change of
 * time, a group taken off and another added, people added without any
 * other change, a cancellation, back on, a new place; a meeting held; and
 * a meeting stored before the invited hash existed, changed.
 *
 * Also: a SIGKILL's worth of interruption (the paged planner stopped after
 * a few commits, a new one started over for the same entry) ends the same.
 * Without redis-server the tests are skipped.
 */
#include <sys/stat.h>

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <gmime/gmime.h>
#include <hiredis/hiredis.h>
#include <jansson.h>

#include "clock.h"
#include "config.h"
#include "meeting_page.h"
#include "plan.h"
#include "record.h"
#include "redis_fixture.h"
#include "store.h"
#include "util.h"

#define NPEOPLE	160
#define NOW	1800000000000LL		/* 2027-01-15 08:00 UTC */
#define DAY	86400LL

static redisContext	*rc;
static struct config	*cf;

static int
redis_setup(void **state)
{
	cf = config_default();
	rc = redis_fixture_start("mpage");
	return 0;	/* without a server the tests skip */
}

static int
redis_teardown(void **state)
{
	redis_fixture_stop();
	rc = NULL;
	config_unref(cf);
	return 0;
}

/* Run a call; its reply (the caller frees it). */
static redisReply *
call(struct store_argv *a)
{
	struct err	 e;
	redisReply	*r;

	if ((r = store_call_sync(rc, a, &e)) == NULL)
		fail_msg("%s", e.msg);
	return r;
}

static void
parse(const char *text, struct record *r)
{
	struct record_opts	o = { "Europe/London", 65536 };
	struct err		e;

	if (record_parse(text, strlen(text), &o, r, &e) == -1)
		fail_msg("bad test record: %s: %s", e.msg, text);
}

/* The whole planner: fetch rounds, plan_apply, one commit. */
static void
whole(const char *pfx, const struct record *r, const char *entry,
    long long now)
{
	struct plan_ctx		 pc = { cf, now, entry };
	struct store_argv	 a;
	struct err		 e;
	json_t			*snap = json_object(), *need, *ops;
	char			 version[32] = "";
	redisReply		*rep;
	int			 round;

	for (round = 0; round < PLAN_MAX_ROUNDS; round++) {
		need = json_array();
		if (plan_needs(r, snap, need) == 0) {
			json_decref(need);
			break;
		}
		if (store_fetch_sync(rc, pfx, need, snap, version,
		    sizeof version, &e) == -1)
			fail_msg("%s", e.msg);
		json_decref(need);
	}
	ops = json_array();
	if (plan_apply(r, snap, &pc, ops, &e) == -1)
		fail_msg("plan_apply: %s", e.msg);
	store_commit_argv(pfx, version, entry, ops, &a);
	rep = call(&a);
	assert_int_equal(rep->integer, 1);
	freeReplyObject(rep);
	json_decref(ops);
	json_decref(snap);
}

static void
record_whole(const char *pfx, const char *text, const char *entry)
{
	struct record	r;

	parse(text, &r);
	whole(pfx, &r, entry, NOW);
	record_clear(&r);
}

/* Feed one read's reply to mp. */
static void
paged_read(struct mpage *mp, const struct plan_ctx *pc, enum mpage_do d,
    struct mpage_io *io, const char *pfx)
{
	struct store_argv	 a;
	struct err		 e;
	redisReply		*rep;
	json_t			*snap = json_object(), *ids = NULL, *info = NULL;
	char			 cursor[64], version[32];

	if (d == MPAGE_FETCH)
		store_mpage_fetch_argv(pfx, io->keys, &a);
	else if (d == MPAGE_CHECK)
		store_page_ids_argv(pfx, 1, io->ids, &a);
	else if (d == MPAGE_PEOPLE)
		store_mpage_people_argv(pfx, &io->people, &a);
	else if (d == MPAGE_SWEEP)
		store_page_argv(pfx, 0, io->key, io->cursor, io->count, &a);
	else
		store_mpage_hscan_argv(pfx, io->key, io->cursor, io->count, &a);
	rep = call(&a);
	if (d == MPAGE_FETCH) {
		assert_true(store_snap_merge(snap, io->keys, rep, version,
		    sizeof version, &e) >= 0);
		mpage_fetched(mp, snap, version);
	} else if (d == MPAGE_PEOPLE) {
		assert_true(store_people_parse(rep, cursor, sizeof cursor, snap,
		    &ids, &info, &e) >= 0);
		mpage_people(mp, pc, cursor, ids, snap, info);
	} else if (d == MPAGE_GATHER) {
		assert_int_equal(store_hscan_parse(rep, cursor, sizeof cursor,
		    &info, &e), 0);
		mpage_gathered(mp, cursor, info);
	} else {
		assert_true(store_page_parse(rep, cursor, sizeof cursor, snap,
		    &ids, &e) >= 0);
		if (d == MPAGE_CHECK)
			mpage_checked(mp, snap);
		else
			mpage_swept(mp, pc, cursor, ids);
	}
	freeReplyObject(rep);
	json_decref(snap);
	json_decref(ids);
	json_decref(info);
}

/* The paged planner, as intake_meeting.c drives it; stop after that
 * many commits (-1: run to the end). Returns whether it was paged. */
static int
paged(const char *pfx, const struct record *r, const char *entry,
    long long now, int stop)
{
	struct plan_ctx		 pc = { cf, now, entry };
	struct mpage		*mp = mpage_new(r, entry);
	struct mpage_io		 io;
	struct store_argv	 a;
	redisReply		*rep;
	enum mpage_do		 d;
	int			 was, commits = 0;

	for (;;) {
		memset(&io, 0, sizeof io);
		d = mpage_next(mp, &pc, &io);
		if (d == MPAGE_DONE)
			break;
		if (d == MPAGE_REJECT)
			fail_msg("refused: %s", io.e.msg);
		if (d != MPAGE_COMMIT) {
			paged_read(mp, &pc, d, &io, pfx);
			continue;
		}
		if (stop >= 0 && commits++ == stop)
			break;
		store_commit_argv(pfx, io.version, io.entry, io.ops, &a);
		rep = call(&a);
		assert_int_equal(rep->type, REDIS_REPLY_INTEGER);
		mpage_committed(mp, (int)rep->integer);
		freeReplyObject(rep);
	}
	was = mpage_paged(mp);
	mpage_free(mp);
	return was;
}

/* Planned in pages, unless it changes nothing (then it is just
 * acknowledged). */
static void
record_paged(const char *pfx, const char *text, const char *entry,
    long long now, int nothing)
{
	struct record	r;

	parse(text, &r);
	assert_int_equal(paged(pfx, &r, entry, now, -1), !nothing);
	record_clear(&r);
}

/* What a prefix holds of a meeting's planning, to compare. */
/* A reply of pairs (HGETALL, ZRANGE WITHSCORES) as an object. */
static json_t *
pairs_of(redisReply *r)
{
	json_t	*h = json_object();
	size_t	 i;

	for (i = 0; i + 1 < r->elements; i += 2)
		json_object_set_new(h, r->element[i]->str,
		    json_string(r->element[i + 1]->str));
	freeReplyObject(r);
	return h;
}

/* A reply of names (SMEMBERS, HKEYS) as an object of trues. */
static json_t *
names_of(redisReply *r)
{
	json_t	*set = json_object();
	size_t	 i;

	for (i = 0; i < r->elements; i++)
		json_object_set_new(set, r->element[i]->str, json_true());
	freeReplyObject(r);
	return set;
}

static json_t *
state(const char *pfx, const char *mid)
{
	json_t		*out = json_object(), *d = json_object(), *h;
	redisReply	*r, *x;
	size_t		 i;

	r = redisCommand(rc, "KEYS {%s}:d:*", pfx);
	for (i = 0; i < r->elements; i++) {
		x = redisCommand(rc, "HGETALL %s", r->element[i]->str);
		h = pairs_of(x);
		json_object_del(h, "created");
		json_object_set_new(d, r->element[i]->str + strlen(pfx) + 5, h);
	}
	freeReplyObject(r);
	json_object_set_new(out, "d", d);
	json_object_set_new(out, "schedule", pairs_of(redisCommand(rc,
	    "ZRANGE {%s}:schedule 0 -1 WITHSCORES", pfx)));
	json_object_set_new(out, "md", names_of(redisCommand(rc,
	    "SMEMBERS {%s}:md:%s", pfx, mid)));
	json_object_set_new(out, "mi", names_of(redisCommand(rc,
	    "HKEYS {%s}:mi:%s", pfx, mid)));
	/* Waiting reminders have no d: hash: they are tokens in mr:<mid>
	 * (store/lib.lua), one string of them a person. */
	json_object_set_new(out, "mr", pairs_of(redisCommand(rc,
	    "HGETALL {%s}:mr:%s", pfx, mid)));
	r = redisCommand(rc, "GET {%s}:rec:meeting:%s", pfx, mid);
	json_object_set_new(out, "rec", r->type == REDIS_REPLY_STRING ?
	    json_loads(r->str, 0, NULL) : json_null());
	freeReplyObject(r);
	return out;
}

/* Both prefixes hold the same; say where they differ if not. */
static void
same(const char *mid, size_t min_deliveries)
{
	json_t		*w = state("w", mid), *p = state("p", mid), *v;
	const char	*k, *t, *part[] = { "d", "schedule", "md", "mi", "mr",
	    "rec" };
	size_t		 i, n;
	char		*a, *b;

	for (i = 0; i < sizeof part / sizeof part[0]; i++) {
		json_t *x = json_object_get(w, part[i]);
		json_t *y = json_object_get(p, part[i]);

		if (json_equal(x, y))
			continue;
		json_object_foreach(x, k, v)
			if (!json_equal(v, json_object_get(y, k))) {
				a = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
				b = json_dumps(json_object_get(y, k),
				    JSON_COMPACT | JSON_ENCODE_ANY);
				fprintf(stderr, "%s %s: whole %s\n  paged %s\n",
				    part[i], k, a, b ? b : "(none)");
				free(a);
				free(b);
			}
		json_object_foreach(y, k, v)
			if (json_object_get(x, k) == NULL)
				fprintf(stderr, "%s %s: only paged\n", part[i], k);
		fail_msg("%s differs", part[i]);
	}
	if (getenv("HB_MPAGE_COUNTS"))
		fprintf(stderr, "%s: %zu hashes\n", mid, json_object_size(
		    json_object_get(w, "d")));
	/* Deliveries: the hashes, and the compact reminders' tokens. */
	n = json_object_size(json_object_get(w, "d"));
	json_object_foreach(json_object_get(w, "mr"), k, v)
		for (t = json_string_value(v); t != NULL && *t != '\0'; n++)
			t = strchr(t, ' ') ? strchr(t, ' ') + 1 : "";
	if (n < min_deliveries)
		fail_msg("%zu deliveries, want at least %zu", n,
		    min_deliveries);
	json_decref(w);
	json_decref(p);
}

/* A local time in London, days from NOW (plus hours). */
static void
when(char *buf, size_t len, double days)
{
	char	t[64];

	clock_format_iso_local(NOW / 1000 + (long long)(days * DAY),
	    "Europe/London", t, sizeof t);
	snprintf(buf, len, "%.16s", t);
}

static void
people(void)
{
	char	t[512], extra[256];
	int	i;

	for (i = 0; i < NPEOPLE; i++) {
		extra[0] = '\0';
		if (i % 17 == 4)
			snprintf(extra, sizeof extra, ", \"phone\": \"020 7946 "
			    "%04d\"", i);
		else
			snprintf(extra, sizeof extra, ", \"email\": "
			    "\"p%d@example.org\"", i);
		if (i % 13 == 2)
			strcat(extra, ", \"access_needs\": [\"hearing-loop\", "
			    "\"step-free\"]");
		if (i % 23 == 7)
			strcat(extra, ", \"supporter\": {\"name\": \"S\", "
			    "\"email\": \"s@example.org\"}");
		if (i % 29 == 9)
			strcat(extra, ", \"communication\": [\"bsl-video\"]");
		if (i % 7 == 3)
			strcat(extra, ", \"reminders\": [\"2d\"]");
		snprintf(t, sizeof t, "{\"type\": \"collaborator\", \"id\": "
		    "\"c-%05d\", \"name\": \"Person %d\", \"consent\": %s, "
		    "\"groups\": %s%s}", i, i, i % 31 == 11 ? "false" : "true",
		    i % 19 == 0 ? "[\"g1\", \"g2\"]" : i < 100 ? "[\"g1\"]" :
		    "[\"g2\"]", extra);
		record_whole("w", t, "1-0");
		record_whole("p", t, "1-0");
	}
	for (i = 0; i < 2; i++) {
		const char *v = "{\"type\": \"venue\", \"id\": \"v-%d\", "
		    "\"name\": \"Hall %d\", \"address\": \"%d Road\", "
		    "\"access\": {\"step-free\": true, \"hearing-loop\": false}}";

		snprintf(t, sizeof t, v, i, i, i);
		record_whole("w", t, "1-1");
		record_whole("p", t, "1-1");
	}
}

static char *
meeting(const char *mid, double start, const char *extra)
{
	char	s[32], e[32];

	when(s, sizeof s, start);
	when(e, sizeof e, start + 2.0 / 24);
	return xasprintf("{\"type\": \"meeting\", \"id\": \"%s\", \"title\": "
	    "\"Forum\", \"start\": \"%s\", \"end\": \"%s\", \"reminders\": "
	    "[\"7d\", \"1d\"], \"organiser\": {\"name\": \"Jo\", \"email\": "
	    "\"jo@example.org\"}%s}", mid, s, e, extra);
}

/* One version to both, the whole one and the paged one (a meeting, or a
 * venue with a meeting of mid's size at it); then the same.
 * min_deliveries 0: the version changes nothing. */
static void
both(const char *mid, char *text, const char *entry, long long now,
    size_t min_deliveries)
{
	struct record	r;

	parse(text, &r);
	whole("w", &r, entry, now);
	record_clear(&r);
	record_paged("p", text, entry, now, min_deliveries == 0);
	free(text);
	same(mid, min_deliveries);
}

static void
test_paged_as_whole(void **state)
{
	const char	*g1 = ", \"venue\": \"v-0\", \"groups\": [\"g1\"], "
	    "\"invitees\": [\"c-00120\", \"c-00005\", \"c-00121\"]";
	const char	*g2 = ", \"venue\": \"v-0\", \"groups\": [\"g2\"], "
	    "\"invitees\": [\"c-00120\", \"c-00005\", \"c-00121\"]";
	const char	*more = ", \"venue\": \"v-0\", \"groups\": [\"g2\"], "
	    "\"invitees\": [\"c-00120\", \"c-00005\", \"c-00121\", "
	    "\"c-00060\", \"c-00061\"]";
	char		*x;

	NEED_REDIS();
	people();
	/* New; an hour later; g1 off and g2 on; two people more and
	 * nothing else (no new SEQUENCE); cancelled; back on; elsewhere. */
	both("m-1", meeting("m-1", 30, g1), "2-0", NOW, 300);
	both("m-1", meeting("m-1", 30 + 1.0 / 24, g1), "3-0", NOW, 300);
	both("m-1", meeting("m-1", 30 + 1.0 / 24, g2), "4-0", NOW, 280);
	both("m-1", meeting("m-1", 30 + 1.0 / 24, more), "5-0", NOW, 280);
	x = xasprintf("%s, \"status\": \"cancelled\", \"cancel_reason\": "
	    "\"Flooded.\"", more);
	both("m-1", meeting("m-1", 30 + 1.0 / 24, x), "6-0", NOW, 70);
	free(x);
	both("m-1", meeting("m-1", 30 + 1.0 / 24, more), "7-0", NOW, 190);
	x = xasprintf("%s, \"agenda\": \"New.\"", more);
	x[strlen(", \"venue\": \"v-")] = '1';
	both("m-1", meeting("m-1", 30 + 1.0 / 24, x), "8-0", NOW, 190);
	/* Queued again unchanged: nothing. */
	both("m-1", meeting("m-1", 30 + 1.0 / 24, x), "9-0", NOW, 0);
	free(x);
	/* Moved by a merge record to the other venue; then that venue's
	 * access changes: an access update each (in pages too). */
	both("m-1", xstrdup("{\"type\": \"meeting\", \"id\": \"m-1\", "
	    "\"merge\": true, \"venue\": \"v-0\", \"agenda\": null}"),
	    "9-1", NOW, 190);
	both("m-1", xstrdup("{\"type\": \"venue\", \"id\": \"v-0\", "
	    "\"name\": \"Hall 0\", \"address\": \"0 Road\", "
	    "\"access\": {\"step-free\": true, \"hearing-loop\": "
	    "true}}"), "9-2", NOW, 250);
	/* A meeting held: nothing pending stays. */
	both("m-2", meeting("m-2", 3, g1), "10-0", NOW, 250);
	x = xasprintf("%s, \"status\": \"held\"", g1);
	/* (A withdrawn reminder that was never leased leaves no hash.) */
	both("m-2", meeting("m-2", 3, x), "11-0", NOW + 4 * DAY * 1000, 60);
	free(x);
}

/* A meeting stored before the invited hash: its meta lists who is
 * invited; a change reads that list (and the paged planner moves it into
 * the hash first). */
static void
test_paged_legacy(void **state)
{
	char		*m, *t;
	redisReply	*r;
	const char	*pfx[] = { "w", "p" };
	int		 i, n;
	json_t		*w, *inv;

	NEED_REDIS();
	people();
	m = meeting("m-3", 20, ", \"venue\": \"v-1\", \"groups\": "
	    "[\"g1\"]");
	for (i = 0; i < 2; i++)
		record_whole(pfx[i], m, "2-0");
	/* As the planner stored it before: the list in the meta, no hash. */
	for (i = 0; i < 2; i++) {
		r = redisCommand(rc, "GET {%s}:rec:meeting:m-3", pfx[i]);
		w = json_loads(r->str, 0, NULL);
		freeReplyObject(r);
		inv = json_array();
		r = redisCommand(rc, "HKEYS {%s}:mi:m-3", pfx[i]);
		for (n = 0; n < (int)r->elements; n++)
			json_array_append_new(inv, json_string(
			    r->element[n]->str));
		freeReplyObject(r);
		json_object_set_new(json_object_get(w, "meta"), "invited", inv);
		t = store_dump(w);
		freeReplyObject(redisCommand(rc, "SET {%s}:rec:meeting:m-3 %s",
		    pfx[i], t));
		freeReplyObject(redisCommand(rc, "DEL {%s}:mi:m-3", pfx[i]));
		free(t);
		json_decref(w);
	}
	free(m);
	/* Its venue's access changes while it is stored so: the list is
	 * read (in pages: a legacy list in chunks). */
	both("m-3", xstrdup("{\"type\": \"venue\", \"id\": \"v-1\", "
	    "\"name\": \"Hall 1\", \"address\": \"1 Road\", "
	    "\"access\": {\"step-free\": false, \"hearing-loop\": "
	    "false}}"), "2-5", NOW, 270);
	both("m-3", meeting("m-3", 20.5, ", \"venue\": \"v-1\", \"groups\": "
	    "[\"g2\"]"), "3-0", NOW, 270);
	r = redisCommand(rc, "GET {p}:rec:meeting:m-3");
	assert_null(strstr(r->str, "invited"));
	freeReplyObject(r);
}

/* Stopped after a few commits (a daemon killed), then planned again from
 * the top by another: the same as planned whole. */
static void
test_paged_resumed(void **state)
{
	const char	*g = ", \"venue\": \"v-0\", \"groups\": [\"g1\", "
	    "\"g2\"]";
	struct record	 r;
	char		*m;
	int		 stop;

	NEED_REDIS();
	people();
	m = meeting("m-4", 30, g);
	parse(m, &r);
	whole("w", &r, "2-0", NOW);
	for (stop = 1; stop < 6; stop += 2)
		assert_true(paged("p", &r, "2-0", NOW, stop));
	assert_true(paged("p", &r, "2-0", NOW, -1));
	record_clear(&r);
	free(m);
	same("m-4", 450);
	/* A change cut short, then a later version: the cut one is
	 * finished first, then the later one planned. */
	m = meeting("m-4", 30 + 2.0 / 24, g);
	parse(m, &r);
	whole("w", &r, "3-0", NOW);
	assert_true(paged("p", &r, "3-0", NOW, 3));
	record_clear(&r);
	free(m);
	m = meeting("m-4", 30 + 2.0 / 24, ", \"venue\": \"v-0\", \"groups\": "
	    "[\"g2\"]");
	both("m-4", m, "4-0", NOW, 280);
	/* Cancelled, cut short while everyone's pending emails are being
	 * withdrawn: the stored record is still the meeting as it stood
	 * (what falls due meanwhile is not an invitation to a cancelled
	 * meeting); then resumed, and the same as whole. */
	m = meeting("m-4", 30 + 2.0 / 24, ", \"venue\": \"v-0\", \"groups\": "
	    "[\"g2\"], \"status\": \"cancelled\"");
	parse(m, &r);
	whole("w", &r, "5-0", NOW);
	assert_true(paged("p", &r, "5-0", NOW, 2));
	{
		redisReply *x = redisCommand(rc, "GET {p}:rec:meeting:m-4");

		assert_null(strstr(x->str, "cancelled"));
		freeReplyObject(x);
	}
	assert_true(paged("p", &r, "5-0", NOW, -1));
	record_clear(&r);
	free(m);
	same("m-4", 60);
	/* Back on, cut short; then moved: the cut one finished first. */
	m = meeting("m-4", 30 + 2.0 / 24, ", \"venue\": \"v-0\", \"groups\": "
	    "[\"g2\"]");
	parse(m, &r);
	whole("w", &r, "6-0", NOW);
	assert_true(paged("p", &r, "6-0", NOW, 2));
	record_clear(&r);
	free(m);
	both("m-4", meeting("m-4", 31, ", \"venue\": \"v-0\", \"groups\": "
	    "[\"g2\"]"), "7-0", NOW, 180);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_paged_as_whole, redis_fixture_each),
		cmocka_unit_test_setup(test_paged_legacy, redis_fixture_each),
		cmocka_unit_test_setup(test_paged_resumed, redis_fixture_each),
	};
	int	rv;

	signal(SIGPIPE, SIG_IGN);
	g_mime_init();
	clock_init();
	rv = cmocka_run_group_tests_name("mpage", tests, redis_setup,
	    redis_teardown);
	g_mime_shutdown();
	return rv;
}
