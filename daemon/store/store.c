/*
 * store.c: the pure half of the data model (see store.h): key names, the
 * scripts' SHA-1s and argv builders, snapshots, and parsing what the
 * scripts return. Plans (ops) are op.c's, the calls to Redis call.c's.
 * Any thread.
 *
 * Why Lua: each script is one atomic step in Redis, so several daemons
 * sharing one Redis need no leader and no locks. fetch reads what the planner
 * needs plus the version; commit applies the planner's ops only if the
 * version has not moved (otherwise the caller fetches again), then
 * acknowledges the inbox entry; lease hands due deliveries out under a
 * lease, returning each with the stored records it refers to, so a worker
 * renders from current data in one round trip; digest makes the overdue
 * "you said" digests; gauges reads what status shows; enqueue queues the
 * command's records; retry puts a dead entry back; page reads a page of a
 * fan-out's audience (store.h, "Fan-outs"). The scripts themselves are
 * daemon/store/NAME.lua, each after lib.lua.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "store.h"

/* scripts.S: lib.lua + one script each, NUL-terminated. */
extern const char store_lua_fetch[], store_lua_commit[], store_lua_lease[],
    store_lua_digest[], store_lua_gauges[], store_lua_enqueue[],
    store_lua_retry[], store_lua_page[], store_lua_trim[], store_lua_scrub[];

struct store_script {
	const char	*text;
	char		 sha[41];
};

enum store_lua {
	STORE_LUA_FETCH,
	STORE_LUA_COMMIT,
	STORE_LUA_LEASE,
	STORE_LUA_DIGEST,
	STORE_LUA_GAUGES,
	STORE_LUA_ENQUEUE,
	STORE_LUA_RETRY,
	STORE_LUA_PAGE,
	STORE_LUA_TRIM,
	STORE_LUA_SCRUB,
	STORE_LUA_MAX
};

static struct store_script store_scripts[STORE_LUA_MAX] = {
	[STORE_LUA_FETCH] = { store_lua_fetch, "" },
	[STORE_LUA_COMMIT] = { store_lua_commit, "" },
	[STORE_LUA_LEASE] = { store_lua_lease, "" },
	[STORE_LUA_DIGEST] = { store_lua_digest, "" },
	[STORE_LUA_GAUGES] = { store_lua_gauges, "" },
	[STORE_LUA_ENQUEUE] = { store_lua_enqueue, "" },
	[STORE_LUA_RETRY] = { store_lua_retry, "" },
	[STORE_LUA_PAGE] = { store_lua_page, "" },
	[STORE_LUA_TRIM] = { store_lua_trim, "" },
	[STORE_LUA_SCRUB] = { store_lua_scrub, "" },
};
static pthread_once_t store_once = PTHREAD_ONCE_INIT;

/* EVALSHA names a script by the SHA-1 of its text, as Redis computes it. */
static void
store_hash_scripts(void)
{
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned int	n, i;
	int		s;

	for (s = 0; s < STORE_LUA_MAX; s++) {
		if (EVP_Digest(store_scripts[s].text,
		    strlen(store_scripts[s].text), md, &n, EVP_sha1(),
		    NULL) != 1 || n != 20)
			fatalx("store: cannot compute a SHA-1");
		for (i = 0; i < n; i++)
			snprintf(store_scripts[s].sha + 2 * i, 3, "%02x", md[i]);
	}
}

/*
 * Key names. The scripts spell the same names (lib.lua, commit.lua...);
 * store.h lists them all.
 */
static const char *const store_set_names[] = {
	[STORE_COLLABORATORS] = "collaborators",
	[STORE_FORGOTTEN] = "forgotten",
	[STORE_SAID] = "said",
	[STORE_NOTICES] = "notices",
	[STORE_GROUPS] = "groups",
	[STORE_GROUP] = "group:",
	[STORE_COLLAB_SAID] = "cs:",
	[STORE_VENUE_MEETINGS] = "vm:",
	[STORE_SAID_OUTCOMES] = "so:",
	[STORE_COLLAB_DELIVERIES] = "cd:",
	[STORE_MEETING_DELIVERIES] = "md:",
};

const char *
store_setkey(enum store_set set, const char *id, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s", store_set_names[set], set >= STORE_GROUP &&
	    id != NULL ? id : "");
	return buf;
}

const char *
store_reckey(const char *type, const char *id, char *buf, size_t len)
{
	snprintf(buf, len, "rec:%s:%s", type, id);
	return buf;
}

const char *
store_markkey(const char *type, const char *id, char *buf, size_t len)
{
	snprintf(buf, len, "fanout:%s:%s", type, id);
	return buf;
}

const char *
store_invkey(const char *mid, char *buf, size_t len)
{
	snprintf(buf, len, "mi:%s", mid);
	return buf;
}

const char *
store_partkey(const char *mid, char *buf, size_t len)
{
	snprintf(buf, len, "mp:%s", mid);
	return buf;
}

static void
store_did_part(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '%')
			buf_adds(b, "%25");
		else if (*s == ':')
			buf_adds(b, "%3A");
		else
			buf_addc(b, *s);
	}
}

char *
store_did(const char *kind, ...)
{
	struct buf	 b;
	const char	*s;
	va_list		 ap;

	buf_init(&b);
	store_did_part(&b, kind);
	va_start(ap, kind);
	while ((s = va_arg(ap, const char *)) != NULL) {
		buf_addc(&b, ':');
		store_did_part(&b, s);
	}
	va_end(ap);
	return buf_take(&b);
}

char *
store_did_about(const char *kind, const char *what, const char *did)
{
	char	*head = store_did(kind, what, NULL), *s;

	s = xasprintf("%s:%s", head, did);
	free(head);
	return s;
}

json_t *
store_did_parts(const char *did)
{
	json_t		*parts = json_array();
	struct buf	 b;
	const char	*p;

	buf_init(&b);
	buf_adds(&b, "");
	for (p = did;; p++) {
		if (*p == ':' || *p == '\0') {
			json_array_append_new(parts, json_stringn_nocheck(b.s,
			    b.len));
			b.len = 0;
			b.s[0] = '\0';
			if (*p == '\0')
				break;
		} else if (strncmp(p, "%3A", 3) == 0) {
			buf_addc(&b, ':');
			p += 2;
		} else if (strncmp(p, "%25", 3) == 0) {
			buf_addc(&b, '%');
			p += 2;
		} else
			buf_addc(&b, *p);
	}
	buf_free(&b);
	return parts;
}

void
store_argv_free(struct store_argv *a)
{
	int	i;

	for (i = 0; i < a->argc; i++)
		free(a->argv[i]);
	free(a->argv);
	free(a->lens);
	memset(a, 0, sizeof *a);
}

static void
store_argv_add(struct store_argv *a, const char *s, size_t len)
{
	if (a->argc == a->cap) {
		/* A commit has thousands of arguments: grow by doubling. */
		a->cap = a->cap ? a->cap * 2 : 16;
		a->argv = xrealloc(a->argv, a->cap * sizeof *a->argv);
		a->lens = xrealloc(a->lens, a->cap * sizeof *a->lens);
	}
	a->argv[a->argc] = xstrndup(s, len);
	a->lens[a->argc] = len;
	a->argc++;
}

static void
store_argv_adds(struct store_argv *a, const char *s)
{
	store_argv_add(a, s, strlen(s));
}

/* A number as one argument. */
static void
store_argv_addn(struct store_argv *a, long long v)
{
	char	n[32];

	snprintf(n, sizeof n, "%lld", v);
	store_argv_adds(a, n);
}

static void
store_argv_head(struct store_argv *a, enum store_lua script,
    const char *prefix)
{
	char	p[128];

	pthread_once(&store_once, store_hash_scripts);
	memset(a, 0, sizeof *a);
	a->script = store_scripts[script].text;
	store_argv_adds(a, "EVALSHA");
	store_argv_adds(a, store_scripts[script].sha);
	store_argv_adds(a, "0");
	snprintf(p, sizeof p, "{%s}:", prefix);
	store_argv_adds(a, p);
}

void
store_fetch_argv(const char *prefix, json_t *keys, struct store_argv *a)
{
	size_t	 i;
	json_t	*k;

	store_argv_head(a, STORE_LUA_FETCH, prefix);
	json_array_foreach(keys, i, k)
		store_argv_adds(a, json_string_value(k));
}

void
store_commit_argv(const char *prefix, const char *version, const char *entry,
    json_t *ops, struct store_argv *a)
{
	size_t	 i, j;
	json_t	*op, *arg;
	char	 n[32];

	store_argv_head(a, STORE_LUA_COMMIT, prefix);
	store_argv_adds(a, version);
	store_argv_adds(a, STORE_INBOX_GROUP);
	store_argv_adds(a, entry);
	snprintf(n, sizeof n, "%zu", json_array_size(ops));
	store_argv_adds(a, n);
	json_array_foreach(ops, i, op) {
		snprintf(n, sizeof n, "%zu", json_array_size(op));
		store_argv_adds(a, n);
		json_array_foreach(op, j, arg)
			store_argv_add(a, json_string_value(arg),
			    json_string_length(arg));
	}
}

void
store_digest_argv(const char *prefix, long long now_ms, long long due_ms,
    long long every_ms, const char *coordinator, long long max_age_ms,
    struct store_argv *a)
{
	store_argv_head(a, STORE_LUA_DIGEST, prefix);
	store_argv_addn(a, now_ms);
	store_argv_addn(a, due_ms);
	store_argv_addn(a, every_ms);
	store_argv_adds(a, coordinator);
	store_argv_addn(a, max_age_ms);
}

void
store_lease_argv(const char *prefix, long long now_ms, long long lease_ms,
    int max, int summaries, struct store_argv *a)
{
	store_argv_head(a, STORE_LUA_LEASE, prefix);
	store_argv_addn(a, now_ms);
	store_argv_addn(a, lease_ms);
	store_argv_addn(a, max);
	store_argv_addn(a, summaries != 0);
}

void
store_gauges_argv(const char *prefix, long long overdue_ms,
    struct store_argv *a)
{
	store_argv_head(a, STORE_LUA_GAUGES, prefix);
	store_argv_addn(a, overdue_ms);
}

void
store_trim_argv(const char *prefix, long long audit_min_ms,
    long long dead_min_ms, int batch, struct store_argv *a)
{
	store_argv_head(a, STORE_LUA_TRIM, prefix);
	store_argv_addn(a, audit_min_ms);
	store_argv_addn(a, dead_min_ms);
	store_argv_addn(a, batch);
}

void
store_scrub_argv(const char *prefix, int budget, struct store_argv *a)
{
	store_argv_head(a, STORE_LUA_SCRUB, prefix);
	store_argv_addn(a, budget);
}

void
store_enqueue_argv(const char *prefix, json_t *texts, struct store_argv *a)
{
	size_t	 i;
	json_t	*t;

	store_argv_head(a, STORE_LUA_ENQUEUE, prefix);
	json_array_foreach(texts, i, t)
		store_argv_add(a, json_string_value(t), json_string_length(t));
}

void
store_page_argv(const char *prefix, int records, const char *set,
    const char *cursor, int count, struct store_argv *a)
{
	store_argv_head(a, STORE_LUA_PAGE, prefix);
	store_argv_adds(a, records ? "1" : "0");
	store_argv_adds(a, "scan");
	store_argv_adds(a, set);
	store_argv_adds(a, cursor);
	store_argv_addn(a, count);
}

void
store_page_ids_argv(const char *prefix, int records, json_t *ids,
    struct store_argv *a)
{
	size_t	 i;
	json_t	*v;

	store_argv_head(a, STORE_LUA_PAGE, prefix);
	store_argv_adds(a, records ? "1" : "0");
	store_argv_adds(a, "ids");
	json_array_foreach(ids, i, v)
		store_argv_add(a, json_string_value(v), json_string_length(v));
}

void
store_mpage_fetch_argv(const char *prefix, json_t *keys, struct store_argv *a)
{
	size_t	 i;
	json_t	*k;

	store_argv_head(a, STORE_LUA_PAGE, prefix);
	store_argv_adds(a, "-");
	store_argv_adds(a, "fetch");
	json_array_foreach(keys, i, k)
		store_argv_add(a, json_string_value(k), json_string_length(k));
}

void
store_mpage_people_argv(const char *prefix, const struct store_people *q,
    struct store_argv *a)
{
	size_t	 i;
	json_t	*v;

	store_argv_head(a, STORE_LUA_PAGE, prefix);
	store_argv_adds(a, q->want);
	store_argv_adds(a, "people");
	store_argv_adds(a, q->mid);
	store_argv_adds(a, q->src != NULL ? q->src : "i");
	store_argv_adds(a, q->cursor != NULL ? q->cursor : "0");
	store_argv_addn(a, q->count);
	store_argv_addn(a, (long long)json_array_size(q->groups));
	json_array_foreach(q->groups, i, v)
		store_argv_add(a, json_string_value(v), json_string_length(v));
	if (q->src == NULL)
		json_array_foreach(q->ids, i, v)
			store_argv_add(a, json_string_value(v),
			    json_string_length(v));
}

void
store_mpage_hscan_argv(const char *prefix, const char *key,
    const char *cursor, int count, struct store_argv *a)
{
	store_argv_head(a, STORE_LUA_PAGE, prefix);
	store_argv_adds(a, "-");
	store_argv_adds(a, "hscan");
	store_argv_adds(a, key);
	store_argv_adds(a, cursor);
	store_argv_addn(a, count);
}

void
store_retry_argv(const char *prefix, const char *entry, long long now_ms,
    long long deadline_ms, struct store_argv *a)
{
	store_argv_head(a, STORE_LUA_RETRY, prefix);
	store_argv_adds(a, entry);
	store_argv_addn(a, now_ms);
	store_argv_addn(a, deadline_ms);
}

int
store_snap_put_string(json_t *snap, const char *key, const char *v,
    size_t len, struct err *e)
{
	json_error_t	 je;
	json_t		*j;

	if ((j = json_loadb(v, len, 0, &je)) == NULL)
		return err_set(e, "stored %s is not JSON: %s", key, je.text);
	json_object_set_new(snap, key, j);
	return 0;
}

void
store_snap_put_set(json_t *snap, const char *key, json_t *members)
{
	json_object_set(snap, key, members);
}

void
store_snap_put_null(json_t *snap, const char *key)
{
	json_object_set_new(snap, key, json_null());
}

/* A value from Redis as a JSON string (bytes as they are). */
static json_t *
store_jstr(const redisReply *r)
{
	if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS)
		return json_stringn_nocheck(r->str, r->len);
	if (r->type == REDIS_REPLY_INTEGER)
		return json_integer(r->integer);
	return json_null();
}

int
store_snap_merge(json_t *snap, json_t *need, const redisReply *r,
    char *version, size_t vlen, struct err *e)
{
	size_t		 i, j;
	int		 bad = 0;
	const char	*key;
	json_t		*m;
	redisReply	*v;

	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements < 1 ||
	    r->elements - 1 > json_array_size(need) ||
	    r->element[0]->type != REDIS_REPLY_STRING)
		return err_set(e, "fetch: unexpected reply");
	if (version != NULL)
		snprintf(version, vlen, "%s", r->element[0]->str);
	for (i = 1; i < r->elements; i++) {
		key = json_string_value(json_array_get(need, i - 1));
		v = r->element[i];
		if (v->type == REDIS_REPLY_STRING) {
			if (store_snap_put_string(snap, key, v->str, v->len,
			    e) == -1) {
				store_snap_put_null(snap, key);
				bad++;
			}
		} else if (v->type == REDIS_REPLY_INTEGER) {
			/* "#card:KEY": how many members KEY has. */
			json_object_set_new(snap, key, json_integer(
			    (json_int_t)v->integer));
		} else if (v->type == REDIS_REPLY_ARRAY) {
			m = json_array();
			for (j = 0; j < v->elements; j++)
				json_array_append_new(m, store_jstr(
				    v->element[j]));
			store_snap_put_set(snap, key, m);
			json_decref(m);
		} else
			store_snap_put_null(snap, key);
	}
	return bad;
}

/* One person's record as page.lua gives it (their record's text, or 1 when
 * they were forgotten, or nothing): into snap under their record's key, a
 * forgotten id also in snap's "forgotten". Returns -1 for a record that is
 * not JSON (put as null, e says why). */
int
store_snap_put_person(json_t *snap, const char *id, const redisReply *v,
    struct err *e)
{
	char	 key[STORE_KEY_MAX];
	json_t	*fg;

	store_reckey("collaborator", id, key, sizeof key);
	if (v->type == REDIS_REPLY_STRING) {
		if (store_snap_put_string(snap, key, v->str, v->len, e) == 0)
			return 0;
		store_snap_put_null(snap, key);
		return -1;
	}
	store_snap_put_null(snap, key);
	if (v->type == REDIS_REPLY_INTEGER && v->integer == 1) {
		if ((fg = json_object_get(snap, "forgotten")) == NULL ||
		    !json_is_array(fg)) {
			fg = json_array();
			json_object_set_new(snap, "forgotten", fg);
		}
		json_array_append_new(fg, json_string(id));
	}
	return 0;
}

int
store_page_parse(const redisReply *r, char *cursor, size_t clen,
    json_t *snap, json_t **ids, struct err *e)
{
	const char	*id;
	size_t		 i;
	int		 bad = 0;

	*ids = NULL;
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements < 1 ||
	    r->elements % 2 != 1 || r->element[0]->type != REDIS_REPLY_STRING)
		return err_set(e, "page: unexpected reply");
	for (i = 1; i < r->elements; i += 2)
		if (r->element[i]->type != REDIS_REPLY_STRING)
			return err_set(e, "page: unexpected reply");
	snprintf(cursor, clen, "%s", r->element[0]->str);
	*ids = json_array();
	for (i = 1; i < r->elements; i += 2) {
		id = r->element[i]->str;
		json_array_append_new(*ids, json_stringn_nocheck(id,
		    r->element[i]->len));
		if (store_snap_put_person(snap, id, r->element[i + 1],
		    e) == -1)
			bad++;
	}
	return bad;
}

const char *
store_mark_field(json_t *v, const char *field)
{
	const char	*f;
	size_t		 i;

	for (i = 0; json_is_array(v) && i + 1 < json_array_size(v); i += 2) {
		f = json_string_value(json_array_get(v, i));
		if (f != NULL && strcmp(f, field) == 0)
			return json_string_value(json_array_get(v, i + 1));
	}
	return NULL;
}

json_t *
store_mark_parse(json_t *v)
{
	json_t		*out, *old;
	const char	*f, *ver = NULL, *oldtext = NULL;
	size_t		 i;

	if (!json_is_array(v))
		return NULL;
	for (i = 0; i + 1 < json_array_size(v); i += 2) {
		f = json_string_value(json_array_get(v, i));
		if (f != NULL && strcmp(f, "ver") == 0)
			ver = json_string_value(json_array_get(v, i + 1));
		else if (f != NULL && strcmp(f, "old") == 0)
			oldtext = json_string_value(json_array_get(v, i + 1));
	}
	if (ver == NULL)
		return NULL;
	old = oldtext ? json_loads(oldtext, 0, NULL) : NULL;
	if (!json_is_array(old)) {
		json_decref(old);
		old = json_array();
	}
	out = json_pack("{s:s, s:o}", "ver", ver, "old", old);
	return out;
}

/* A flat [field, value, ...] array as an object of strings. */
static json_t *
store_hash(const redisReply *h)
{
	json_t	*o = json_object();
	size_t	 i;

	for (i = 0; h->type == REDIS_REPLY_ARRAY && i + 1 < h->elements; i += 2)
		if (h->element[i]->type == REDIS_REPLY_STRING &&
		    h->element[i + 1]->type == REDIS_REPLY_STRING)
			json_object_set_new(o, h->element[i]->str,
			    json_stringn(h->element[i + 1]->str,
			    h->element[i + 1]->len));
	return o;
}

/* [key, value, ...] of stored records as key -> parsed record or null. */
static json_t *
store_records(const redisReply *r)
{
	json_t	*o = json_object(), *v;
	size_t	 i;

	for (i = 0; r->type == REDIS_REPLY_ARRAY && i + 1 < r->elements; i += 2) {
		redisReply *k = r->element[i], *x = r->element[i + 1];

		if (k->type != REDIS_REPLY_STRING)
			continue;
		v = NULL;
		if (x->type == REDIS_REPLY_STRING && x->len > 0)
			v = json_loadb(x->str, x->len, 0, NULL);
		json_object_set_new(o, k->str, v ? v : json_null());
	}
	return o;
}

json_t *
store_lease_parse(const redisReply *r, long long *next_due_ms)
{
	json_t		*out = json_array();
	redisReply	*item;
	size_t		 i;

	*next_due_ms = 0;
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements < 1)
		return out;
	if (r->element[0]->type == REDIS_REPLY_STRING &&
	    r->element[0]->len > 0)
		*next_due_ms = atoll(r->element[0]->str);
	for (i = 1; i < r->elements; i++) {
		item = r->element[i];
		if (item->type != REDIS_REPLY_ARRAY || item->elements != 3 ||
		    item->element[0]->type != REDIS_REPLY_STRING)
			continue;
		json_array_append_new(out, json_pack("{s:s%, s:o, s:o}",
		    "did", item->element[0]->str, item->element[0]->len,
		    "delivery", store_hash(item->element[1]),
		    "records", store_records(item->element[2])));
	}
	return out;
}

static long long
store_int(const redisReply *r)
{
	if (r->type == REDIS_REPLY_INTEGER)
		return r->integer;
	if (r->type == REDIS_REPLY_STRING)
		return atoll(r->str);
	return 0;
}

int
store_gauges_parse(const redisReply *r, struct store_gauges *g)
{
	const redisReply	*st;
	size_t			 i;

	memset(g, 0, sizeof *g);
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 7)
		return -1;
	g->inbox_backlog = store_int(r->element[0]);
	g->scheduled = store_int(r->element[1]);
	g->next_due_ms = store_int(r->element[2]);
	g->dead = store_int(r->element[3]);
	g->said_open = store_int(r->element[4]);
	g->said_overdue = store_int(r->element[5]);
	g->sent = json_object();
	st = r->element[6];
	for (i = 0; st->type == REDIS_REPLY_ARRAY && i + 1 < st->elements;
	    i += 2)
		if (st->element[i]->type == REDIS_REPLY_STRING &&
		    strncmp(st->element[i]->str, "sent:", 5) == 0)
			json_object_set_new(g->sent, st->element[i]->str + 5,
			    json_integer(store_int(st->element[i + 1])));
	return 0;
}

void
store_gauges_clear(struct store_gauges *g)
{
	json_decref(g->sent);
	g->sent = NULL;
}

char *
store_dump(json_t *v)
{
	char	*s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS |
	    JSON_ENCODE_ANY);

	if (s == NULL)
		fatalx("store_dump: cannot encode JSON");
	return s;
}
