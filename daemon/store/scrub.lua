-- scrub.lua: one page of forget's scrub (after lib.lua, match.lua and
-- forget.lua, which says what is done). ARGV: P budget
-- Returns { how many people are still being forgotten (the caller calls
-- again at once while that is not 0), the id whose walk this page ended
-- or '' }.
local cid = redis.call('SRANDMEMBER', k('forgetting'))
local ended = ''
if cid and hb_forget_page(cid, tonumber(ARGV[2])) then ended = cid end
return { redis.call('SCARD', k('forgetting')), ended }
