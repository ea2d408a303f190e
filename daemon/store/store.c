/*
 * store.c: the pure half of the data model (see store.h): the scripts'
 * SHA-1s, argv builders, ops and snapshots. Any thread.
 *
 * Why Lua: each script is one atomic step in Redis, so several daemons
 * sharing one Redis need no leader and no locks. fetch reads what the planner
 * needs plus the version; commit applies the planner's ops only if the
 * version has not moved (otherwise the caller fetches again), then
 * acknowledges the inbox entry; lease hands due deliveries out under a
 * lease, returning each with the stored records it refers to, so a worker
 * renders from current data in one round trip. The scripts themselves are
 * daemon/store/NAME.lua.
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
    store_lua_digest[];

struct store_script {
	const char	*text;
	char		 sha[41];
};

enum store_lua {
	STORE_LUA_FETCH,
	STORE_LUA_COMMIT,
	STORE_LUA_LEASE,
	STORE_LUA_DIGEST,
	STORE_LUA_MAX
};

static struct store_script store_scripts[STORE_LUA_MAX] = {
	[STORE_LUA_FETCH] = { store_lua_fetch, "" },
	[STORE_LUA_COMMIT] = { store_lua_commit, "" },
	[STORE_LUA_LEASE] = { store_lua_lease, "" },
	[STORE_LUA_DIGEST] = { store_lua_digest, "" },
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
	a->argv = xrealloc(a->argv, (a->argc + 1) * sizeof *a->argv);
	a->lens = xrealloc(a->lens, (a->argc + 1) * sizeof *a->lens);
	a->argv[a->argc] = xstrndup(s, len);
	a->lens[a->argc] = len;
	a->argc++;
}

static void
store_argv_adds(struct store_argv *a, const char *s)
{
	store_argv_add(a, s, strlen(s));
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
	store_argv_adds(a, STORE_GROUP);
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
	char	n[32];

	store_argv_head(a, STORE_LUA_DIGEST, prefix);
	snprintf(n, sizeof n, "%lld", now_ms);
	store_argv_adds(a, n);
	snprintf(n, sizeof n, "%lld", due_ms);
	store_argv_adds(a, n);
	snprintf(n, sizeof n, "%lld", every_ms);
	store_argv_adds(a, n);
	store_argv_adds(a, coordinator);
	snprintf(n, sizeof n, "%lld", max_age_ms);
	store_argv_adds(a, n);
}

void
store_lease_argv(const char *prefix, long long now_ms, long long lease_ms,
    int max, struct store_argv *a)
{
	char	n[32];

	store_argv_head(a, STORE_LUA_LEASE, prefix);
	snprintf(n, sizeof n, "%lld", now_ms);
	store_argv_adds(a, n);
	snprintf(n, sizeof n, "%lld", lease_ms);
	store_argv_adds(a, n);
	snprintf(n, sizeof n, "%d", max);
	store_argv_adds(a, n);
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

void
store_op(json_t *ops, const char *op, ...)
{
	json_t		*a = json_array();
	const char	*s;
	va_list		 ap;

	json_array_append_new(a, json_string(op));
	va_start(ap, op);
	/* Values are bytes: a record that is not UTF-8 still has to reach
	 * the dead stream intact. */
	while ((s = va_arg(ap, const char *)) != NULL)
		json_array_append_new(a, json_stringn_nocheck(s, strlen(s)));
	va_end(ap);
	json_array_append_new(ops, a);
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
