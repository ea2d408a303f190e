-- page.lua: one page of a fan-out (plan.h, fanout.h, meeting_page.h).
-- ARGV: P want "scan" set cursor count
--       P want "ids" id...
--       P - "fetch" key...
--       P want "people" mid src cursor count ngroups group... [id...]
--       P - "hscan" key cursor count
--   scan   SSCAN the set (a key relative to P) from cursor, COUNT count:
--          a page of its members and the cursor to go on from ("0": the
--          set is done). A key that is not a set is an empty one.
--   ids    the given collaborator ids (a list from a record)
--   want   "1": each with its stored collaborator record; else just ids
-- Returns [cursor, id, value, id, value, ...]: value is the stored record,
-- or 1 when there is none and the id is a forgotten collaborator's, else
-- false (none, or want is not "1"). Small: a page is a few hundred ids,
-- so the call stays far below a millisecond or two.
--
-- A meeting planned in pages (meeting_page.c) also reads:
--   fetch  what fetch.lua reads (a string, a set's members, a hash as a
--          flat array, false), and "#card:KEY" a set's size, "#hlen:KEY"
--          a hash's: [version, value...]
--   people a page of people: src "s:KEY" (SSCAN a set), "h:KEY" (HSCAN a
--          hash: its fields), or "i" (the ids after the groups); want has
--          letters: r each one's record (as above), i their field in the
--          meeting's invited hash mi:<mid>, g whether they belong to one
--          of the groups, p their pending emails of the meeting (cd:<id>
--          meets md:<mid>: a person's own index is small), or instead a
--          what a cancellation must follow, saved before those emails
--          were withdrawn (their field g:<id> of mp:<mid>, a JSON text,
--          as the one element of that array). Returns
--          [cursor, id, record|1|false, invited|false, 0|1, {did...}, ...]
--   hscan  HSCAN the hash from cursor: [cursor, field, value, ...]
local out = {'0'}
local op = ARGV[3]

local function record(id)
  local v = redis.call('GET', k('rec:collaborator:' .. id))
  if not v and redis.call('SISMEMBER', k('forgotten'), id) == 1 then
    v = 1
  end
  return v or false
end

-- A page of a set or a hash (its fields): the ids and the cursor.
local function scan(src, cursor, count)
  local t, key = string.sub(src, 1, 2), k(string.sub(src, 3))
  local want = t == 's:' and 'set' or 'hash'
  if redis.call('TYPE', key)['ok'] ~= want then return '0', {} end
  if t == 's:' then
    local r = redis.call('SSCAN', key, cursor, 'COUNT', count)
    return r[1], r[2]
  end
  local r = redis.call('HSCAN', key, cursor, 'COUNT', count)
  local ids = {}
  for i = 1, #r[2], 2 do ids[#ids + 1] = r[2][i] end
  return r[1], ids
end

if op == 'fetch' then
  out = {redis.call('GET', k('version')) or '0'}
  for i = 4, #ARGV do
    local n = ARGV[i]
    if string.sub(n, 1, 6) == '#card:' then
      out[#out + 1] = redis.call('SCARD', k(string.sub(n, 7)))
    elseif string.sub(n, 1, 6) == '#hlen:' then
      out[#out + 1] = redis.call('HLEN', k(string.sub(n, 7)))
    else
      local key = k(n)
      local t = redis.call('TYPE', key)['ok']
      if t == 'string' then out[#out + 1] = redis.call('GET', key)
      elseif t == 'set' then out[#out + 1] = redis.call('SMEMBERS', key)
      elseif t == 'hash' then out[#out + 1] = redis.call('HGETALL', key)
      else out[#out + 1] = false end
    end
  end
  return out
elseif op == 'hscan' then
  local key = k(ARGV[4])
  if redis.call('TYPE', key)['ok'] ~= 'hash' then return out end
  local r = redis.call('HSCAN', key, ARGV[5], 'COUNT', tonumber(ARGV[6]))
  out[1] = r[1]
  for _, v in ipairs(r[2]) do out[#out + 1] = v end
  return out
elseif op == 'people' then
  local want, mid = ARGV[2], ARGV[4]
  local ng = tonumber(ARGV[8])
  local groups, ids = {}, {}
  for i = 9, 8 + ng do groups[#groups + 1] = k('group:' .. ARGV[i]) end
  if ARGV[5] == 'i' then
    for i = 9 + ng, #ARGV do ids[#ids + 1] = ARGV[i] end
  else
    out[1], ids = scan(ARGV[5], ARGV[6], tonumber(ARGV[7]))
  end
  local has = function(c) return string.find(want, c, 1, true) ~= nil end
  for _, id in ipairs(ids) do
    out[#out + 1] = id
    out[#out + 1] = has('r') and record(id) or false
    out[#out + 1] = has('i') and
      (redis.call('HGET', k('mi:' .. mid), id) or false) or false
    local ing = 0
    if has('g') then
      for _, g in ipairs(groups) do
        if redis.call('SISMEMBER', g, id) == 1 then ing = 1 break end
      end
    end
    out[#out + 1] = ing
    local pend = {}
    if has('p') then
      pend = redis.call('SINTER', k('cd:' .. id), k('md:' .. mid))
    elseif has('a') then
      local g = redis.call('HGET', k('mp:' .. mid), 'g:' .. id)
      if g then pend = {g} end
    end
    out[#out + 1] = pend
  end
  return out
end

local ids
if op == 'scan' then
  local key = k(ARGV[4])
  local t = redis.call('TYPE', key)['ok']
  if t ~= 'set' then return out end
  local r = redis.call('SSCAN', key, ARGV[5], 'COUNT', tonumber(ARGV[6]))
  out[1] = r[1]
  ids = r[2]
else
  ids = {}
  for i = 4, #ARGV do ids[#ids + 1] = ARGV[i] end
end
for _, id in ipairs(ids) do
  out[#out + 1] = id
  if ARGV[2] == '1' then
    out[#out + 1] = record(id)
  else
    out[#out + 1] = false
  end
end
return out
