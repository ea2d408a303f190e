-- fetch.lua: what the planner needs, with the version it was read at.
-- ARGV: P key...  (names relative to P)
-- Returns [version, value...]: a string's value, a set's members, a hash
-- as a flat array, or false for an absent key.
local out = {redis.call('GET', k('version')) or '0'}
for i = 2, #ARGV do
  local key = k(ARGV[i])
  local t = redis.call('TYPE', key)['ok']
  if t == 'string' then out[#out + 1] = redis.call('GET', key)
  elseif t == 'set' then out[#out + 1] = redis.call('SMEMBERS', key)
  elseif t == 'hash' then out[#out + 1] = redis.call('HGETALL', key)
  else out[#out + 1] = false end
end
return out
