-- enqueue.lua: queue records on the inbox, all in one step.
-- ARGV: P record...  (each a JSON text, as checked by the command)
-- Returns the new entries' ids, in the same order.
local ids = {}
for i = 2, #ARGV do
  ids[#ids + 1] = redis.call('XADD', k('inbox'), '*', 'record', ARGV[i])
end
return ids
