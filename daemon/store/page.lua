-- page.lua: one page of a fan-out's audience (plan.h, fanout.h).
-- ARGV: P want "scan" set cursor count
--       P want "ids" id...
--   scan   SSCAN the set (a key relative to P) from cursor, COUNT count:
--          a page of its members and the cursor to go on from ("0": the
--          set is done). A key that is not a set is an empty one.
--   ids    the given collaborator ids (a list from a record)
--   want   "1": each with its stored collaborator record; else just ids
-- Returns [cursor, id, value, id, value, ...]: value is the stored record,
-- or 1 when there is none and the id is a forgotten collaborator's, else
-- false (none, or want is not "1"). Small: a page is a few hundred ids,
-- so the call stays far below a millisecond or two.
local out = {'0'}
local ids
if ARGV[3] == 'scan' then
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
    local v = redis.call('GET', k('rec:collaborator:' .. id))
    if not v and redis.call('SISMEMBER', k('forgotten'), id) == 1 then
      v = 1
    end
    out[#out + 1] = v or false
  else
    out[#out + 1] = false
  end
end
return out
