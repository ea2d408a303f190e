-- forget.lua: forget's scrub of every key (after lib.lua and match.lua):
-- hb_forget_page(cid, budget) walks one page for one person, and returns
-- true when that page ended their walk.
--
-- A forget commit (commit.lua, op FORGET) leaves a marker forget:<cid>
-- (hash: id, name, email, phone, and where the walk is) and puts cid in the
-- set forgetting. Each call takes one person from that set and walks every
-- key under P with SCAN, going on from where the last call stopped, for
-- about budget units of work (a value costs 1 and 1 more per 64 bytes; a
-- big set, hash, list or stream is walked in pieces of 100 too), so that
-- no call holds Redis for long. When the walk is over
-- the marker goes. The forget commit itself walks the first page (so a
-- small keyspace is clean in the same atomic step); scrub.lua the rest.
--
-- What is done with a value that holds the person (match.lua decides):
--   d:<did> hash whose cid is the person, or whose "to" holds them: the
--     delivery goes (off the schedule, the indexes and the notices set);
--     so do their compact reminders in mr:<meeting> (lib.lua)
--   any other hash field, string, list element: rewritten without them
--     (a JSON text stays JSON), deleted when that cannot be done; in a
--     d: hash a string that names their id (a notice line about their
--     access needs) becomes "[removed]"
--   set and sorted set members: removed
--   stream entries: deleted; in every stream but audit (which keeps ids
--     only) also an entry whose collaborator or cid field is the person
-- Not walked: the inbox (records not yet taken are planned after the
-- forget, as usual), the markers themselves, and the forgetting set.
-- Other people's profiles (rec:collaborator:*) are searched for the
-- address and phone only: a namesake keeps their name. Their supporter's
-- name and address are looked for everywhere else. Their own answer
-- (their field of each ans:<meeting>) goes; their pref:<cid> went in the
-- forget commit.
local function hb_forget_page(cid, budget)
  local mk = k('forget:' .. cid)
  local m = {}
  local raw = redis.call('HGETALL', mk)
  for i = 1, #raw, 2 do m[raw[i]] = raw[i + 1] end
  if not m.id then
    redis.call('SREM', k('forgetting'), cid)
    return
  end
  local nd = hb_needles(m.name, m.email, m.phone)
  local ndp = hb_needles_noname(nd)
  -- Their supporter too, but not in other people's profiles (the same
  -- supporter may help someone else).
  hb_needles_add(nd, m.sname)
  hb_needles_add(nd, m.semail)
  local id = m.id

  local function starts(s, p) return s:sub(1, #p) == p end
  -- What looking at a value costs, against the budget: 1, and 1 more per
  -- 64 bytes (the matcher reads every byte a few times).
  local function cost(v) return 1 + math.floor(#v / 64) end

  local function skip(key)
    return key == k('inbox') or key == k('forgetting') or
      starts(key, k('forget:')) or not starts(key, P)
  end

  -- A delivery goes whole.
  local function ddrop(key)
    local did = key:sub(#k('d:') + 1)
    dunindex(did)
    redis.call('ZREM', k('schedule'), did)
    redis.call('SREM', k('notices'), did)
    redis.call('DEL', key)
  end

  -- Each walk returns the next position (nil: the key is done) and the
  -- elements it looked at.
  local function walk_string(key)
    local v = redis.call('GET', key)
    local n = starts(key, k('rec:collaborator:')) and ndp or nd
    if v and hb_hits(v, n, nil) then
      local r = hb_redact(v, n, nil)
      if r then redis.call('SET', key, r, 'KEEPTTL')
      else redis.call('DEL', key) end
    end
    return nil, v and cost(v) or 1
  end

  local function walk_hash(key, pos)
    local isd = starts(key, k('d:'))
    -- A meeting's answers: theirs goes (a field per person), no one
    -- else's.
    if pos == '' and starts(key, k('ans:')) then
      redis.call('HDEL', key, id)
    end
    if isd and pos == '' then
      local h = dhash(key:sub(#k('d:') + 1)) or {}
      if h.cid == id or (h.to and hb_hits(h.to, nd, nil)) then
        ddrop(key)
        return nil, 1
      end
    end
    -- A meeting's compact reminders (lib.lua): theirs go. The rest are
    -- ids and times only, never matched (a time's digits are no phone).
    if starts(key, k('mr:')) then
      local mid = key:sub(#k('mr:') + 1)
      for _, did in ipairs(cdids(mid, id, redis.call('HGET', key, id) or '',
          {})) do
        cdel(did)
        redis.call('ZREM', k('schedule'), did)
      end
      return nil, 1
    end
    local r = redis.call('HSCAN', key, pos == '' and '0' or pos, 'COUNT', 100)
    local n = 0
    for i = 1, #r[2], 2 do
      local f, v = r[2][i], r[2][i + 1]
      n = n + cost(v)
      if hb_hits(v, nd, isd and id or nil) then
        local x = hb_redact(v, nd, isd and id or nil)
        if x then redis.call('HSET', key, f, x)
        elseif isd then ddrop(key); return nil, n
        else redis.call('HDEL', key, f) end
      end
    end
    if r[1] == '0' then return nil, n end
    return r[1], n
  end

  local function walk_set(key, pos, zset)
    local r = redis.call(zset and 'ZSCAN' or 'SSCAN', key,
      pos == '' and '0' or pos, 'COUNT', 100)
    local n, step = 0, zset and 2 or 1
    for i = 1, #r[2], step do
      n = n + cost(r[2][i])
      if hb_hits(r[2][i], nd, nil) then
        redis.call(zset and 'ZREM' or 'SREM', key, r[2][i])
      end
    end
    if r[1] == '0' then return nil, n end
    return r[1], n
  end

  local function walk_list(key, pos)
    local at = tonumber(pos) or 0
    local r = redis.call('LRANGE', key, at, at + 99)
    local n = 0
    for i, v in ipairs(r) do
      n = n + cost(v)
      if hb_hits(v, nd, nil) then
        redis.call('LSET', key, at + i - 1,
          hb_redact(v, nd, nil) or '[forgotten]')
      end
    end
    if #r < 100 then return nil, n end
    return tostring(at + 100), n
  end

  local function walk_stream(key, pos)
    local from = pos == '' and '-' or ('(' .. pos)
    local r = redis.call('XRANGE', key, from, '+', 'COUNT', 100)
    local attributed = key ~= k('audit')
    local n = 0
    for _, e in ipairs(r) do
      local hit = false
      local f = e[2]
      for i = 1, #f, 2 do
        n = n + cost(f[i + 1])
        if attributed and (f[i] == 'collaborator' or f[i] == 'cid') and
            f[i + 1] == id then
          hit = true
        elseif hb_hits(f[i + 1], nd, nil) or hb_hits(f[i], nd, nil) then
          hit = true
        end
      end
      if hit then redis.call('XDEL', key, e[1]) end
    end
    if #r < 100 then return nil, n end
    return r[#r][1], n
  end

  local function walk(key, pos)
    local t = redis.call('TYPE', key)['ok']
    if t == 'string' then return walk_string(key)
    elseif t == 'hash' then return walk_hash(key, pos)
    elseif t == 'set' then return walk_set(key, pos, false)
    elseif t == 'zset' then return walk_set(key, pos, true)
    elseif t == 'list' then return walk_list(key, pos)
    elseif t == 'stream' then return walk_stream(key, pos)
    end
    return nil, 1    -- gone since the SCAN, or a type not known yet
  end

  local todo = {}
  if m.todo and m.todo ~= '' then todo = cjson.decode(m.todo) end
  local key, pos = m.key or '', m.pos or ''
  local cursor = m.cursor or '0'
  local started = m.started == '1'
  local glob = P:gsub('[%*%?%[%]\\]', '\\%0') .. '*'
  local done = false
  while budget > 0 do
    if key == '' then
      if #todo == 0 then
        if started and cursor == '0' then done = true; break end
        local r = redis.call('SCAN', cursor, 'MATCH', glob, 'COUNT', 100)
        cursor, todo, started = r[1], r[2], true
        budget = budget - 1
      else
        key = table.remove(todo)
        pos = ''
        if skip(key) then key = '' end
      end
    else
      local np, n = walk(key, pos)
      budget = budget - n
      if np then pos = np else key, pos = '', '' end
    end
  end

  if done then
    redis.call('DEL', mk)
    redis.call('SREM', k('forgetting'), cid)
    return true
  else
    redis.call('HSET', mk, 'cursor', cursor, 'todo',
      #todo == 0 and '' or cjson.encode(todo), 'key', key, 'pos', pos,
      'started', started and '1' or '0')
  end
end
