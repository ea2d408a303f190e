-- fetch.lua: what the planner needs, with the version it was read at.
-- ARGV: P key...  (names relative to P)
-- Returns [version, value...], each value as lib.lua's fetch_name reads it.
-- Reads only: the command calls it too, as a user that may not write.
local out = {redis.call('GET', k('version')) or '0'}
for i = 2, #ARGV do out[#out + 1] = fetch_name(ARGV[i]) end
return out
