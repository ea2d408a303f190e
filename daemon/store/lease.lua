-- lease.lua: hand out due deliveries under a lease.
-- ARGV: P now_ms lease_ms max
-- Each due delivery (at most max) is pushed lease ms into the future on
-- the schedule, so no one else takes it until the lease runs out (a crash:
-- it is due again then). Returns [next-due-ms-or-"", [did, [hash...],
-- [key, value, ...]], ...]: each with the stored records its refs name,
-- so a worker renders from current data in the same round trip.
local now = tonumber(ARGV[2])
local lease = tonumber(ARGV[3])
local ids = redis.call('ZRANGEBYSCORE', k('schedule'), '-inf', now, 'LIMIT', 0, tonumber(ARGV[4]))
local out = {''}
for _, did in ipairs(ids) do
  local dk = k('d:' .. did)
  local h = redis.call('HGETALL', dk)
  if #h == 0 then
    redis.call('ZREM', k('schedule'), did)
  elseif gate(did, h, now) then
    -- settled by gate.lua: a person's choice says not to send it
  else
    redis.call('ZADD', k('schedule'), now + lease, did)
    redis.call('HINCRBY', dk, 'leases', 1)
    local refs = {}
    local r = redis.call('HGET', dk, 'refs') or ''
    for key in string.gmatch(r, '%S+') do
      refs[#refs + 1] = key
      refs[#refs + 1] = gate_record(key, redis.call('GET', k(key)) or '')
    end
    out[#out + 1] = {did, h, refs}
  end
end
local nx = redis.call('ZRANGE', k('schedule'), 0, 0, 'WITHSCORES')
if #nx == 2 then out[1] = nx[2] end
return out
