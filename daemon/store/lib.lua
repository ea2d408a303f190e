-- lib.lua: the head of every hearback script (scripts.S puts it in front
-- of each one). store.h has the key layout.
--
-- ARGV[1] is the key prefix, "{P}:"; k(name) is the full name of a key.
local P = ARGV[1]
local function k(n) return P .. n end

-- HOW A DELIVERY IS STORED
--
-- A delivery's id says what it is for (store.h): "rem:<mid>:<cid>:<seq>:
-- <lead>" is a reminder of meeting mid to cid, with ':' and '%' in the
-- ids written %3A and %25. Whatever the id says is not stored again, and
-- a reminder still waiting is not stored on its own at all, because
-- scheduled deliveries are most of Redis's memory (a meeting of 625
-- people with 16 lead times is 10,000 of them). Two forms:
--
--   the hash d:<did>: state, due and deadline always; the other fields
--     only where they differ from what dderive() reads in the id, or from
--     the defaults in dplain (to "", attempts "0", data "{}", cid and mid
--     ""); refs that are the derived ones and more are kept as xrefs, the
--     more. "created" is not kept (nothing reads it). dfill() gives every
--     field back. A hash written before this layout holds every field, so
--     it reads as it always did: nothing to migrate.
--   compact: a reminder (or a copy of one) that is pending and was never
--     leased has no hash. mr:<mid> is a hash, cid -> that person's
--     reminders of the meeting, space-separated, each
--     "[s|a]<seq>:<lead>/<due>/<deadline>[/<xref>,<xref>...]" (s: their
--     supporter's copy, a: the coordinator's); cr:<cid> is a hash, mid ->
--     "1" for each meeting in mr:<mid> that holds cid. About 35 bytes a
--     reminder instead of a key of its own. The lease that takes it makes
--     it a hash (dmaterialize), and from then on it is like any other.
--
-- dderive() is part of the layout: what it gives for an id is what every
-- stored delivery with that id reads as. Add kinds; never change one.
--
-- Indexes: a pending delivery with a hash is in cd:<cid> and md:<mid>
-- (either may be ""), sets of ids; a compact one is in mr:<mid> and
-- cr:<cid> only. dmembers() reads an index whole (both forms). dindex,
-- dunindex, cput and cdel are the only code that keeps them.

-- An id part, escaped and unescaped as store.c's store_did does.
local function desc(s)
  return (s:gsub('%%', '%%25'):gsub(':', '%%3A'))
end

local function dunesc(s)
  if not string.find(s, '%', 1, true) then return s end
  return (s:gsub('%%(%w%w)', function(x)
    if x == '3A' then return ':' elseif x == '25' then return '%' end
  end))
end

local dkinds = {inv = 'invitation', upd = 'update', can = 'cancellation',
  rem = 'reminder'}
local dplain = {to = '', attempts = '0', data = '{}', cid = '', mid = '',
  refs = ''}

-- What an id says: kind, cid, mid, src, refs, data (nil: it says nothing
-- of that field); for a meeting email also its parts and copy ('', 's' or
-- 'a'). As meeting.c and plan.c make them. The last answer is kept, as
-- creating a delivery asks three times (dslim, cshape, dcreate): callers
-- only read it (cshape adds tkey, which the id decides as well).
local dderive_id, dderive_d
local function dderive(did)
  if did == dderive_id then return dderive_d end
  local r = {}
  for s in string.gmatch(did .. ':', '([^:]*):') do r[#r + 1] = s end
  local t, copy, d = r[1], '', {}
  local c1 = t:sub(1, 1)
  if (c1 == 's' or c1 == 'a') and dkinds[t:sub(2)] then
    copy, t = c1, t:sub(2)
  end
  if dkinds[t] and #r == (t == 'rem' and 5 or 4) then
    d.kind, d.mid, d.cid = dkinds[t], dunesc(r[2]), dunesc(r[3])
    d.src, d.parts, d.copy = d.mid, r, copy
    d.refs = 'rec:meeting:' .. d.mid .. ' rec:collaborator:' .. d.cid
    if t == 'rem' then
      if copy == 'a' then d.data = '{"arrange":true,"lead":' .. r[5] .. '}'
      elseif copy == 's' then
        d.data = '{"lead":' .. r[5] .. ',"supporter":true}'
      else d.data = '{"lead":' .. r[5] .. '}' end
    elseif copy == 's' then d.data = '{"supporter":true}'
    elseif copy == 'a' then d.data = '{"arrange":true}' end
  elseif t == 'ann' and #r == 3 then
    d.kind, d.src, d.cid = 'announcement', dunesc(r[2]), dunesc(r[3])
    d.refs = 'rec:announcement:' .. d.src .. ' rec:collaborator:' .. d.cid
  end
  dderive_id, dderive_d = did, d
  return d
end

local function dderived(d, name)
  local v = d[name]
  if v == nil then v = dplain[name] end
  return v
end

-- The fields of a delivery as planned (flat: name, value, ...) -> what
-- its hash keeps of them.
local function dslim(did, f)
  local d, out = dderive(did), {}
  for i = 1, #f, 2 do
    local n, v = f[i], f[i + 1]
    if n == 'created' or v == dderived(d, n) then
      -- said by the id, a default, or not kept
    elseif n == 'refs' and d.refs and
        v:sub(1, #d.refs + 1) == d.refs .. ' ' then
      out[#out + 1] = 'xrefs'
      out[#out + 1] = v:sub(#d.refs + 2)
    else
      out[#out + 1] = n
      out[#out + 1] = v
    end
  end
  return out
end

-- A hash as stored (HGETALL) -> every field, as planned (less created).
local dfilled = {'kind', 'cid', 'mid', 'refs', 'to', 'data', 'src',
  'attempts'}
local function dfill(did, h)
  local d, have, out, xrefs = dderive(did), {}, {}, nil
  for i = 1, #h, 2 do
    if h[i] == 'xrefs' then xrefs = h[i + 1]
    else
      have[h[i]] = true
      out[#out + 1] = h[i]
      out[#out + 1] = h[i + 1]
    end
  end
  for _, n in ipairs(dfilled) do
    local v = dderived(d, n)
    if n == 'refs' and xrefs then
      v = (v ~= '' and v .. ' ' or '') .. xrefs
    end
    if not have[n] and v ~= nil then
      out[#out + 1] = n
      out[#out + 1] = v
    end
  end
  return out
end

-- A delivery's hash, every field (a table), or nil when it has none.
local function dhash(did)
  local h = redis.call('HGETALL', k('d:' .. did))
  if #h == 0 then return nil end
  h = dfill(did, h)
  local t = {}
  for i = 1, #h, 2 do t[h[i]] = h[i + 1] end
  return t
end

-- A reminder id that can be kept compact: dderive's answer with tkey, its
-- key among its person's tokens ("[s|a]<seq>:<lead>"); else nil.
local function cshape(did)
  local d = dderive(did)
  if d.kind ~= 'reminder' then return nil end
  local r = d.parts
  if d.mid == '' or d.cid == '' or desc(d.mid) ~= r[2] or
      desc(d.cid) ~= r[3] or not r[4]:find('^%d+$') or
      not r[5]:find('^%d+$') then
    return nil
  end
  d.tkey = d.copy .. r[4] .. ':' .. r[5]
  return d
end

local function ctokens(d)
  return redis.call('HGET', k('mr:' .. d.mid), d.cid) or ''
end

-- The token with key tkey in v: it, and where it starts and the space
-- after it ends (nil at the end).
local function cfind(v, tkey)
  local p = string.find(' ' .. v, ' ' .. tkey .. '/', 1, true)
  if not p then return nil end
  local e = string.find(v, ' ', p, true)
  return string.sub(v, p, (e or 0) - 1), p, e
end

-- A compact reminder: {d = cshape's answer, due, deadline, xrefs}, or nil.
local function cget(did)
  local d = cshape(did)
  if not d then return nil end
  local tok = cfind(ctokens(d), d.tkey)
  if not tok then return nil end
  local due, dl, x = tok:match('^[^/]*/(%d+)/(%d+)/?(.*)$')
  if not due then return nil end
  return {d = d, due = due, deadline = dl,
    xrefs = x ~= '' and (x:gsub(',', ' ')) or nil}
end

local function cput(d, due, deadline, xrefs)
  local v = ctokens(d)
  local tok = d.tkey .. '/' .. due .. '/' .. deadline
  if xrefs then tok = tok .. '/' .. (xrefs:gsub(' ', ',')) end
  redis.call('HSET', k('mr:' .. d.mid), d.cid, v == '' and tok or
    v .. ' ' .. tok)
  redis.call('HSET', k('cr:' .. d.cid), d.mid, '1')
end

-- Drop a compact reminder; false if there was none.
local function cdel(did)
  local d = cshape(did)
  if not d then return false end
  local v = ctokens(d)
  local tok, p, e = cfind(v, d.tkey)
  if not tok then return false end
  local rest = string.sub(v, 1, p - 1) .. (e and string.sub(v, e + 1) or '')
  rest = rest:gsub('^ +', '')
  rest = rest:gsub(' +$', '')
  if rest == '' then
    redis.call('HDEL', k('mr:' .. d.mid), d.cid)
    redis.call('HDEL', k('cr:' .. d.cid), d.mid)
  else
    redis.call('HSET', k('mr:' .. d.mid), d.cid, rest)
  end
  return true
end

-- The ids of the compact reminders in v (cid's tokens in mr:<mid>),
-- appended to out.
local function cdids(mid, cid, v, out)
  for tok in string.gmatch(v, '%S+') do
    local c, seq, lead = tok:match('^([sa]?)(%d+):(%d+)/')
    if seq then
      out[#out + 1] = c .. 'rem:' .. desc(mid) .. ':' .. desc(cid) .. ':' ..
        seq .. ':' .. lead
    end
  end
  return out
end

local function dindex(did, cid, mid)
  if cid and cid ~= '' then redis.call('SADD', k('cd:' .. cid), did) end
  if mid and mid ~= '' then redis.call('SADD', k('md:' .. mid), did) end
end

local function dunindex(did, h)
  h = h or redis.call('HMGET', k('d:' .. did), 'cid', 'mid')
  local d = dderive(did)
  local cid, mid = h[1] or dderived(d, 'cid'), h[2] or dderived(d, 'mid')
  if cid ~= '' then redis.call('SREM', k('cd:' .. cid), did) end
  if mid ~= '' then redis.call('SREM', k('md:' .. mid), did) end
end

-- Every pending delivery id in an index, "cd:<cid>" or "md:<mid>"
-- (relative), both forms; any other set's members.
local function dmembers(name)
  local out = redis.call('SMEMBERS', k(name))
  local head, id = name:sub(1, 3), name:sub(4)
  if head == 'md:' then
    local h = redis.call('HGETALL', k('mr:' .. id))
    for i = 1, #h, 2 do cdids(id, h[i], h[i + 1], out) end
  elseif head == 'cd:' then
    local h = redis.call('HGETALL', k('cr:' .. id))
    for i = 1, #h, 2 do
      cdids(h[i], id, redis.call('HGET', k('mr:' .. h[i]), id) or '', out)
    end
  end
  return out
end

-- A person's pending deliveries of one meeting, both forms: where their
-- own index meets the meeting's, and their compact reminders in mr:<mid>.
local function dpending(cid, mid)
  local out = redis.call('SINTER', k('cd:' .. cid), k('md:' .. mid))
  return cdids(mid, cid, redis.call('HGET', k('mr:' .. mid), cid) or '', out)
end

-- Is there a delivery with this id, in either form?
local function dexists(did)
  return redis.call('EXISTS', k('d:' .. did)) == 1 or cget(did) ~= nil
end

-- A delivery as stored (HGETALL's form; a compact one as its hash would
-- be), or nil.
local function dstored(did)
  local h = redis.call('HGETALL', k('d:' .. did))
  if #h > 0 then return h end
  local c = cget(did)
  if not c then return nil end
  h = {'state', 'scheduled', 'due', c.due, 'deadline', c.deadline}
  if c.xrefs then
    h[#h + 1] = 'xrefs'
    h[#h + 1] = c.xrefs
  end
  return h
end

-- A new pending delivery: f its fields as planned (flat, state first),
-- score its place on the schedule. Compact when it is a reminder whose
-- hash would hold nothing but state, due, deadline (and xrefs) and it is
-- not held (score is its due time); else a hash, in the indexes.
local function dcreate(did, f, score)
  local s = dslim(did, f)
  local c = cshape(did)
  if c then
    local t = {}
    for i = 1, #s, 2 do t[s[i]] = s[i + 1] end
    if #s == (t.xrefs and 8 or 6) and t.state == 'scheduled' and
        t.due and t.deadline and t.due:find('^%d+$') and
        t.deadline:find('^%d+$') and tostring(score) == t.due and
        not (t.xrefs and t.xrefs:find('[/,%c]')) then
      cput(c, t.due, t.deadline, t.xrefs)
      redis.call('ZADD', k('schedule'), score, did)
      return
    end
  end
  redis.call('HSET', k('d:' .. did), unpack(s))
  redis.call('ZADD', k('schedule'), score, did)
  local d = dderive(did)
  local h = {}
  for i = 1, #f, 2 do h[f[i]] = f[i + 1] end
  dindex(did, h.cid or dderived(d, 'cid'), h.mid or dderived(d, 'mid'))
end

-- A compact reminder becomes a hash (a lease is about to mark it), in the
-- indexes as such. Returns the hash as HGETALL would, or {} when there is
-- no such reminder.
local function dmaterialize(did)
  local c = cget(did)
  if not c then return {} end
  cdel(did)
  local f = {'state', 'scheduled', 'due', c.due, 'deadline', c.deadline}
  if c.xrefs then
    f[#f + 1] = 'xrefs'
    f[#f + 1] = c.xrefs
  end
  redis.call('HSET', k('d:' .. did), unpack(f))
  dindex(did, c.d.cid, c.d.mid)
  return f
end

-- One name of a fetch (fetch.lua, and page.lua's "fetch"), relative to P:
-- a string's value, a set's members, a hash as a flat array, or false for
-- an absent key. "#card:KEY" and "#hlen:KEY" ask for the size of a set or
-- a hash. The delivery indexes cd:<cid> and md:<mid> are read whole,
-- compact reminders included (dmembers); "#d:DID" asks for a delivery,
-- every field (dfill) as a flat array, or false.
local function fetch_name(n)
  local head = string.sub(n, 1, 3)
  if string.sub(n, 1, 6) == '#card:' then
    return redis.call('SCARD', k(string.sub(n, 7)))
  elseif string.sub(n, 1, 6) == '#hlen:' then
    return redis.call('HLEN', k(string.sub(n, 7)))
  elseif head == '#d:' then
    local did = string.sub(n, 4)
    local h = dstored(did)
    return h and dfill(did, h) or false
  end
  local key = k(n)
  local t = redis.call('TYPE', key)['ok']
  if (head == 'cd:' or head == 'md:') and (t == 'set' or t == 'none') then
    local m = dmembers(n)
    if #m > 0 or t == 'set' then return m end
    return false
  elseif t == 'string' then return redis.call('GET', key)
  elseif t == 'set' then return redis.call('SMEMBERS', key)
  elseif t == 'hash' then return redis.call('HGETALL', key)
  end
  return false
end

-- A delivery held behind another (commit.lua's DNEW "after"): its hash has
-- after (the guard's id), after_fresh and after_lease, it is in the set
-- after:<guard>, and it waits on the schedule at the guard's lease end.
-- When the guard settles (sent, retried, dead, given back) each held one
-- is put back at its due time: lease.lua decides then whether it goes.
local function after_release(guard)
  local ak = k('after:' .. guard)
  local held = redis.call('SMEMBERS', ak)
  for _, did in ipairs(held) do
    local h = redis.call('HMGET', k('d:' .. did), 'after', 'due', 'state')
    if h[1] == guard and h[3] == 'scheduled' then
      redis.call('ZADD', k('schedule'), h[2], did)
    end
  end
  if #held > 0 then redis.call('DEL', ak) end
end
