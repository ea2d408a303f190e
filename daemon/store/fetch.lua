-- fetch.lua: what the planner needs, with the version it was read at.
-- ARGV: P key...  (names relative to P)
-- Returns [version, value...]: a string's value, a set's members, a hash
-- as a flat array, or false for an absent key. A name "#card:KEY" asks
-- for the number of members of the set KEY instead (an integer). The
-- delivery indexes cd:<cid> and md:<mid> are read whole, compact
-- reminders included (lib.lua's dmembers). A name "#d:DID" asks for a
-- delivery, every field (lib.lua's dfill) as a flat array, or false.
-- Reads only: the command calls it too, as a user that may not write.
local out = {redis.call('GET', k('version')) or '0'}
for i = 2, #ARGV do
  local head = string.sub(ARGV[i], 1, 3)
  if string.sub(ARGV[i], 1, 6) == '#card:' then
    out[#out + 1] = redis.call('SCARD', k(string.sub(ARGV[i], 7)))
  elseif head == '#d:' then
    local did = string.sub(ARGV[i], 4)
    local h = dstored(did)
    out[#out + 1] = h and dfill(did, h) or false
  else
    local key = k(ARGV[i])
    local t = redis.call('TYPE', key)['ok']
    if (head == 'cd:' or head == 'md:') and (t == 'set' or t == 'none') then
      local m = dmembers(ARGV[i])
      if #m > 0 or t == 'set' then out[#out + 1] = m
      else out[#out + 1] = false end
    elseif t == 'string' then out[#out + 1] = redis.call('GET', key)
    elseif t == 'set' then out[#out + 1] = redis.call('SMEMBERS', key)
    elseif t == 'hash' then out[#out + 1] = redis.call('HGETALL', key)
    else out[#out + 1] = false end
  end
end
return out
