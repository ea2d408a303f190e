-- retry.lua: `hearback dead retry ID`, through the normal path.
-- ARGV: P entry now_ms deadline_ms
-- A rejected record is queued on the inbox again, to be checked and
-- planned like any other. An email that failed for good or expired goes
-- back on the schedule, due now, with the same id (so the same
-- Message-ID: it is still sent at most once), and back into every index
-- a pending delivery is in (dindex: its person's and its meeting's), so
-- that forget, consent withdrawn, a meeting change or a cancellation
-- withdraw it like any other. Its deadline is deadline_ms, but never
-- after its meeting starts (the planner's rule). The dead entry goes in
-- the same step.
-- Returns {'record', new entry id} | {'delivery', did} | {'none'} (no such
-- entry) | {'gone', did} (the delivery is no longer stored) | {'sent', did}
-- (it was sent since) | {'withdrawn', did} (its meeting was cancelled, or
-- its person taken off it, since) | {'empty'}.
local e = redis.call('XRANGE', k('dead'), ARGV[2], ARGV[2])
if #e == 0 then return {'none'} end
local f = {}
for i = 1, #e[1][2], 2 do f[e[1][2][i]] = e[1][2][i + 1] end
if f.delivery then
  local did = f.delivery
  local dk = k('d:' .. did)
  local t = dhash(did)
  if not t or not t.state then return {'gone', did} end
  local h = {t.state, t.cid, t.mid, t.kind}
  if h[1] == 'sent' then return {'sent', did} end
  -- Withdrawn while a worker had it (commit.lua's ddel): not to be sent.
  if h[1] == 'withdrawn' then return {'withdrawn', did} end
  local cid, mid = h[2] or '', h[3] or ''
  local deadline = tonumber(ARGV[4])
  if mid ~= '' then
    local ok, w = pcall(cjson.decode, redis.call('GET', k('rec:meeting:' .. mid)) or '')
    if ok and type(w) == 'table' and type(w.meta) == 'table' then
      if h[4] ~= 'cancellation' then
        -- Who is invited: mi:<mid>, or a record stored before it
        -- lists them in its meta.
        local invited = false
        if type(w.meta.invited) == 'table' then
          for _, c in ipairs(w.meta.invited) do
            if c == cid then invited = true end
          end
        else
          invited = redis.call('HEXISTS', k('mi:' .. mid), cid) == 1
        end
        if (type(w.record) == 'table' and w.record.status == 'cancelled') or
            (cid ~= '' and not invited) then
          return {'withdrawn', did}
        end
      end
      local start = tonumber(w.meta.start)
      if start and start * 1000 < deadline then deadline = start * 1000 end
    end
  end
  redis.call('HSET', dk, 'state', 'scheduled', 'attempts', 0, 'first_try', 0,
    'due', ARGV[3], 'deadline', string.format('%.0f', deadline))
  redis.call('PERSIST', dk)
  redis.call('HDEL', dk, 'lease_until')	-- no worker has it now
  redis.call('ZADD', k('schedule'), ARGV[3], did)
  dindex(did, cid, mid)
  redis.call('XDEL', k('dead'), ARGV[2])
  return {'delivery', did}
end
if f.record and f.record ~= '' then
  local id = redis.call('XADD', k('inbox'), '*', 'record', f.record)
  redis.call('XDEL', k('dead'), ARGV[2])
  return {'record', id}
end
return {'empty'}
