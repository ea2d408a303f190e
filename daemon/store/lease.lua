-- lease.lua: hand out due deliveries under a lease.
-- ARGV: P now_ms lease_ms max summaries (1: answers summaries are sent,
-- so a meeting's first reminder marks its summary due: gate.lua)
-- Each due delivery (at most max) is pushed lease ms into the future on
-- the schedule, so no one else takes it until the lease runs out (a crash:
-- it is due again then). Returns [next-due-ms-or-"", [did, [hash...],
-- [key, value, ...]], ...]: each with the stored records its refs name,
-- so a worker renders from current data in the same round trip.
--
-- Each is handed out with every field (lib.lua's dfill: what its id says
-- too), as planned.
--
-- A lease is marked on the hash (lease_until): commit.lua's DDEL withdraws
-- such a delivery instead of deleting it, and DNEW holds what must follow
-- it (a withdrawn one is off the schedule; should one be found here, it
-- is deleted, never sent). A held one (field after, see lib.lua) waits while its
-- guard is in flight; then it goes, unless it is an update whose guard is
-- an invitation that was not sent by the lease the change saw (tried
-- again, so rendered again with the change; or failed for good): then it
-- is settled "suppressed" (superseded), with an audit entry.
local now = tonumber(ARGV[2])
local lease = tonumber(ARGV[3])
local ids = redis.call('ZRANGEBYSCORE', k('schedule'), '-inf', now, 'LIMIT', 0, tonumber(ARGV[4]))
local out = {''}
local internal = {lease_until = true, after = true, after_fresh = true,
  after_lease = true}

-- nil: send it now; true: not now (held again, or settled here).
local function held(did, dk, h)
  local g = gate_field(h, 'after')
  if not g then return nil end
  local gh = redis.call('HMGET', k('d:' .. g), 'state', 'lease_until', 'leases')
  if gh[2] and (gh[1] == 'scheduled' or gh[1] == 'withdrawn') and
      tonumber(gh[2]) > now then
    redis.call('ZADD', k('schedule'), gh[2], did)
    redis.call('SADD', k('after:' .. g), did)
    return true
  end
  local fresh = gate_field(h, 'after_fresh') == '1'
  redis.call('HDEL', dk, 'after', 'after_fresh', 'after_lease')
  if not fresh or gh[1] == false or
      (gh[1] == 'sent' and gh[3] == gate_field(h, 'after_lease')) then
    return nil
  end
  local why = 'superseded: the invitation went out with the change'
  if gh[1] == 'scheduled' then
    why = 'superseded: the invitation is tried again, with the change'
  elseif gh[1] ~= 'sent' then
    why = 'superseded: the invitation was not sent'
  end
  redis.call('ZREM', k('schedule'), did)
  dunindex(did)
  redis.call('HSET', dk, 'state', 'suppressed', 'last_reply', 'not sent: ' .. why)
  redis.call('EXPIRE', dk, 90 * 86400)
  redis.call('XADD', k('audit'), '*', 'event', 'suppressed', 'delivery', did,
    'kind', gate_field(h, 'kind') or '', 'collaborator', gate_field(h, 'cid') or '',
    'reason', why, 'at', tostring(now))
  return true
end

-- Handed out: one ZADD for all of them at the end (leased), the lease
-- marked on the hash, the records its refs name (each key read once per
-- call: an announcement's record serves every email of it).
local until_ms = string.format('%.0f', now + lease)
local leased, records, formats = {'ZADD', k('schedule')}, {}, {}
local function hand_out(did, dk, h, pref)
  leased[#leased + 1] = until_ms
  leased[#leased + 1] = did
  local n = tonumber(gate_field(h, 'leases') or '0') or 0
  redis.call('HSET', dk, 'leases', n + 1, 'lease_until', until_ms)
  -- The person's own format wins over their record's (gate.lua).
  formats[gate_field(h, 'cid') or ''] = gate_field(pref, 'format') or false
  local refs = {}
  for key in string.gmatch(gate_field(h, 'refs') or '', '%S+') do
    local text = records[key]
    if text == nil then
      text = redis.call('GET', k(key)) or ''
      records[key] = text
    end
    refs[#refs + 1] = key
    refs[#refs + 1] = gate_record(key, text, formats)
  end
  -- The worker gets the email's own fields, not this script's marks.
  local hv = {}
  for i = 1, #h, 2 do
    if not internal[h[i]] then
      hv[#hv + 1] = h[i]
      hv[#hv + 1] = h[i + 1]
    end
  end
  out[#out + 1] = {did, hv, refs}
end

for _, did in ipairs(ids) do
  local dk = k('d:' .. did)
  local h = redis.call('HGETALL', dk)
  -- A compact reminder (lib.lua) becomes a hash first: the marks below,
  -- the gate and the settling all work on hashes.
  if #h == 0 then h = dmaterialize(did) end
  if #h > 0 then h = dfill(did, h) end
  if #h == 0 then
    redis.call('ZREM', k('schedule'), did)
  elseif gate_field(h, 'state') == 'withdrawn' then
    redis.call('ZREM', k('schedule'), did)
    redis.call('DEL', dk)
    after_release(did)
  elseif held(did, dk, h) then
    -- waiting for the email it must follow, or superseded by it
  else
    local why, pref = gate(did, h, now, ARGV[5] == '1')
    if not why then hand_out(did, dk, h, pref) end
    -- else settled by gate.lua: a person's choice says not to send it
  end
end
if #leased > 2 then redis.call(unpack(leased)) end
local nx = redis.call('ZRANGE', k('schedule'), 0, 0, 'WITHSCORES')
if #nx == 2 then out[1] = nx[2] end
return out
