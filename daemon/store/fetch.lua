-- fetch.lua: what the planner needs, with the version it was read at.
-- ARGV: P key...  (names relative to P)
-- Returns [version, value...]: a string's value, a set's members, a hash
-- as a flat array, or false for an absent key. A name "#card:KEY" asks
-- for the number of members of the set KEY instead (an integer).
local out = {redis.call('GET', k('version')) or '0'}
for i = 2, #ARGV do
  if string.sub(ARGV[i], 1, 6) == '#card:' then
    out[#out + 1] = redis.call('SCARD', k(string.sub(ARGV[i], 7)))
  else
    local key = k(ARGV[i])
    local t = redis.call('TYPE', key)['ok']
    if t == 'string' then out[#out + 1] = redis.call('GET', key)
    elseif t == 'set' then out[#out + 1] = redis.call('SMEMBERS', key)
    elseif t == 'hash' then out[#out + 1] = redis.call('HGETALL', key)
    else out[#out + 1] = false end
  end
end
return out
