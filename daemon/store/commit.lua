-- commit.lua: apply a plan (an op list) in one atomic step.
-- ARGV: P version group entry nops, then each op as: count name args...
--   version  "" = no check; else nothing happens unless it is current,
--            and the version moves on after the ops
--   entry    "" = none; else the inbox entries (ids separated by spaces)
--            are acknowledged and deleted in the same step, so a record
--            leaves the inbox only once all it causes is stored
-- Returns 1 applied, 0 the version moved (the caller plans again), 2 the
-- fan-out an IFMARK names is over or another version's (nothing applied).
--
-- Ops (a = the op's arguments; keys are relative to P):
--   SET k v | DEL k | SADD k m | SREM k m | ZADD k score m | ZREM k m
--   ZADDXX k score m (only a member already there: a new score)
--   HSET k f v... | HINCRBY k f n | EXPIRE k secs | XADD stream f v...
--   HDEL k f... | UNLINK k (a key that may be big, freed in the background)
--   DNEW did due cid mid f v...  create a delivery unless one exists; a
--                                field "after" holds it behind guards
--                                (dnew below, meeting.c's meeting_after);
--                                stored as lib.lua says (dcreate)
--   DDEL did                     drop a delivery that is still pending (one
--                                a worker has taken: withdrawn, see ddel)
--   DDELALL set                  DDEL every member of a set, then DEL it
--   DSENT did reply ttl          sent: off the schedule, keep the hash ttl s
--   DRETRY did due attempts first last reply
--   DDEAD did first last attempts reply ttl
--   DUNLEASE did due             give a leased delivery back untouched
--   STREAMSCRUB stream needle... XDEL entries of a stream holding a needle
--   NOTICESCRUB set needle...    DEL the notices (ids in set) whose data
--                                holds a needle, and forget gone ones
--   FORGET cid name email phone budget [sname semail]  forget's scrub of
--                                every key (forget.lua; sname and semail:
--                                their supporter's), DEL pref:<cid>, the
--                                marker forget:<cid>,
--                                cid in the set forgetting, and the first
--                                page of about budget values (put it last:
--                                it sees what the ops before it left)
-- A fan-out (a record planned in pages) has a marker, the hash
-- fanout:<type>:<id> {ver, old}, from its first commit to its last:
--   IFMARK key ver               checked before anything is applied: the
--                                marker is there and still ver's, else 2
--   DELMARK key ver              the marker goes, if it is still ver's
--   DFAN did due cid mid ver f v...  a fan-out's delivery, for a person
--                                who is still a consenting collaborator:
--                                created unless one exists; one planned
--                                by another version (ver) and still
--                                pending becomes this version's, and
--                                moves to due unless it is leased or
--                                waiting for a retry; sent or dead ones
--                                stay as they are
--   DDELOLD did ver              drop a pending delivery that no longer
--                                belongs to version ver
if ARGV[2] ~= '' then
  local v = redis.call('GET', k('version')) or '0'
  if v ~= ARGV[2] then return 0 end
end

-- A delivery a worker has taken (lease_until, set by lease.lua) may be on
-- its way: it is not deleted but withdrawn, a tombstone out of its indexes
-- until it settles (DSENT, DDEAD: as ever; DRETRY, DUNLEASE: deleted, never
-- tried again; off the schedule, so never leased again), so that what must
-- follow it (a cancellation after the invitation) can wait for it.
local function ddel(did)
  local dk = k('d:' .. did)
  local h = redis.call('HMGET', dk, 'state', 'lease_until')
  if not h[1] then
    -- A compact reminder (lib.lua): never leased, so simply dropped.
    if cdel(did) then
      redis.call('ZREM', k('schedule'), did)
      after_release(did)
    end
  elseif h[1] == 'scheduled' then
    dunindex(did)
    redis.call('ZREM', k('schedule'), did)
    if h[2] then
      -- Off the schedule, never leased again; kept a day at most (its
      -- worker may be gone: no settling then).
      redis.call('HSET', dk, 'state', 'withdrawn')
      redis.call('EXPIRE', dk, 86400)
    else
      redis.call('DEL', dk)
      after_release(did)
    end
  end
end

-- A guard of DNEW's "after" that a worker has taken (leased, maybe
-- withdrawn since): the new delivery is held behind it.
local function inflight(g)
  local h = redis.call('HMGET', k('d:' .. g), 'state', 'lease_until', 'leases')
  if h[2] and (h[1] == 'scheduled' or h[1] == 'withdrawn') then
    return h
  end
  if not h[1] and cget(g) then return nil, 'scheduled' end
  return nil, h[1]
end

-- DNEW did due cid mid f v...: with a field "after" ("F:did ...", see
-- meeting.c's meeting_after), the new delivery waits for the first guard
-- in flight; else, if a guard with F=1 is still waiting (it will be
-- rendered with the change when it is sent), it is not created at all.
local function dnew(a)
  if dexists(a[1]) then return end
  local h = {'state', 'scheduled', 'cid', a[3], 'mid', a[4], 'due', a[2]}
  local after
  for j = 5, #a - 1, 2 do
    if a[j] == 'after' then after = a[j + 1]
    else
      h[#h + 1] = a[j]
      h[#h + 1] = a[j + 1]
    end
  end
  local score = a[2]
  if after then
    local held, waiting
    for fresh, g in string.gmatch(after, '([01]):(%S+)') do
      local gh, state = inflight(g)
      if gh then
        if not held then held = {g, fresh, gh[3] or '0', gh[2]} end
      elseif fresh == '1' and state == 'scheduled' then
        waiting = true
      end
    end
    if held then
      for _, v in ipairs({'after', held[1], 'after_fresh', held[2],
          'after_lease', held[3]}) do h[#h + 1] = v end
      score = held[4]
      redis.call('SADD', k('after:' .. held[1]), a[1])
    elseif waiting then
      return
    end
  end
  dcreate(a[1], h, score)
end

-- Is cid a collaborator who consents (their stored record says so)?
-- A record is stored as compact JSON (store_dump), where the text
-- "consent":true can only be the record's own consent (no other object of
-- a collaborator's stored record has that key, and a quote inside a string
-- is escaped): found, there is nothing to decode, which is most of what a
-- fan-out's page costs here. Any other text is decoded.
local function consents(cid)
  local s = redis.call('GET', k('rec:collaborator:' .. cid))
  if not s then return false end
  if string.find(s, '"consent":true', 1, true) then return true end
  local ok, w = pcall(cjson.decode, s)
  return ok and type(w) == 'table' and type(w.record) == 'table' and
    w.record.consent == true
end

local function dfan(a)
  if not consents(a[3]) then return end
  local dk = k('d:' .. a[1])
  local h = redis.call('HMGET', dk, 'state', 'ver', 'due')
  if not h[1] then
    local f = {'state', 'scheduled', 'cid', a[3], 'mid', a[4], 'due', a[2], 'ver', a[5]}
    for j = 6, #a do f[#f + 1] = a[j] end
    dcreate(a[1], f, a[2])
  elseif h[1] == 'scheduled' and h[2] ~= a[5] then
    local f = {dk, 'ver', a[5], 'due', a[2]}
    for j = 6, #a - 1, 2 do
      if a[j] == 'deadline' or a[j] == 'src' then
        f[#f + 1] = a[j]
        f[#f + 1] = a[j + 1]
      end
    end
    redis.call('HSET', unpack(f))
    -- On the schedule at its due time: neither leased nor waiting for
    -- a retry, so it may move.
    local sc = redis.call('ZSCORE', k('schedule'), a[1])
    if sc and h[3] and tonumber(sc) == tonumber(h[3]) then
      redis.call('ZADD', k('schedule'), a[2], a[1])
    end
  end
end

local known = {SET=1, DEL=1, SADD=1, SREM=1, ZADD=1, ZREM=1, HINCRBY=1,
  EXPIRE=1, HSET=1, XADD=1, DNEW=1, DDEL=1, DDELALL=1, DSENT=1, DRETRY=1,
  DDEAD=1, DUNLEASE=1, STREAMSCRUB=1, NOTICESCRUB=1, IFMARK=1, DELMARK=1,
  DFAN=1, DDELOLD=1, FORGET=1, ZADDXX=1, HDEL=1, UNLINK=1}
local i = 6
local nops = tonumber(ARGV[5])
for n = 1, nops do
  if not known[ARGV[i + 1]] then
    return redis.error_reply('hearback commit: unknown op ' .. tostring(ARGV[i + 1]))
  end
  if ARGV[i + 1] == 'IFMARK' and
      redis.call('HGET', k(ARGV[i + 2]), 'ver') ~= ARGV[i + 3] then
    return 2
  end
  i = i + 1 + tonumber(ARGV[i])
end

i = 6
for n = 1, nops do
  local c = tonumber(ARGV[i])
  local op = ARGV[i + 1]
  local a = {}
  for j = 1, c - 1 do a[j] = ARGV[i + 1 + j] end
  i = i + 1 + c
  if op == 'SET' then redis.call('SET', k(a[1]), a[2])
  elseif op == 'DEL' then redis.call('DEL', k(a[1]))
  elseif op == 'SADD' then redis.call('SADD', k(a[1]), a[2])
  elseif op == 'SREM' then redis.call('SREM', k(a[1]), a[2])
  elseif op == 'ZADD' then redis.call('ZADD', k(a[1]), a[2], a[3])
  elseif op == 'ZREM' then redis.call('ZREM', k(a[1]), a[2])
  elseif op == 'ZADDXX' then redis.call('ZADD', k(a[1]), 'XX', a[2], a[3])
  elseif op == 'HINCRBY' then redis.call('HINCRBY', k(a[1]), a[2], a[3])
  elseif op == 'EXPIRE' then redis.call('EXPIRE', k(a[1]), a[2])
  elseif op == 'HSET' then
    local h = {k(a[1])}
    for j = 2, #a do h[#h + 1] = a[j] end
    redis.call('HSET', unpack(h))
  elseif op == 'HDEL' then
    local h = {k(a[1])}
    for j = 2, #a do h[#h + 1] = a[j] end
    redis.call('HDEL', unpack(h))
  elseif op == 'UNLINK' then redis.call('UNLINK', k(a[1]))
  elseif op == 'XADD' then
    local x = {k(a[1]), '*'}
    for j = 2, #a do x[#x + 1] = a[j] end
    redis.call('XADD', unpack(x))
  elseif op == 'DNEW' then dnew(a)
  elseif op == 'DDEL' then ddel(a[1])
  elseif op == 'DDELALL' then
    for _, did in ipairs(dmembers(a[1])) do ddel(did) end
    redis.call('DEL', k(a[1]))
  elseif op == 'DSENT' then
    local dk = k('d:' .. a[1])
    redis.call('ZREM', k('schedule'), a[1])
    local h = redis.call('HMGET', dk, 'state', 'cid', 'mid')
    if h[1] or redis.call('EXISTS', dk) == 1 then
      dunindex(a[1], {h[2], h[3]})
      redis.call('HSET', dk, 'state', 'sent', 'last_reply', a[2])
      redis.call('HDEL', dk, 'lease_until')	-- read only while pending
      redis.call('EXPIRE', dk, a[3])
    end
    after_release(a[1])
  elseif op == 'DRETRY' then
    local dk = k('d:' .. a[1])
    local st = redis.call('HGET', dk, 'state')
    if st == 'scheduled' then
      redis.call('ZADD', k('schedule'), a[2], a[1])
      redis.call('HSET', dk, 'attempts', a[3], 'first_try', a[4], 'last_try', a[5], 'last_reply', a[6])
      redis.call('HDEL', dk, 'lease_until')
    elseif st == 'withdrawn' then
      redis.call('ZREM', k('schedule'), a[1])
      redis.call('DEL', dk)
    end
    after_release(a[1])
  elseif op == 'DDEAD' then
    local dk = k('d:' .. a[1])
    redis.call('ZREM', k('schedule'), a[1])
    if redis.call('EXISTS', dk) == 1 then
      dunindex(a[1])
      redis.call('HSET', dk, 'state', 'dead', 'first_try', a[2], 'last_try', a[3], 'attempts', a[4], 'last_reply', a[5])
      redis.call('HDEL', dk, 'lease_until')
      redis.call('EXPIRE', dk, a[6])
    end
    after_release(a[1])
  elseif op == 'DUNLEASE' then
    local dk = k('d:' .. a[1])
    local st = redis.call('HGET', dk, 'state')
    if st == 'scheduled' then
      redis.call('ZADD', k('schedule'), a[2], a[1])
      redis.call('HDEL', dk, 'lease_until')
    elseif st == 'withdrawn' then
      redis.call('ZREM', k('schedule'), a[1])
      redis.call('DEL', dk)
    end
    after_release(a[1])
  elseif op == 'STREAMSCRUB' then
    local es = redis.call('XRANGE', k(a[1]), '-', '+')
    for _, e in ipairs(es) do
      local hit = false
      for _, v in ipairs(e[2]) do
        for j = 2, #a do
          if string.find(v, a[j], 1, true) then hit = true end
        end
      end
      if hit then redis.call('XDEL', k(a[1]), e[1]) end
    end
  elseif op == 'FORGET' then
    redis.call('DEL', k('forget:' .. a[1]))
    redis.call('DEL', k('pref:' .. a[1]))
    redis.call('HSET', k('forget:' .. a[1]), 'id', a[1], 'name', a[2],
      'email', a[3], 'phone', a[4], 'sname', a[6] or '',
      'semail', a[7] or '', 'cursor', '0', 'todo', '', 'key', '',
      'pos', '', 'started', '0')
    redis.call('SADD', k('forgetting'), a[1])
    hb_forget_page(a[1], tonumber(a[5]))
  elseif op == 'IFMARK' then
    -- checked above
  elseif op == 'DELMARK' then
    if redis.call('HGET', k(a[1]), 'ver') == a[2] then
      redis.call('DEL', k(a[1]))
    end
  elseif op == 'DFAN' then dfan(a)
  elseif op == 'DDELOLD' then
    local h = redis.call('HMGET', k('d:' .. a[1]), 'state', 'ver')
    if h[1] == 'scheduled' and h[2] ~= a[2] then ddel(a[1]) end
  elseif op == 'NOTICESCRUB' then
    for _, did in ipairs(redis.call('SMEMBERS', k(a[1]))) do
      local dk = k('d:' .. did)
      local d = redis.call('HGET', dk, 'data')
      if not d and redis.call('EXISTS', dk) == 1 then d = '{}' end
      local hit = false
      if d then
        for j = 2, #a do
          if string.find(d, a[j], 1, true) then hit = true end
        end
      end
      if hit or not d then
        redis.call('ZREM', k('schedule'), did)
        redis.call('DEL', dk)
        redis.call('SREM', k(a[1]), did)
      end
    end
  else
    return redis.error_reply('hearback commit: unknown op ' .. op)
  end
end

if ARGV[2] ~= '' then redis.call('INCR', k('version')) end
if ARGV[4] ~= '' then
  local es = {}
  for e in string.gmatch(ARGV[4], '%S+') do es[#es + 1] = e end
  redis.call('XACK', k('inbox'), ARGV[3], unpack(es))
  redis.call('XDEL', k('inbox'), unpack(es))
end
return 1
