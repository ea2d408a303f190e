-- gate.lua: what a collaborator chose, applied when an email falls due
-- (SPEC section 9). scripts.S puts it after lib.lua and before lease.lua,
-- which calls gate() for each due delivery before handing it out.
--
-- Keys (answer.c has the full list):
--   pref:<cid>    hash: id, at, format, pause_until (ms), stop:<class>
--                 ("1"), consent ("false"), bouncing (the address that
--                 bounced), each set by the person (or a bounce) alone
--   ans:<mid>     hash: cid -> {"a": yes|no|maybe, "at", "via", "who",
--                 "stale": true once an update asked again}
--   sum:<mid>     when the answers summary was due (ms); sumdue: a set of
--                 meeting ids whose summary is due (the daemon sends it).
--                 Marked only when summaries is true: answers can come
--                 back ([web] or [inbound]), so something takes them.
--
-- gate(did, h, now, summaries) returns nil and the person's preferences
-- (a flat HGETALL, {} when none: send it), or the reason it is not sent:
-- the delivery is then settled here, "suppressed", with an audit entry and
-- a count, and never handed out.
local gate_class = {
  announcement = 'announcements', outcome = 'outcomes',
  invitation = 'meetings', update = 'meetings', cancellation = 'meetings',
  reminder = 'meetings', ['venue-update'] = 'meetings'
}

local function gate_field(h, name)
  for i = 1, #h, 2 do if h[i] == name then return h[i + 1] end end
  return nil
end

local function gate_answer(mid, cid)
  local raw = redis.call('HGET', k('ans:' .. mid), cid)
  if not raw then return nil end
  local ok, a = pcall(cjson.decode, raw)
  if ok and type(a) == 'table' then return a end
  return nil
end

local function gate_email(cid)
  local raw = redis.call('GET', k('rec:collaborator:' .. cid))
  if not raw then return nil end
  local ok, w = pcall(cjson.decode, raw)
  if ok and type(w) == 'table' and type(w.record) == 'table' and
      type(w.record.email) == 'string' then
    return string.lower(w.record.email)
  end
  return nil
end

local function gate_why(h, now, summaries)
  local kind = gate_field(h, 'kind') or ''
  local cid = gate_field(h, 'cid') or ''
  local mid = gate_field(h, 'mid') or ''
  if kind == 'reminder' and mid ~= '' and summaries then
    -- The first reminder due: the answers summary is due too (sum:<mid>
    -- says it was, and goes a year on, long after the meeting).
    if redis.call('SET', k('sum:' .. mid), now, 'NX', 'PX',
        365 * 86400000) then
      redis.call('SADD', k('sumdue'), mid)
    end
  end
  if cid == '' then return nil, {} end
  local p = redis.call('HGETALL', k('pref:' .. cid))
  if #p > 0 then
    if gate_field(p, 'consent') == 'false' then return 'stopped' end
    local class = gate_class[kind]
    if class and gate_field(p, 'stop:' .. class) == '1' then
      return 'unsubscribed'
    end
    local pause = tonumber(gate_field(p, 'pause_until') or '')
    if pause and pause > now then return 'paused' end
    local b = gate_field(p, 'bouncing')
    if b and b == gate_email(cid) then return 'bouncing' end
  end
  if mid ~= '' and (kind == 'reminder' or kind == 'update') then
    local a = gate_answer(mid, cid)
    if a and kind == 'reminder' and a.a == 'no' and not a.stale then
      return 'cannot-come'
    end
    if a and kind == 'update' and not a.stale then
      -- An update asks again: the answer stands, flagged as before it.
      a.stale = true
      redis.call('HSET', k('ans:' .. mid), cid, cjson.encode(a))
    end
  end
  return nil, p
end

local function gate(did, h, now, summaries)
  local why, p = gate_why(h, now, summaries)
  if not why then return nil, p end
  local dk = k('d:' .. did)
  redis.call('ZREM', k('schedule'), did)
  dunindex(did)
  redis.call('HSET', dk, 'state', 'suppressed', 'last_reply', 'not sent: ' .. why)
  redis.call('EXPIRE', dk, 90 * 86400)
  redis.call('HINCRBY', k('stats'), 'suppressed:' .. why, 1)
  redis.call('XADD', k('audit'), '*', 'event', 'suppressed', 'delivery', did,
    'kind', gate_field(h, 'kind') or '', 'collaborator', gate_field(h, 'cid') or '',
    'reason', why, 'at', tostring(now))
  return why
end

-- The person's own format wins over their record's, in what is handed out.
-- formats: cid -> their chosen format or false, known so far in this call
-- (the gate read the person's preferences already).
local function gate_record(key, text, formats)
  local cid = string.match(key, '^rec:collaborator:(.*)$')
  if not cid or text == '' then return text end
  local f = formats[cid]
  if f == nil then
    f = redis.call('HGET', k('pref:' .. cid), 'format') or false
    formats[cid] = f
  end
  if not f then return text end
  local ok, w = pcall(cjson.decode, text)
  if not ok or type(w) ~= 'table' or type(w.record) ~= 'table' then return text end
  w.record.format = f
  return cjson.encode(w)
end
