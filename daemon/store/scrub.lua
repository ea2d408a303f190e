-- scrub.lua: one page of forget's scrub (after lib.lua, match.lua and
-- forget.lua, which says what is done). ARGV: P budget
-- Returns how many people are still being forgotten (the caller calls
-- again at once while that is not 0).
local cid = redis.call('SRANDMEMBER', k('forgetting'))
if cid then hb_forget_page(cid, tonumber(ARGV[2])) end
return redis.call('SCARD', k('forgetting'))
