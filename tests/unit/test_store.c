/*
 * test_store.c: hearback's Redis data model (store.c).
 *
 * The first group checks the pure parts: the EVAL argv layouts that the
 * daemon and the command both send, op building, stable JSON dumps and the
 * snapshot put functions.
 *
 * The second group runs the three Lua scripts for real, when redis-server is
 * on PATH: one is started on a free loopback port in a temporary directory
 * (no persistence) and killed at the end, also when a test fails
 * (redis_fixture.c, shared with test_mpage.c).
 * It checks the guarantees of SPEC section 5 that live in the scripts: a
 * record leaves the inbox only in the same step that stores what it causes;
 * the same delivery is created once; leases; sent, retried, dead and
 * dropped deliveries; and that forget leaves no name or address behind.
 * Without redis-server those tests are skipped.
 */
#include <sys/stat.h>

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <gmime/gmime.h>
#include <hiredis/hiredis.h>
#include <jansson.h>

#include "clock.h"
#include "config.h"
#include "plan.h"
#include "record.h"
#include "redis_fixture.h"
#include "store.h"
#include "util.h"

#define PFX	"hbt"
#define K(n)	"{" PFX "}:" n

/* ' -> " so that test JSON is readable. */
static json_t *
JSON(const char *s)
{
	char		*t = xstrdup(s), *p;
	json_error_t	 je;
	json_t		*j;

	for (p = t; *p != '\0'; p++)
		if (*p == '\'')
			*p = '"';
	if ((j = json_loads(t, 0, &je)) == NULL)
		fail_msg("bad test JSON: %s: %s", je.text, t);
	free(t);
	return j;
}

static void
argv_is(const struct store_argv *a, int from, ...)
{
	const char	*w;
	va_list		 ap;
	int		 i = from;

	va_start(ap, from);
	while ((w = va_arg(ap, const char *)) != NULL) {
		if (i >= a->argc)
			fail_msg("argv has %d items, wanted \"%s\" at %d",
			    a->argc, w, i);
		assert_string_equal(a->argv[i], w);
		assert_int_equal(a->lens[i], strlen(w));
		i++;
	}
	va_end(ap);
	assert_int_equal(a->argc, i);
}

static void
test_fetch_argv(void **state)
{
	struct store_argv	 a;
	json_t			*keys = JSON("['rec:meeting:m-1','group:carers']");

	store_fetch_argv("hearback", keys, &a);
	assert_string_equal(a.argv[0], "EVALSHA");
	assert_int_equal(strlen(a.argv[1]), 40);
	assert_non_null(strstr(a.script, "redis.call('TYPE'"));
	argv_is(&a, 2, "0", "{hearback}:", "rec:meeting:m-1", "group:carers",
	    NULL);
	store_argv_free(&a);
	assert_int_equal(a.argc, 0);
	assert_null(a.argv);
	json_decref(keys);

	keys = json_array();
	store_fetch_argv("x", keys, &a);
	argv_is(&a, 2, "0", "{x}:", NULL);
	store_argv_free(&a);
	json_decref(keys);
}

static void
test_commit_argv(void **state)
{
	struct store_argv	 a;
	json_t			*ops = json_array();
	const char		 bin[] = "a\0b";

	store_op_record(ops, "venue", "v-1", "{}");
	store_op_drop_all(ops, STORE_COLLAB_DELIVERIES, "c-a");
	store_op_drop(ops, "ann:a-1:c-a");
	/* A value with a NUL travels whole (lens, not strlen). */
	json_array_append_new(ops, json_pack("[s, s, s#]", "SET", "k", bin,
	    (size_t)3));
	store_commit_argv("hearback", "42", "1700000000000-0", ops, &a);
	assert_string_equal(a.argv[0], "EVALSHA");
	assert_non_null(strstr(a.script, "DDELALL"));
	assert_int_equal(a.argc, 2 + 6 + 4 + 3 + 3 + 4);
	assert_int_equal(a.lens[a.argc - 1], 3);
	assert_memory_equal(a.argv[a.argc - 1], bin, 3);
	a.argc--;	/* the binary one checked, now the rest */
	argv_is(&a, 2, "0", "{hearback}:", "42", "hearbackd",
	    "1700000000000-0", "4",
	    "3", "SET", "rec:venue:v-1", "{}",
	    "2", "DDELALL", "cd:c-a",
	    "2", "DDEL", "ann:a-1:c-a",
	    "3", "SET", "k", NULL);
	a.argc++;
	store_argv_free(&a);
	json_decref(ops);

	/* No version check, no inbox entry, no ops. */
	ops = json_array();
	store_commit_argv("p", "", "", ops, &a);
	argv_is(&a, 2, "0", "{p}:", "", "hearbackd", "", "0", NULL);
	store_argv_free(&a);
	json_decref(ops);
}

static void
test_promote_argv(void **state)
{
	struct store_argv a;

	store_lease_argv("hearback", 1795000000123LL, 60000, 16, 1, &a);
	assert_string_equal(a.argv[0], "EVALSHA");
	assert_non_null(strstr(a.script, "ZRANGEBYSCORE"));
	argv_is(&a, 2, "0", "{hearback}:", "1795000000123", "60000", "16",
	    "1", NULL);
	store_argv_free(&a);
}

/* SPEC's key names, and the ones store.h lists, spelled in one place. */
static void
test_keys(void **state)
{
	char	k[STORE_KEY_MAX], small[8];

	assert_string_equal(store_reckey("meeting", "m-1", k, sizeof k),
	    "rec:meeting:m-1");
	assert_ptr_equal(store_setkey(STORE_GROUP, "carers", k, sizeof k), k);
	assert_string_equal(k, "group:carers");
	assert_string_equal(store_setkey(STORE_COLLABORATORS, NULL, k,
	    sizeof k), "collaborators");
	/* Sets without an id ignore one. */
	assert_string_equal(store_setkey(STORE_FORGOTTEN, "x", k, sizeof k),
	    "forgotten");
	assert_string_equal(store_setkey(STORE_SAID, NULL, k, sizeof k),
	    "said");
	assert_string_equal(store_setkey(STORE_NOTICES, NULL, k, sizeof k),
	    "notices");
	assert_string_equal(store_setkey(STORE_COLLAB_SAID, "c-a", k,
	    sizeof k), "cs:c-a");
	assert_string_equal(store_setkey(STORE_VENUE_MEETINGS, "v-1", k,
	    sizeof k), "vm:v-1");
	assert_string_equal(store_setkey(STORE_SAID_OUTCOMES, "s-1", k,
	    sizeof k), "so:s-1");
	assert_string_equal(store_setkey(STORE_COLLAB_DELIVERIES, "c-a", k,
	    sizeof k), "cd:c-a");
	assert_string_equal(store_setkey(STORE_MEETING_DELIVERIES, "m:1", k,
	    sizeof k), "md:m:1");
	/* Cut, never overrun. */
	store_reckey("collaborator", "c-a", small, sizeof small);
	assert_string_equal(small, "rec:col");
}

/* Delivery ids: parts joined by ':', each with '%' and ':' escaped. */
static void
test_dids(void **state)
{
	char	*a, *b, *s;
	json_t	*p;

	/* Ids without ':' read as they always have. */
	a = store_did("inv", "m-1", "c-amara", "3", NULL);
	assert_string_equal(a, "inv:m-1:c-amara:3");
	free(a);
	/* The pair that collided: announcement "a-x:b" to "c-y", and "a-x"
	 * to "b:c-y" (both were "ann:a-x:b:c-y"). */
	a = store_did("ann", "a-x:b", "c-y", NULL);
	b = store_did("ann", "a-x", "b:c-y", NULL);
	assert_string_equal(a, "ann:a-x%3Ab:c-y");
	assert_string_equal(b, "ann:a-x:b%3Ac-y");
	free(a);
	free(b);
	/* '%' is escaped too, so an escape in an id is not read as one. */
	a = store_did("x", "a%3Ab", "c", NULL);
	b = store_did("x", "a:b", "c", NULL);
	assert_string_equal(a, "x:a%253Ab:c");
	assert_string_not_equal(a, b);
	/* Parts back, unescaped. */
	p = store_did_parts(a);
	s = store_dump(p);
	assert_string_equal(s, "[\"x\",\"a%3Ab\",\"c\"]");
	free(s);
	json_decref(p);
	p = store_did_parts(b);
	s = store_dump(p);
	assert_string_equal(s, "[\"x\",\"a:b\",\"c\"]");
	free(s);
	json_decref(p);
	free(a);
	free(b);
	p = store_did_parts("rem:m:1:c:2:0:3600");	/* made before: as is */
	assert_int_equal(json_array_size(p), 7);
	json_decref(p);
	p = store_did_parts("");
	s = store_dump(p);
	assert_string_equal(s, "[\"\"]");
	free(s);
	json_decref(p);
	/* About another delivery: that id last, as it is. */
	a = store_did_about("notice", "failed", "inv:m%3A1:c-a:0");
	assert_string_equal(a, "notice:failed:inv:m%3A1:c-a:0");
	free(a);
}

/* The typed ops, as the commit script reads them (commit.lua). */
static void
test_ops(void **state)
{
	json_t			*ops = json_array(), *d;
	const char		*needles[] = { "\"c-a\"", "a@example.org" };
	struct store_delivery	 dl = { "inv:m-1:c-a:0", "invitation", "c-a",
				    "m-1", 1000, 2000, 900,
				    "rec:meeting:m-1 rec:collaborator:c-a", NULL,
				    NULL, "m-1" };
	char			*s;

	store_op_record(ops, "said", "s-1", "{\"record\":{}}");
	store_op_record_del(ops, "collaborator", "c-a");
	store_op_sadd(ops, STORE_GROUP, "g", "c-a");
	store_op_srem(ops, STORE_COLLABORATORS, NULL, "c-a");
	store_op_set_del(ops, STORE_COLLAB_SAID, "c-a");
	store_op_said_open(ops, "s-1", 1795000000123LL);
	store_op_said_answered(ops, "s-1");
	store_op_count(ops, "sent:reminder");
	store_op_audit(ops, "event", "sent", "delivery", "d-1", NULL);
	store_op_scrub(ops, needles, 2);
	s = store_dump(ops);
	assert_string_equal(s, "["
	    "[\"SET\",\"rec:said:s-1\",\"{\\\"record\\\":{}}\"],"
	    "[\"DEL\",\"rec:collaborator:c-a\"],"
	    "[\"SADD\",\"group:g\",\"c-a\"],"
	    "[\"SREM\",\"collaborators\",\"c-a\"],"
	    "[\"DEL\",\"cs:c-a\"],"
	    "[\"ZADD\",\"said:open\",\"1795000000123\",\"s-1\"],"
	    "[\"ZREM\",\"said:open\",\"s-1\"],"
	    "[\"HINCRBY\",\"stats\",\"sent:reminder\",\"1\"],"
	    "[\"XADD\",\"audit\",\"event\",\"sent\",\"delivery\",\"d-1\"],"
	    "[\"STREAMSCRUB\",\"dead\",\"\\\"c-a\\\"\",\"a@example.org\"],"
	    "[\"NOTICESCRUB\",\"notices\",\"\\\"c-a\\\"\",\"a@example.org\"]]");
	free(s);
	json_decref(ops);

	ops = json_array();
	store_op_delivery(ops, &dl);
	store_op_drop(ops, "d-1");
	store_op_drop_all(ops, STORE_MEETING_DELIVERIES, "m-1");
	store_op_sent(ops, "d-1", "250 ok");
	store_op_retry(ops, "d-1", 5000, 2, "100", "200", "451 later");
	store_op_dead(ops, "d-1", "100", "300", "3", "550 no");
	store_op_unlease(ops, "d-1", 7000);
	s = store_dump(ops);
	assert_string_equal(s, "["
	    "[\"DNEW\",\"inv:m-1:c-a:0\",\"1000\",\"c-a\",\"m-1\","
	    "\"kind\",\"invitation\","
	    "\"refs\",\"rec:meeting:m-1 rec:collaborator:c-a\",\"to\",\"\","
	    "\"data\",\"{}\",\"src\",\"m-1\",\"created\",\"900\","
	    "\"deadline\",\"2000\",\"attempts\",\"0\"],"
	    "[\"DDEL\",\"d-1\"],"
	    "[\"DDELALL\",\"md:m-1\"],"
	    "[\"DSENT\",\"d-1\",\"250 ok\",\"7776000\"],"
	    "[\"DRETRY\",\"d-1\",\"5000\",\"2\",\"100\",\"200\",\"451 later\"],"
	    "[\"DDEAD\",\"d-1\",\"100\",\"300\",\"3\",\"550 no\",\"7776000\"],"
	    "[\"DUNLEASE\",\"d-1\",\"7000\"]]");
	free(s);

	/* Joined into one commit, each counter's ops fold into one; the
	 * rest keep their order. */
	{
		json_t	*all = json_array(), *one;
		int	 i;

		for (i = 0; i < 3; i++) {
			one = json_array();
			store_op_sent(one, i == 1 ? "d-2" : "d-1", "250 ok");
			store_op_count(one, i == 2 ? "sent:reminder" :
			    "sent:announcement");
			store_op_count(one, "sent:announcement");
			store_ops_join(all, one);
			json_decref(one);
		}
		s = store_dump(all);
		assert_string_equal(s, "["
		    "[\"DSENT\",\"d-1\",\"250 ok\",\"7776000\"],"
		    "[\"HINCRBY\",\"stats\",\"sent:announcement\",\"5\"],"
		    "[\"DSENT\",\"d-2\",\"250 ok\",\"7776000\"],"
		    "[\"DSENT\",\"d-1\",\"250 ok\",\"7776000\"],"
		    "[\"HINCRBY\",\"stats\",\"sent:reminder\",\"1\"]]");
		free(s);
		json_decref(all);
	}

	/* What the plan creates, as a lease would hand it out. */
	d = store_plan_deliveries(ops);
	assert_int_equal(json_array_size(d), 1);
	s = store_dump(d);
	assert_string_equal(s, "[{\"delivery\":{\"attempts\":\"0\","
	    "\"cid\":\"c-a\",\"created\":\"900\",\"data\":\"{}\","
	    "\"deadline\":\"2000\",\"due\":\"1000\",\"kind\":\"invitation\","
	    "\"mid\":\"m-1\",\"refs\":\"rec:meeting:m-1 rec:collaborator:c-a\","
	    "\"src\":\"m-1\",\"to\":\"\"},\"did\":\"inv:m-1:c-a:0\"}]");
	free(s);
	json_decref(d);
	json_decref(ops);

	/* Dead entries: a record's bytes kept whole, even a NUL. */
	ops = json_array();
	store_op_dead_record(ops, "bad", "2026-01-01T00:00:00Z", "{\0}", 3,
	    "1-0", "venue", "v-1");
	store_op_dead_delivery(ops, "refused for good", "2026", "d-1", "notice",
	    "", "1", "100", "100", "550 no");
	assert_int_equal(json_string_length(json_array_get(json_array_get(ops,
	    0), 7)), 3);
	json_array_set_new(json_array_get(ops, 0), 7, json_string("R"));
	s = store_dump(ops);
	assert_string_equal(s, "["
	    "[\"XADD\",\"dead\",\"error\",\"bad\",\"at\",\"2026-01-01T00:00:00Z\","
	    "\"record\",\"R\",\"entry\",\"1-0\",\"type\",\"venue\",\"id\",\"v-1\"],"
	    "[\"XADD\",\"dead\",\"error\",\"refused for good\",\"at\",\"2026\","
	    "\"delivery\",\"d-1\",\"kind\",\"notice\",\"collaborator\",\"\","
	    "\"attempts\",\"1\",\"first_try\",\"100\",\"last_try\",\"100\","
	    "\"last_reply\",\"550 no\"]]");
	free(s);
	json_decref(ops);
}

static void
test_dump(void **state)
{
	json_t	*v;
	char	*s;

	/* Keys sorted at every depth, compact, UTF-8 as is. */
	v = JSON("{'b':1,'a':{'z':[3,{'y':1,'x':2}],'c':null},"
	    "'\u00e9':'caf\u00e9'}");
	s = store_dump(v);
	assert_string_equal(s, "{\"a\":{\"c\":null,\"z\":[3,{\"x\":2,\"y\":1}]},"
	    "\"b\":1,\"\u00e9\":\"caf\u00e9\"}");
	free(s);
	json_decref(v);
	/* Same object built in another order: same bytes. */
	{
		json_t	*p = JSON("{'a':1,'b':2,'c':3}");
		json_t	*q = JSON("{'c':3,'a':1,'b':2}");
		char	*ps = store_dump(p), *qs = store_dump(q);

		assert_string_equal(ps, qs);
		free(ps);
		free(qs);
		json_decref(p);
		json_decref(q);
	}
	/* Not only objects. */
	v = json_string("x\"y");
	s = store_dump(v);
	assert_string_equal(s, "\"x\\\"y\"");
	free(s);
	json_decref(v);
}

static void
test_snap_put(void **state)
{
	json_t		*snap = json_object(), *m;
	struct err	 e;
	const char	 rec[] = "{\"record\":{\"id\":\"c-a\"},\"meta\":{}}";

	memset(&e, 0, sizeof e);
	assert_int_equal(store_snap_put_string(snap, "rec:collaborator:c-a",
	    rec, strlen(rec), &e), 0);
	assert_string_equal(json_string_value(json_object_get(
	    plan_snaprec(snap, "collaborator", "c-a"), "id")), "c-a");
	/* Only len bytes are read. */
	assert_int_equal(store_snap_put_string(snap, "n", "[1,2]garbage", 5,
	    &e), 0);
	assert_int_equal(json_array_size(json_object_get(snap, "n")), 2);

	memset(&e, 0, sizeof e);
	assert_int_equal(store_snap_put_string(snap, "rec:venue:v-1", "{oops",
	    5, &e), -1);
	assert_non_null(strstr(e.msg, "rec:venue:v-1"));
	assert_non_null(strstr(e.msg, "not JSON"));
	assert_null(json_object_get(snap, "rec:venue:v-1"));

	m = JSON("['c-a','c-b']");
	store_snap_put_set(snap, "group:g", m);
	assert_true(json_equal(json_object_get(snap, "group:g"), m));
	json_decref(m);	/* the snapshot holds its own reference */
	assert_int_equal(json_array_size(json_object_get(snap, "group:g")), 2);

	store_snap_put_null(snap, "group:none");
	assert_true(json_is_null(json_object_get(snap, "group:none")));
	/* Absent and null differ: null means "fetched, not there". */
	assert_null(json_object_get(snap, "group:other"));
	/* A later put replaces. */
	store_snap_put_null(snap, "group:g");
	assert_true(json_is_null(json_object_get(snap, "group:g")));
	json_decref(snap);
}

/* ------------------------------------------------------------------ */
/* With a real redis-server. */

/* The connection to redis_fixture.c's server, NULL without one. */
static redisContext	*rc;

static int
redis_setup(void **state)
{
	rc = redis_fixture_start("store");
	return 0;	/* without a server the tests skip */
}

static int
redis_teardown(void **state)
{
	redis_fixture_stop();
	rc = NULL;
	return 0;
}

static redisReply *
cmd(const char *fmt, ...)
{
	redisReply	*r;
	va_list		 ap;

	va_start(ap, fmt);
	r = redisvCommand(rc, fmt, ap);
	va_end(ap);
	if (r == NULL)
		fail_msg("redis: %s", rc->errstr);
	if (r->type == REDIS_REPLY_ERROR)
		fail_msg("redis: %s: %s", fmt, r->str);
	return r;
}

static long long
cmd_int(const char *fmt, ...)
{
	redisReply	*r;
	va_list		 ap;
	long long	 v;

	va_start(ap, fmt);
	r = redisvCommand(rc, fmt, ap);
	va_end(ap);
	if (r == NULL)
		fail_msg("redis: %s", rc->errstr);
	if (r->type != REDIS_REPLY_INTEGER)
		fail_msg("redis: %s: not an integer (%d %s)", fmt, r->type,
		    r->str ? r->str : "");
	v = r->integer;
	freeReplyObject(r);
	return v;
}

/* A string reply as a new string, or NULL for nil. */
static char *
cmd_str(const char *fmt, ...)
{
	redisReply	*r;
	va_list		 ap;
	char		*s = NULL;

	va_start(ap, fmt);
	r = redisvCommand(rc, fmt, ap);
	va_end(ap);
	if (r == NULL)
		fail_msg("redis: %s", rc->errstr);
	if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS)
		s = xstrndup(r->str, r->len);
	else if (r->type != REDIS_REPLY_NIL)
		fail_msg("redis: %s: not a string (%d)", fmt, r->type);
	freeReplyObject(r);
	return s;
}

static void
str_is(const char *want, const char *fmt, const char *arg)
{
	char *s = cmd_str(fmt, arg);

	if (want == NULL) {
		if (s != NULL)
			fail_msg("%s %s: got \"%s\", wanted nil", fmt, arg, s);
	} else {
		if (s == NULL)
			fail_msg("%s %s: nil, wanted \"%s\"", fmt, arg, want);
		assert_string_equal(s, want);
	}
	free(s);
}

/* Run a script the way the command does; an error reply comes back as a
 * REDIS_REPLY_ERROR-typed copy so that tests can look at it. */
static redisReply *
run(struct store_argv *a)
{
	redisReply	*r;
	struct err	 e;

	if ((r = store_call_sync(rc, a, &e)) != NULL)
		return r;
	if (strncmp(e.msg, "Redis: ", 7) != 0 || rc->err)
		fail_msg("redis: %s", e.msg);
	r = calloc(1, sizeof *r);
	r->type = REDIS_REPLY_ERROR;
	r->str = strdup(e.msg + 7);
	r->len = strlen(r->str);
	return r;
}

/* Commit ops (JSON text with '); returns the script's integer, -1 error. */
static long long
commit(const char *version, const char *entry, const char *ops_text,
    char *errbuf, size_t errlen)
{
	struct store_argv	 a;
	json_t			*ops = JSON(ops_text);
	redisReply		*r;
	long long		 v;

	store_commit_argv(PFX, version, entry, ops, &a);
	json_decref(ops);
	r = run(&a);
	if (r->type == REDIS_REPLY_ERROR) {
		if (errbuf == NULL)
			fail_msg("commit: %s", r->str);
		snprintf(errbuf, errlen, "%s", r->str);
		freeReplyObject(r);
		return -1;
	}
	if (r->type != REDIS_REPLY_INTEGER)
		fail_msg("commit: reply type %d", r->type);
	v = r->integer;
	freeReplyObject(r);
	return v;
}

static long long
commit_ok(const char *ops_text)
{
	return commit("", "", ops_text, NULL, 0);
}

/* A delivery's field as the scripts read it (fetch.lua's "#d:", every
 * field, whatever is stored: lib.lua), or NULL; the caller frees. */
static char *
dfield(const char *did, const char *f)
{
	struct store_argv	 a;
	json_t			*keys;
	redisReply		*r, *h;
	char			*v = NULL, *need = xasprintf("#d:%s", did);
	size_t			 i;

	keys = json_pack("[s]", need);
	free(need);
	store_fetch_argv(PFX, keys, &a);
	json_decref(keys);
	r = run(&a);
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2)
		fail_msg("fetch #d:%s: reply type %d", did, r->type);
	h = r->element[1];
	for (i = 0; h->type == REDIS_REPLY_ARRAY && i + 1 < h->elements; i += 2)
		if (strcmp(h->element[i]->str, f) == 0)
			v = xstrdup(h->element[i + 1]->str);
	freeReplyObject(r);
	return v;
}

static void
dfield_is(const char *want, const char *did, const char *f)
{
	char	*v = dfield(did, f);

	if (want == NULL && v != NULL)
		fail_msg("%s %s: got \"%s\", wanted none", did, f, v);
	if (want != NULL && v == NULL)
		fail_msg("%s %s: none, wanted \"%s\"", did, f, want);
	if (want != NULL)
		assert_string_equal(v, want);
	free(v);
}

static void
test_redis_fetch(void **state)
{
	struct store_argv	 a;
	json_t			*keys;
	redisReply		*r;

	NEED_REDIS();
	freeReplyObject(cmd("SET %s %s", K("rec:venue:v-1"), "{\"a\":1}"));
	freeReplyObject(cmd("SADD %s c-a c-b", K("group:g")));
	freeReplyObject(cmd("HSET %s state scheduled", K("d:x")));

	keys = JSON("['rec:venue:v-1','group:g','d:x','rec:venue:none']");
	store_fetch_argv(PFX, keys, &a);
	json_decref(keys);
	r = run(&a);
	assert_int_equal(r->type, REDIS_REPLY_ARRAY);
	assert_int_equal(r->elements, 5);
	assert_string_equal(r->element[0]->str, "0");	/* no version yet */
	assert_string_equal(r->element[1]->str, "{\"a\":1}");
	assert_int_equal(r->element[2]->type, REDIS_REPLY_ARRAY);
	assert_int_equal(r->element[2]->elements, 2);
	assert_int_equal(r->element[3]->type, REDIS_REPLY_ARRAY);
	assert_string_equal(r->element[3]->element[0]->str, "state");
	assert_string_equal(r->element[3]->element[1]->str, "scheduled");
	assert_int_equal(r->element[4]->type, REDIS_REPLY_NIL);
	freeReplyObject(r);

	/* Merged into a snapshot: a record, a set, a hash (as its flat
	 * array, which the planner never asks for) and an absent key. */
	{
		json_t		*snap = json_object(), *need;
		char		 version[32];
		struct err	 e;

		need = JSON("['rec:venue:v-1','group:g','d:x','rec:venue:none']");
		store_fetch_argv(PFX, need, &a);
		r = run(&a);
		assert_int_equal(store_snap_merge(snap, need, r, version,
		    sizeof version, &e), 0);
		freeReplyObject(r);
		assert_string_equal(version, "0");
		assert_int_equal(json_integer_value(json_object_get(
		    json_object_get(snap, "rec:venue:v-1"), "a")), 1);
		assert_int_equal(json_array_size(json_object_get(snap,
		    "group:g")), 2);
		assert_int_equal(json_array_size(json_object_get(snap, "d:x")),
		    2);
		assert_true(json_is_null(json_object_get(snap,
		    "rec:venue:none")));
		/* A stored value that is not JSON: null, and counted. */
		freeReplyObject(cmd("SET %s %s", K("rec:venue:v-1"), "{oops"));
		store_fetch_argv(PFX, need, &a);
		r = run(&a);
		assert_int_equal(store_snap_merge(snap, need, r, NULL, 0, &e), 1);
		assert_non_null(strstr(e.msg, "rec:venue:v-1"));
		assert_true(json_is_null(json_object_get(snap,
		    "rec:venue:v-1")));
		/* Not a fetch reply (more values than keys asked for). */
		json_array_remove(need, 0);
		assert_int_equal(store_snap_merge(snap, need, r, NULL, 0, &e),
		    -1);
		freeReplyObject(r);
		json_decref(need);
		json_decref(snap);
	}

	freeReplyObject(cmd("SET %s 17", K("version")));
	keys = json_array();
	store_fetch_argv(PFX, keys, &a);
	json_decref(keys);
	r = run(&a);
	assert_int_equal(r->elements, 1);
	assert_string_equal(r->element[0]->str, "17");
	freeReplyObject(r);
}

/*
 * The scripts are named by the SHA-1 Redis computes for their text, run
 * with EVALSHA, and sent whole (EVAL, which loads them) only when Redis
 * answers NOSCRIPT: the first time, and after a SCRIPT FLUSH.
 */
static void
test_redis_evalsha(void **state)
{
	struct store_argv	 a[4];
	json_t			*keys = json_array(), *ops = json_array();
	redisReply		*r;
	char			*sha;
	int			 i;

	NEED_REDIS();
	freeReplyObject(cmd("SCRIPT FLUSH"));
	store_fetch_argv(PFX, keys, &a[0]);
	store_commit_argv(PFX, "", "", ops, &a[1]);
	store_lease_argv(PFX, 1000, 60000, 1, 1, &a[2]);
	store_digest_argv(PFX, 1000, 10, 10, "jo@example.org", 10, &a[3]);
	for (i = 0; i < 4; i++) {
		assert_string_equal(a[i].argv[0], "EVALSHA");
		r = redisCommand(rc, "SCRIPT EXISTS %s", a[i].argv[1]);
		assert_int_equal(r->element[0]->integer, 0);
		freeReplyObject(r);
		sha = cmd_str("SCRIPT LOAD %s", a[i].script);
		assert_string_equal(sha, a[i].argv[1]);
		free(sha);
		store_argv_free(&a[i]);
	}
	/* Flushed: the next call falls back to EVAL, which loads it. */
	freeReplyObject(cmd("SCRIPT FLUSH"));
	freeReplyObject(cmd("SET %s 9", K("version")));
	store_fetch_argv(PFX, keys, &a[0]);
	sha = xstrdup(a[0].argv[1]);
	r = run(&a[0]);
	assert_int_equal(r->type, REDIS_REPLY_ARRAY);
	assert_string_equal(r->element[0]->str, "9");
	freeReplyObject(r);
	r = cmd("SCRIPT EXISTS %s", sha);
	assert_int_equal(r->element[0]->integer, 1);
	freeReplyObject(r);
	free(sha);
	json_decref(keys);
	json_decref(ops);
}

static void
test_redis_dnew_once(void **state)
{
	NEED_REDIS();
	assert_int_equal(commit_ok("[['DNEW','inv:m-1:c-a','1000','c-a','m-1',"
	    "'kind','invitation','refs','rec:meeting:m-1']]"), 1);
	/* The same id again, with other values: nothing changes. */
	assert_int_equal(commit_ok("[['DNEW','inv:m-1:c-a','5000','c-b','m-2',"
	    "'kind','other','refs','x']]"), 1);
	str_is("scheduled", "HGET " K("d:inv:m-1:c-a") " %s", "state");
	str_is("1000", "HGET " K("d:inv:m-1:c-a") " %s", "due");
	str_is("c-a", "HGET " K("d:inv:m-1:c-a") " %s", "cid");
	str_is("m-1", "HGET " K("d:inv:m-1:c-a") " %s", "mid");
	str_is("invitation", "HGET " K("d:inv:m-1:c-a") " %s", "kind");
	str_is("rec:meeting:m-1", "HGET " K("d:inv:m-1:c-a") " %s", "refs");
	assert_int_equal(cmd_int("ZCARD %s", K("schedule")), 1);
	str_is("1000", "ZSCORE " K("schedule") " %s", "inv:m-1:c-a");
	assert_int_equal(cmd_int("SISMEMBER %s %s", K("cd:c-a"),
	    "inv:m-1:c-a"), 1);
	assert_int_equal(cmd_int("SISMEMBER %s %s", K("md:m-1"),
	    "inv:m-1:c-a"), 1);
	assert_int_equal(cmd_int("EXISTS %s %s", K("cd:c-b"), K("md:m-2")), 0);

	/* A notice: no collaborator, no meeting, no index sets. */
	assert_int_equal(commit_ok("[['DNEW','notice:x','2000','','',"
	    "'kind','notice','to','jo@example.org']]"), 1);
	assert_int_equal(cmd_int("ZCARD %s", K("schedule")), 2);
	assert_int_equal(cmd_int("EXISTS %s %s", K("cd:"), K("md:")), 0);
	/* Not the version: "" means no check and no bump. */
	str_is(NULL, "GET %s", K("version"));
}

static void
test_redis_version(void **state)
{
	char	err[256];

	NEED_REDIS();
	assert_int_equal(commit("0", "", "[['SET','a','1']]", err, sizeof err),
	    1);
	str_is("1", "GET %s", K("version"));
	str_is("1", "GET %s", K("a"));
	/* Stale: nothing at all is applied. */
	assert_int_equal(commit("0", "", "[['SET','a','2'],['SADD','s','m'],"
	    "['DNEW','d-1','1','c-a','','kind','x']]", err, sizeof err), 0);
	str_is("1", "GET %s", K("a"));
	assert_int_equal(cmd_int("EXISTS %s %s %s", K("s"), K("d:d-1"),
	    K("schedule")), 0);
	str_is("1", "GET %s", K("version"));
	/* Current: applied, and the version moves on. */
	assert_int_equal(commit("1", "", "[['SET','a','3']]", err, sizeof err),
	    1);
	str_is("3", "GET %s", K("a"));
	str_is("2", "GET %s", K("version"));
}

/* Add one inbox entry and read it as a consumer: it is pending. */
static char *
inbox_entry(void)
{
	redisReply	*r;
	char		*id;

	r = redisCommand(rc, "XGROUP CREATE %s %s $ MKSTREAM", K("inbox"),
	    STORE_INBOX_GROUP);
	freeReplyObject(r);	/* BUSYGROUP the second time: fine */
	r = cmd("XADD %s * record %s", K("inbox"), "{\"type\":\"venue\"}");
	id = xstrdup(r->str);
	freeReplyObject(r);
	freeReplyObject(cmd("XREADGROUP GROUP %s t1 COUNT 10 STREAMS %s >",
	    STORE_INBOX_GROUP, K("inbox")));
	return id;
}

static long long
pending(void)
{
	redisReply	*r = cmd("XPENDING %s %s", K("inbox"), STORE_INBOX_GROUP);
	long long	 n = r->element[0]->integer;

	freeReplyObject(r);
	return n;
}

/* XPENDING's summary read by store_inbox_oldest_id: none pending, then
 * the oldest of two, then none again. */
static void
test_redis_oldest(void **state)
{
	redisReply	*r;
	char		*a, *b, buf[64];

	NEED_REDIS();
	freeReplyObject(redisCommand(rc, "XGROUP CREATE %s %s $ MKSTREAM",
	    K("inbox"), STORE_INBOX_GROUP));
	r = cmd("XPENDING %s %s", K("inbox"), STORE_INBOX_GROUP);
	assert_int_equal(store_inbox_oldest_id(r, buf, sizeof buf), 0);
	freeReplyObject(r);
	a = inbox_entry();
	b = inbox_entry();
	r = cmd("XPENDING %s %s", K("inbox"), STORE_INBOX_GROUP);
	assert_int_equal(store_inbox_oldest_id(r, buf, sizeof buf), 1);
	assert_string_equal(buf, a);
	assert_int_equal(store_inbox_oldest_id(r, buf, 3), -1);
	freeReplyObject(r);
	freeReplyObject(cmd("XACK %s %s %s", K("inbox"), STORE_INBOX_GROUP,
	    a));
	r = cmd("XPENDING %s %s", K("inbox"), STORE_INBOX_GROUP);
	assert_int_equal(store_inbox_oldest_id(r, buf, sizeof buf), 1);
	assert_string_equal(buf, b);
	freeReplyObject(r);
	r = cmd("PING");
	assert_int_equal(store_inbox_oldest_id(r, buf, sizeof buf), -1);
	freeReplyObject(r);
	free(a);
	free(b);
}

static void
test_redis_ack(void **state)
{
	char	*id, err[256];

	NEED_REDIS();
	id = inbox_entry();
	assert_int_equal(pending(), 1);
	assert_int_equal(cmd_int("XLEN %s", K("inbox")), 1);

	/* A stale version: the entry stays pending, nothing stored. */
	assert_int_equal(commit("5", id, "[['SET','rec:venue:v-1','{}']]",
	    err, sizeof err), 0);
	assert_int_equal(pending(), 1);
	assert_int_equal(cmd_int("XLEN %s", K("inbox")), 1);
	str_is(NULL, "GET %s", K("rec:venue:v-1"));

	/* The right one: stored, acknowledged and deleted, in one step. */
	assert_int_equal(commit("0", id, "[['SET','rec:venue:v-1','{}']]",
	    err, sizeof err), 1);
	str_is("{}", "GET %s", K("rec:venue:v-1"));
	assert_int_equal(pending(), 0);
	assert_int_equal(cmd_int("XLEN %s", K("inbox")), 0);
	free(id);

	/* A rejected record is acknowledged without a version check. */
	id = inbox_entry();
	assert_int_equal(commit("", id, "[['XADD','dead','error','bad',"
	    "'record','{}']]", err, sizeof err), 1);
	assert_int_equal(pending(), 0);
	assert_int_equal(cmd_int("XLEN %s", K("inbox")), 0);
	assert_int_equal(cmd_int("XLEN %s", K("dead")), 1);
	free(id);

	/* A script error: the entry is not acknowledged. */
	id = inbox_entry();
	assert_int_equal(commit("", id, "[['NOSUCHOP','x']]", err, sizeof err),
	    -1);
	assert_non_null(strstr(err, "unknown op NOSUCHOP"));
	assert_int_equal(pending(), 1);
	free(id);
}

/* Several records committed together leave the inbox together. */
static void
test_redis_ack_many(void **state)
{
	char	*a, *b, *c, both[128], err[256];

	NEED_REDIS();
	a = inbox_entry();
	b = inbox_entry();
	c = inbox_entry();
	assert_int_equal(pending(), 3);
	snprintf(both, sizeof both, "%s %s", a, c);
	/* Stale: none of them goes. */
	assert_int_equal(commit("7", both, "[['SET','x','1']]", err,
	    sizeof err), 0);
	assert_int_equal(pending(), 3);
	assert_int_equal(commit("0", both, "[['SET','x','1']]", err,
	    sizeof err), 1);
	assert_int_equal(pending(), 1);
	assert_int_equal(cmd_int("XLEN %s", K("inbox")), 1);
	/* The one left is b. */
	{
		redisReply *r = cmd("XRANGE %s - +", K("inbox"));

		assert_string_equal(r->element[0]->element[0]->str, b);
		freeReplyObject(r);
	}
	free(a);
	free(b);
	free(c);
}

/* Run page.lua and parse its reply. */
static int
page_call(struct store_argv *a, json_t *snap, char *cursor, json_t **ids)
{
	redisReply	*r = run(a);
	struct err	 e;
	int		 n;

	n = store_page_parse(r, cursor, 32, snap, ids, &e);
	freeReplyObject(r);
	return n;
}

/*
 * page.lua: a set read in pages that together hold every member (SSCAN),
 * each page small; or a list of ids. With records: each member's record,
 * null when there is none, and forgotten ones listed.
 */
static void
test_redis_page(void **state)
{
	struct store_argv	 a;
	json_t			*snap, *ids, *seen, *v, *list;
	char			 cursor[32], id[32];
	size_t			 i;
	int			 n, pages = 0, biggest = 0;

	NEED_REDIS();
	for (n = 0; n < 1000; n++) {
		snprintf(id, sizeof id, "c-%04d", n);
		freeReplyObject(cmd("SADD %s %s", K("group:big"), id));
		if (n % 10 != 0)
			freeReplyObject(cmd("SET %s%s {\"record\":{\"id\":\"%s\","
			    "\"consent\":true}}", K("rec:collaborator:"), id,
			    id));
	}
	freeReplyObject(cmd("SADD %s c-0000", K("forgotten")));
	seen = json_object();
	snap = json_object();
	snprintf(cursor, sizeof cursor, "0");
	do {
		store_page_argv(PFX, 1, "group:big", cursor, 100, &a);
		assert_int_equal(page_call(&a, snap, cursor, &ids), 0);
		json_array_foreach(ids, i, v)
			json_object_set_new(seen, json_string_value(v),
			    json_true());
		if ((int)json_array_size(ids) > biggest)
			biggest = json_array_size(ids);
		json_decref(ids);
		pages++;
	} while (strcmp(cursor, "0") != 0);
	assert_int_equal(json_object_size(seen), 1000);
	assert_true(pages >= 5);
	assert_true(biggest <= 400);	/* COUNT is a hint, not a promise */
	assert_true(json_is_object(json_object_get(snap,
	    "rec:collaborator:c-0001")));
	assert_true(json_is_null(json_object_get(snap,
	    "rec:collaborator:c-0010")));
	assert_true(json_is_null(json_object_get(snap,
	    "rec:collaborator:c-0000")));
	assert_int_equal(json_array_size(json_object_get(snap, "forgotten")),
	    1);
	assert_string_equal(json_string_value(json_array_get(json_object_get(
	    snap, "forgotten"), 0)), "c-0000");
	json_decref(seen);
	json_decref(snap);

	/* Without records: ids only. */
	snap = json_object();
	store_page_argv(PFX, 0, "group:big", "0", 50, &a);
	assert_int_equal(page_call(&a, snap, cursor, &ids), 0);
	assert_true(json_array_size(ids) > 0);
	assert_true(json_is_null(json_object_get(snap, "rec:collaborator:"
	    "c-0001")) || json_object_get(snap, "rec:collaborator:c-0001") ==
	    NULL);
	json_decref(ids);
	json_decref(snap);

	/* A missing set, or a key that is not a set: done, empty. */
	snap = json_object();
	store_page_argv(PFX, 1, "group:none", "0", 50, &a);
	assert_int_equal(page_call(&a, snap, cursor, &ids), 0);
	assert_string_equal(cursor, "0");
	assert_int_equal(json_array_size(ids), 0);
	json_decref(ids);
	freeReplyObject(cmd("SET %s x", K("group:str")));
	store_page_argv(PFX, 1, "group:str", "0", 50, &a);
	assert_int_equal(page_call(&a, snap, cursor, &ids), 0);
	assert_int_equal(json_array_size(ids), 0);
	json_decref(ids);

	/* A list of ids, in order; a stored value that is not JSON is
	 * null and counted. */
	freeReplyObject(cmd("SET %s %s", K("rec:collaborator:c-bad"), "{oops"));
	list = JSON("['c-0002','c-0000','c-zed','c-bad']");
	store_page_ids_argv(PFX, 1, list, &a);
	assert_int_equal(page_call(&a, snap, cursor, &ids), 1);
	assert_true(json_equal(ids, list));
	assert_string_equal(cursor, "0");
	assert_true(json_is_object(json_object_get(snap,
	    "rec:collaborator:c-0002")));
	assert_true(json_is_null(json_object_get(snap,
	    "rec:collaborator:c-zed")));
	assert_true(json_is_null(json_object_get(snap,
	    "rec:collaborator:c-bad")));
	assert_int_equal(json_array_size(json_object_get(snap, "forgotten")),
	    1);
	json_decref(ids);
	json_decref(list);
	json_decref(snap);
}

static void
fan_op(json_t *ops, const char *cid, long long due, const char *ver)
{
	struct store_delivery	 d;
	char			*did = store_did("ann", "a-1", cid, NULL);

	memset(&d, 0, sizeof d);
	d.did = did;
	d.kind = "announcement";
	d.cid = cid;
	d.mid = "";
	d.due_ms = due;
	d.deadline_ms = due + 1000;
	d.created_ms = 1;
	d.refs = "rec:announcement:a-1";
	d.src = "a-1";
	store_op_fan(ops, &d, ver);
	free(did);
}

static long long
commit_ops(json_t *ops)
{
	struct store_argv	 a;
	redisReply		*r;
	long long		 v;

	store_commit_argv(PFX, "", "", ops, &a);
	r = run(&a);
	if (r->type != REDIS_REPLY_INTEGER)
		fail_msg("commit: %s", r->type == REDIS_REPLY_ERROR ? r->str :
		    "not an integer");
	v = r->integer;
	freeReplyObject(r);
	json_decref(ops);
	return v;
}

/*
 * A fan-out's ops: DFAN creates a delivery once, only for a consenting
 * collaborator; one from another version becomes this one's and moves to
 * the new due time unless leased; DDELOLD drops what another version left
 * pending; IFMARK stops a page of a version that is no longer current.
 */
static void
test_redis_fanout_ops(void **state)
{
	json_t	*ops;

	NEED_REDIS();
	freeReplyObject(cmd("SET %s %s", K("rec:collaborator:c-a"),
	    "{\"record\":{\"consent\":true}}"));
	freeReplyObject(cmd("SET %s %s", K("rec:collaborator:c-b"),
	    "{\"record\":{\"consent\":true}}"));
	freeReplyObject(cmd("SET %s %s", K("rec:collaborator:c-n"),
	    "{\"record\":{\"consent\":false}}"));
	freeReplyObject(cmd("SET %s %s", K("rec:collaborator:c-j"), "{oops"));
	/* Words that look like consent inside a string are not consent. */
	freeReplyObject(cmd("SET %s %s", K("rec:collaborator:c-w"),
	    "{\"record\":{\"consent\":false,\"name\":"
	    "\"\\\"consent\\\":true\"}}"));
	/* Not compact: read the slow way, still consent. */
	freeReplyObject(cmd("SET %s %s", K("rec:collaborator:c-s"),
	    "{\"record\": {\"consent\": true}}"));

	ops = json_array();
	store_op_mark(ops, "announcement", "a-1", "1-0", "[]");
	fan_op(ops, "c-a", 1000, "1-0");
	fan_op(ops, "c-b", 1000, "1-0");
	fan_op(ops, "c-n", 1000, "1-0");	/* no consent */
	fan_op(ops, "c-j", 1000, "1-0");	/* not JSON */
	fan_op(ops, "c-gone", 1000, "1-0");	/* no record */
	fan_op(ops, "c-w", 1000, "1-0");	/* no consent */
	fan_op(ops, "c-s", 1000, "1-0");
	assert_int_equal(commit_ops(ops), 1);
	str_is("1-0", "HGET " K("fanout:announcement:a-1") " %s", "ver");
	str_is("[]", "HGET " K("fanout:announcement:a-1") " %s", "old");
	assert_int_equal(cmd_int("EXISTS %s", K("d:ann:a-1:c-w")), 0);
	assert_int_equal(cmd_int("EXISTS %s", K("d:ann:a-1:c-s")), 1);
	freeReplyObject(cmd("DEL %s", K("d:ann:a-1:c-s")));
	freeReplyObject(cmd("ZREM %s ann:a-1:c-s", K("schedule")));
	freeReplyObject(cmd("SREM %s ann:a-1:c-s", K("cd:c-s")));
	assert_int_equal(cmd_int("ZCARD %s", K("schedule")), 2);
	str_is("scheduled", "HGET " K("d:ann:a-1:c-a") " %s", "state");
	str_is("1-0", "HGET " K("d:ann:a-1:c-a") " %s", "ver");
	/* The kind is in the id: read, not stored (lib.lua). */
	dfield_is("announcement", "ann:a-1:c-a", "kind");
	str_is(NULL, "HGET " K("d:ann:a-1:c-a") " %s", "kind");
	str_is("2000", "HGET " K("d:ann:a-1:c-a") " %s", "deadline");
	assert_int_equal(cmd_int("SISMEMBER %s %s", K("cd:c-a"), "ann:a-1:c-a"),
	    1);
	assert_int_equal(cmd_int("EXISTS %s %s %s", K("d:ann:a-1:c-n"),
	    K("d:ann:a-1:c-j"), K("d:ann:a-1:c-gone")), 0);

	/* The same page again (a resumed fan-out): nothing moves. */
	freeReplyObject(cmd("ZADD %s 99999 ann:a-1:c-a", K("schedule")));
	ops = json_array();
	store_op_ifmark(ops, "announcement", "a-1", "1-0");
	fan_op(ops, "c-a", 1500, "1-0");
	assert_int_equal(commit_ops(ops), 1);
	str_is("1000", "HGET " K("d:ann:a-1:c-a") " %s", "due");
	str_is("99999", "ZSCORE " K("schedule") " %s", "ann:a-1:c-a");

	/* c-b is sent; c-a is leased (score past its due). */
	freeReplyObject(cmd("HSET %s state sent", K("d:ann:a-1:c-b")));
	freeReplyObject(cmd("ZREM %s ann:a-1:c-b", K("schedule")));

	/* A page of version 1-0 once 2-0 has taken over: nothing applied. */
	ops = json_array();
	store_op_mark(ops, "announcement", "a-1", "2-0", "[{}]");
	assert_int_equal(commit_ops(ops), 1);
	ops = json_array();
	store_op_ifmark(ops, "announcement", "a-1", "1-0");
	fan_op(ops, "c-new", 1000, "1-0");
	store_op_count(ops, "x");
	assert_int_equal(commit_ops(ops), 2);
	assert_int_equal(cmd_int("HEXISTS %s x", K("stats")), 0);

	/* Version 2-0, due 5000: the leased one becomes 2-0's but stays
	 * where its lease put it; the sent one stays sent. */
	freeReplyObject(cmd("SET %s %s", K("rec:collaborator:c-c"),
	    "{\"record\":{\"consent\":true}}"));
	ops = json_array();
	store_op_ifmark(ops, "announcement", "a-1", "2-0");
	fan_op(ops, "c-a", 5000, "2-0");
	fan_op(ops, "c-b", 5000, "2-0");
	fan_op(ops, "c-c", 5000, "2-0");
	assert_int_equal(commit_ops(ops), 1);
	str_is("2-0", "HGET " K("d:ann:a-1:c-a") " %s", "ver");
	str_is("5000", "HGET " K("d:ann:a-1:c-a") " %s", "due");
	str_is("6000", "HGET " K("d:ann:a-1:c-a") " %s", "deadline");
	str_is("99999", "ZSCORE " K("schedule") " %s", "ann:a-1:c-a");
	str_is("sent", "HGET " K("d:ann:a-1:c-b") " %s", "state");
	str_is("1-0", "HGET " K("d:ann:a-1:c-b") " %s", "ver");
	str_is(NULL, "ZSCORE " K("schedule") " %s", "ann:a-1:c-b");
	str_is("5000", "ZSCORE " K("schedule") " %s", "ann:a-1:c-c");

	/* A pending one from 1-0 that is not leased moves to the new due. */
	freeReplyObject(cmd("HSET %s state scheduled ver 1-0 due 1000 cid c-d",
	    K("d:ann:a-1:c-d")));
	freeReplyObject(cmd("ZADD %s 1000 ann:a-1:c-d", K("schedule")));
	freeReplyObject(cmd("SET %s %s", K("rec:collaborator:c-d"),
	    "{\"record\":{\"consent\":true}}"));
	ops = json_array();
	fan_op(ops, "c-d", 5000, "2-0");
	assert_int_equal(commit_ops(ops), 1);
	str_is("5000", "ZSCORE " K("schedule") " %s", "ann:a-1:c-d");

	/* Withdrawn: pending and not 2-0's (c-e, and one with no version
	 * at all, as made before fan-outs had versions); 2-0's and sent ones
	 * stay. */
	freeReplyObject(cmd("HSET %s state scheduled ver 1-0 cid c-e",
	    K("d:ann:a-1:c-e")));
	freeReplyObject(cmd("ZADD %s 1000 ann:a-1:c-e", K("schedule")));
	freeReplyObject(cmd("SADD %s ann:a-1:c-e", K("cd:c-e")));
	freeReplyObject(cmd("HSET %s state scheduled cid c-f",
	    K("d:ann:a-1:c-f")));
	freeReplyObject(cmd("ZADD %s 1000 ann:a-1:c-f", K("schedule")));
	ops = json_array();
	store_op_drop_stale(ops, "ann:a-1:c-a", "2-0");
	store_op_drop_stale(ops, "ann:a-1:c-b", "2-0");
	store_op_drop_stale(ops, "ann:a-1:c-e", "2-0");
	store_op_drop_stale(ops, "ann:a-1:c-f", "2-0");
	store_op_drop_stale(ops, "ann:a-1:c-none", "2-0");
	assert_int_equal(commit_ops(ops), 1);
	assert_int_equal(cmd_int("EXISTS %s", K("d:ann:a-1:c-a")), 1);
	str_is("sent", "HGET " K("d:ann:a-1:c-b") " %s", "state");
	assert_int_equal(cmd_int("EXISTS %s %s", K("d:ann:a-1:c-e"),
	    K("d:ann:a-1:c-f")), 0);
	str_is(NULL, "ZSCORE " K("schedule") " %s", "ann:a-1:c-e");
	assert_int_equal(cmd_int("EXISTS %s", K("cd:c-e")), 0);

	/* The marker goes only for its own version. */
	ops = json_array();
	store_op_unmark(ops, "announcement", "a-1", "1-0");
	assert_int_equal(commit_ops(ops), 1);
	assert_int_equal(cmd_int("EXISTS %s", K("fanout:announcement:a-1")), 1);
	ops = json_array();
	store_op_unmark(ops, "announcement", "a-1", "2-0");
	assert_int_equal(commit_ops(ops), 1);
	assert_int_equal(cmd_int("EXISTS %s", K("fanout:announcement:a-1")), 0);
	/* No marker at all: IFMARK fails. */
	ops = json_array();
	store_op_ifmark(ops, "announcement", "a-1", "2-0");
	assert_int_equal(commit_ops(ops), 2);
}

/* A marker as a fetch returns it (a hash's flat array). */
static void
test_mark_parse(void **state)
{
	json_t	*v, *m;

	v = JSON("['ver','1-0','old','[{\\'groups\\':[\\'g\\']}]']");
	m = store_mark_parse(v);
	assert_non_null(m);
	assert_string_equal(json_string_value(json_object_get(m, "ver")),
	    "1-0");
	assert_int_equal(json_array_size(json_object_get(m, "old")), 1);
	json_decref(m);
	json_decref(v);
	v = JSON("['old','[]']");
	assert_null(store_mark_parse(v));
	json_decref(v);
	v = JSON("['ver','1-0','old','not json']");
	m = store_mark_parse(v);
	assert_int_equal(json_array_size(json_object_get(m, "old")), 0);
	json_decref(m);
	json_decref(v);
	assert_null(store_mark_parse(json_null()));
	assert_null(store_mark_parse(NULL));
}

/* Promote at now; returns the reply (caller frees). */
static redisReply *
promote(long long now, long long lease, int max)
{
	struct store_argv	 a;
	redisReply		*r;

	store_lease_argv(PFX, now, lease, max, 1, &a);
	r = run(&a);
	if (r->type != REDIS_REPLY_ARRAY || r->elements < 1)
		fail_msg("promote: reply type %d %s", r->type,
		    r->type == REDIS_REPLY_ERROR ? r->str : "");
	return r;
}

/* A field of a promoted delivery's hash (flat array). */
static const char *
hfield(redisReply *h, const char *f)
{
	size_t	i;

	for (i = 0; i + 1 < h->elements; i += 2)
		if (strcmp(h->element[i]->str, f) == 0)
			return h->element[i + 1]->str;
	return NULL;
}

static void
test_redis_promote(void **state)
{
	redisReply	*r, *d, *refs;

	NEED_REDIS();
	/* Nothing scheduled: no next due. */
	r = promote(1000, 60000, 10);
	assert_int_equal(r->elements, 1);
	assert_string_equal(r->element[0]->str, "");
	freeReplyObject(r);

	commit_ok("[['DNEW','a','1000','c-a','m-1','kind','reminder',"
	    "'refs','rec:meeting:m-1 rec:missing']]");
	commit_ok("[['DNEW','b','5000','c-b','','kind','announcement',"
	    "'refs','']]");
	commit_ok("[['DNEW','c','1500','c-c','','kind','announcement']]");
	commit_ok("[['SET','rec:meeting:m-1','{\\'id\\':1}']]");
	/* On the schedule without a hash: dropped, never handed out. */
	freeReplyObject(cmd("ZADD %s 500 orphan", K("schedule")));

	r = promote(2000, 60000, 10);
	assert_int_equal(r->elements, 3);
	/* b (5000) is the next due once a and c are leased. */
	assert_string_equal(r->element[0]->str, "5000");
	d = r->element[1];
	assert_int_equal(d->elements, 3);
	assert_string_equal(d->element[0]->str, "a");
	assert_string_equal(hfield(d->element[1], "state"), "scheduled");
	assert_string_equal(hfield(d->element[1], "cid"), "c-a");
	assert_string_equal(hfield(d->element[1], "kind"), "reminder");
	assert_string_equal(hfield(d->element[1], "due"), "1000");
	refs = d->element[2];
	assert_int_equal(refs->elements, 4);
	assert_string_equal(refs->element[0]->str, "rec:meeting:m-1");
	assert_string_equal(refs->element[1]->str, "{\"id\":1}");
	assert_string_equal(refs->element[2]->str, "rec:missing");
	assert_string_equal(refs->element[3]->str, "");
	d = r->element[2];
	assert_string_equal(d->element[0]->str, "c");
	assert_int_equal(d->element[2]->elements, 0);
	freeReplyObject(r);

	str_is("62000", "ZSCORE " K("schedule") " %s", "a");
	str_is("62000", "ZSCORE " K("schedule") " %s", "c");

	/* Parsed, as the scheduler takes it. */
	{
		json_t		*items;
		long long	 next;
		char		*s;

		freeReplyObject(cmd("ZADD %s 1000 a", K("schedule")));
		r = promote(2000, 60000, 1);
		items = store_lease_parse(r, &next);
		freeReplyObject(r);
		assert_int_equal(next, 5000);
		assert_int_equal(json_array_size(items), 1);
		json_object_del(json_object_get(json_array_get(items, 0),
		    "delivery"), "leases");
		s = store_dump(items);
		/* Every field: those not stored are the defaults. */
		assert_string_equal(s, "[{\"delivery\":{\"attempts\":\"0\","
		    "\"cid\":\"c-a\",\"data\":\"{}\","
		    "\"due\":\"1000\",\"kind\":\"reminder\",\"mid\":\"m-1\","
		    "\"refs\":\"rec:meeting:m-1 rec:missing\","
		    "\"state\":\"scheduled\",\"to\":\"\"},\"did\":\"a\","
		    "\"records\":{"
		    "\"rec:meeting:m-1\":{\"id\":1},\"rec:missing\":null}}]");
		free(s);
		json_decref(items);
		items = store_lease_parse(NULL, &next);
		assert_int_equal(json_array_size(items), 0);
		assert_int_equal(next, 0);
		json_decref(items);
		/* Back as it was for the rest of the test (one lease). */
		freeReplyObject(cmd("DEL %s", K("d:a")));
		freeReplyObject(cmd("HSET %s leases 1 state scheduled cid c-a "
		    "mid m-1 due 1000 kind reminder refs %s", K("d:a"),
		    "rec:meeting:m-1 rec:missing"));
	}
	str_is("5000", "ZSCORE " K("schedule") " %s", "b");
	str_is(NULL, "ZSCORE " K("schedule") " %s", "orphan");
	str_is("1", "HGET " K("d:a") " %s", "leases");

	/* Leased ones are not handed out again within the lease. */
	r = promote(3000, 60000, 10);
	assert_int_equal(r->elements, 1);
	assert_string_equal(r->element[0]->str, "5000");
	freeReplyObject(r);

	/* max limits how many; the next due is then the one left. */
	r = promote(6000, 60000, 1);
	assert_int_equal(r->elements, 2);
	assert_string_equal(r->element[1]->element[0]->str, "b");
	assert_string_equal(r->element[0]->str, "62000");
	freeReplyObject(r);

	/* After the lease runs out (a crash), they come back. */
	r = promote(62000, 60000, 10);
	assert_int_equal(r->elements, 3);
	assert_string_equal(r->element[0]->str, "66000");
	freeReplyObject(r);
	str_is("2", "HGET " K("d:a") " %s", "leases");

	/* DUNLEASE gives one back at the given time. */
	commit_ok("[['DUNLEASE','a','7000']]");
	str_is("7000", "ZSCORE " K("schedule") " %s", "a");

	/* Real epoch milliseconds survive Lua's number formatting. */
	commit_ok("[['DNEW','big','1795000000001','c-a','','kind','x']]");
	r = promote(1795000000123LL, 60000, 10);
	freeReplyObject(r);
	str_is("1795000060123", "ZSCORE " K("schedule") " %s", "big");
	r = promote(1795000000124LL, 60000, 10);
	assert_string_equal(r->element[0]->str, "1795000060123");
	freeReplyObject(r);
}

/* The gauges: one script, the same numbers for /metrics and status. */
static void
test_redis_gauges(void **state)
{
	struct store_argv	 a;
	struct store_gauges	 g;
	redisReply		*r;

	NEED_REDIS();
	store_gauges_argv(PFX, 1000, &a);
	r = run(&a);
	assert_int_equal(store_gauges_parse(r, &g), 0);
	freeReplyObject(r);
	assert_int_equal(g.inbox_backlog + g.scheduled + g.next_due_ms +
	    g.dead + g.said_open + g.said_overdue, 0);
	assert_int_equal(json_object_size(g.sent), 0);
	store_gauges_clear(&g);

	freeReplyObject(cmd("XADD %s * record x", K("inbox")));
	freeReplyObject(cmd("XADD %s * record y", K("inbox")));
	freeReplyObject(cmd("XADD %s * error e", K("dead")));
	commit_ok("[['DNEW','a','1795000000123','c-a','','kind','x'],"
	    "['DNEW','b','1795000009999','c-b','','kind','x'],"
	    "['ZADD','said:open','500','s-1'],['ZADD','said:open','999','s-2'],"
	    "['ZADD','said:open','1001','s-3'],"
	    "['HSET','stats','sent:reminder','3','rejected','2',"
	    "'sent:announcement','1']]");
	store_gauges_argv(PFX, 1000, &a);
	r = run(&a);
	assert_int_equal(store_gauges_parse(r, &g), 0);
	freeReplyObject(r);
	assert_int_equal(g.inbox_backlog, 2);
	assert_int_equal(g.scheduled, 2);
	assert_int_equal(g.next_due_ms, 1795000000123LL);
	assert_int_equal(g.dead, 1);
	assert_int_equal(g.said_open, 3);
	assert_int_equal(g.said_overdue, 2);
	assert_int_equal(json_object_size(g.sent), 2);
	assert_int_equal(json_integer_value(json_object_get(g.sent,
	    "reminder")), 3);
	assert_int_equal(json_integer_value(json_object_get(g.sent,
	    "announcement")), 1);
	store_gauges_clear(&g);
	assert_null(g.sent);
	assert_int_equal(store_gauges_parse(NULL, &g), -1);
}

/* The command's operations: queue, read, drop and retry dead entries. */
static void
test_redis_command_ops(void **state)
{
	json_t			*texts, *ids, *entries, *open, *snap, *need;
	struct store_retry	 rt;
	struct err		 e;
	redisReply		*r;
	char			 version[32], *id;

	NEED_REDIS();
	/* Enqueue: every record, in order, as one step. */
	texts = json_pack("[s, s]", "{\"type\":\"venue\"}", "second");
	assert_int_equal(store_enqueue_sync(rc, PFX, texts, &ids, &e), 0);
	assert_int_equal(json_array_size(ids), 2);
	r = cmd("XRANGE %s - +", K("inbox"));
	assert_int_equal(r->elements, 2);
	assert_string_equal(r->element[0]->element[0]->str,
	    json_string_value(json_array_get(ids, 0)));
	assert_string_equal(r->element[0]->element[1]->element[1]->str,
	    "{\"type\":\"venue\"}");
	assert_string_equal(r->element[1]->element[1]->element[1]->str,
	    "second");
	freeReplyObject(r);
	json_decref(texts);
	json_decref(ids);

	/* Fetch, as the command takes a snapshot. */
	freeReplyObject(cmd("SET %s 3", K("version")));
	freeReplyObject(cmd("SADD %s c-a", K("group:g")));
	snap = json_object();
	need = JSON("['group:g','rec:venue:none']");
	assert_int_equal(store_fetch_sync(rc, PFX, need, snap, version,
	    sizeof version, &e), 0);
	assert_string_equal(version, "3");
	assert_int_equal(json_array_size(json_object_get(snap, "group:g")), 1);
	assert_true(json_is_null(json_object_get(snap, "rec:venue:none")));
	json_decref(need);
	json_decref(snap);

	/* Said items waiting for an answer, with when they were said. */
	commit_ok("[['ZADD','said:open','1795000000123','s-1']]");
	assert_int_equal(store_said_open_sync(rc, PFX, &open, &e), 0);
	assert_int_equal(json_object_size(open), 1);
	assert_int_equal(json_integer_value(json_object_get(open, "s-1")),
	    1795000000123LL);
	json_decref(open);

	/* Dead entries: listed in order, one by id, fields in order. */
	r = cmd("XADD %s * error bad at 2026 record %s entry 1-0 type venue "
	    "id v-1", K("dead"), "{\"type\":\"venue\",\"id\":\"v-1\"}");
	id = xstrdup(r->str);
	freeReplyObject(r);
	freeReplyObject(cmd("XADD %s * error x at 2026 delivery d-gone",
	    K("dead")));
	freeReplyObject(cmd("XADD %s * error y at 2026", K("dead")));
	assert_int_equal(store_dead_entries_sync(rc, PFX, NULL, &entries, &e),
	    0);
	assert_int_equal(json_array_size(entries), 3);
	json_decref(entries);
	assert_int_equal(store_dead_entries_sync(rc, PFX, id, &entries, &e), 0);
	assert_int_equal(json_array_size(entries), 1);
	{
		char *s = store_dump(json_object_get(json_array_get(entries, 0),
		    "fields"));

		assert_string_equal(s, "{\"at\":\"2026\",\"entry\":\"1-0\","
		    "\"error\":\"bad\",\"id\":\"v-1\",\"record\":"
		    "\"{\\\"type\\\":\\\"venue\\\",\\\"id\\\":\\\"v-1\\\"}\","
		    "\"type\":\"venue\"}");
		free(s);
		assert_string_equal(json_object_iter_key(json_object_iter(
		    json_object_get(json_array_get(entries, 0), "fields"))),
		    "error");
	}
	json_decref(entries);
	/* An id that is not a stream id names no entry (not an error). */
	assert_int_equal(store_dead_entries_sync(rc, PFX, "bogus", &entries,
	    &e), 0);
	assert_int_equal(json_array_size(entries), 0);
	json_decref(entries);
	assert_int_equal(store_dead_drop_sync(rc, PFX, "bogus", &e), 0);
	assert_int_equal(store_dead_drop_sync(rc, PFX, "1-1", &e), 0);

	/* Retry a record: queued again, gone from dead, in one step. */
	assert_int_equal(store_dead_retry_sync(rc, PFX, id, 1000, 2000, &rt,
	    &e), 0);
	assert_int_equal(rt.what, STORE_RETRIED_RECORD);
	r = cmd("XRANGE %s %s %s", K("inbox"), rt.id, rt.id);
	assert_int_equal(r->elements, 1);
	assert_string_equal(r->element[0]->element[1]->element[1]->str,
	    "{\"type\":\"venue\",\"id\":\"v-1\"}");
	freeReplyObject(r);
	assert_int_equal(cmd_int("XLEN %s", K("dead")), 2);
	assert_int_equal(store_dead_retry_sync(rc, PFX, id, 1000, 2000, &rt,
	    &e), 0);
	assert_int_equal(rt.what, STORE_RETRIED_NONE);
	assert_int_equal(store_dead_retry_sync(rc, PFX, "bogus", 1000, 2000,
	    &rt, &e), 0);
	assert_int_equal(rt.what, STORE_RETRIED_NONE);
	free(id);
	/* A delivery no longer stored; an entry with nothing to retry. */
	assert_int_equal(store_dead_entries_sync(rc, PFX, NULL, &entries, &e),
	    0);
	assert_int_equal(store_dead_retry_sync(rc, PFX, json_string_value(
	    json_object_get(json_array_get(entries, 0), "id")), 1000, 2000,
	    &rt, &e), 0);
	assert_int_equal(rt.what, STORE_RETRIED_GONE);
	assert_string_equal(rt.id, "d-gone");
	assert_int_equal(store_dead_retry_sync(rc, PFX, json_string_value(
	    json_object_get(json_array_get(entries, 1), "id")), 1000, 2000,
	    &rt, &e), 0);
	assert_int_equal(rt.what, STORE_RETRIED_EMPTY);
	assert_int_equal(cmd_int("XLEN %s", K("dead")), 2);
	/* Drop. */
	assert_int_equal(store_dead_drop_sync(rc, PFX, json_string_value(
	    json_object_get(json_array_get(entries, 0), "id")), &e), 1);
	assert_int_equal(cmd_int("XLEN %s", K("dead")), 1);
	json_decref(entries);
}

static long long
ttl(const char *key)
{
	return cmd_int("TTL %s", key);
}

static void
test_redis_delivery_ops(void **state)
{
	char	err[256];

	NEED_REDIS();
	commit_ok("[['DNEW','d1','1000','c-a','m-1','kind','invitation'],"
	    "['DNEW','d2','1000','c-a','m-1','kind','invitation'],"
	    "['DNEW','d3','1000','c-a','','kind','announcement'],"
	    "['DNEW','d4','1000','c-a','m-2','kind','reminder'],"
	    "['DNEW','d5','1000','c-b','m-2','kind','reminder']]");

	/* DSENT: off the schedule and the indexes, kept for ttl. */
	commit_ok("[['DSENT','d1','250 2.0.0 Ok','100']]");
	str_is(NULL, "ZSCORE " K("schedule") " %s", "d1");
	str_is("sent", "HGET " K("d:d1") " %s", "state");
	str_is("250 2.0.0 Ok", "HGET " K("d:d1") " %s", "last_reply");
	assert_true(ttl(K("d:d1")) > 0 && ttl(K("d:d1")) <= 100);
	assert_int_equal(cmd_int("SISMEMBER %s d1", K("cd:c-a")), 0);
	assert_int_equal(cmd_int("SISMEMBER %s d1", K("md:m-1")), 0);
	/* Created again by a re-plan: still sent, never sent twice. */
	commit_ok("[['DNEW','d1','9000','c-a','m-1','kind','invitation']]");
	str_is("sent", "HGET " K("d:d1") " %s", "state");
	str_is(NULL, "ZSCORE " K("schedule") " %s", "d1");
	/* A retry of a sent one does nothing. */
	commit_ok("[['DRETRY','d1','9000','3','1','2','451 x']]");
	str_is(NULL, "ZSCORE " K("schedule") " %s", "d1");
	str_is(NULL, "HGET " K("d:d1") " %s", "attempts");
	/* Nor can it be dropped as if pending. */
	commit_ok("[['DDEL','d1']]");
	str_is("sent", "HGET " K("d:d1") " %s", "state");

	/* DRETRY: back on the schedule at the new time, with the tries. */
	commit_ok("[['DRETRY','d2','9000','2','1100','1200','451 4.7.1 later']]");
	str_is("9000", "ZSCORE " K("schedule") " %s", "d2");
	str_is("scheduled", "HGET " K("d:d2") " %s", "state");
	str_is("2", "HGET " K("d:d2") " %s", "attempts");
	str_is("1100", "HGET " K("d:d2") " %s", "first_try");
	str_is("1200", "HGET " K("d:d2") " %s", "last_try");
	str_is("451 4.7.1 later", "HGET " K("d:d2") " %s", "last_reply");
	assert_int_equal(ttl(K("d:d2")), -1);

	/* DDEAD: off the schedule and indexes, kept for ttl. */
	commit_ok("[['DDEAD','d3','1100','1300','5','550 5.1.1 no','200']]");
	str_is(NULL, "ZSCORE " K("schedule") " %s", "d3");
	str_is("dead", "HGET " K("d:d3") " %s", "state");
	str_is("5", "HGET " K("d:d3") " %s", "attempts");
	str_is("1100", "HGET " K("d:d3") " %s", "first_try");
	str_is("1300", "HGET " K("d:d3") " %s", "last_try");
	str_is("550 5.1.1 no", "HGET " K("d:d3") " %s", "last_reply");
	assert_true(ttl(K("d:d3")) > 100 && ttl(K("d:d3")) <= 200);
	assert_int_equal(cmd_int("SISMEMBER %s d3", K("cd:c-a")), 0);

	/* DDEL: a pending one goes entirely. */
	commit_ok("[['DDEL','d5']]");
	assert_int_equal(cmd_int("EXISTS %s", K("d:d5")), 0);
	str_is(NULL, "ZSCORE " K("schedule") " %s", "d5");
	assert_int_equal(cmd_int("SISMEMBER %s d5", K("cd:c-b")), 0);
	assert_int_equal(cmd_int("SISMEMBER %s d5", K("md:m-2")), 0);
	commit_ok("[['DDEL','no-such']]");

	/* DDELALL: every pending one of c-a; sent and dead ones stay. */
	commit_ok("[['DDELALL','cd:c-a']]");
	assert_int_equal(cmd_int("EXISTS %s %s %s", K("d:d2"), K("d:d4"),
	    K("cd:c-a")), 0);
	str_is(NULL, "ZSCORE " K("schedule") " %s", "d2");
	str_is(NULL, "ZSCORE " K("schedule") " %s", "d4");
	assert_int_equal(cmd_int("SISMEMBER %s d4", K("md:m-2")), 0);
	assert_int_equal(cmd_int("EXISTS %s %s", K("d:d1"), K("d:d3")), 2);
	assert_int_equal(cmd_int("ZCARD %s", K("schedule")), 0);
	/* A DNEW after it creates the delivery again (consent given back). */
	commit_ok("[['DNEW','d2','1000','c-a','m-1','kind','invitation']]");
	str_is("scheduled", "HGET " K("d:d2") " %s", "state");

	/* The plain ops. */
	commit_ok("[['SADD','said','s-1'],['ZADD','said:open','5','s-1'],"
	    "['HSET','stats','sent:reminder','3','rejected','1'],"
	    "['HINCRBY','stats','sent:reminder','2'],"
	    "['SET','digest:jo','7'],['EXPIRE','digest:jo','50'],"
	    "['XADD','audit','event','sent','delivery','d1']]");
	assert_int_equal(cmd_int("SISMEMBER %s s-1", K("said")), 1);
	str_is("5", "ZSCORE " K("said:open") " %s", "s-1");
	str_is("5", "HGET " K("stats") " %s", "sent:reminder");
	str_is("1", "HGET " K("stats") " %s", "rejected");
	assert_true(ttl(K("digest:jo")) > 0 && ttl(K("digest:jo")) <= 50);
	assert_int_equal(cmd_int("XLEN %s", K("audit")), 1);
	commit_ok("[['SREM','said','s-1'],['ZREM','said:open','s-1'],"
	    "['DEL','digest:jo']]");
	assert_int_equal(cmd_int("EXISTS %s %s %s", K("said"), K("said:open"),
	    K("digest:jo")), 0);

	/* Arguments are bytes: a value with Lua pattern characters. */
	commit_ok("[['SET','k','%d.*[x]']]");
	str_is("%d.*[x]", "GET %s", K("k"));
	(void)err;
}

static void
test_redis_streamscrub(void **state)
{
	redisReply	*r;

	NEED_REDIS();
	freeReplyObject(cmd("XADD %s * error bad record %s", K("dead"),
	    "{\"email\":\"amara@example.org\"}"));
	freeReplyObject(cmd("XADD %s * error bad record %s", K("dead"),
	    "{\"email\":\"ben@example.org\"}"));
	freeReplyObject(cmd("XADD %s * error x last_reply %s", K("dead"),
	    "550 <amara@example.org> unknown"));
	freeReplyObject(cmd("XADD %s * error x record %s", K("dead"),
	    "amaraXexample.org a%d"));
	commit_ok("[['STREAMSCRUB','dead','amara@example.org']]");
	r = cmd("XRANGE %s - +", K("dead"));
	assert_int_equal(r->elements, 2);
	assert_non_null(strstr(r->element[0]->element[1]->element[3]->str,
	    "ben@"));
	freeReplyObject(r);
	/* Needles are plain text, not Lua patterns; several at once. */
	commit_ok("[['STREAMSCRUB','dead','a%d','nobody']]");
	assert_int_equal(cmd_int("XLEN %s", K("dead")), 1);
	commit_ok("[['STREAMSCRUB','dead','ben@example.org','x']]");
	assert_int_equal(cmd_int("XLEN %s", K("dead")), 0);
	/* An absent stream is fine. */
	commit_ok("[['STREAMSCRUB','audit','x']]");
}

/*
 * Plan a record the way intake.c does (fetch rounds, then apply), and
 * commit the ops with the version check.
 */
static void
plan_commit(const char *json)
{
	struct record_opts	 o = { "Europe/London", 65536 };
	struct config		*cf = config_default();
	struct plan_ctx		 pc = { cf, 1790000000000LL, "" };
	struct record		 r;
	struct store_argv	 a;
	struct err		 e;
	json_t			*snap = json_object(), *need, *ops, *j;
	redisReply		*rep;
	char			 version[32] = "0", *t;
	int			 round;

	j = JSON(json);
	t = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	memset(&e, 0, sizeof e);
	if (record_parse(t, strlen(t), &o, &r, &e) != 0)
		fail_msg("record_parse: %s", e.msg);
	free(t);
	for (round = 0; round < PLAN_MAX_ROUNDS; round++) {
		need = json_array();
		if (plan_needs(&r, snap, need) == 0) {
			json_decref(need);
			break;
		}
		store_fetch_argv(PFX, need, &a);
		rep = run(&a);
		assert_int_equal(store_snap_merge(snap, need, rep, version,
		    sizeof version, &e), 0);
		freeReplyObject(rep);
		json_decref(need);
	}
	ops = json_array();
	if (plan_apply(&r, snap, &pc, ops, &e) != 0)
		fail_msg("plan_apply: %s", e.msg);
	store_commit_argv(PFX, version, "", ops, &a);
	rep = run(&a);
	if (rep->type != REDIS_REPLY_INTEGER || rep->integer != 1)
		fail_msg("commit: %s", rep->type == REDIS_REPLY_ERROR ?
		    rep->str : "not applied");
	freeReplyObject(rep);
	json_decref(ops);
	json_decref(snap);
	record_clear(&r);
	config_unref(cf);
}

/* Send delivery did to dead, as outcome.c does for a 550. */
static char *
make_dead(const char *did, const char *cid)
{
	json_t		*ops = json_array();
	struct store_argv a;
	redisReply	*r;
	char		*id;

	store_op_dead(ops, did, "1790000000500", "1790000000500", "1",
	    "550 5.1.1 no");
	store_op_dead_delivery(ops, "refused for good", "2026", did,
	    "invitation", cid, "1", "1790000000500", "1790000000500",
	    "550 5.1.1 no");
	store_commit_argv(PFX, "", "", ops, &a);
	freeReplyObject(run(&a));
	json_decref(ops);
	r = cmd("XREVRANGE %s + - COUNT 1", K("dead"));
	id = xstrdup(r->element[0]->element[0]->str);
	freeReplyObject(r);
	return id;
}

/* Fail, after freeing b, if it holds their name or an address. */
static void
assert_forgotten(struct buf *b, const char *why)
{
	static char	msg[8192];
	int		found;

	found = strstr(b->s, "Amara") != NULL || strstr(b->s, "amara@") != NULL;
	snprintf(msg, sizeof msg, "%s", b->s);
	buf_free(b);
	if (found)
		fail_msg("after forget, Redis still holds their name or an "
		    "address%s:%s", why, msg);
}

/* Every value under {hbt}: as one text per key, to search. */
static void
dump_all(struct buf *b)
{
	redisReply	*keys, *r, *t;
	size_t		 i, j, k;

	keys = cmd("KEYS %s", K("*"));
	for (i = 0; i < keys->elements; i++) {
		const char *key = keys->element[i]->str;

		t = cmd("TYPE %s", key);
		if (strcmp(t->str, "string") == 0)
			r = cmd("GET %s", key);
		else if (strcmp(t->str, "set") == 0)
			r = cmd("SMEMBERS %s", key);
		else if (strcmp(t->str, "hash") == 0)
			r = cmd("HGETALL %s", key);
		else if (strcmp(t->str, "zset") == 0)
			r = cmd("ZRANGE %s 0 -1", key);
		else if (strcmp(t->str, "list") == 0)
			r = cmd("LRANGE %s 0 -1", key);
		else
			r = cmd("XRANGE %s - +", key);
		buf_printf(b, "\n%s = ", key);
		if (r->type == REDIS_REPLY_STRING)
			buf_add(b, r->str, r->len);
		for (j = 0; r->type == REDIS_REPLY_ARRAY && j < r->elements;
		    j++) {
			redisReply *x = r->element[j];

			if (x->type == REDIS_REPLY_STRING)
				buf_printf(b, "%s ", x->str);
			/* stream entries: [id, [f, v, ...]] */
			for (k = 0; x->type == REDIS_REPLY_ARRAY &&
			    k < x->elements; k++)
				if (x->element[k]->type == REDIS_REPLY_ARRAY) {
					size_t l;

					for (l = 0; l < x->element[k]->elements;
					    l++)
						buf_printf(b, "%s ", x->element
						    [k]->element[l]->str);
				}
		}
		freeReplyObject(r);
		freeReplyObject(t);
	}
	freeReplyObject(keys);
}

/*
 * SPEC section 2, forget: "Removes the profile, every pending delivery to
 * that person and their name from said items. After it, no Redis key under
 * {P}: holds their name or email address."
 */
static void
test_redis_forget(void **state)
{
	struct buf	b;

	NEED_REDIS();
	plan_commit("{'type':'collaborator','id':'c-amara','name':'Amara Okafor',"
	    "'email':'amara@example.org','consent':true,"
	    "'groups':['carers-forum']}");
	plan_commit("{'type':'collaborator','id':'c-ben','name':'Ben Hall',"
	    "'email':'ben@example.org','consent':true,"
	    "'groups':['carers-forum']}");
	plan_commit("{'type':'said','id':'s-17','collaborator':'c-amara',"
	    "'text':'Discharge letters arrive late.'}");
	plan_commit("{'type':'announcement','id':'a-1','subject':'S',"
	    "'body':'B','to':{'groups':['carers-forum']},"
	    "'send_at':'2027-01-10T10:00'}");
	assert_int_equal(cmd_int("SCARD %s", K("cd:c-amara")), 1);
	assert_int_equal(cmd_int("ZCARD %s", K("schedule")), 2);
	/* A rejected record of theirs in the dead stream, as intake puts it. */
	freeReplyObject(cmd("XADD %s * error %s record %s type collaborator "
	    "id c-amara", K("dead"), "acess: unknown field",
	    "{\"type\":\"collaborator\",\"id\":\"c-amara\",\"name\":"
	    "\"Amara Okafor\",\"email\":\"amara@example.org\",\"acess\":[]}"));

	plan_commit("{'type':'forget','collaborator':'c-amara'}");

	buf_init(&b);
	dump_all(&b);
	/* The rest stays: Ben, his delivery, the words, the announcement. */
	assert_non_null(strstr(b.s, "Ben Hall"));
	assert_non_null(strstr(b.s, "Discharge letters arrive late."));
	assert_forgotten(&b, "");
	assert_int_equal(cmd_int("ZCARD %s", K("schedule")), 1);
	assert_int_equal(cmd_int("EXISTS %s %s %s", K("cd:c-amara"),
	    K("cs:c-amara"), K("rec:collaborator:c-amara")), 0);
	assert_int_equal(cmd_int("SISMEMBER %s c-amara", K("group:carers-forum")),
	    0);
	assert_int_equal(cmd_int("SISMEMBER %s c-amara", K("collaborators")),
	    0);
	assert_int_equal(cmd_int("XLEN %s", K("dead")), 0);
}

/*
 * The same, when the dead stream holds a rejected record of theirs with an
 * address that is not the one on file (rejected because it was mistyped,
 * or an old one): their name must go too.
 */
static void
test_redis_forget_old_address(void **state)
{
	struct buf	b;

	NEED_REDIS();
	freeReplyObject(cmd("XADD %s * error %s record %s type collaborator "
	    "id c-amara", K("dead"),
	    "email: \"amara@exmaple\" is not an email address",
	    "{\"type\":\"collaborator\",\"id\":\"c-amara\",\"name\":"
	    "\"Amara Okafor\",\"email\":\"amara@exmaple\",\"consent\":true}"));
	plan_commit("{'type':'collaborator','id':'c-amara','name':'Amara Okafor',"
	    "'email':'amara@example.org','consent':true}");
	plan_commit("{'type':'forget','collaborator':'c-amara'}");
	buf_init(&b);
	dump_all(&b);
	assert_forgotten(&b, " (plan.c plan_forget scrubs the dead stream "
	    "by the current email only)");
}

/*
 * Forget's scrub of every key (store.h, Forget), in pages: a keyspace
 * bigger than a page is walked by several calls, which keep their place in
 * Redis; big sets and streams are walked in pieces; a phone number in any
 * layout goes, and what is not theirs stays. A budget of 5 per page here.
 */
static void
test_redis_forget_pages(void **state)
{
	struct store_argv	 a;
	struct buf		 b;
	redisReply		*r;
	int			 i, calls = 0;
	long long		 left = 1;

	NEED_REDIS();
	for (i = 0; i < 300; i++) {
		freeReplyObject(cmd("SET %s%d %s", K("filler:"), i, "nothing"));
		freeReplyObject(cmd("SADD %s m%d", K("bigset"), i));
		freeReplyObject(cmd("XADD %s * n %d", K("bigstream"), i));
	}
	freeReplyObject(cmd("SADD %s %s", K("bigset"), "AMARA OKAFOR"));
	freeReplyObject(cmd("XADD %s * who %s", K("bigstream"),
	    "Call +44 (0)7700 900-123"));
	freeReplyObject(cmd("SET %s %s", K("phone:a"), "{\"p\":\"07700900123\","
	    "\"t\":1790000000123,\"keep\":\"yes\"}"));
	freeReplyObject(cmd("SET %s %s", K("phone:b"), "tel: 7700 900 123"));
	/* A time that holds those digits in the middle is not a phone. */
	freeReplyObject(cmd("SET %s %s", K("phone:t"),
	    "{\"t\":1700900123000}"));
	freeReplyObject(cmd("RPUSH %s %s %s", K("list"), "Okafor, Amara",
	    "kept"));
	freeReplyObject(cmd("HSET %s cid c-a to %s data %s", K("d:inv:m:c-a:0"),
	    "amara@example.org", "{}"));
	freeReplyObject(cmd("ZADD %s 1 inv:m:c-a:0", K("schedule")));
	freeReplyObject(cmd("SADD %s inv:m:c-a:0", K("cd:c-a")));
	commit_ok("[['FORGET','c-a','Amara Okafor','Amara@Example.org',"
	    "'+44 7700 900123','5']]");
	/* Five values cannot be all of them: the marker keeps the place. */
	assert_int_equal(cmd_int("SISMEMBER %s c-a", K("forgetting")), 1);
	assert_int_equal(cmd_int("EXISTS %s", K("forget:c-a")), 1);
	while (left > 0) {
		assert_true(++calls < 2000);
		store_scrub_argv(PFX, 50, &a);
		r = run(&a);
		assert_int_equal(r->type, REDIS_REPLY_ARRAY);
		assert_int_equal(r->elements, 2);
		left = r->element[0]->integer;
		/* The page that ends the walk names whom it ended. */
		assert_string_equal(r->element[1]->str, left ? "" : "c-a");
		freeReplyObject(r);
	}
	assert_true(calls > 10);
	assert_int_equal(cmd_int("EXISTS %s %s", K("forget:c-a"),
	    K("forgetting")), 0);
	/* Their delivery went whole, with its indexes. */
	assert_int_equal(cmd_int("EXISTS %s %s", K("d:inv:m:c-a:0"),
	    K("cd:c-a")), 0);
	assert_int_equal(cmd_int("ZCARD %s", K("schedule")), 0);
	assert_int_equal(cmd_int("SCARD %s", K("bigset")), 300);
	assert_int_equal(cmd_int("XLEN %s", K("bigstream")), 300);
	assert_int_equal(cmd_int("DBSIZE"), 300 + 6);
	str_is("{\"t\":1700900123000}", "GET %s", K("phone:t"));
	str_is("tel: [forgotten]", "GET %s", K("phone:b"));
	str_is("{\"p\":\"[forgotten]\",\"t\":1790000000123,\"keep\":\"yes\"}",
	    "GET %s", K("phone:a"));
	str_is("kept", "LINDEX %s 1", K("list"));
	buf_init(&b);
	dump_all(&b);
	if (strstr(b.s, "7700") || strstr(b.s, "OKAFOR") ||
	    strstr(b.s, "Okafor"))
		fail_msg("after the scrub:%s", b.s);
	buf_free(&b);
}

/*
 * `hearback dead retry` of an email: back on the schedule and in every
 * index a pending delivery is in, so that a later cancellation of its
 * meeting, or the person's removal, withdraws it like the meeting's other
 * emails; never after the meeting starts; never when it was sent since,
 * or its meeting was cancelled since.
 */
static void
test_redis_dead_retry(void **state)
{
	const char		*did = "inv:m-1:c-a:0";
	const char		*meeting = "{'type':'meeting','id':'m-1',"
	    "'title':'T','start':'2026-09-23T18:00','end':'2026-09-23T20:00',"
	    "'online':{'url':'https://meet.example.org/m'},"
	    "'invitees':['c-a','c-b']%s}";
	struct store_retry	 rt;
	struct err		 e;
	long long		 now = 1790000001000LL, start;
	char			*id, *m, *w;
	json_t			*j;

	NEED_REDIS();
	plan_commit("{'type':'collaborator','id':'c-a','name':'A',"
	    "'email':'a@example.org','consent':true}");
	plan_commit("{'type':'collaborator','id':'c-b','name':'B',"
	    "'email':'b@example.org','consent':true}");
	m = xasprintf(meeting, "");
	plan_commit(m);
	free(m);
	w = cmd_str("GET %s", K("rec:meeting:m-1"));
	j = json_loads(w, 0, NULL);
	start = json_integer_value(json_object_get(json_object_get(j, "meta"),
	    "start"));
	json_decref(j);
	free(w);
	assert_true(start > now / 1000);
	assert_int_equal(cmd_int("SISMEMBER %s %s", K("md:m-1"), did), 1);

	id = make_dead(did, "c-a");
	assert_int_equal(cmd_int("SISMEMBER %s %s", K("md:m-1"), did), 0);
	assert_int_equal(cmd_int("SISMEMBER %s %s", K("cd:c-a"), did), 0);
	str_is(NULL, "ZSCORE " K("schedule") " %s", did);

	assert_int_equal(store_dead_retry_sync(rc, PFX, id, now, now +
	    5 * 86400000LL, &rt, &e), 0);
	free(id);
	assert_int_equal(rt.what, STORE_RETRIED_DELIVERY);
	assert_string_equal(rt.id, did);
	str_is("scheduled", "HGET " K("d:inv:m-1:c-a:0") " %s", "state");
	str_is("0", "HGET " K("d:inv:m-1:c-a:0") " %s", "attempts");
	str_is("1790000001000", "ZSCORE " K("schedule") " %s", did);
	assert_int_equal(cmd_int("SISMEMBER %s %s", K("md:m-1"), did), 1);
	assert_int_equal(cmd_int("SISMEMBER %s %s", K("cd:c-a"), did), 1);
	/* Pending again: it must not expire like a settled one. */
	assert_int_equal(ttl(K("d:inv:m-1:c-a:0")), -1);
	/* The meeting starts within max_age: not after it starts. */
	w = xasprintf("%lld", start * 1000);
	str_is(w, "HGET " K("d:inv:m-1:c-a:0") " %s", "deadline");
	free(w);
	assert_int_equal(cmd_int("XLEN %s", K("dead")), 0);

	/* A later cancellation withdraws it with the meeting's others. */
	m = xasprintf(meeting, ",'status':'cancelled'");
	plan_commit(m);
	free(m);
	str_is(NULL, "ZSCORE " K("schedule") " %s", did);
	assert_int_equal(cmd_int("EXISTS %s", K("d:inv:m-1:c-a:0")), 0);
	str_is("scheduled", "HGET " K("d:can:m-1:c-a:1") " %s", "state");

	/* Taken off the meeting: withdrawn too. */
	m = xasprintf(meeting, "");
	plan_commit(m);		/* back on: invited again, seq 2 */
	free(m);
	did = "inv:m-1:c-b:2";
	str_is("scheduled", "HGET " K("d:inv:m-1:c-b:2") " %s", "state");
	id = make_dead(did, "c-b");
	assert_int_equal(store_dead_retry_sync(rc, PFX, id, now, now +
	    5 * 86400000LL, &rt, &e), 0);
	free(id);
	assert_int_equal(rt.what, STORE_RETRIED_DELIVERY);
	plan_commit("{'type':'meeting','id':'m-1','title':'T',"
	    "'start':'2026-09-23T18:00','end':'2026-09-23T20:00',"
	    "'online':{'url':'https://meet.example.org/m'},"
	    "'invitees':['c-a']}");
	str_is(NULL, "ZSCORE " K("schedule") " %s", did);
	assert_int_equal(cmd_int("EXISTS %s", K("d:inv:m-1:c-b:2")), 0);

	/* Dead, then the meeting cancelled: not revived, the entry stays. */
	did = "inv:m-1:c-a:2";
	id = make_dead(did, "c-a");
	m = xasprintf(meeting, ",'status':'cancelled'");
	plan_commit(m);
	free(m);
	assert_int_equal(store_dead_retry_sync(rc, PFX, id, now, now +
	    5 * 86400000LL, &rt, &e), 0);
	assert_int_equal(rt.what, STORE_RETRIED_WITHDRAWN);
	str_is(NULL, "ZSCORE " K("schedule") " %s", did);
	str_is("dead", "HGET " K("d:inv:m-1:c-a:2") " %s", "state");
	assert_int_equal(cmd_int("XLEN %s", K("dead")), 1);
	free(id);
	freeReplyObject(cmd("DEL %s", K("dead")));

	/* Sent since (the hash says so): never again. */
	commit_ok("[['DNEW','ann:a-1:c-a','1000','c-a','','kind','x'],"
	    "['DSENT','ann:a-1:c-a','250 ok','100']]");
	{
		redisReply *r = cmd("XADD %s * delivery ann:a-1:c-a",
		    K("dead"));

		id = xstrdup(r->str);
		freeReplyObject(r);
	}
	assert_int_equal(store_dead_retry_sync(rc, PFX, id, now, now + 1000,
	    &rt, &e), 0);
	assert_int_equal(rt.what, STORE_RETRIED_SENT);
	str_is(NULL, "ZSCORE " K("schedule") " %s", "ann:a-1:c-a");
	str_is("sent", "HGET " K("d:ann:a-1:c-a") " %s", "state");
	free(id);
}

/*
 * How deliveries are stored (lib.lua): the hash holds what the id does not
 * say; a reminder still waiting has no hash (compact, in mr:<meeting>);
 * a hash of the layout before holds every field. Whatever the form, the
 * scripts read the same fields.
 */
static void
dnew_op(json_t *ops, const char *did, const char *kind, const char *cid,
    const char *mid, long long due, long long deadline, const char *refs,
    const char *data, const char *src)
{
	struct store_delivery	d = { did, kind, cid, mid, due, deadline, 900,
				    refs, NULL, data, src };

	store_op_delivery(ops, &d);
}

/* Every field of a delivery as the scripts read it, as planned by
 * dnew_op. */
static void
dfields_are(const char *did, const char *kind, const char *cid,
    const char *mid, const char *due, const char *deadline,
    const char *refs, const char *data, const char *src)
{
	dfield_is("scheduled", did, "state");
	dfield_is(kind, did, "kind");
	dfield_is(cid, did, "cid");
	dfield_is(mid, did, "mid");
	dfield_is(due, did, "due");
	dfield_is(deadline, did, "deadline");
	dfield_is(refs, did, "refs");
	dfield_is(data, did, "data");
	dfield_is(src, did, "src");
	dfield_is("", did, "to");
	dfield_is("0", did, "attempts");
	dfield_is(NULL, did, "created");
	dfield_is(NULL, did, "xrefs");
}

static int
members_hold(const char *index, const char *did)
{
	struct store_argv	 a;
	json_t			*keys = json_pack("[s]", index);
	redisReply		*r, *m;
	size_t			 i;
	int			 n = 0;

	store_fetch_argv(PFX, keys, &a);
	json_decref(keys);
	r = run(&a);
	m = r->element[1];
	for (i = 0; m->type == REDIS_REPLY_ARRAY && i < m->elements; i++)
		n += strcmp(m->element[i]->str, did) == 0;
	freeReplyObject(r);
	return n;
}

static void
test_redis_layout_hash(void **state)
{
	json_t	*ops;

	NEED_REDIS();
	ops = json_array();
	dnew_op(ops, "inv:m-1:c-a:0", "invitation", "c-a", "m-1", 1000, 2000,
	    "rec:meeting:m-1 rec:collaborator:c-a", NULL, "m-1");
	dnew_op(ops, "upd:m-1:c-a:1", "update", "c-a", "m-1", 1000, 2000,
	    "rec:meeting:m-1 rec:collaborator:c-a rec:venue:v-1",
	    "{\"changes\":[]}", "m-1");
	dnew_op(ops, "sinv:m%3A1:c%253:0", "invitation", "c%3", "m:1", 1000,
	    2000, "rec:meeting:m:1 rec:collaborator:c%3",
	    "{\"supporter\":true}", "m:1");
	dnew_op(ops, "notice:x", "notice", "", "", 1000, 2000, "",
	    "{\"title\":\"T\"}", "r-1");
	/* Not what its id says: kept as planned. */
	dnew_op(ops, "inv:m-1:c-z:0", "invitation", "c-y", "m-1", 1000, 2000,
	    "rec:meeting:m-1 rec:collaborator:c-y", NULL, "m-1");
	assert_int_equal(commit_ops(ops), 1);

	/* Only what the id does not say is stored. */
	assert_int_equal(cmd_int("HLEN %s", K("d:inv:m-1:c-a:0")), 3);
	str_is("scheduled", "HGET " K("d:inv:m-1:c-a:0") " %s", "state");
	str_is("1000", "HGET " K("d:inv:m-1:c-a:0") " %s", "due");
	str_is("2000", "HGET " K("d:inv:m-1:c-a:0") " %s", "deadline");
	dfields_are("inv:m-1:c-a:0", "invitation", "c-a", "m-1", "1000",
	    "2000", "rec:meeting:m-1 rec:collaborator:c-a", "{}", "m-1");
	str_is("rec:venue:v-1", "HGET " K("d:upd:m-1:c-a:1") " %s", "xrefs");
	str_is("{\"changes\":[]}", "HGET " K("d:upd:m-1:c-a:1") " %s", "data");
	dfields_are("upd:m-1:c-a:1", "update", "c-a", "m-1", "1000", "2000",
	    "rec:meeting:m-1 rec:collaborator:c-a rec:venue:v-1",
	    "{\"changes\":[]}", "m-1");
	assert_int_equal(cmd_int("HLEN %s", K("d:sinv:m%3A1:c%253:0")), 3);
	dfields_are("sinv:m%3A1:c%253:0", "invitation", "c%3", "m:1", "1000",
	    "2000", "rec:meeting:m:1 rec:collaborator:c%3",
	    "{\"supporter\":true}", "m:1");
	str_is("notice", "HGET " K("d:notice:x") " %s", "kind");
	str_is("r-1", "HGET " K("d:notice:x") " %s", "src");
	str_is(NULL, "HGET " K("d:notice:x") " %s", "cid");
	dfields_are("notice:x", "notice", "", "", "1000", "2000", "",
	    "{\"title\":\"T\"}", "r-1");
	str_is("c-y", "HGET " K("d:inv:m-1:c-z:0") " %s", "cid");
	dfield_is("c-y", "inv:m-1:c-z:0", "cid");
	/* In the indexes, as ever. */
	assert_int_equal(cmd_int("SISMEMBER %s %s", K("cd:c-a"),
	    "upd:m-1:c-a:1"), 1);
	assert_int_equal(cmd_int("SISMEMBER %s %s", K("md:m:1"),
	    "sinv:m%3A1:c%253:0"), 1);
	assert_int_equal(cmd_int("SISMEMBER %s %s", K("cd:c-y"),
	    "inv:m-1:c-z:0"), 1);

	/* Sent: the lease mark goes with the rest of what was pending. */
	freeReplyObject(cmd("HSET %s lease_until 5000 leases 1",
	    K("d:inv:m-1:c-a:0")));
	commit_ok("[['DSENT','inv:m-1:c-a:0','250 ok','100']]");
	str_is(NULL, "HGET " K("d:inv:m-1:c-a:0") " %s", "lease_until");
	str_is("sent", "HGET " K("d:inv:m-1:c-a:0") " %s", "state");
	dfield_is("c-a", "inv:m-1:c-a:0", "cid");
	assert_int_equal(cmd_int("SISMEMBER %s %s", K("md:m-1"),
	    "inv:m-1:c-a:0"), 0);
}

static void
test_redis_layout_compact(void **state)
{
	json_t		*ops;
	redisReply	*r;
	const char	*base = "rec:meeting:m-1 rec:collaborator:c-a";

	NEED_REDIS();
	ops = json_array();
	dnew_op(ops, "rem:m-1:c-a:0:86400", "reminder", "c-a", "m-1", 5000,
	    9000, base, "{\"lead\":86400}", "m-1");
	dnew_op(ops, "srem:m-1:c-a:0:86400", "reminder", "c-a", "m-1", 5000,
	    9000, base, "{\"lead\":86400,\"supporter\":true}", "m-1");
	dnew_op(ops, "arem:m-1:c-a:0:3600", "reminder", "c-a", "m-1", 7000,
	    9000, "rec:meeting:m-1 rec:collaborator:c-a rec:venue:v-1",
	    "{\"arrange\":true,\"lead\":3600}", "m-1");
	dnew_op(ops, "inv:m-1:c-a:0", "invitation", "c-a", "m-1", 1000, 9000,
	    base, NULL, "m-1");
	/* Data that is not what the id says: a hash. */
	dnew_op(ops, "rem:m-1:c-a:0:60", "reminder", "c-a", "m-1", 5000, 9000,
	    base, "{\"lead\":61}", "m-1");
	assert_int_equal(commit_ops(ops), 1);

	/* No hash of their own: three tokens in the meeting's hash. */
	assert_int_equal(cmd_int("EXISTS %s %s %s", K("d:rem:m-1:c-a:0:86400"),
	    K("d:srem:m-1:c-a:0:86400"), K("d:arem:m-1:c-a:0:3600")), 0);
	str_is("0:86400/5000/9000 s0:86400/5000/9000 "
	    "a0:3600/7000/9000/rec:venue:v-1", "HGET " K("mr:m-1") " %s",
	    "c-a");
	str_is("1", "HGET " K("cr:c-a") " %s", "m-1");
	str_is("{\"lead\":61}", "HGET " K("d:rem:m-1:c-a:0:60") " %s", "data");
	str_is("5000", "ZSCORE " K("schedule") " %s", "rem:m-1:c-a:0:86400");
	str_is("7000", "ZSCORE " K("schedule") " %s", "arem:m-1:c-a:0:3600");
	assert_int_equal(cmd_int("SCARD %s", K("md:m-1")), 2);
	dfields_are("rem:m-1:c-a:0:86400", "reminder", "c-a", "m-1", "5000",
	    "9000", base, "{\"lead\":86400}", "m-1");
	dfields_are("srem:m-1:c-a:0:86400", "reminder", "c-a", "m-1", "5000",
	    "9000", base, "{\"lead\":86400,\"supporter\":true}", "m-1");
	dfields_are("arem:m-1:c-a:0:3600", "reminder", "c-a", "m-1", "7000",
	    "9000", "rec:meeting:m-1 rec:collaborator:c-a rec:venue:v-1",
	    "{\"arrange\":true,\"lead\":3600}", "m-1");
	/* The indexes, read whole, hold them. */
	assert_int_equal(members_hold("md:m-1", "srem:m-1:c-a:0:86400"), 1);
	assert_int_equal(members_hold("cd:c-a", "arem:m-1:c-a:0:3600"), 1);
	assert_int_equal(members_hold("md:m-1", "inv:m-1:c-a:0"), 1);
	assert_int_equal(members_hold("cd:c-a", "rem:m-1:c-a:0:60"), 1);

	/* Planned again: nothing changes. */
	ops = json_array();
	dnew_op(ops, "rem:m-1:c-a:0:86400", "reminder", "c-a", "m-1", 6000,
	    9000, base, "{\"lead\":86400}", "m-1");
	assert_int_equal(commit_ops(ops), 1);
	dfield_is("5000", "rem:m-1:c-a:0:86400", "due");
	str_is("5000", "ZSCORE " K("schedule") " %s", "rem:m-1:c-a:0:86400");

	/* Leased: a hash now, in the indexes as such, handed out whole. */
	commit_ok("[['ZREM','schedule','inv:m-1:c-a:0'],"
	    "['ZREM','schedule','rem:m-1:c-a:0:60']]");
	r = promote(5000, 60000, 1);
	assert_int_equal(r->elements, 2);
	assert_string_equal(r->element[1]->element[0]->str,
	    "rem:m-1:c-a:0:86400");
	assert_string_equal(hfield(r->element[1]->element[1], "data"),
	    "{\"lead\":86400}");
	assert_string_equal(hfield(r->element[1]->element[1], "refs"), base);
	assert_string_equal(hfield(r->element[1]->element[1], "kind"),
	    "reminder");
	assert_string_equal(hfield(r->element[1]->element[1], "deadline"),
	    "9000");
	freeReplyObject(r);
	assert_int_equal(cmd_int("EXISTS %s", K("d:rem:m-1:c-a:0:86400")), 1);
	assert_int_equal(cmd_int("SISMEMBER %s %s", K("md:m-1"),
	    "rem:m-1:c-a:0:86400"), 1);
	assert_int_equal(cmd_int("SISMEMBER %s %s", K("cd:c-a"),
	    "rem:m-1:c-a:0:86400"), 1);
	str_is("s0:86400/5000/9000 a0:3600/7000/9000/rec:venue:v-1",
	    "HGET " K("mr:m-1") " %s", "c-a");
	assert_int_equal(members_hold("md:m-1", "rem:m-1:c-a:0:86400"), 1);

	/* Dropped: gone from both forms. */
	commit_ok("[['DDEL','srem:m-1:c-a:0:86400']]");
	str_is(NULL, "ZSCORE " K("schedule") " %s", "srem:m-1:c-a:0:86400");
	str_is("a0:3600/7000/9000/rec:venue:v-1", "HGET " K("mr:m-1") " %s",
	    "c-a");
	dfield_is(NULL, "srem:m-1:c-a:0:86400", "state");
	/* All of the meeting's: the leased one withdrawn, the rest gone, the
	 * compact index with them. */
	commit_ok("[['DDELALL','md:m-1']]");
	assert_int_equal(cmd_int("EXISTS %s %s %s", K("mr:m-1"), K("cr:c-a"),
	    K("md:m-1")), 0);
	str_is("withdrawn", "HGET " K("d:rem:m-1:c-a:0:86400") " %s", "state");
	assert_int_equal(cmd_int("ZCARD %s", K("schedule")), 0);
	assert_int_equal(cmd_int("EXISTS %s %s", K("d:inv:m-1:c-a:0"),
	    K("d:rem:m-1:c-a:0:60")), 0);

	/* A person's, across meetings. */
	ops = json_array();
	dnew_op(ops, "rem:m-1:c-a:1:60", "reminder", "c-a", "m-1", 5000, 9000,
	    base, "{\"lead\":60}", "m-1");
	dnew_op(ops, "rem:m-2:c-a:0:60", "reminder", "c-a", "m-2", 5000, 9000,
	    "rec:meeting:m-2 rec:collaborator:c-a", "{\"lead\":60}", "m-2");
	dnew_op(ops, "rem:m-2:c-b:0:60", "reminder", "c-b", "m-2", 5000, 9000,
	    "rec:meeting:m-2 rec:collaborator:c-b", "{\"lead\":60}", "m-2");
	assert_int_equal(commit_ops(ops), 1);
	assert_int_equal(members_hold("cd:c-a", "rem:m-2:c-a:0:60"), 1);
	commit_ok("[['DDELALL','cd:c-a']]");
	assert_int_equal(cmd_int("ZCARD %s", K("schedule")), 1);
	assert_int_equal(cmd_int("EXISTS %s %s", K("mr:m-1"), K("cr:c-a")), 0);
	str_is(NULL, "HGET " K("mr:m-2") " %s", "c-a");
	str_is("0:60/5000/9000", "HGET " K("mr:m-2") " %s", "c-b");
}

/* A Redis written by the layout before (every field in the hash, each
 * reminder in the set indexes): read the same, dropped the same. */
static void
test_redis_layout_before(void **state)
{
	redisReply	*r;
	const char	*did = "rem:m-2:c-b:0:60";

	NEED_REDIS();
	freeReplyObject(cmd("HSET %s state scheduled cid c-b mid m-2 due 1000 "
	    "kind reminder refs %s to %s data %s src m-2 created 900 "
	    "deadline 9000 attempts 0", K("d:rem:m-2:c-b:0:60"),
	    "rec:meeting:m-2 rec:collaborator:c-b", "", "{\"lead\":60}"));
	freeReplyObject(cmd("SADD %s %s", K("md:m-2"), did));
	freeReplyObject(cmd("SADD %s %s", K("cd:c-b"), did));
	freeReplyObject(cmd("ZADD %s 1000 %s", K("schedule"), did));
	freeReplyObject(cmd("HSET %s state scheduled cid c-b mid m-2 due 1000 "
	    "kind reminder refs %s to %s data %s src m-2 created 900 "
	    "deadline 9000 attempts 0", K("d:rem:m-2:c-b:0:50"),
	    "rec:meeting:m-2 rec:collaborator:c-b", "", "{\"lead\":50}"));
	freeReplyObject(cmd("SADD %s %s", K("md:m-2"), "rem:m-2:c-b:0:50"));
	freeReplyObject(cmd("SADD %s %s", K("cd:c-b"), "rem:m-2:c-b:0:50"));
	freeReplyObject(cmd("ZADD %s 2000 %s", K("schedule"),
	    "rem:m-2:c-b:0:50"));

	assert_int_equal(members_hold("md:m-2", did), 1);
	assert_int_equal(members_hold("cd:c-b", did), 1);
	dfield_is("reminder", did, "kind");
	dfield_is("900", did, "created");
	/* Planned again by this layout: still once. */
	commit_ok("[['DNEW','rem:m-2:c-b:0:60','1000','c-b','m-2','kind',"
	    "'reminder']]");
	assert_int_equal(cmd_int("EXISTS %s", K("mr:m-2")), 0);

	r = promote(1000, 60000, 1);
	assert_int_equal(r->elements, 2);
	assert_string_equal(r->element[1]->element[0]->str, did);
	assert_string_equal(hfield(r->element[1]->element[1], "cid"), "c-b");
	assert_string_equal(hfield(r->element[1]->element[1], "data"),
	    "{\"lead\":60}");
	freeReplyObject(r);
	commit_ok("[['DSENT','rem:m-2:c-b:0:60','250 ok','100']]");
	assert_int_equal(cmd_int("SISMEMBER %s %s", K("md:m-2"), did), 0);
	assert_int_equal(cmd_int("SISMEMBER %s %s", K("cd:c-b"), did), 0);

	/* The other one goes with the person's pending emails. */
	commit_ok("[['DDELALL','cd:c-b']]");
	assert_int_equal(cmd_int("EXISTS %s %s", K("d:rem:m-2:c-b:0:50"),
	    K("cd:c-b")), 0);
	assert_int_equal(cmd_int("ZCARD %s", K("schedule")), 0);
	assert_int_equal(cmd_int("SCARD %s", K("md:m-2")), 0);
}

/* Forget's walk: the person's compact reminders go, no one else's, even
 * when the plan did not name them. */
static void
test_redis_layout_forget(void **state)
{
	json_t	*ops;

	NEED_REDIS();
	ops = json_array();
	dnew_op(ops, "rem:m-1:c-a:0:60", "reminder", "c-a", "m-1", 5000, 9000,
	    "rec:meeting:m-1 rec:collaborator:c-a", "{\"lead\":60}", "m-1");
	dnew_op(ops, "rem:m-1:c-b:0:60", "reminder", "c-b", "m-1", 5000, 9000,
	    "rec:meeting:m-1 rec:collaborator:c-b", "{\"lead\":60}", "m-1");
	assert_int_equal(commit_ops(ops), 1);
	ops = json_array();
	store_op_forget(ops, "c-a", "Amara Okafor", "amara@example.org",
	    "07700 900123", NULL, NULL);
	assert_int_equal(commit_ops(ops), 1);
	assert_int_equal(cmd_int("EXISTS %s", K("forget:c-a")), 0);
	str_is(NULL, "HGET " K("mr:m-1") " %s", "c-a");
	str_is(NULL, "ZSCORE " K("schedule") " %s", "rem:m-1:c-a:0:60");
	str_is("0:60/5000/9000", "HGET " K("mr:m-1") " %s", "c-b");
	str_is("5000", "ZSCORE " K("schedule") " %s", "rem:m-1:c-b:0:60");
}

int
main(void)
{
	const struct CMUnitTest pure[] = {
		cmocka_unit_test(test_fetch_argv),
		cmocka_unit_test(test_commit_argv),
		cmocka_unit_test(test_promote_argv),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_dids),
		cmocka_unit_test(test_ops),
		cmocka_unit_test(test_dump),
		cmocka_unit_test(test_snap_put),
		cmocka_unit_test(test_mark_parse),
	};
	const struct CMUnitTest redis[] = {
		cmocka_unit_test_setup(test_redis_evalsha, redis_fixture_each),
		cmocka_unit_test_setup(test_redis_fetch, redis_fixture_each),
		cmocka_unit_test_setup(test_redis_dnew_once, redis_fixture_each),
		cmocka_unit_test_setup(test_redis_version, redis_fixture_each),
		cmocka_unit_test_setup(test_redis_ack, redis_fixture_each),
		cmocka_unit_test_setup(test_redis_oldest, redis_fixture_each),
		cmocka_unit_test_setup(test_redis_ack_many, redis_fixture_each),
		cmocka_unit_test_setup(test_redis_page, redis_fixture_each),
		cmocka_unit_test_setup(test_redis_fanout_ops, redis_fixture_each),
		cmocka_unit_test_setup(test_redis_promote, redis_fixture_each),
		cmocka_unit_test_setup(test_redis_delivery_ops, redis_fixture_each),
		cmocka_unit_test_setup(test_redis_gauges, redis_fixture_each),
		cmocka_unit_test_setup(test_redis_command_ops, redis_fixture_each),
		cmocka_unit_test_setup(test_redis_streamscrub, redis_fixture_each),
		cmocka_unit_test_setup(test_redis_forget_pages, redis_fixture_each),
		cmocka_unit_test_setup(test_redis_forget, redis_fixture_each),
		cmocka_unit_test_setup(test_redis_forget_old_address,
		    redis_fixture_each),
		cmocka_unit_test_setup(test_redis_dead_retry, redis_fixture_each),
		cmocka_unit_test_setup(test_redis_layout_hash, redis_fixture_each),
		cmocka_unit_test_setup(test_redis_layout_compact, redis_fixture_each),
		cmocka_unit_test_setup(test_redis_layout_before, redis_fixture_each),
		cmocka_unit_test_setup(test_redis_layout_forget, redis_fixture_each),
	};
	int	rv;

	signal(SIGPIPE, SIG_IGN);
	g_mime_init();
	clock_init();
	rv = cmocka_run_group_tests_name("store", pure, NULL, NULL);
	rv |= cmocka_run_group_tests_name("store-redis", redis, redis_setup,
	    redis_teardown);
	g_mime_shutdown();
	return rv;
}
