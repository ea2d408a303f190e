-- trim.lua: [retention]: entries of {P}:audit and {P}:dead older than
-- their limits go, at most ARGV[4] of each per call so that no call is long
-- (the caller calls again while a call removed a full batch).
-- ARGV: P audit_min_ms dead_min_ms batch
-- Returns the number of entries removed.
local n = 0
local function trim(key, min_ms, batch)
  local old = redis.call('XRANGE', key, '-', '(' .. min_ms .. '-0',
    'COUNT', batch)
  if #old == 0 then return 0 end
  local ids = {}
  for i, e in ipairs(old) do ids[i] = e[1] end
  return redis.call('XDEL', key, unpack(ids))
end
n = n + trim(k('audit'), ARGV[2], tonumber(ARGV[4]))
n = n + trim(k('dead'), ARGV[3], tonumber(ARGV[4]))
return n
