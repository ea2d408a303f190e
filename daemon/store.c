/*
 * store.c: the Lua scripts that are hearback's data model, and the argv
 * builders for them. Pure; any thread. See store.h for the key layout.
 *
 * Why Lua: each script is one atomic step in Redis, so several daemons
 * sharing one Redis need no leader and no locks. fetch reads what the planner
 * needs plus the version; commit applies the planner's ops only if the
 * version has not moved (otherwise the caller fetches again), then
 * acknowledges the inbox entry; promote hands due deliveries out under a
 * lease, returning each with the stored records it refers to, so a worker
 * renders from current data in one round trip.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

const char store_lua_fetch[] =
"local P = ARGV[1]\n"
"local out = {redis.call('GET', P .. 'version') or '0'}\n"
"for i = 2, #ARGV do\n"
"  local k = P .. ARGV[i]\n"
"  local t = redis.call('TYPE', k)['ok']\n"
"  if t == 'string' then out[#out + 1] = redis.call('GET', k)\n"
"  elseif t == 'set' then out[#out + 1] = redis.call('SMEMBERS', k)\n"
"  elseif t == 'hash' then out[#out + 1] = redis.call('HGETALL', k)\n"
"  else out[#out + 1] = false end\n"
"end\n"
"return out\n";

/*
 * Ops understood by commit (a = the op's arguments):
 *   SET k v | DEL k | SADD k m | SREM k m | ZADD k score m | ZREM k m | HSET k f v... | HINCRBY k f n
 *   EXPIRE k secs | XADD stream f v...  (stream: "audit" or "dead")
 *   DNEW did due cid mid f v...  create a delivery unless one exists
 *   DDEL did                     drop a delivery that is still pending
 *   DDELALL set                  DDEL every member of a set, then DEL it
 *   DSENT did reply ttl          sent: off the schedule, keep the hash ttl s
 *   DRETRY did due attempts first last reply
 *   DDEAD did first last attempts reply ttl
 *   DUNLEASE did due             give a leased delivery back untouched
 *   STREAMSCRUB stream needle... XDEL entries of a stream holding a needle
 *   NOTICESCRUB set needle...    DEL the notices (ids in set) whose data
 *                                holds a needle, and forget gone ones
 */
const char store_lua_commit[] =
"local P = ARGV[1]\n"
"local function k(n) return P .. n end\n"
"if ARGV[2] ~= '' then\n"
"  local v = redis.call('GET', k('version')) or '0'\n"
"  if v ~= ARGV[2] then return 0 end\n"
"end\n"
"local function dunindex(did)\n"
"  local h = redis.call('HMGET', k('d:' .. did), 'cid', 'mid')\n"
"  if h[1] and h[1] ~= '' then redis.call('SREM', k('cd:' .. h[1]), did) end\n"
"  if h[2] and h[2] ~= '' then redis.call('SREM', k('md:' .. h[2]), did) end\n"
"end\n"
"local function ddel(did)\n"
"  local dk = k('d:' .. did)\n"
"  if redis.call('HGET', dk, 'state') == 'scheduled' then\n"
"    dunindex(did)\n"
"    redis.call('ZREM', k('schedule'), did)\n"
"    redis.call('DEL', dk)\n"
"  end\n"
"end\n"
"local known = {SET=1, DEL=1, SADD=1, SREM=1, ZADD=1, ZREM=1, HINCRBY=1,\n"
"  EXPIRE=1, HSET=1, XADD=1, DNEW=1, DDEL=1, DDELALL=1, DSENT=1, DRETRY=1,\n"
"  DDEAD=1, DUNLEASE=1, STREAMSCRUB=1, NOTICESCRUB=1}\n"
"local i = 6\n"
"local nops = tonumber(ARGV[5])\n"
"for n = 1, nops do\n"
"  if not known[ARGV[i + 1]] then\n"
"    return redis.error_reply('hearback commit: unknown op ' .. tostring(ARGV[i + 1]))\n"
"  end\n"
"  i = i + 1 + tonumber(ARGV[i])\n"
"end\n"
"i = 6\n"
"for n = 1, nops do\n"
"  local c = tonumber(ARGV[i])\n"
"  local op = ARGV[i + 1]\n"
"  local a = {}\n"
"  for j = 1, c - 1 do a[j] = ARGV[i + 1 + j] end\n"
"  i = i + 1 + c\n"
"  if op == 'SET' then redis.call('SET', k(a[1]), a[2])\n"
"  elseif op == 'DEL' then redis.call('DEL', k(a[1]))\n"
"  elseif op == 'SADD' then redis.call('SADD', k(a[1]), a[2])\n"
"  elseif op == 'SREM' then redis.call('SREM', k(a[1]), a[2])\n"
"  elseif op == 'ZADD' then redis.call('ZADD', k(a[1]), a[2], a[3])\n"
"  elseif op == 'ZREM' then redis.call('ZREM', k(a[1]), a[2])\n"
"  elseif op == 'HINCRBY' then redis.call('HINCRBY', k(a[1]), a[2], a[3])\n"
"  elseif op == 'EXPIRE' then redis.call('EXPIRE', k(a[1]), a[2])\n"
"  elseif op == 'HSET' then\n"
"    local h = {k(a[1])}\n"
"    for j = 2, #a do h[#h + 1] = a[j] end\n"
"    redis.call('HSET', unpack(h))\n"
"  elseif op == 'XADD' then\n"
"    local x = {k(a[1]), '*'}\n"
"    for j = 2, #a do x[#x + 1] = a[j] end\n"
"    redis.call('XADD', unpack(x))\n"
"  elseif op == 'DNEW' then\n"
"    local dk = k('d:' .. a[1])\n"
"    if redis.call('EXISTS', dk) == 0 then\n"
"      local h = {dk, 'state', 'scheduled', 'cid', a[3], 'mid', a[4], 'due', a[2]}\n"
"      for j = 5, #a do h[#h + 1] = a[j] end\n"
"      redis.call('HSET', unpack(h))\n"
"      redis.call('ZADD', k('schedule'), a[2], a[1])\n"
"      if a[3] ~= '' then redis.call('SADD', k('cd:' .. a[3]), a[1]) end\n"
"      if a[4] ~= '' then redis.call('SADD', k('md:' .. a[4]), a[1]) end\n"
"    end\n"
"  elseif op == 'DDEL' then ddel(a[1])\n"
"  elseif op == 'DDELALL' then\n"
"    for _, did in ipairs(redis.call('SMEMBERS', k(a[1]))) do ddel(did) end\n"
"    redis.call('DEL', k(a[1]))\n"
"  elseif op == 'DSENT' then\n"
"    local dk = k('d:' .. a[1])\n"
"    redis.call('ZREM', k('schedule'), a[1])\n"
"    if redis.call('EXISTS', dk) == 1 then\n"
"      dunindex(a[1])\n"
"      redis.call('HSET', dk, 'state', 'sent', 'last_reply', a[2])\n"
"      redis.call('EXPIRE', dk, a[3])\n"
"    end\n"
"  elseif op == 'DRETRY' then\n"
"    local dk = k('d:' .. a[1])\n"
"    if redis.call('HGET', dk, 'state') == 'scheduled' then\n"
"      redis.call('ZADD', k('schedule'), a[2], a[1])\n"
"      redis.call('HSET', dk, 'attempts', a[3], 'first_try', a[4], 'last_try', a[5], 'last_reply', a[6])\n"
"    end\n"
"  elseif op == 'DDEAD' then\n"
"    local dk = k('d:' .. a[1])\n"
"    redis.call('ZREM', k('schedule'), a[1])\n"
"    if redis.call('EXISTS', dk) == 1 then\n"
"      dunindex(a[1])\n"
"      redis.call('HSET', dk, 'state', 'dead', 'first_try', a[2], 'last_try', a[3], 'attempts', a[4], 'last_reply', a[5])\n"
"      redis.call('EXPIRE', dk, a[6])\n"
"    end\n"
"  elseif op == 'DUNLEASE' then\n"
"    if redis.call('HGET', k('d:' .. a[1]), 'state') == 'scheduled' then\n"
"      redis.call('ZADD', k('schedule'), a[2], a[1])\n"
"    end\n"
"  elseif op == 'STREAMSCRUB' then\n"
"    local es = redis.call('XRANGE', k(a[1]), '-', '+')\n"
"    for _, e in ipairs(es) do\n"
"      local hit = false\n"
"      for _, v in ipairs(e[2]) do\n"
"        for j = 2, #a do\n"
"          if string.find(v, a[j], 1, true) then hit = true end\n"
"        end\n"
"      end\n"
"      if hit then redis.call('XDEL', k(a[1]), e[1]) end\n"
"    end\n"
"  elseif op == 'NOTICESCRUB' then\n"
"    for _, did in ipairs(redis.call('SMEMBERS', k(a[1]))) do\n"
"      local dk = k('d:' .. did)\n"
"      local d = redis.call('HGET', dk, 'data')\n"
"      local hit = false\n"
"      if d then\n"
"        for j = 2, #a do\n"
"          if string.find(d, a[j], 1, true) then hit = true end\n"
"        end\n"
"      end\n"
"      if hit or not d then\n"
"        redis.call('ZREM', k('schedule'), did)\n"
"        redis.call('DEL', dk)\n"
"        redis.call('SREM', k(a[1]), did)\n"
"      end\n"
"    end\n"
"  else\n"
"    return redis.error_reply('hearback commit: unknown op ' .. op)\n"
"  end\n"
"end\n"
"if ARGV[2] ~= '' then redis.call('INCR', k('version')) end\n"
"if ARGV[4] ~= '' then\n"
"  redis.call('XACK', k('inbox'), ARGV[3], ARGV[4])\n"
"  redis.call('XDEL', k('inbox'), ARGV[4])\n"
"end\n"
"return 1\n";

const char store_lua_promote[] =
"local P = ARGV[1]\n"
"local now = tonumber(ARGV[2])\n"
"local lease = tonumber(ARGV[3])\n"
"local ids = redis.call('ZRANGEBYSCORE', P .. 'schedule', '-inf', now, 'LIMIT', 0, tonumber(ARGV[4]))\n"
"local out = {''}\n"
"for _, did in ipairs(ids) do\n"
"  local dk = P .. 'd:' .. did\n"
"  local h = redis.call('HGETALL', dk)\n"
"  if #h == 0 then\n"
"    redis.call('ZREM', P .. 'schedule', did)\n"
"  else\n"
"    redis.call('ZADD', P .. 'schedule', now + lease, did)\n"
"    redis.call('HINCRBY', dk, 'leases', 1)\n"
"    local refs = {}\n"
"    local r = redis.call('HGET', dk, 'refs') or ''\n"
"    for key in string.gmatch(r, '%S+') do\n"
"      refs[#refs + 1] = key\n"
"      refs[#refs + 1] = redis.call('GET', P .. key) or ''\n"
"    end\n"
"    out[#out + 1] = {did, h, refs}\n"
"  end\n"
"end\n"
"local nx = redis.call('ZRANGE', P .. 'schedule', 0, 0, 'WITHSCORES')\n"
"if #nx == 2 then out[1] = nx[2] end\n"
"return out\n";

/*
 * The overdue "you said" digest: said items open longer than feedback_due,
 * grouped by coordinator; a coordinator whose last digest is at least
 * digest_every old gets one digest delivery (kind "digest"), made here so
 * that only one daemon makes it. ARGV: P now due_ms every_ms coordinator
 * max_age_ms. Returns how many digests were made.
 */
const char store_lua_digest[] =
"local P = ARGV[1]\n"
"local now = tonumber(ARGV[2])\n"
"local every = tonumber(ARGV[4])\n"
"local ids = redis.call('ZRANGEBYSCORE', P .. 'said:open', '-inf', now - tonumber(ARGV[3]), 'WITHSCORES')\n"
"local groups, order = {}, {}\n"
"for i = 1, #ids, 2 do\n"
"  local raw = redis.call('GET', P .. 'rec:said:' .. ids[i])\n"
"  if raw then\n"
"    local ok, w = pcall(cjson.decode, raw)\n"
"    local c = ARGV[5]\n"
"    local m = nil\n"
"    if ok and type(w) == 'table' and type(w.record) == 'table' then\n"
"      if type(w.record.coordinator) == 'string' then c = w.record.coordinator end\n"
"      if type(w.record.meeting) == 'string' then m = w.record.meeting end\n"
"    end\n"
"    if not groups[c] then groups[c] = {} order[#order + 1] = c end\n"
"    table.insert(groups[c], {ids[i], tonumber(ids[i + 1]), m})\n"
"  else\n"
"    redis.call('ZREM', P .. 'said:open', ids[i])\n"
"  end\n"
"end\n"
"local made = 0\n"
"for _, c in ipairs(order) do\n"
"  local last = tonumber(redis.call('GET', P .. 'digest:' .. c) or '0')\n"
"  if last + every <= now then\n"
"    redis.call('SET', P .. 'digest:' .. c, now)\n"
"    local did = 'digest:' .. string.sub(redis.sha1hex(c), 1, 12) .. ':' .. now\n"
"    local items, refs, seen = {}, {}, {}\n"
"    for _, it in ipairs(groups[c]) do\n"
"      items[#items + 1] = {id = it[1], at = it[2]}\n"
"      refs[#refs + 1] = 'rec:said:' .. it[1]\n"
"      if it[3] and not seen[it[3]] then seen[it[3]] = true refs[#refs + 1] = 'rec:meeting:' .. it[3] end\n"
"    end\n"
"    redis.call('HSET', P .. 'd:' .. did, 'state', 'scheduled', 'cid', '', 'mid', '', 'due', now,\n"
"      'kind', 'digest', 'refs', table.concat(refs, ' '), 'to', c,\n"
"      'data', cjson.encode({items = items}), 'src', 'digest', 'created', now,\n"
"      'deadline', now + tonumber(ARGV[6]), 'attempts', 0)\n"
"    redis.call('ZADD', P .. 'schedule', now, did)\n"
"    made = made + 1\n"
"  end\n"
"end\n"
"return made\n";

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
store_argv_head(struct store_argv *a, const char *script, const char *prefix)
{
	char	p[128];

	memset(a, 0, sizeof *a);
	store_argv_adds(a, "EVAL");
	store_argv_adds(a, script);
	store_argv_adds(a, "0");
	snprintf(p, sizeof p, "{%s}:", prefix);
	store_argv_adds(a, p);
}

void
store_fetch_argv(const char *prefix, json_t *keys, struct store_argv *a)
{
	size_t	 i;
	json_t	*k;

	store_argv_head(a, store_lua_fetch, prefix);
	json_array_foreach(keys, i, k)
		store_argv_adds(a, json_string_value(k));
}

void
store_commit_argv(const char *prefix, const char *version, const char *group,
    const char *entry, json_t *ops, struct store_argv *a)
{
	size_t	 i, j;
	json_t	*op, *arg;
	char	 n[32];

	store_argv_head(a, store_lua_commit, prefix);
	store_argv_adds(a, version);
	store_argv_adds(a, group);
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

	store_argv_head(a, store_lua_digest, prefix);
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
store_promote_argv(const char *prefix, long long now_ms, long long lease_ms,
    int max, struct store_argv *a)
{
	char	n[32];

	store_argv_head(a, store_lua_promote, prefix);
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
