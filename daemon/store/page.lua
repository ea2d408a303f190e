-- page.lua: one page of a fan-out (plan.h, fanout.h, meeting_page.h).
-- ARGV: P want "scan" set cursor count
--       P want "ids" id...
--       P - "fetch" key...
--       P want "people" mid src cursor count ngroups group... [id...]
--       P - "hscan" key cursor count
--   scan   SSCAN the set (a key relative to P) from cursor, COUNT count:
--          a page of its members and the cursor to go on from ("0": the
--          set is done). A key that is not a set is an empty one. A
--          meeting's index md:<mid> goes on, with cursors "h...", into its
--          compact reminders (HSCAN of mr:<mid>, lib.lua's cdids).
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
--          of the groups, p their pending emails of the meeting (lib.lua's
--          dpending: both forms; a person's own index is small), or instead a
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
  for i = 4, #ARGV do out[#out + 1] = fetch_name(ARGV[i]) end
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
      pend = dpending(id, mid)
    elseif has('a') then
      local g = redis.call('HGET', k('mp:' .. mid), 'g:' .. id)
      if g then pend = {g} end
    end
    out[#out + 1] = pend
  end
  return out
end

local ids
if op == 'scan' and string.sub(ARGV[4], 1, 3) == 'md:' and
    string.sub(ARGV[5], 1, 1) == 'h' then
  -- A meeting's index, second part: its compact reminders (lib.lua),
  -- a page of people in mr:<mid> at a time, cursor "h<HSCAN cursor>".
  local mid = string.sub(ARGV[4], 4)
  local r = redis.call('HSCAN', k('mr:' .. mid), string.sub(ARGV[5], 2),
    'COUNT', tonumber(ARGV[6]))
  out[1] = r[1] == '0' and '0' or 'h' .. r[1]
  ids = {}
  for i = 1, #r[2], 2 do cdids(mid, r[2][i], r[2][i + 1], ids) end
elseif op == 'scan' then
  local key = k(ARGV[4])
  local t = redis.call('TYPE', key)['ok']
  ids = {}
  if t == 'set' then
    local r = redis.call('SSCAN', key, ARGV[5], 'COUNT', tonumber(ARGV[6]))
    out[1] = r[1]
    ids = r[2]
  end
  -- A meeting's index goes on into its compact reminders.
  if out[1] == '0' and string.sub(ARGV[4], 1, 3) == 'md:' and
      redis.call('EXISTS', k('mr:' .. string.sub(ARGV[4], 4))) == 1 then
    out[1] = 'h0'
  end
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
