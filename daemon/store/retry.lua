-- retry.lua: `hearback dead retry ID`, through the normal path.
-- ARGV: P entry now_ms deadline_ms
-- A rejected record is queued on the inbox again, to be checked and
-- planned like any other. An email that failed for good or expired goes
-- back on the schedule, due now, with the same id (so the same
-- Message-ID: it is still sent at most once) and deadline_ms. The dead
-- entry goes in the same step.
-- Returns {'record', new entry id} | {'delivery', did} | {'none'} (no such
-- entry) | {'gone', did} (the delivery is no longer stored) | {'empty'}.
local e = redis.call('XRANGE', k('dead'), ARGV[2], ARGV[2])
if #e == 0 then return {'none'} end
local f = {}
for i = 1, #e[1][2], 2 do f[e[1][2][i]] = e[1][2][i + 1] end
if f.delivery then
  local did = f.delivery
  local dk = k('d:' .. did)
  local cid = redis.call('HGET', dk, 'cid')
  if not cid then return {'gone', did} end
  redis.call('HSET', dk, 'state', 'scheduled', 'attempts', 0, 'first_try', 0,
    'due', ARGV[3], 'deadline', ARGV[4])
  redis.call('ZADD', k('schedule'), ARGV[3], did)
  if cid ~= '' then redis.call('SADD', k('cd:' .. cid), did) end
  redis.call('XDEL', k('dead'), ARGV[2])
  return {'delivery', did}
end
if f.record and f.record ~= '' then
  local id = redis.call('XADD', k('inbox'), '*', 'record', f.record)
  redis.call('XDEL', k('dead'), ARGV[2])
  return {'record', id}
end
return {'empty'}
